"""Route MQTT messages to the board's view-model (subscriptions are remade on every reconnect), and
send its ``events_since`` requests when it noticed missed events (answers come back on the UI thread)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from mqtt_bus.contract import HUB_CLIENT_ID
from ui_kit.bridge import UiBus

log = logging.getLogger(__name__)

#: Seconds to wait for each of the two ``events_since`` attempts; live events after a gap wait as long.
FETCH_TIMEOUT_S = 2.0


class BoardSink(Protocol):
    """What the feed drives (the view-model)."""

    def apply_state(self, kind: str, payload: dict[str, Any]) -> None: ...
    def apply_event(self, event: dict[str, Any]) -> None: ...
    def set_hub_status(self, payload: dict[str, Any]) -> None: ...
    def set_device(self, payload: dict[str, Any], device: str | None = None) -> None: ...
    def events_fetched(self, answer: dict[str, Any] | Exception) -> None: ...

    fetch_events: Callable[[int], None] | None


def attach(bus: UiBus, sink: BoardSink, hub_id: str = HUB_CLIENT_ID) -> None:
    """Subscribe to counter, service and device state, events and the hub's status; handlers run on the UI thread."""
    t = bus.topics
    bus.subscribe(t.state_counters_all, lambda _topic, p: sink.apply_state("counter", p))
    bus.subscribe(t.state_services_all, lambda _topic, p: sink.apply_state("service", p))
    bus.subscribe(t.events_all, lambda _topic, p: sink.apply_event(p))
    bus.subscribe(t.status(hub_id), lambda _topic, p: sink.set_hub_status(p))
    bus.subscribe(t.state_devices_all, lambda topic, p: sink.set_device(p, topic.rsplit("/", 1)[-1]))

    def fetch(after: int) -> None:
        try:
            bus.request("events_since", {"after": after}, sink.events_fetched, timeout=FETCH_TIMEOUT_S, retries=1)
        except Exception as exc:  # closed or not started: the sink gives up waiting, the board goes on
            log.warning("cannot ask the hub for missed events: %s", exc)
            sink.events_fetched(exc)

    sink.fetch_events = fetch
