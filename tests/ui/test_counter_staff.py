# ruff: noqa: F811  (pytest fixtures imported from a sibling test module are redefined as arguments)
"""Issue 14, staff side, on a real broker and hub: undo and call-back (6), ratings after Gọi tiếp (8),
device alerts and reprint (9), transfer to a counter, paused pad, keypad on sign-in (10)."""

from __future__ import annotations

from counter.pad_app import attach_keypad
from devices.keypad import KeyMap
from mqtt_bus.contract import EventType, Role
from qms.report import compute_report, load_tickets
from testkit.kivy_harness import find_by_id, pump, pump_until, screenshot, tap, window
from tests.integration.hub_helpers import SITE
from tests.ui.test_counter_pad import (  # noqa: F401  (fixtures)
    counter_state,
    issue,
    keep_window_size,
    kiosk,
    pad,
    stored,
    watcher,
)


def visible(widget) -> bool:
    return widget.opacity > 0 and widget.width > 20 and widget.height > 10


def report_total(hub):
    day = stored(hub, "A001").day
    report = compute_report(load_tickets(hub.store, day, day), day, day, hub.store.site.tz)
    (total,) = report.sections["total"]
    return total.issued, total.served, total.no_show


def test_no_show_undo_toast_and_calling_a_no_show_back_by_number(pad, hub, kiosk, watcher):
    issue(kiosk, "tu-phap", 3)
    root = pad(officer="Lê Thị Thu Hà", rating=False, undo_s=10.0)
    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A001")
    tap(find_by_id(root, "no_show"))
    assert pump_until(lambda: stored(hub, "A001").status == "no_show" and root.vm.undo_ticket is not None)
    undo = find_by_id(root, "undo")
    pump(0.1)
    assert visible(undo) and not undo.disabled and undo.text == "Hoàn tác (10 giây)"
    assert find_by_id(root, "message").text == "Số A001 đã đánh vắng mặt"
    screenshot(root, "counter-undo-vi")
    tap(undo)
    assert pump_until(lambda: stored(hub, "A001").status == "called" and root.vm.number_text == "A001")
    assert root.vm.undo_ticket is None and not visible(find_by_id(root, "undo"))
    assert root.vm.message == "Đã hoàn tác — số A001 trở lại quầy"
    assert pump_until(lambda: (counter_state(watcher).get("ticket") or {}).get("number") == "A001")
    assert pump_until(lambda: any(e["type"] == EventType.TICKET_RESTORED and e["from_status"] == "no_show"
                                  for e in watcher.events))

    # the toast goes away by itself; after it, the number is called back with Gọi số
    root.vm.undo_s = 0.6
    tap(find_by_id(root, "no_show"))
    assert pump_until(lambda: root.vm.undo_ticket is not None)
    assert pump_until(lambda: root.vm.undo_ticket is None, 3)
    pump(0.1)
    assert not visible(find_by_id(root, "undo")) and find_by_id(root, "message").text == "Số A001 vắng mặt"
    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A002")
    tap(find_by_id(root, "call"))
    panel = root.pad.overlay()
    for key in ("key-1", "key-go"):
        tap(find_by_id(panel, key))
    assert pump_until(lambda: root.vm.number_text == "A001" and stored(hub, "A001").status == "called")
    assert stored(hub, "A001").counter == "2" and stored(hub, "A002").status == "done"
    assert pump_until(lambda: any(e["type"] == EventType.TICKET_RECALLED and e.get("reason") == "no_show_callback"
                                  for e in watcher.events))
    tap(find_by_id(root, "complete"))
    assert pump_until(lambda: stored(hub, "A001").status == "done")
    assert report_total(hub) == (3, 2, 0)  # A001 counted once, as served


def test_next_while_called_still_asks_for_a_rating_without_delaying_the_call(pad, hub, kiosk):
    issue(kiosk, "tu-phap", 3)
    root = pad(officer="Lê Thị Thu Hà")
    root.rating_vm.thanks_s = 0.2
    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A001")
    pump(root.vm.repeat_guard_s + 0.1)  # not a double tap
    tap(find_by_id(root, "next"))  # Gọi tiếp while A001 is called: A001 auto-completes
    assert pump_until(lambda: stored(hub, "A002").status == "called")
    assert stored(hub, "A001").status == "done"
    assert pump_until(lambda: root.current == "rating" and (root.rating_vm.ticket or {}).get("number") == "A001")
    assert root.vm.number_text == "A002"  # the next citizen was called first
    strip = find_by_id(root, "staff-strip")
    assert strip.text == "Cán bộ: Đã gọi số A002"
    screenshot(root, "counter-rating-after-next-vi")
    assert pump_until(lambda: find_by_id(root, "rate-4").width > 100)
    tap(find_by_id(root, "rate-4"))
    assert pump_until(lambda: stored(hub, "A001").rating == 4)
    assert pump_until(lambda: root.current == "pad", 3)

    # Xong by mistake: the rating screen offers the undo in its staff strip, and Về quầy
    pump(0.2)
    tap(find_by_id(root, "complete"))
    assert pump_until(lambda: root.current == "rating" and stored(hub, "A002").status == "done")
    assert pump_until(lambda: visible(find_by_id(root, "rating-undo")) and not root.transition.is_active)
    tap(find_by_id(root, "rating-undo"))
    assert pump_until(lambda: root.current == "pad" and stored(hub, "A002").status == "called")
    assert root.vm.number_text == "A002" and root.rating_vm.phase == "idle"
    pump(root.vm.repeat_guard_s)  # not a double tap on Xong
    tap(find_by_id(root, "complete"))
    assert pump_until(lambda: root.current == "rating")
    back = find_by_id(root, "rating-staff-back")
    # laid out and the slide over (a ScreenManager drops touches mid-transition), as a person sees it before tapping
    assert pump_until(lambda: visible(back) and back.width > 50 and not root.transition.is_active)
    tap(back)
    assert pump_until(lambda: root.current == "pad", 3) and stored(hub, "A002").rating is None


