"""The rating tablet (``qms rating``) on a real broker and hub: it asks after Xong, in the
citizen's language, stores the score against the ticket, and gives up after its timeout."""

from __future__ import annotations

import pytest

from counter.desk import Desk
from counter.rating import build_rating, connect
from mqtt_bus.contract import Role
from testkit.kivy_harness import find_by_id, pump_until, screenshot, show, tap
from tests.integration.hub_helpers import SITE
from tests.ui import test_counter_pad as shared
from tests.ui.test_counter_pad import PAD_SIZE, stored

kiosk, keep_window_size = shared.kiosk, shared.keep_window_size  # fixtures (ctx and hub: conftest)


@pytest.fixture
def tablet(ctx, hub, broker, make_client):
    def make(timeout: float = 20.0):
        root = build_rating(Desk.from_config(ctx.config, "2"), "vi", rating_timeout=timeout, thanks_s=0.3)
        bus = connect(root, make_client(broker.url, "rating-2", Role.COUNTER, site=SITE, start=False))
        show(root, size=PAD_SIZE)
        assert pump_until(lambda: bus.connected, 5)
        assert root.ids.pages.current == "idle"
        return root

    return make


@pytest.fixture
def officer(broker, make_client):
    c = make_client(broker.url, "counter-2", Role.COUNTER, site=SITE)
    assert c.wait_connected(5)
    return c


def serve(kiosk, officer, **issue_args) -> str:
    """Issue a ticket, call it at counter 2 and press Xong; returns its number."""
    number = kiosk.request("issue_ticket", {"service": "tu-phap", **issue_args})["result"]["ticket"]["number"]
    assert officer.request("call_next", {"counter": "2"})["result"]["ticket"]["number"] == number
    assert officer.request("complete", {"counter": "2"})["ok"]
    return number


def test_tablet_asks_after_complete_and_stores_the_score(tablet, kiosk, officer, hub):
    root = tablet()
    number = serve(kiosk, officer, lang="vi")
    assert pump_until(lambda: root.vm.phase == "ask", 5)
    assert root.ids.pages.current == "ask"
    assert pump_until(lambda: find_by_id(root, "rate-4").width > 100)  # laid out, as the citizen sees it
    assert find_by_id(root, "rating-title").text == "Ông/Bà có hài lòng với sự phục vụ?"
    assert find_by_id(root, "rate-1").text == "Rất không hài lòng" and find_by_id(root, "rate-5").text == "Rất hài lòng"
    screenshot(root, "rating-vi")
    tap(find_by_id(root, "rate-4"))
    assert pump_until(lambda: stored(hub, number).rating == 4)
    assert pump_until(lambda: root.ids.pages.current == "thanks")
    assert find_by_id(root, "rating-thanks").text == "Cảm ơn Ông/Bà!"
    assert pump_until(lambda: root.vm.phase == "idle", 3) and root.ids.pages.current == "idle"


def test_tablet_speaks_the_ticket_language_and_times_out(tablet, kiosk, officer, hub):
    root = tablet(timeout=1.0)
    number = serve(kiosk, officer, lang="en")
    assert pump_until(lambda: root.vm.phase == "ask", 5)
    assert find_by_id(root, "rating-title").text == "How satisfied are you with our service?"
    assert find_by_id(root, "rate-1").text == "Very dissatisfied"
    root.vm.remaining = 20  # the screenshot shows the default time limit
    screenshot(root, "rating-en")
    assert pump_until(lambda: root.vm.phase == "idle", 3)
    assert stored(hub, number).rating is None and not root.vm.recorded
