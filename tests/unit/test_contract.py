"""The contract's names (mqtt_bus/contract.py) are its strings, written once, and match docs/protocol.md."""

import json
import re
from datetime import datetime
from pathlib import Path

import queue_core
from mqtt_bus import acl, contract
from mqtt_bus.contract import EVENT_TYPES, HUB_CLIENT_ID, ErrorCode, EventType, FaultCode, Role
from queue_core.events import Event

PROTOCOL = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of one ``#``-headed section of docs/protocol.md, up to the next heading."""
    start = PROTOCOL.index(title)
    following = re.search(r"^#", PROTOCOL[start + len(title):], re.MULTILINE)
    return PROTOCOL[start:start + len(title) + following.start()] if following else PROTOCOL[start:]


def test_names_serialise_byte_for_byte_as_the_bare_strings() -> None:
    named = {"type": EventType.TICKET_CALLED, "error": {"code": ErrorCode.RATE_LIMITED}, "role": Role.KIOSK,
             "fault": {"code": FaultCode.STORE_CORRUPT}, EventType.TICKET_ISSUED: HUB_CLIENT_ID}
    bare = {"type": "ticket_called", "error": {"code": "rate_limited"}, "role": "kiosk",
            "fault": {"code": "store_corrupt"}, "ticket_issued": "hub"}
    for options in ({}, {"ensure_ascii": False, "separators": (",", ":")}):
        assert json.dumps(named, **options) == json.dumps(bare, **options)
    event = Event(EventType.COUNTER_PAUSED, datetime(2026, 11, 23), None, "2", {"status": "paused"})
    assert json.dumps(event.payload(7, "t")) == ('{"seq": 7, "ts": "t", "type": "counter_paused", "ticket": null, '
                                                 '"counter": "2", "status": "paused"}')
    assert f"{Role.HUB}/{ErrorCode.FORBIDDEN}" == "hub/forbidden"
    assert str(EventType.TICKET_CALLED) == "ticket_called"  # as logging's %s shows it


def test_queue_core_is_the_one_definition_of_event_types_and_error_codes() -> None:
    assert contract.EventType is queue_core.EventType and contract.ErrorCode is queue_core.ErrorCode
    assert EVENT_TYPES == queue_core.EVENT_TYPES == tuple(EventType)


def test_broker_roles_are_the_device_roles_but_the_rating_tablet_s() -> None:
    assert set(acl.ROLES) == set(Role) - {Role.RATING}
    assert HUB_CLIENT_ID == Role.HUB


def test_every_event_type_is_documented_and_every_documented_one_named() -> None:
    listing = section("## Events").split("\n\n")[1].split("(extra")[0]  # "`event/{type}` for `a`, `b`, ..."
    documented = set(re.findall(r"`([a-z_]+)`", listing))
    assert documented == set(EventType)


def test_every_error_code_is_documented_and_every_documented_one_named() -> None:
    rows = [line for line in section("### Error codes").splitlines() if line.startswith("| `")]
    documented = {code for row in rows for code in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    assert documented == set(ErrorCode)
    faults = set(re.findall(r'"(store_[a-z]+)"', section("### Error codes")))
    assert faults == set(FaultCode)
