"""The assembled hall display: view-model, screen, MQTT feed, voice and LED boards (Kivy booted first)."""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window

from devices.led import LedBoards
from mqtt_bus.client import BusClient
from qms.config.plain import Origin
from ui_kit.bridge import UiBus
from ui_kit.live_config import LiveConfig

from . import board as b
from .feed import attach
from .screen import BoardScreen
from .settings import DisplaySettings
from .viewmodel import BoardViewModel
from .voice import Voice

log = logging.getLogger(__name__)


class Display:
    """Wires one MQTT client to the board, the announcer and the LED boards (tests use it without an App)."""

    def __init__(self, settings: DisplaySettings, client: BusClient, lang: str = "vi", *,
                 voice: Voice | None = None, leds: LedBoards | None = None, origin: Origin | None = None) -> None:
        self.settings, self.client, self.voice, self.leds = settings, client, voice, leds
        self.vm = BoardViewModel(settings, lang)
        self.bus = UiBus(client, on_connection=self.vm.set_connected)
        attach(self.bus, self.vm)
        self.live_config = LiveConfig(self.bus, settings.site.config, self._new_config, origin=origin)
        if leds is not None:  # straight from the network thread: LedBoards has its own worker
            client.subscribe(client.topics.state_counters_all, lambda _topic, payload: leds.apply_state(payload))
        if voice is not None:
            self.vm.bind(on_call=lambda _vm, event: voice.announce(event),
                         on_event=lambda _vm, event: voice.observe(event))
            voice.is_current = lambda event: b.event_is_current(self.vm.board, dict(event))
            voice.on_voice = lambda speaking, waiting: Clock.schedule_once(
                lambda _dt: self.vm.set_voice(speaking, waiting), 0)
            voice.on_audio = self._audio_changed
        self._audio_changed(voice.audio_status() if voice is not None else {"state": "off", "detail": ""})
        self.screen: BoardScreen | None = None
        self._closed = False

    def _new_config(self, cfg: Any) -> None:
        """The hub's catalogue (live apply): counter and service names, the notice; redrawn at once."""
        self.settings = self.vm.settings = DisplaySettings.from_config(cfg)
        self.vm.refresh()

    def _audio_changed(self, status: dict[str, str]) -> None:
        """Publish this display's audio state in its retained status and mark it on the board."""
        self.client.set_status_extra({"audio": dict(status)})
        Clock.schedule_once(lambda _dt: self.vm.set_audio(status["state"], status.get("detail", "")), 0)

    def build_screen(self) -> BoardScreen:
        """The board widget (one per display)."""
        if self.screen is None:
            self.screen = BoardScreen(self.vm)
        return self.screen

    def start(self) -> Display:
        """Start the clock, the voice pack loading and the broker connection (all non-blocking)."""
        self.vm.start()
        if self.voice is not None:
            self.voice.start()
        self.bus.start()
        return self

    def close(self) -> None:
        """Stop everything (once); publishes this display's offline status."""
        if self._closed:
            return
        self._closed = True
        self.vm.stop()
        if self.screen is not None:
            self.screen.close()
        self.bus.close()
        if self.voice is not None:
            self.voice.stop(timeout=2.0)
        if self.leds is not None:
            self.leds.close()


class DisplayApp(App):
    """The Kivy App around a :class:`Display`."""

    def __init__(self, display: Display, *, portrait: bool = False, fullscreen: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.display, self.portrait, self.fullscreen = display, portrait, fullscreen
        self.title = "Hall display — QMS"

    def build(self) -> BoardScreen:
        """Start the display and return its board."""
        if self.portrait and self.fullscreen and Window.width > Window.height:
            Window.rotation = 90  # a TV mounted upright on a landscape video output
        Window.clearcolor = (0.035, 0.086, 0.18, 1)
        self.display.start()
        return self.display.build_screen()

    def on_stop(self) -> None:
        """Close the link, the voice and the LED port."""
        self.display.close()
