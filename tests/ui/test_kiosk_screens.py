"""Every kiosk screen in Vietnamese and English, portrait 1080x1920 and landscape 1920x1080.

Saves (under $QMS_SHOTS, e.g. docs/screens) kiosk-<screen>-<lang>-<orientation>.png (a fixed clock keeps them stable) and
checks that every text fits its box, every button is at least 120 px high, and every pictogram
loaded.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from kivy.base import EventLoop
from kivy.uix.image import Image
from PIL import Image as PILImage

from kiosk.menu import kiosk_view
from kiosk.ui.root import KioskRoot
from kiosk.ui.widgets import FitLabel, Tile
from kiosk.viewmodel import KioskSettings, KioskViewModel
from mqtt_bus.contract import ErrorCode
from qms.config import default_config_path, load_config
from testkit.kivy_harness import SCREENS_DIR, show, window
from tests.kiosk_fakes import (
    FakeHub,
    FakePrinter,
    ManualClock,
    RecordingSpeaker,
    error_response,
    make_ticket,
    ok_response,
)
from ui_kit.fonts import register_fonts

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
FIXED = datetime(2026, 11, 23, 9, 41, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
MIN_BUTTON_PX = 120


class Walk:
    """A view-model with fakes, put into each screen in turn."""

    def __init__(self) -> None:
        cfg = load_config(default_config_path())
        self.hub, self.printer = FakeHub(), FakePrinter(immediate=False)
        self.vm = KioskViewModel(kiosk_view(cfg), self.hub, self.printer, RecordingSpeaker(), ManualClock(),
                                 KioskSettings(admin_pin_hash=cfg.kiosk.admin_pin_hash, tap_guard_s=0,
                                               priority_on_welcome=True),
                                 pin_checker=lambda pin, done: done(pin == "2468"),
                                 info={"ip": "192.168.1.20", "client_id": "kiosk-1", "version": "0.1.0",
                                       "broker": "mqtt://192.168.1.10:1883"})
        self.vm.set_connected(True)
        self.vm.set_hub_online(True)
        self.vm.set_printer_status({"state": "ok", "detail": "ready"})

    def restart(self, lang: str, priority_on_welcome: bool = False) -> None:
        self.vm.settings = replace(self.vm.settings, priority_on_welcome=priority_on_welcome)
        self.vm._home(keep_lang=True)
        self.vm.lang = lang
        self.printer.state = "ok"
        self.vm.set_printer_status({"state": "ok", "detail": "ready"})

    def to_priority(self, service: str = "tu-phap", procedure: str = "khai-sinh") -> None:
        self.vm.take_number()
        self.vm.choose_service(service)
        if self.vm.screen == "procedure":
            self.vm.choose_procedure(procedure)

    def states(self, lang: str):
        vm = self.vm
        self.restart(lang, priority_on_welcome=True)  # the default: priority pictograms on the welcome screen
        yield "welcome"
        vm.settings = replace(vm.settings, priority_on_welcome=False)  # the other way: a question after
        vm.take_number()
        yield "field"
        vm.choose_service("tu-phap")
        yield "procedure"
        vm.choose_procedure("khai-sinh")
        yield "priority"
        vm.choose_priority("elderly")
        vm._slow(vm._rid)
        yield "issuing"
        self.hub.reply(ok_response(make_ticket("A012", ahead=4, est_wait_s=1260, priority="elderly")))
        vm.clock.advance(vm.settings.paper_first_s)
        yield "printing"
        self.printer.finish()
        yield "ticket"
        self.restart(lang)
        self.to_priority("chung-thuc", "chung-thuc-ban-sao")
        vm.choose_priority("normal")
        self.printer.state = "paper_out"
        self.hub.reply(ok_response(make_ticket("B007", service="chung-thuc", ahead=0, est_wait_s=30)))
        self.printer.finish()
        yield "remember"
        self.restart(lang)
        self.to_priority()
        vm.choose_priority("normal")
        self.hub.reply(TimeoutError("no answer"))
        yield "hub_down"
        self.restart(lang)
        self.to_priority("dat-dai", "phep-xay-dung")
        vm.choose_priority("normal")
        self.hub.reply(error_response(ErrorCode.SERVICE_CLOSED, "closed"))
        yield "refused"
        self.restart(lang)
        vm.open_admin()
        for digit in "24":
            vm.pin_digit(digit)
        yield "pin"
        for digit in "68":
            vm.pin_digit(digit)
        vm.pin_submit()
        yield "admin"


def settle(frames: int = 4) -> None:
    """Run whole frames (not a time): the rebuild, then the labels' refits, then a draw."""
    for _ in range(frames):
        EventLoop.idle()


def problems(root) -> list[str]:
    """Texts that overflow, buttons too small to hit, pictograms that did not load."""
    found = []
    for w in root.walk(restrict=True):
        if isinstance(w, FitLabel) and w.text and w.width > 1:
            tw, th = w.texture_size
            if tw > w.width + 2 or th > w.height + 2:
                found.append(f"text overflows: {w.text!r} ({tw}x{th} in {w.width:.0f}x{w.height:.0f})")
        if isinstance(w, Tile) and w.height < MIN_BUTTON_PX:
            found.append(f"button too small: {w.qid} {w.height:.0f} px")
        if isinstance(w, Image) and (w.texture is None or w.texture.width < 16):
            found.append(f"icon missing: {w.source}")
    return found


def grab(widget, path: Path, pool: ThreadPoolExecutor):
    """Read the widget's pixels now; encode the PNG on a worker thread (zlib runs without the GIL)."""
    texture = widget.export_as_image().texture
    size, pixels = texture.size, texture.pixels

    def save() -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        PILImage.frombytes("RGBA", size, pixels).convert("RGB").save(path, compress_level=6)
        return path
    return pool.submit(save)


@pytest.mark.parametrize("orientation", list(SIZES))
def test_every_screen_in_both_languages(orientation):
    register_fonts()
    walk = Walk()
    before = tuple(window().size)
    root = show(KioskRoot(walk.vm, now=lambda tz: FIXED), SIZES[orientation])
    bad, saved = [], []
    pool = ThreadPoolExecutor(2)
    try:
        for lang in ("vi", "en"):
            for name in walk.states(lang):
                settle()
                shot = f"kiosk-{name}-{lang}-{orientation}"
                bad += [f"{shot}: {p}" for p in problems(root)]
                saved.append(grab(root, SCREENS_DIR / f"{shot}.png", pool))
    finally:
        root.stop()
        pool.shutdown()
        window().remove_widget(root)
        window().size = before  # other tests in this process expect the usual window
    saved = [f.result() for f in saved]
    assert not bad, "\n".join(bad)
    assert len(saved) == 24 and all(p.stat().st_size > 10_000 for p in saved)
