"""``qms display``: the hall display (board, voice announcements, optional per-counter LED boards)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

from qms.context import AppContext

from .settings import DisplaySettings

log = logging.getLogger(__name__)

WINDOWED = {False: (1280, 720), True: (540, 960)}  # portrait?
FULL = {False: (1920, 1080), True: (1080, 1920)}


def _open_leds(ns: argparse.Namespace) -> Any:
    """``--led URL`` + ``--led-map`` → LedBoards, or None (ValueError on a bad option)."""
    if not ns.led:
        return None
    from devices.led import LedBoards, LedUnavailable, open_led, parse_led_map

    transport, protocol = open_led(ns.led)
    try:
        opener = getattr(transport, "open", None)
        if opener is not None:
            opener()
    except LedUnavailable as exc:  # keep going: the boards are retried, the hall TV matters more
        log.warning("%s", exc)
    return LedBoards(transport, protocol, parse_led_map(ns.led_map))


def _make_voice(ctx: AppContext, ns: argparse.Namespace, settings: DisplaySettings) -> Any:
    """The announcer wiring, or None with ``--no-voice``."""
    if ns.no_voice:
        return None
    from devices.voice.build import ensure_pack
    from ui_kit.sound import app_backend

    from .voice import Voice

    backend = app_backend(ns.audio)
    return Voice(settings, backend, lambda: ensure_pack(ns.voice, cache_dir=ctx.data_dir / "voice"))


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Build everything and run the board until the window closes, SIGTERM or Ctrl-C."""
    settings = DisplaySettings.from_config(ctx.plain_config)
    lang = getattr(ns, "lang", None) or ctx.plain_config.default_language
    url = ctx.login_url(ns.client_id)
    try:
        voice = _make_voice(ctx, ns, settings)
        leds = _open_leds(ns)
    except ValueError as exc:
        print(f"qms: {exc}", file=sys.stderr)
        return 2

    from ui_kit.boot import prepare

    size = (FULL if ns.fullscreen else WINDOWED)[bool(ns.portrait)]
    prepare(kiosk=ns.fullscreen, size=size, kivy_home=ctx.data_dir / "kivy")
    from ui_kit.fonts import register_fonts

    register_fonts()
    from kivy.clock import Clock

    from mqtt_bus.client import BusClient
    from mqtt_bus.clock_probe import ClockProbe
    from mqtt_bus.contract import Role

    from .app import Display, DisplayApp

    client = BusClient(url, ctx.site.site, ns.client_id, Role.DISPLAY)
    ClockProbe(client).start()  # clock_offset_s in status/{client_id}, for the web app's devices page
    display = Display(settings, client, lang, voice=voice, leds=leds, origin=ctx.config_origin)
    app = DisplayApp(display, portrait=ns.portrait, fullscreen=ns.fullscreen)

    def stop(*_: Any) -> None:
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    from qms.sdnotify import start_kivy_watchdog

    start_kivy_watchdog()
    log.info("hall display %s for %s on %s (%s, audio %s)", ns.client_id, ctx.site.site, client.address, lang,
             "off" if voice is None else ns.audio)
    try:
        app.run()
    finally:
        display.close()  # idempotent: on_stop normally did it
        log.info("hall display stopped")
    return 0
