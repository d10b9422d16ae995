"""``events_since`` on the real hub and mosquitto: a device fetches the events it missed, in order, in pages."""

from __future__ import annotations

import pytest

from mqtt_bus.contract import ErrorCode, EventType, Role
from queue_core.actions import EVENTS_SINCE_MAX
from tests.integration.hub_helpers import SITE


@pytest.fixture
def display(broker, make_client):
    c = make_client(broker.url, "display-1", Role.DISPLAY, site=SITE)
    assert c.wait_connected(5)
    return c


def test_events_since_pages_through_the_outbox_in_seq_order(hub, display):
    for _ in range(5):
        assert hub.store.run("issue_ticket", {"service": "tu-phap"}).ok
    assert hub.store.run("call_next", {"counter": "2"}).ok
    stored = hub.store.events_after(0, 100)
    assert len(stored) == 6

    first = display.request("events_since", {"after": 0, "limit": 4}, timeout=3)
    assert first["ok"], first
    page = first["result"]
    assert page["events"] == stored[:4] and page["more"] is True and page["last_seq"] == stored[-1]["seq"]
    rest = display.request("events_since", {"after": page["events"][-1]["seq"]}, timeout=3)["result"]
    assert rest["events"] == stored[4:] and rest["more"] is False
    assert rest["events"][-1]["type"] == EventType.TICKET_CALLED and rest["events"][-1]["counter"] == "2"
    caught_up = display.request("events_since", {"after": stored[-1]["seq"]}, timeout=3)["result"]
    assert caught_up == {"events": [], "last_seq": stored[-1]["seq"], "more": False}


@pytest.mark.parametrize(("args", "fragment"), [
    ({}, "missing argument 'after'"),
    ({"after": -1}, "'after' must be a seq >= 0"),
    ({"after": "3"}, "'after' must be int"),
    ({"after": 0, "limit": 0}, f"'limit' must be 1..{EVENTS_SINCE_MAX}"),
    ({"after": 0, "limit": EVENTS_SINCE_MAX + 1}, f"'limit' must be 1..{EVENTS_SINCE_MAX}"),
    ({"after": 0, "since": 1}, "unknown argument(s) since"),
])
def test_bad_events_since_arguments_get_one_clear_line(hub, display, args, fragment):
    answer = display.request("events_since", args, timeout=3)
    assert answer["ok"] is False and answer["error"]["code"] == ErrorCode.BAD_REQUEST, answer
    assert fragment in answer["error"]["message"] and "\n" not in answer["error"]["message"]


def test_a_display_may_read_but_not_act(hub, display):
    assert display.request("snapshot", {}, timeout=3)["ok"]
    for action, args in [("call_next", {"counter": "1"}), ("issue_ticket", {"service": "tu-phap"}),
                         ("pause", {"counter": "2"})]:
        refused = display.request(action, args, timeout=3)
        assert refused["ok"] is False and refused["error"]["code"] == ErrorCode.FORBIDDEN, refused
    assert hub.store.last_seq() == 0
