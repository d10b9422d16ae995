"""The counter pad on a real broker and hub: taps reach the store and the retained state."""

from __future__ import annotations

import pytest

from counter.desk import Desk
from counter.pad_app import attach_keypad, build_pad, connect
from devices.keypad import KeyMap
from mqtt_bus.contract import EventType, Role
from testkit.kivy_harness import find_by_id, pump, pump_until, screenshot, show, tap, window
from tests.integration.hub_helpers import SITE, Watcher

PAD_SIZE = (800, 480)


@pytest.fixture(autouse=True)
def keep_window_size():
    size = tuple(window().size)
    yield
    window().size = size


@pytest.fixture
def kiosk(broker, make_client):
    c = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
    assert c.wait_connected(5)
    return c


@pytest.fixture
def watcher(broker, make_client) -> Watcher:
    c = make_client(broker.url, "monitor-1", Role.DISPLAY, site=SITE, start=False)
    w = Watcher(c)
    c.start()
    return w


@pytest.fixture
def pad(ctx, hub, broker, make_client):
    """``pad(lang="vi", **options)`` → the pad's root, shown at 800x480 and ready to act."""
    def make(lang: str = "vi", **options):
        root = build_pad(Desk.from_config(ctx.config, "2"), lang, **options)
        connect(root, make_client(broker.url, "counter-2", Role.COUNTER, site=SITE, start=False))
        show(root, size=PAD_SIZE)
        assert pump_until(lambda: root.vm.can_act, 5), root.vm.banner
        return root

    return make


def issue(kiosk, service: str = "tu-phap", n: int = 1, **args) -> list[str]:
    out = []
    for _ in range(n):
        r = kiosk.request("issue_ticket", {"service": service, **args})
        assert r["ok"], r
        out.append(r["result"]["ticket"]["number"])
    return out


def stored(hub, number: str):
    (t,) = hub.store.tickets("number = ?", (number,))
    return t


def counter_state(watcher: Watcher) -> dict:
    return watcher.state()["counters"].get("2") or {}


def test_sign_in_next_recall_transfer_complete_and_rate(pad, hub, kiosk, watcher):
    issue(kiosk, "tu-phap", 3, priority="elderly", procedure="khai-sinh")
    root = pad()
    assert root.current == "signin"
    screenshot(root, "counter-signin-vi")
    tap(find_by_id(root, "officer-0"))
    assert pump_until(lambda: root.current == "pad")
    assert root.vm.officer == "Lê Thị Thu Hà"
    (mine,) = [c for c in hub.store.snapshot()["counters"] if c["counter"] == "2"]
    assert mine["officer"] == "Lê Thị Thu Hà"
    assert pump_until(lambda: counter_state(watcher).get("officer") == "Lê Thị Thu Hà")  # officer_signed_in

    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A001")
    assert stored(hub, "A001").status == "called" and stored(hub, "A001").counter == "2"
    assert pump_until(lambda: (counter_state(watcher).get("ticket") or {}).get("number") == "A001")
    assert counter_state(watcher)["officer"] == "Lê Thị Thu Hà" and stored(hub, "A001").officer == "Lê Thị Thu Hà"
    assert pump_until(lambda: root.vm.waiting_rows[0][1] == 2)

    tap(find_by_id(root, "recall"))
    assert pump_until(lambda: stored(hub, "A001").call_count == 2)
    assert pump_until(lambda: root.vm.calls_text == "Đã gọi 2 lần")
    assert pump_until(lambda: (counter_state(watcher).get("ticket") or {}).get("call_count") == 2)
    screenshot(root, "counter-pad-vi")

    tap(find_by_id(root, "transfer"))
    panel = root.pad.overlay()
    assert panel is not None and find_by_id(panel, "transfer-chung-thuc")
    screenshot(root, "counter-transfer-vi")
    tap(find_by_id(panel, "transfer-chung-thuc"))
    assert root.pad.overlay() is None
    assert pump_until(lambda: stored(hub, "A001").service == "chung-thuc")
    assert stored(hub, "A001").status == "waiting"
    assert pump_until(lambda: counter_state(watcher).get("ticket", "?") is None)
    assert root.vm.message == "Đã chuyển số A001 sang Chứng thực"

    root.rating_vm.thanks_s = 0.2
    tap(find_by_id(root, "next"))
    # A002: A001 keeps its place in Chứng thực, but for another counter (3), not the one that sent it on
    assert pump_until(lambda: root.vm.number_text == "A002")
    served = root.vm.number_text
    tap(find_by_id(root, "complete"))
    assert pump_until(lambda: root.current == "rating")
    assert stored(hub, served).status == "done"
    assert pump_until(lambda: find_by_id(root, "rate-5").width > 100)  # laid out, as the citizen sees it
    tap(find_by_id(root, "rate-5"))
    assert pump_until(lambda: stored(hub, served).rating == 5)
    assert pump_until(lambda: root.current == "pad", 3)
    assert pump_until(lambda: counter_state(watcher).get("ticket", "?") is None)
    assert pump_until(lambda: any(e["type"] == EventType.RATING_RECORDED and e["score"] == 5 for e in watcher.events))

    tap(find_by_id(root, "call"))  # Gọi số: the on-screen keypad
    panel = root.pad.overlay()
    for key in ("key-3", "key-go"):
        tap(find_by_id(panel, key))
        if key == "key-3":
            assert find_by_id(panel, "number-display").text == "A003"
            screenshot(root, "counter-call-vi")
    assert pump_until(lambda: stored(hub, "A003").status == "called" and root.vm.number_text == "A003")
    assert stored(hub, "A001").status == "waiting" and stored(hub, "A001").transferred_from == "2"


