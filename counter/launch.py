"""How both counter apps start: options → their counter, language, MQTT client, Kivy boot, a minimal App."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import Any

from mqtt_bus.client import BusClient
from mqtt_bus.clock_probe import ClockProbe
from mqtt_bus.contract import Role
from qms.context import AppContext

from .desk import Desk

log = logging.getLogger(__name__)


class UsageError(Exception):
    """Bad option value: printed as one line, exit code 2."""


def desk_for(ctx: AppContext, ns: argparse.Namespace) -> Desk:
    """The counter named by ``--counter`` (UsageError naming the valid ones)."""
    try:
        return Desk.from_config(ctx.plain_config, str(ns.counter))
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def language(ctx: AppContext, ns: argparse.Namespace) -> str:
    """``--lang``, else the site's first language."""
    return ns.lang or ctx.plain_config.default_language


def make_client(ctx: AppContext, client_id: str, role: str = Role.COUNTER) -> BusClient:
    """This device's MQTT client (not started)."""
    client = BusClient(ctx.login_url(client_id), ctx.site.site, client_id, role)
    ClockProbe(client).start()  # clock_offset_s in status/{client_id}, for the web app's devices page
    return client


def boot_kivy(ctx: AppContext, ns: argparse.Namespace, app: str) -> None:
    """Kivy settings before its first import, then the ``Body`` font.

    Each ``app`` keeps its own Kivy home: the pad and the rating tablet of one counter start
    together on one board, and Kivy's first start writes its ``config.ini`` without a lock.
    """
    from ui_kit.boot import prepare

    prepare(kiosk=bool(getattr(ns, "fullscreen", False)), size=tuple(ns.size), kivy_home=ctx.data_dir / "kivy" / app)
    from ui_kit.fonts import register_fonts

    register_fonts()


def run_app(title: str, build: Callable[[], Any], on_stop: Callable[[], None]) -> int:
    """Run a Kivy App whose root is ``build()``; ``on_stop`` closes the link."""
    from kivy.app import App

    class CounterApp(App):
        def build(self) -> Any:
            self.title = title
            return build()

        def on_stop(self) -> None:
            on_stop()

    CounterApp().run()
    return 0


def report_usage(err: UsageError) -> int:
    """Print a usage error the way ``qms`` does."""
    import sys

    print(f"qms: {err}", file=sys.stderr)
    return 2
