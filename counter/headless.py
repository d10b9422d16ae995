"""``qms counter-pad --no-screen``: a counter with only a USB keypad; feedback by beep and text.

The keypad types into the terminal (the Pi's console) or a pipe; each answer is printed as one
line. Kivy's clock runs the view-model without any window.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any

from mqtt_bus.client import BusClient

from .desk import Desk

EOF_GRACE_S = 12.0  # after stdin ends (a pipe), wait this long at most for the last answer


def run_headless(desk: Desk, client: BusClient, lang: str, keymap: Any, ns: argparse.Namespace) -> int:
    """Run until Ctrl-C / SIGTERM, or until stdin ends and the last answer came."""
    os.environ.setdefault("QMS_HEADLESS", "1")
    from ui_kit.boot import prepare

    prepare()
    from kivy.clock import Clock

    from devices.keypad import KeyDecoder
    from devices.keypad.feedback import Beeper
    from devices.keypad.sources import StdinKeySource
    from ui_kit.bridge import UiBus, on_ui_thread
    from ui_kit.i18n import tr

    from .keypad_link import KeypadLink
    from .scanner import ScanKeys
    from .viewmodel import CounterViewModel

    def say(text: str) -> None:
        print(text, flush=True)

    vm = CounterViewModel(desk, lang)
    bus = UiBus(client, on_connection=vm.set_connected)
    vm.attach(bus)
    link = KeypadLink(vm, KeyDecoder(keymap), Beeper(ns.beep, stream=sys.stderr), echo=say)
    shown = [""]

    def show_link(*_: Any) -> None:  # settled state only: no "hub offline" flash while connecting
        text = vm.banner or f"✓ {desk.name(lang)}"
        if text != shown[0]:
            shown[0] = text
            say(text)

    settle = Clock.create_trigger(show_link, 0.5)
    vm.bind(banner=lambda *_: settle())
    vm.bind(number_text=lambda _vm, number: number and say(f"→ {number}"))
    officer = [ns.officer] if ns.officer else []

    def ready(_vm: Any, ok: bool) -> None:
        if ok and officer:
            vm.sign_in(officer.pop())

    vm.bind(can_act=ready)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    bus.start()
    # a USB barcode scanner types dossier codes into the same terminal: its bursts are scans, never keypad commands
    keys = ScanKeys(link.scan, on_key=link.key, on_bad_scan=link.bad_scan)
    source = StdinKeySource(link.key, on_char=on_ui_thread(keys.feed)).start()
    say(tr("counter.keypad.ready", lang, counter=desk.name(lang)))
    eof_at: float | None = None
    try:
        while not stop.is_set():
            Clock.tick()
            if source.finished.is_set():
                eof_at = eof_at or time.monotonic()
                waited = time.monotonic() - eof_at
                if (waited > 0.3 and not vm.busy) or waited > EOF_GRACE_S:
                    break
            time.sleep(0.01)
    finally:
        source.stop()
        keys.stop()
        bus.close()
    return 0
