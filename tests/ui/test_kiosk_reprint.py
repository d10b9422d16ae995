# ruff: noqa: F811  (pytest fixtures imported from a sibling test module are redefined as arguments)
"""Reprint any ticket of today on the kiosk's printer: asked from a pad, and from the technician screen."""

from __future__ import annotations

from kivy.tests.common import UnitTestTouch

from kiosk.ui import choose
from mqtt_bus.client import BusClient
from mqtt_bus.contract import EventType, Role
from testkit.kivy_harness import find_by_id, pump, pump_until, screenshot
from tests.ui.test_kiosk_flow import SITE, make_kiosk, press, ready, world  # noqa: F401  (fixtures)


def printed(paper, number: str) -> int:
    return len(list(paper.glob(f"*-{number}.png")))


def test_a_pad_and_the_technician_screen_reprint_a_ticket_of_today(world, make_kiosk, monkeypatch):
    monkeypatch.setattr(choose, "ADMIN_LONG_PRESS_S", 0.5)
    kiosk, root, paper = make_kiosk()
    vm = kiosk.vm
    assert ready(kiosk)
    press(root, "take")
    press(root, "service-chung-thuc")
    press(root, "procedure-chung-thuc-ban-sao")
    assert pump_until(lambda: vm.print_state == "printed", 5)
    number = vm.ticket["number"]
    assert printed(paper, number) == 1
    press(root, "done")
    assert pump_until(lambda: vm.screen == "welcome", 2)

    pad = BusClient(world["broker"].url, SITE, "counter-2", Role.COUNTER)
    pad.start()
    try:
        assert pad.wait_connected(5)
        answer = pad.request("reprint", {"number": number, "kiosk": kiosk.link.bus.client.client_id})
        assert answer["ok"] and answer["result"]["ticket"]["number"] == number
        assert pump_until(lambda: printed(paper, number) == 2, 5)
        other = pad.request("reprint", {"number": number, "kiosk": "kiosk-elsewhere"})
        assert other["ok"]
        pump(0.5)
        assert printed(paper, number) == 2  # meant for another kiosk
    finally:
        pad.close()
    events = world["hub"].store.events_after(0, 10_000)
    assert [e["kiosk"] for e in events if e["type"] == EventType.REPRINT_REQUESTED][-2:] == [
        kiosk.link.bus.client.client_id, "kiosk-elsewhere"]

    # the technician screen: long press, PIN, then "In lại phiếu theo số"
    root.rebuild()
    pump(0.3)
    door = find_by_id(root, "center_name")
    touch = UnitTestTouch(*door.to_window(*door.center))
    touch.touch_down()
    assert pump_until(lambda: vm.screen == "pin", 2)
    touch.touch_up()
    for key in ("pin-2", "pin-4", "pin-6", "pin-8", "pin-ok"):
        press(root, key)
    assert pump_until(lambda: vm.screen == "admin", 3)
    press(root, "admin-reprint-number")
    from kivy.core.window import Window

    assert pump_until(lambda: any(type(w).__name__ == "ReprintPanel" for w in Window.children), 2)
    panel = next(w for w in Window.children if type(w).__name__ == "ReprintPanel")
    pump(0.3)
    assert find_by_id(panel, "reprint-number").text == "G___"  # the first service: Hướng dẫn
    press(panel, "reprint-prefix-chung-thuc")
    digits = str(int(number[1:]))
    for key in digits:
        press(panel, f"reprint-key-{key}")
    assert find_by_id(panel, "reprint-number").text == number
    screenshot(panel, "kiosk-admin-reprint-vi")
    press(panel, "reprint-go")
    assert pump_until(lambda: printed(paper, number) == 3, 5)
    assert pump_until(lambda: find_by_id(panel, "reprint-message").text == f"Đã in lại số {number}.", 5)
    press(panel, "reprint-key-9")
    press(panel, "reprint-key-9")
    press(panel, "reprint-go")
    wrong = find_by_id(panel, "reprint-number").text
    assert pump_until(lambda: find_by_id(panel, "reprint-message").text == f"Không có số {wrong} hôm nay.", 5)
    press(panel, "reprint-close")
    pump(0.3)
    press(root, "admin-close")
    assert pump_until(lambda: vm.screen == "welcome", 1)