def test_printer_and_silent_display_alerts_on_every_pad_and_reprint(pad, hub, kiosk, broker, make_client, watcher):
    issue(kiosk, "tu-phap", 2)
    kiosk.publish_json(kiosk.topics.state_device("kiosk-1"),
                       {"kind": "printer", "state": "paper_out", "detail": "", "ts": "t"}, retain=True).wait_for_publish(3)
    display = make_client(broker.url, "display-1", Role.DISPLAY, site=SITE, start=False)
    display.set_status_extra({"audio": {"state": "no_pack", "detail": "voice pack vi-north missing"}})
    display.start()
    assert display.wait_connected(5)
    root = pad(officer="Lê Thị Thu Hà", rating=False)  # started after: the retained states reach it
    alerts = find_by_id(root, "alerts")
    assert pump_until(lambda: alerts.text.count("\n") == 1, 5), alerts.text
    assert alerts.text.splitlines() == ["Màn hình 1 không phát được tiếng: thiếu gói giọng đọc",
                                        "Máy lấy số 1: hết giấy in — thay giấy"]
    pump(0.1)
    assert alerts.height > 40 and alerts.opacity == 1
    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A001")
    pump(0.1)
    screenshot(root, "counter-alerts-vi")
    number, actions = find_by_id(root, "ticket-number"), find_by_id(root, "actions")
    with_alerts = number.font_size
    assert actions.height >= 0.24 * root.height - 1, "the buttons stay big enough for a finger"

    kiosk.publish_json(kiosk.topics.state_device("kiosk-1"),
                       {"kind": "printer", "state": "ok", "detail": "", "ts": "t"}, retain=True)
    assert pump_until(lambda: alerts.text == "Màn hình 1 không phát được tiếng: thiếu gói giọng đọc")
    display.set_status_extra({"audio": {"state": "no_device", "detail": "no ALSA card"}})
    assert pump_until(lambda: alerts.text == "Màn hình 1 không phát được tiếng: không có loa / thiết bị âm thanh")
    display.set_status_extra({"audio": {"state": "ok", "detail": ""}})
    assert pump_until(lambda: alerts.text == "")
    pump(0.1)
    assert alerts.height == 0
    assert with_alerts >= 0.9 * number.font_size, "two alert lines take their room from the buttons, not the ticket"

    # In lại: from the Gọi số panel
    tap(find_by_id(root, "call"))
    panel = root.pad.overlay()
    tap(find_by_id(panel, "key-2"))
    tap(find_by_id(panel, "key-reprint"))
    assert root.pad.overlay() is None
    assert pump_until(lambda: any(e["type"] == EventType.REPRINT_REQUESTED and e["ticket"]["number"] == "A002"
                                  for e in watcher.events))
    assert pump_until(lambda: root.vm.message == "Đã gửi lệnh in lại số A002")
    assert stored(hub, "A002").status == "waiting"


def test_transfer_to_a_counter_pause_and_keypad_on_the_sign_in_screen(pad, hub, kiosk, watcher):
    issue(kiosk, "tu-phap", 3)
    root = pad(officer="Lê Thị Thu Hà", rating=False)
    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A001")
    tap(find_by_id(root, "transfer"))
    panel = root.pad.overlay()
    assert find_by_id(panel, "transfer-counter-1").text == "Quầy số 1"
    try:
        find_by_id(panel, "transfer-counter-2")
        raise AssertionError("the pad offers its own counter")
    except LookupError:
        pass
    screenshot(root, "counter-transfer-counter-vi")
    tap(find_by_id(panel, "transfer-counter-3"))
    assert pump_until(lambda: stored(hub, "A001").to_counter == "3")
    assert stored(hub, "A001").status == "waiting" and stored(hub, "A001").service == "tu-phap"
    assert pump_until(lambda: root.vm.message == "Đã chuyển số A001 đến Quầy số 3")
    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A002")  # A001 waits for counter 3 only

    tap(find_by_id(root, "pause"))
    assert pump_until(lambda: root.vm.status == "paused")
    pump(0.1)
    assert find_by_id(root, "next").disabled and not find_by_id(root, "pause").disabled
    tap(find_by_id(root, "pause"))
    assert pump_until(lambda: root.vm.status == "open")
    pump(0.1)
    assert not find_by_id(root, "next").disabled

    # the USB keypad does nothing while the sign-in screen is up
    attach_keypad(root, KeyMap(), beep="off")
    win = window()
    try:
        tap(find_by_id(root, "officer-change"))
        assert root.current == "signin"
        win.dispatch("on_key_down", 270, 0, "+", [])  # keypad +: next
        win.dispatch("on_key_down", 268, 0, "*", [])  # keypad *: complete
        pump(0.5)
        assert stored(hub, "A002").status == "called" and stored(hub, "A003").status == "waiting"
        root.current = "pad"
        win.dispatch("on_key_down", 270, 0, "+", [])
        assert pump_until(lambda: stored(hub, "A003").status == "called")
    finally:
        root.keypad.stop()
