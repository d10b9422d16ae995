"""The hall display board on a real (offscreen) window: layout, languages, marks; docs screenshots."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mqtt_bus.contract import EventType, Role
from qms.config import load_config
from queue_display.screen import BoardScreen
from queue_display.settings import DisplaySettings
from queue_display.viewmodel import BoardViewModel
from testkit.kivy_harness import find_by_id, pump, pump_until, screenshot, show, window
from ui_kit.fonts import register_fonts

ROOT = Path(__file__).resolve().parents[2]
MORNING = datetime(2026, 11, 23, 9, 41, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # a Monday
SERVICE_OF = {"1": "huong-dan", "2": "tu-phap", "3": "chung-thuc", "4": "dat-dai", "5": "xa-hoi", "6": "kinh-te"}


@pytest.fixture(scope="module")
def settings() -> DisplaySettings:
    register_fonts()
    return DisplaySettings.from_config(load_config(ROOT / "config" / "commune.yaml"))


def morning(vm: BoardViewModel, settings: DisplaySettings) -> None:
    """A busy morning: every counter open, ten calls, counter 5 paused, counter 6 closed."""
    site = settings.site
    for c in site.counter_ids:
        vm.apply_state("counter", {"counter": c, "name": site.counter_name(c, "vi"), "status": "open",
                                   "ticket": None, "seq": 0})
    for i, s in enumerate(site.service_ids):
        vm.apply_state("service", {"service": s, "name": site.service_name(s, "vi"), "prefix": site.prefix(s),
                                   "waiting": (i * 5 + 3) % 14, "seq": 0})
    counts: dict[str, int] = {}
    for seq, c in enumerate(["1", "2", "3", "4", "5", "6", "2", "3", "1", "4"], start=1):
        service = SERVICE_OF[c]
        counts[service] = counts.get(service, 11) + 1
        number = site.ticket_number(service, counts[service])
        vm.apply_event({"seq": seq, "ts": f"2026-11-23T09:{10 + seq:02d}:00.000+07:00", "type": EventType.TICKET_CALLED,
                        "counter": c, "ticket": {"id": f"t{seq}", "number": number, "service": service,
                                                 "call_count": 1, "status": "called"}})
    vm.apply_event({"seq": 11, "type": EventType.COUNTER_PAUSED, "counter": "5", "status": "paused",
                    "ticket": {"id": "t5", "number": "D012", "service": "xa-hoi", "call_count": 1}})
    vm.apply_state("counter", {"counter": "6", "name": "Quầy số 6", "status": "closed", "ticket": None, "seq": 12})
    vm.set_hub_status({"online": True})


def board(settings, lang="vi", connected=True, size=(1920, 1080)):
    window()  # the event loop needs its window before the clock is pumped
    vm = BoardViewModel(settings, lang, now=lambda: MORNING, flash_seconds=0.3)
    morning(vm, settings)
    vm.set_connected(connected)
    assert pump_until(lambda: not vm.flashing, 2), "the morning calls are still flashing"
    screen = show(BoardScreen(vm), size=size)
    pump(0.3)
    return vm, screen


def texts(screen, ident):
    return find_by_id(screen, ident).text


def test_landscape_vietnamese(settings):
    vm, screen = board(settings)
    try:
        assert texts(screen, "hero-number") == "C013"
        assert texts(screen, "hero-counter") == "đến Quầy số 4"
        assert texts(screen, "hero-caption") == "MỜI CÔNG DÂN CÓ SỐ"
        assert texts(screen, "clock") == "09:41" and vm.date_text == "Thứ Hai, 23/11/2026"
        row = find_by_id(screen, "counter-5")
        assert (row.name, row.number, row.status_text) == ("Quầy số 5", "", "Tạm dừng"), "paused: nobody served"
        assert find_by_id(screen, "counter-6").status_text == "Đóng"
        assert [find_by_id(screen, f"recent-{i}").number for i in range(6)] == [
            "G013", "B013", "A013", "E012", "D012", "C012"]
        assert find_by_id(screen, "waiting-tu-phap").count == "8"
        assert find_by_id(screen, "alert").opacity == 0
        assert screen.marquee.text.startswith("Giờ làm việc")
        hero = find_by_id(screen, "hero-number")
        assert hero.font_size > 200, "the number just called is huge"
        screenshot(screen, "display-landscape-vi")
    finally:
        screen.close()


def test_portrait_vietnamese(settings):
    _vm, screen = board(settings, size=(1080, 1920))
    try:
        assert screen.portrait and screen.recent_cols == 1
        hero = find_by_id(screen, "hero-number")
        assert hero.width > 900 and hero.font_size > 200
        screenshot(screen, "display-portrait-vi")
    finally:
        screen.close()


def test_landscape_english_and_live_language_switch(settings):
    vm, screen = board(settings, lang="en")
    try:
        assert texts(screen, "hero-counter") == "to Counter 4"
        assert find_by_id(screen, "counter-5").status_text == "Paused"
        assert vm.date_text == "Monday 23/11/2026"
        screenshot(screen, "display-landscape-en")
        vm.lang = "vi"
        pump(0.1)
        assert texts(screen, "hero-counter") == "đến Quầy số 4"
        assert screen.counters_panel.heading.text == "Các quầy"
    finally:
        screen.close()


def test_disconnected_and_hub_offline_marks(settings):
    vm, screen = board(settings, connected=False)
    try:
        alert = find_by_id(screen, "alert")
        assert alert.text == "Mất kết nối — đang kết nối lại" and alert.opacity == 1
        assert texts(screen, "hero-number") == "C013", "the board keeps the last known numbers"
        screenshot(screen, "display-disconnected-vi")
        vm.set_connected(True)
        vm.set_hub_status({"online": False, "role": Role.HUB})
        pump(0.1)
        assert alert.text.startswith("Máy chủ tạm ngừng")
        vm.set_hub_status({"online": True, "role": Role.HUB})
        pump(0.1)
        assert alert.opacity == 0
    finally:
        screen.close()


def test_fresh_call_flashes_then_settles(settings):
    vm = BoardViewModel(settings, "vi", now=lambda: MORNING, flash_seconds=1.5)
    calls = []
    vm.bind(on_call=lambda _vm, event: calls.append(event["seq"]))
    screen = show(BoardScreen(vm), size=(1920, 1080))
    try:
        assert texts(screen, "hero-caption") == "Chưa có lượt gọi" and texts(screen, "hero-number") == ""
        event = {"seq": 5, "ts": "2026-11-23T09:00:00+07:00", "type": EventType.TICKET_CALLED, "counter": "2",
                 "ticket": {"id": "x", "number": "A007", "call_count": 1}}
        vm.apply_event(event)
        vm.apply_event(event)  # a duplicate neither flashes again nor fires again
        assert calls == [5] and vm.flashing
        phases = set()
        pump_until(lambda: phases.add(vm.flash_on) or len(phases) == 2, 1.4)
        assert phases == {True, False}, "it blinks"
        assert pump_until(lambda: not vm.flashing, 3) and not vm.flash_on
        assert texts(screen, "hero-number") == "A007"
        vm.apply_event({**event, "seq": 6, "type": EventType.TICKET_RECALLED, "ticket": {**event["ticket"], "call_count": 2}})
        assert calls == [5, 6] and vm.flashing
        pump(0.05)
        assert texts(screen, "hero-caption") == "GỌI LẠI SỐ"
    finally:
        vm.stop()
        screen.close()


def test_yesterdays_calls_leave_the_board_at_midnight(settings):
    clock = {"now": datetime(2026, 11, 23, 23, 59, 59, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))}
    vm = BoardViewModel(settings, "vi", now=lambda: clock["now"])
    morning(vm, settings)
    assert vm.hero_number == "C013" and len(vm.recent) == 6
    clock["now"] = datetime(2026, 11, 24, 0, 0, 1, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    vm.tick()
    assert (vm.hero_number, vm.hero_caption, vm.recent) == ("", "Chưa có lượt gọi", [])
    assert vm.date_text == "Thứ Ba, 24/11/2026"
    vm.stop()


def _called(seq, number, counter, minute):
    return {"seq": seq, "ts": f"2026-11-23T09:{minute:02d}:00.000+07:00", "type": EventType.TICKET_CALLED,
            "counter": counter, "ticket": {"id": f"t-{number}", "number": number, "call_count": 1, "status": "called"}}


def test_no_stale_call_after_a_no_show_and_a_pause(settings):
    """Issue 14 point 7: after a no-show and pausing counter 1 the big call area no longer says A007."""
    window()
    vm = BoardViewModel(settings, "vi", now=lambda: MORNING, flash_seconds=0.1)
    for c in settings.site.counter_ids:
        vm.apply_state("counter", {"counter": c, "name": settings.site.counter_name(c, "vi"), "status": "open",
                                   "ticket": None, "seq": 0})
    vm.set_connected(True)
    vm.set_hub_status({"online": True})
    vm.apply_event(_called(1, "B003", "2", 30))
    vm.apply_event(_called(2, "A007", "1", 31))
    assert vm.hero_number == "A007"
    vm.apply_event({"seq": 3, "type": EventType.TICKET_NO_SHOW, "counter": "1",
                    "ticket": {"id": "t-A007", "number": "A007", "status": "no_show"}})
    vm.apply_event({"seq": 4, "type": EventType.COUNTER_PAUSED, "counter": "1", "status": "paused", "ticket": None})
    assert pump_until(lambda: not vm.flashing, 2)
    screen = show(BoardScreen(vm), size=(1920, 1080))
    try:
        pump(0.2)
        assert texts(screen, "hero-number") == "B003", "the still-current call, not A007"
        assert texts(screen, "hero-counter") == "đến Quầy số 2"
        row = find_by_id(screen, "counter-1")
        assert (row.number, row.status_text) == ("", "Tạm dừng")
        assert find_by_id(screen, "counter-2").number == "B003"
        assert find_by_id(screen, "recent-0").number == "A007", "history still lists it"
        screenshot(screen, "display-after-noshow-pause-vi")
        # counter 2 pauses with its citizen: nothing is shown as being called or served
        vm.apply_event({"seq": 5, "type": EventType.COUNTER_PAUSED, "counter": "2", "status": "paused",
                        "ticket": {"id": "t-B003", "number": "B003", "call_count": 1, "status": "called"}})
        pump(0.1)
        assert texts(screen, "hero-number") == "" and texts(screen, "hero-caption") == "Xin mời chờ đến lượt"
        assert find_by_id(screen, "counter-2").number == ""
        vm.apply_event({"seq": 6, "type": EventType.COUNTER_RESUMED, "counter": "2", "status": "open",
                        "ticket": {"id": "t-B003", "number": "B003", "call_count": 1, "status": "called"}})
        pump(0.1)
        assert texts(screen, "hero-number") == "B003", "resumed: its call is current again"
    finally:
        vm.stop()
        screen.close()


def test_voice_and_device_marks(settings):
    """Issue 20: the call being spoken is highlighted, calls waiting are marked; issue 14 point 9: printer
    and audio marks."""
    vm, screen = board(settings)
    try:
        marks = find_by_id(screen, "marks")
        assert marks.opacity == 0 and vm.marks == ""
        vm.set_voice([10], [])  # C013, the newest call, is spoken
        pump(0.1)
        assert texts(screen, "hero-voice") == "● đang đọc" and vm.hero_voice == "speaking"
        assert find_by_id(screen, "recent-0").voice == ""
        vm.set_voice([9], [10])  # a backlog: G013 (now in the list) is spoken, C013 waits
        vm.set_device({"kind": "printer", "state": "paper_out", "detail": "", "ts": "x"}, "kiosk-1")
        vm.set_audio("no_device", "`aplay -l` lists no sound card")
        pump(0.2)
        assert texts(screen, "hero-voice") == "● chờ đọc"
        cell = find_by_id(screen, "recent-0")
        assert (cell.number, cell.voice, cell.note) == ("G013", "speaking", "đang đọc")
        assert marks.text == "Máy in kiosk-1: hết giấy\nLoa: không có thiết bị âm thanh" and marks.opacity == 1
        screenshot(screen, "display-voice-and-marks-vi")
        vm.set_device({"kind": "printer", "state": "ok"}, "kiosk-1")
        vm.set_audio("ok")
        pump(0.1)
        assert marks.opacity == 0 and vm.marks == ""
        vm.set_device({"kind": "printer", "state": "offline"}, "kiosk-2")
        vm.set_audio("no_pack", "no voice pack at …")
        assert vm.marks == "Máy in kiosk-2: mất kết nối\nLoa: thiếu bộ giọng đọc"
        vm.set_voice([], [])
        assert vm.hero_voice == "" and texts(screen, "hero-voice") == ""
    finally:
        screen.close()
