"""Assemble the pad: view-models, screens, the MQTT link and the optional USB keypad."""

from __future__ import annotations

from typing import Any

from mqtt_bus.client import BusClient
from mqtt_bus.contract import EventType
from qms.config.plain import Origin
from ui_kit.bridge import UiBus
from ui_kit.fonts import register_fonts
from ui_kit.live_config import LiveConfig

from .desk import Desk
from .pad import PadRoot
from .rating_vm import RatingViewModel
from .viewmodel import CounterViewModel


def build_pad(desk: Desk, lang: str = "vi", *, rating: bool = True, rating_timeout: float = 20.0,
              officer: str | None = None, **vm_options: Any) -> PadRoot:
    """The pad's root widget (not yet connected: see :func:`connect`)."""
    register_fonts()
    vm = CounterViewModel(desk, lang, **vm_options)
    rating_vm = RatingViewModel(desk, None, lang, timeout_s=rating_timeout) if rating else None
    return PadRoot(vm, rating_vm, lang=lang, officer=officer)


def connect(root: PadRoot, client: BusClient, origin: Origin | None = None) -> UiBus:
    """Wire the view-models to ``client`` and start it (``origin``: where the desk's plain config came from,
    for the hub's catalogue)."""
    bus = UiBus(client, on_connection=root.vm.set_connected)
    root.vm.attach(bus, connected=bus.connected)
    if root.rating_vm is not None:
        root.rating_vm.bus = bus
        bus.subscribe(bus.topics.event(EventType.TICKET_COMPLETED), root.on_ticket_completed)
    root.bus = bus

    def new_config(cfg: Any) -> None:  # the hub's catalogue (live apply): names, services, officers
        try:
            desk = Desk.from_config(cfg, root.vm.counter_id)
        except KeyError:
            return  # this counter was removed: it keeps what it has until restarted
        root.vm.set_desk(desk)
        if root.rating_vm is not None:
            root.rating_vm.desk = desk

    root.live_config = LiveConfig(bus, root.vm.desk.site.config, new_config, origin=origin)
    return bus.start()


def attach_scanner(root: PadRoot) -> Any:
    """A USB barcode scanner (keyboard mode) on the pad's window: a scanned dossier code is attached to
    the current ticket, or the one just completed (counter/scanner.py). Not on the sign-in screen, nor while a text field has focus
    (a scan into the dossier field fills it and its Enter attaches it)."""
    if root.scanner is not None:
        return root.scanner
    from kivy.core.window import Window
    from kivy.uix.textinput import TextInput

    from ui_kit.i18n import tr

    from .scanner import KivyScanSource

    focused = lambda: any(isinstance(w, TextInput) and w.focus for w in root.walk())  # noqa: E731
    root.scanner = KivyScanSource(
        Window, root.vm.set_dossier,
        on_bad_scan=lambda _text: root.vm.say(tr("counter.error.scan_incomplete", root.vm.lang), error=True),
        enabled=lambda: root.current != "signin" and not focused())
    return root.scanner


def attach_keypad(root: PadRoot, keymap: Any, beep: str = "bell") -> Any:
    """USB keypad keys of the window act on the pad (not while a text field has focus).

    The keys come through the scanner's source, which holds a fast burst of keys ending in Enter as
    a dossier code: a scan is never taken as keypad commands."""
    from devices.keypad import KeyDecoder
    from devices.keypad.feedback import Beeper

    from .keypad_link import KeypadLink

    link = KeypadLink(root.vm, KeyDecoder(keymap), Beeper(beep))
    scanner = attach_scanner(root)
    scanner.on_key = link.key
    # nothing while the sign-in screen is up: the keys would act for the officer signed in before
    root.keypad = scanner
    root.keypad_link = link
    return link
