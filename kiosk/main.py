"""``qms kiosk``: the citizen kiosk on this device's touchscreen and ticket printer."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from qms.context import AppContext

from .cli_args import DEFAULT_CLIENT_ID

log = logging.getLogger(__name__)
WINDOW = {False: (1280, 720), True: (720, 1280)}  # --windowed sizes: landscape, portrait


def _stop_on_sigterm(app: object) -> None:
    """``systemctl stop``: close the app cleanly (offline status, printer port released)."""
    from kivy.clock import Clock

    def stop(*_: object) -> None:
        Clock.schedule_once(lambda _dt: app.stop(), 0)  # type: ignore[attr-defined]

    signal.signal(signal.SIGTERM, stop)


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Run the kiosk until the technician quits it; ``restart`` re-executes this process."""
    from ui_kit.boot import prepare

    from .lean import start_lean

    client_id = getattr(ns, "client_id", None) or DEFAULT_CLIENT_ID
    broker_url = ctx.login_url(client_id)
    start_lean(ctx.cache_dir, broker_url)
    windowed = bool(getattr(ns, "windowed", False))
    portrait = bool(getattr(ns, "portrait", False))
    prepare(kiosk=not windowed, size=WINDOW[portrait] if windowed else None)
    if portrait and not windowed:
        from kivy.config import Config

        Config.set("graphics", "rotation", "90")
    from ui_kit.fonts import register_fonts

    register_fonts()
    from .app import KioskApp, build_kiosk

    ctx.plain_config  # noqa: B018  (a bad config stops here with the loader's message)
    if getattr(ns, "any_time", False):
        ctx.overrides["ignore_hours"] = True
    kiosk = build_kiosk(ctx, broker_url, client_id=client_id,
                        voice=not getattr(ns, "no_voice", False))
    app = KioskApp(kiosk, kiosk_mode=not windowed)
    _stop_on_sigterm(app)
    from qms.sdnotify import start_kivy_watchdog

    start_kivy_watchdog()
    try:
        app.run()
    finally:
        kiosk.close()
    if app.exit_request == "restart":
        log.warning("restarting the kiosk")
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    return 0
