"""The hall display tells an open counter nobody staffs from one with an officer (issue 14, point 3)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from qms.config import load_config
from queue_display.screen import BoardScreen
from queue_display.settings import DisplaySettings
from queue_display.viewmodel import BoardViewModel
from testkit.kivy_harness import find_by_id, pump, show, window
from ui_kit.fonts import register_fonts

ROOT = Path(__file__).resolve().parents[2]
MORNING = datetime(2026, 11, 23, 7, 31, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def test_open_counters_without_an_officer_say_so():
    register_fonts()
    settings = DisplaySettings.from_config(load_config(ROOT / "config" / "commune.yaml"))
    window()
    vm = BoardViewModel(settings, "vi", now=lambda: MORNING, flash_seconds=0.1)
    site = settings.site
    for seq, c in enumerate(site.counter_ids):
        vm.apply_state("counter", {"counter": c, "name": site.counter_name(c, "vi"), "status": "open",
                                   "ticket": None, "officer": "Nguyễn Thị Lan" if c == "1" else None,
                                   "staffed": c == "1", "seq": seq})
    vm.apply_state("counter", {"counter": "6", "name": "Quầy số 6", "status": "paused", "ticket": None,
                               "staffed": False, "seq": 10})
    vm.set_hub_status({"online": True})
    screen = show(BoardScreen(vm), size=(1920, 1080))
    try:
        pump(0.2)
        assert find_by_id(screen, "counter-1").status_text == "Đang mở"
        assert find_by_id(screen, "counter-2").status_text == "Chưa có cán bộ"
        assert find_by_id(screen, "counter-6").status_text == "Tạm dừng"
        # an officer signs in at counter 2: the hub republishes its state, now staffed
        vm.apply_state("counter", {"counter": "2", "name": "Quầy số 2", "status": "open", "ticket": None,
                                   "officer": "Lê Thị Thu Hà", "staffed": True, "seq": 11})
        pump(0.1)
        assert find_by_id(screen, "counter-2").status_text == "Đang mở"
    finally:
        screen.close()
