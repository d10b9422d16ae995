"""Live config on the counter pad and the hall display (real mosquitto, real hub, real Kivy window):
a counter renamed and a notice changed in the config file show on both without a restart."""

from __future__ import annotations

import time

from counter.desk import Desk
from counter.pad_app import build_pad, connect
from mqtt_bus.contract import Role
from queue_display.app import Display
from queue_display.settings import DisplaySettings
from testkit.kivy_harness import pump_until, screenshot, show, window
from tests.integration.hub_helpers import SITE
from tests.integration.test_live_config import rewrite
from ui_kit.fonts import register_fonts

NOTICE = "Nghỉ Tết Nguyên đán từ 26/01 đến 03/02"


def rename(doc) -> None:
    for counter in doc["counters"]:
        if counter["id"] == "2":
            counter["name"] = {"vi": "Quầy Hộ tịch – Chứng thực", "en": "Civil status desk"}
    doc["display"]["notice"] = {"vi": NOTICE, "en": "Closed for Tết from 26/01 to 03/02"}


def test_pad_and_display_take_new_names_without_a_restart(ctx, broker, hub, make_client):
    register_fonts()
    window()
    display = Display(DisplaySettings.from_config(ctx.config),
                      make_client(broker.url, "display-1", Role.DISPLAY, site=SITE, start=False), "vi")
    pad = build_pad(Desk.from_config(ctx.config, "2"), "vi")
    connect(pad, make_client(broker.url, "counter-2", Role.COUNTER, site=SITE, start=False))
    show(display.build_screen(), size=(1920, 1080))
    display.start()
    try:
        vm = display.vm
        assert pump_until(lambda: vm.connected and pad.vm.connected and display.live_config.sha256 is not None, 5)
        assert pad.vm.counter_name == "Quầy số 2" and NOTICE not in vm.notice
        rewrite(ctx.config_path, rename)
        t0 = time.monotonic()
        assert pump_until(lambda: pad.vm.counter_name == "Quầy Hộ tịch – Chứng thực" and vm.notice == NOTICE, 3)
        assert time.monotonic() - t0 < 2
        assert any(r["name"] == "Quầy Hộ tịch – Chứng thực" for r in vm.counters)
        assert display.live_config.applied == 1 and pad.live_config.applied == 1
        screenshot(display.screen, "display-live-config-vi")
    finally:
        display.close()
        pad.bus.close()
