"""MQTT for Kivy apps: every callback is handed to the UI thread through ``Clock.schedule_once``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mqtt_bus.client import BusClient

log = logging.getLogger(__name__)


def on_ui_thread(fn: Callable[..., Any]) -> Callable[..., None]:
    """Wrap ``fn`` so that calling it from any thread runs it on the Kivy main thread."""
    from kivy.clock import Clock

    def call(*args: Any) -> None:
        Clock.schedule_once(lambda _dt: fn(*args), 0)

    return call


class UiBus:
    """A ``BusClient`` whose handlers, responses and connection changes arrive on the UI thread."""

    def __init__(self, client: BusClient, on_connection: Callable[[bool], None] | None = None) -> None:
        self.client = client
        self.topics = client.topics
        self._on_connection = on_connection
        client.on_connection_change = on_ui_thread(self._connection_changed)

    def _connection_changed(self, connected: bool) -> None:
        if self._on_connection is not None:
            self._on_connection(connected)

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self.client.is_connected

    def subscribe(self, topic_filter: str, handler: Callable[[str, dict], None]) -> None:
        """``handler(topic, payload)`` on the UI thread."""
        self.client.subscribe(topic_filter, on_ui_thread(handler))

    def request(self, action: str, args: dict[str, Any], done: Callable[[dict | Exception], None],
                request_id: str | None = None, timeout: float = 3.0, retries: int = 2) -> str:
        """Send a request; ``done(response_or_exception)`` runs on the UI thread. Returns the id."""
        return self.client.request_async(action, args, on_ui_thread(done), timeout=timeout, retries=retries,
                                         request_id=request_id)

    def start(self) -> UiBus:
        """Connect in the background."""
        self.client.start()
        return self

    def close(self) -> None:
        """Disconnect (publishes offline status)."""
        self.client.close()
