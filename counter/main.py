"""``qms counter-pad --counter ID``: the staff counter pad (touch screen and/or USB keypad)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from qms.context import AppContext

from .launch import UsageError, boot_kivy, desk_for, language, make_client, report_usage, run_app

log = logging.getLogger(__name__)


def load_keymap(ns: argparse.Namespace) -> Any:
    """``--keymap FILE`` or the default map (UsageError when the file is bad)."""
    from devices.keypad import KeyMap, KeyMapError

    if not ns.keymap:
        return KeyMap()
    try:
        return KeyMap.from_file(ns.keymap)
    except KeyMapError as exc:
        raise UsageError(str(exc)) from None


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Build and run the pad until the window closes (or Ctrl-C with ``--no-screen``)."""
    try:
        desk = desk_for(ctx, ns)
        keymap = load_keymap(ns) if (ns.keypad or ns.no_screen) else None
    except UsageError as err:
        return report_usage(err)
    lang = language(ctx, ns)
    client = make_client(ctx, f"counter-{desk.counter_id}")
    if ns.no_screen:
        from .headless import run_headless

        return run_headless(desk, client, lang, keymap, ns)
    boot_kivy(ctx, ns, "counter-pad")
    from .pad_app import build_pad, connect

    def build() -> Any:
        from qms.sdnotify import start_kivy_watchdog

        start_kivy_watchdog()
        root = build_pad(desk, lang, rating=not ns.no_rating, rating_timeout=ns.rating_timeout,
                         officer=ns.officer)
        connect(root, client, ctx.config_origin)
        from .pad_app import attach_scanner

        attach_scanner(root)  # a USB barcode scanner reads dossier codes (mã hồ sơ)
        if keymap is not None:
            from .pad_app import attach_keypad

            attach_keypad(root, keymap, ns.beep)
        return root

    return run_app(f"{desk.name(lang)} — QMS", build, client.close)