def test_double_tap_on_next_calls_one_citizen_and_english(pad, hub, kiosk, watcher):
    issue(kiosk, "tu-phap", 3)
    root = pad("en", officer="Phạm Minh Tuấn", rating=False)
    assert root.current == "pad"
    assert pump_until(lambda: root.vm.officer == "Phạm Minh Tuấn")
    button = find_by_id(root, "next")
    tap(button)
    tap(button)
    pump(0.4)
    assert [t.number for t in hub.store.tickets("status = 'called'")] == ["A001"]
    assert [t.number for t in hub.store.tickets("status = 'waiting'")] == ["A002", "A003"]
    assert pump_until(lambda: root.vm.number_text == "A001" and root.vm.waiting_rows[0][1] == 2)
    assert find_by_id(root, "next").text == "Next"
    screenshot(root, "counter-pad-en")
    tap(find_by_id(root, "complete"))
    assert pump_until(lambda: stored(hub, "A001").status == "done")
    assert root.current == "pad"  # --no-rating


def test_usb_keypad_keys_of_the_window(pad, hub, kiosk):
    issue(kiosk, "tu-phap", 3)
    root = pad(officer="Lê Thị Thu Hà", rating=False)
    attach_keypad(root, KeyMap(), beep="off")
    win = window()
    try:
        win.dispatch("on_key_down", 270, 0, "+", [])  # keypad +
        assert pump_until(lambda: stored(hub, "A001").status == "called" and not root.vm.busy)
        for key, text in ((259, "3"), (271, None)):  # keypad 3, keypad Enter
            win.dispatch("on_key_down", key, 0, text, [])
        assert pump_until(lambda: stored(hub, "A003").status == "called" and not root.vm.busy)
        assert stored(hub, "A001").status == "done"
        win.dispatch("on_key_down", 268, 0, "*", [])  # keypad *: complete
        assert pump_until(lambda: stored(hub, "A003").status == "done")
    finally:
        root.keypad.stop()


def test_broker_down_shows_the_banner_and_recovers(pad, hub, kiosk, broker):
    issue(kiosk, "tu-phap", 2)
    root = pad(officer="Lê Thị Thu Hà")
    banner = find_by_id(root.pad, "banner")
    assert banner.text == "" and banner.height == 0
    broker.kill()
    assert pump_until(lambda: not root.vm.connected, 5)
    pump(0.1)
    assert banner.text.startswith("Mất kết nối máy chủ") and banner.height > 0
    assert all(find_by_id(root, qid).disabled for qid in ("next", "recall", "complete", "call", "pause"))
    screenshot(root, "counter-disconnected-vi")
    broker.start()
    assert pump_until(lambda: root.vm.can_act, 10), root.vm.banner
    assert banner.text == "" and not find_by_id(root, "next").disabled
    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A001")
    assert stored(hub, "A001").status == "called"

    tap(find_by_id(root, "pause"))
    assert pump_until(lambda: root.vm.status == "paused")
    assert find_by_id(root, "pause").text == "Tiếp tục"
    assert find_by_id(root, "next").disabled  # Gọi tiếp is off while paused
    assert not root.vm.call_next()  # the USB keypad's Enter is refused with a reason
    assert root.vm.message == "Quầy đang tạm dừng — bấm Tiếp tục trước khi gọi"
    assert find_by_id(root, "message").text == "Quầy đang tạm dừng — bấm Tiếp tục trước khi gọi"
    pump(0.2)
    assert stored(hub, "A002").status == "waiting"
