"""Shared pieces of the reliability tests: a late subscriber, store invariants."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mqtt_bus.client import BusClient
from mqtt_bus.contract import Role
from tests.integration.hub_helpers import comparable_state, wait_for

ROOT = Path(__file__).resolve().parents[2]


def env_int(name: str, default: int) -> int:
    """An integer size from the environment (the full-size runs set these)."""
    return int(os.environ.get(name) or default)


def late_subscriber_state(url: str, site: str, expected: Callable[[], dict[str, Any]], timeout: float = 5.0,
                          client_id: str = "monitor-late") -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """Connect afresh, read the retained ``state/#`` and wait until it equals ``expected()``.

    Returns (equal, what the subscriber saw, what was expected), both in ``comparable_state`` form.
    """
    seen: dict[str, dict[str, Any]] = {"counters": {}, "services": {}}
    lock = threading.Lock()
    client = BusClient(url, site, client_id, Role.MONITOR)

    def on_state(topic: str, payload: dict[str, Any]) -> None:
        kind, ident = client.topics.parse(topic)
        with lock:
            if kind == "state/counter":
                seen["counters"][ident] = payload
            elif kind == "state/service":
                seen["services"][ident] = payload

    client.subscribe(client.topics.state_all, on_state)
    client.start()
    last: dict[str, Any] = {}
    got: dict[str, Any] = {}

    def equal() -> bool:
        nonlocal last, got
        last = comparable_state(expected())
        with lock:
            got = comparable_state({k: dict(v) for k, v in seen.items()})
        return got == last

    try:
        ok = wait_for(equal, timeout=timeout, interval=0.01)
    finally:
        client.close(timeout=1.0)
    return ok, got, last


class StoreProbe:
    """Read-only SQL checks on a store file that a hub process is writing."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout = 30000")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def seq_gaps(self) -> tuple[int, int, int]:
        """(count, min, max) of the outbox ``seq``: continuous from 1 exactly when count == max and min == 1."""
        count, low, high = self.conn.execute("SELECT COUNT(*), MIN(seq), MAX(seq) FROM outbox").fetchone()
        return count, low or 0, high or 0

    def duplicate_numbers(self) -> list[tuple[str, str, str, int]]:
        """(service, day, number, count) given more than once on one day."""
        return self.conn.execute("SELECT service, day, number, COUNT(*) FROM tickets GROUP BY service, day, number "
                                 "HAVING COUNT(*) > 1").fetchall()

    def tickets(self) -> dict[str, dict[str, Any]]:
        """Every ticket by id (id, number, service, day, status, counter, issued_at)."""
        rows = self.conn.execute("SELECT id, number, service, day, status, counter, issued_at FROM tickets")
        return {r[0]: {"id": r[0], "number": r[1], "service": r[2], "day": r[3], "status": r[4], "counter": r[5],
                       "issued_at": r[6]} for r in rows}

    def event_counts(self) -> dict[str, int]:
        """Number of outbox events per type."""
        return dict(self.conn.execute("SELECT type, COUNT(*) FROM outbox GROUP BY type").fetchall())

    def payloads_between(self, low: int, high: int) -> dict[int, str]:
        """Outbox payloads (JSON text) with low < seq <= high."""
        rows = self.conn.execute("SELECT seq, payload FROM outbox WHERE seq > ? AND seq <= ?", (low, high))
        return dict(rows.fetchall())


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check``; fail the test with ``what`` when it stays false."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)
