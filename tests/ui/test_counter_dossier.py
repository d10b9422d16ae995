"""The dossier code (mã hồ sơ) on the counter pad, on a real broker and hub: typed into the pad's field,
or read by a USB barcode scanner in keyboard mode (fast keys + Enter) while the USB keypad is attached."""

from __future__ import annotations

from counter.pad_app import attach_keypad
from devices.keypad import KeyMap
from testkit.kivy_harness import find_by_id, pump, pump_until, screenshot, tap, window
from tests.ui.test_counter_pad import issue, keep_window_size, kiosk, pad, stored  # noqa: F401  (fixtures)

CODE = "000.00.25.H37-251201-0007"


def test_a_typed_code_is_attached_and_shown_on_the_pad(pad, hub, kiosk):  # noqa: F811
    issue(kiosk, "tu-phap", 2)
    root = pad(officer="Lê Thị Thu Hà", rating=False)
    field, attach = root.pad.ids.dossier_input, find_by_id(root, "dossier-set")
    assert find_by_id(root, "dossier").text == ""  # nobody called: no dossier line, no field
    assert not root.pad.dossier_shown and field.disabled and field.parent.opacity == 0
    tap(find_by_id(root, "next"))
    assert pump_until(lambda: root.vm.number_text == "A001" and not root.vm.busy)
    assert find_by_id(root, "dossier").text == "Chưa gắn mã hồ sơ"
    assert root.pad.dossier_shown and not field.disabled and field.parent.opacity == 1
    assert attach.disabled  # nothing typed yet
    field.text = "HS 01"  # a space: refused on the pad, nothing sent
    pump(0.05)
    tap(attach)
    assert root.vm.message_is_error and "Mã hồ sơ không hợp lệ" in find_by_id(root, "message").text
    assert field.text == "HS 01" and stored(hub, "A001").dossier is None
    field.text = CODE
    pump(0.05)
    tap(attach)
    assert pump_until(lambda: stored(hub, "A001").dossier == CODE and not root.vm.busy)
    assert pump_until(lambda: find_by_id(root, "dossier").text == f"Mã hồ sơ: {CODE}")
    assert find_by_id(root, "message").text == f"Đã gắn mã hồ sơ {CODE} cho số A001"
    assert field.text == ""
    screenshot(root, "counter-pad-dossier-vi")


def scan(code: str, enter: int = 13) -> None:
    """A scanner in keyboard mode: each character as a key press (Shift for capitals), then Enter."""
    win = window()
    for ch in code:
        win.dispatch("on_key_down", ord(ch.lower()), 0, ch, ["shift"] if ch.isupper() else [])
    win.dispatch("on_key_down", enter, 0, None, [])


def test_scanner_keystrokes_attach_the_code_and_are_no_keypad_commands(pad, hub, kiosk):  # noqa: F811
    issue(kiosk, "tu-phap", 3)
    root = pad(officer="Lê Thị Thu Hà", rating=False)
    attach_keypad(root, KeyMap(), beep="off")
    win = window()
    try:
        win.dispatch("on_key_down", 270, 0, "+", [])  # keypad +: next
        assert pump_until(lambda: stored(hub, "A001").status == "called" and not root.vm.busy)
        # "." is Gọi lại, "-" Vắng mặt, digits + Enter Gọi số on the keypad: a scan must do none of them
        scan(CODE)
        assert pump_until(lambda: stored(hub, "A001").dossier == CODE and not root.vm.busy)
        pump(0.2)
        a001 = stored(hub, "A001")
        assert (a001.status, a001.call_count) == ("called", 1)
        assert stored(hub, "A002").status == stored(hub, "A003").status == "waiting"
        assert pump_until(lambda: find_by_id(root, "dossier").text == f"Mã hồ sơ: {CODE}")
        # a person's keys still work: 3 + keypad Enter calls A003, * completes it
        for key, text in ((259, "3"), (271, None)):
            win.dispatch("on_key_down", key, 0, text, [])
        assert pump_until(lambda: stored(hub, "A003").status == "called" and not root.vm.busy)
        win.dispatch("on_key_down", 268, 0, "*", [])
        assert pump_until(lambda: stored(hub, "A003").status == "done" and not root.vm.busy)
        # the receipt scanned right after Xong goes to the ticket just completed (keypad Enter ends it)
        scan("H37.2025/88", enter=271)
        assert pump_until(lambda: stored(hub, "A003").dossier == "H37.2025/88" and not root.vm.busy)
        assert stored(hub, "A002").status == "waiting"  # that Enter called nobody
    finally:
        root.keypad.stop()
