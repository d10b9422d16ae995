"""Helpers for integration tests on the bus: a watcher of retained state and events, an inbox, waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from mqtt_bus.client import BusClient

SITE = "xa-da-huoai"


class Watcher:
    """Records retained state and events as a display would see them."""

    def __init__(self, client: BusClient) -> None:
        self.client = client
        self.lock = threading.Lock()
        self.counters: dict[str, dict[str, Any]] = {}
        self.services: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        client.subscribe(client.topics.state_all, self._state)
        client.subscribe(client.topics.events_all, self._event)

    def _state(self, topic: str, payload: dict[str, Any]) -> None:
        kind, ident = self.client.topics.parse(topic)
        with self.lock:
            if kind == "state/counter":
                self.counters[ident] = payload
            elif kind == "state/service":
                self.services[ident] = payload

    def _event(self, topic: str, payload: dict[str, Any]) -> None:
        with self.lock:
            self.events.append(payload)

    def seqs(self) -> list[int]:
        with self.lock:
            return [e["seq"] for e in self.events]

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"counters": dict(self.counters), "services": dict(self.services)}


class Inbox:
    """A handler that records ``(topic, payload)`` and lets the test wait for a match."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict]] = []
        self._cond = threading.Condition()

    def __call__(self, topic: str, payload: dict) -> None:
        with self._cond:
            self.items.append((topic, payload))
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[str, dict], bool], timeout: float = 3.0) -> tuple[str, dict]:
        """The first item matching ``pred``, waiting up to ``timeout`` (the test fails without one)."""

        def find() -> tuple[str, dict] | None:
            return next((it for it in self.items if pred(*it)), None)

        with self._cond:
            found = self._cond.wait_for(find, timeout)
        assert found, f"nothing matched within {timeout} s; got {self.items}"
        return found


def subscriptions_active(client: BusClient, timeout: float = 3.0) -> None:
    """Return once the broker applies every subscription ``client`` has asked for so far.

    The broker handles one client's packets in order: when the client receives a probe it published
    on its own status topic after subscribing there, its earlier subscriptions are in place too.
    """
    probe = Inbox()
    topic = client.topics.status(client.client_id)
    client.subscribe(topic, probe)
    client.publish_json(topic, {"online": True, "role": "probe", "ts": "probe"})
    probe.wait_for(lambda _t, p: p.get("ts") == "probe", timeout)
    client.unsubscribe(topic, probe)


def wait_for(check: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll ``check`` until it is true or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def comparable_state(snapshot_or_watcher_state: dict[str, Any]) -> dict[str, Any]:
    """State payloads keyed by id, without ``seq`` (which only says how fresh a payload is)."""
    counters = snapshot_or_watcher_state["counters"]
    services = snapshot_or_watcher_state["services"]
    if isinstance(counters, list):
        counters = {c["counter"]: c for c in counters}
        services = {s["service"]: s for s in services}
    strip = lambda d: {k: v for k, v in d.items() if k != "seq"}  # noqa: E731
    return {"counters": {k: strip(v) for k, v in counters.items()},
            "services": {k: strip(v) for k, v in services.items()}}
