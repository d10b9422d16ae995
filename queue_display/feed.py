"""Route MQTT messages to the board's view-model (subscriptions are remade on every reconnect)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ui_kit.bridge import UiBus

log = logging.getLogger(__name__)

#: The hub's client id (``status/hub`` says whether the hub is online; see docs/protocol.md).
HUB_CLIENT_ID = "hub"


class BoardSink(Protocol):
    """What the feed drives (the view-model)."""

    def apply_state(self, kind: str, payload: dict[str, Any]) -> None: ...
    def apply_event(self, event: dict[str, Any]) -> None: ...
    def set_hub_status(self, payload: dict[str, Any]) -> None: ...


def attach(bus: UiBus, sink: BoardSink, hub_id: str = HUB_CLIENT_ID) -> None:
    """Subscribe to counter and service state, events and the hub's status; handlers run on the UI thread."""
    t = bus.topics
    bus.subscribe(t.state_counters_all, lambda _topic, p: sink.apply_state("counter", p))
    bus.subscribe(t.state_services_all, lambda _topic, p: sink.apply_state("service", p))
    bus.subscribe(t.events_all, lambda _topic, p: sink.apply_event(p))
    bus.subscribe(t.status(hub_id), lambda _topic, p: sink.set_hub_status(p))
