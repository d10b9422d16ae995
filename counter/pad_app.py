"""Assemble the pad: view-models, screens, the MQTT link and the optional USB keypad."""

from __future__ import annotations

from typing import Any

from mqtt_bus.client import BusClient
from mqtt_bus.contract import EventType
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


def connect(root: PadRoot, client: BusClient) -> UiBus:
    """Wire the view-models to ``client`` and start it."""
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

    root.live_config = LiveConfig(bus, root.vm.desk.site.config, new_config)
    return bus.start()


def attach_keypad(root: PadRoot, keymap: Any, beep: str = "bell") -> Any:
    """USB keypad keys of the window act on the pad (not while a text field has focus)."""
    from kivy.core.window import Window
    from kivy.uix.textinput import TextInput

    from devices.keypad import KeyDecoder
    from devices.keypad.feedback import Beeper
    from devices.keypad.sources import KivyKeySource

    from .keypad_link import KeypadLink

    link = KeypadLink(root.vm, KeyDecoder(keymap), Beeper(beep))
    focused = lambda: any(isinstance(w, TextInput) and w.focus for w in root.walk())  # noqa: E731
    # nothing while the sign-in screen is up: the keys would act for the officer signed in before
    root.keypad = KivyKeySource(Window, link.key, enabled=lambda: root.current != "signin" and not focused())
    root.keypad_link = link
    return link
