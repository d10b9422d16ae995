"""Retention: the hub prunes the published outbox after ``store.retention_days``, the answers kept
for retries after ``store.request_retention_days``, and refusals (which changed nothing) after
``REFUSAL_KEEP``: long enough that a late duplicate of a refused request (a broker redelivering it
after a restart) gets the same refusal, short enough that a device sending bad requests all day
does not fill the disk.

Runs at start and then every 10 minutes, in small batches (one short transaction each, with a pause
between them) so a device's request never waits long behind it. Tickets, the report's data, are kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from .store import Store

log = logging.getLogger(__name__)

REFUSAL_KEEP = timedelta(minutes=10)


class Pruner:
    """Deletes what is older than the retention window, a batch at a time."""

    def __init__(self, store: Store | Callable[[], Store | None], published_seq: Callable[[], int], retention_days: int,
                 request_retention_days: int | None = None, every_s: float = 600.0, batch: int = 500,
                 pause_s: float = 0.05) -> None:
        self._store = store if callable(store) else (lambda: store)  # the hub's store may be swapped or gone
        self.published_seq = published_seq
        self.retention_days = retention_days
        self.request_retention_days = retention_days if request_retention_days is None else request_retention_days
        self.every_s = every_s
        self.batch = batch
        self.pause_s = pause_s
        self.runs = 0  # completed passes (tests wait on it)
        self.ran = threading.Event()

    @property
    def store(self) -> Store:
        """The store in use now (the hub swaps it after a restore)."""
        store = self._store()
        if store is None:
            raise RuntimeError("no usable store (the hub reports a store fault)")
        return store

    def trusted_now(self) -> datetime | None:
        """The time to prune against: the store's judged clock; None while it is untrusted.

        A clock jumped ahead must not prune a month of events and answers at once.
        """
        verdict = self.store.clock_verdict()
        if verdict is None:
            return self.store.clock()
        return verdict.now if verdict.trusted else None

    def prune_all(self, stop: threading.Event | None = None) -> tuple[int, int]:
        """One pass: batches until nothing old is left; returns (requests, events) deleted."""
        now = self.trusted_now()
        if now is None:
            log.warning("retention: the clock is not trusted now (see qms doctor); nothing pruned this time")
            return 0, 0
        cutoff, requests_cutoff = now - timedelta(days=self.retention_days), now - timedelta(
            days=self.request_retention_days)
        total_requests = total_events = 0
        while stop is None or not stop.is_set():
            requests, events = self.store.prune(cutoff, self.published_seq(), self.batch, requests_cutoff,
                                                now - REFUSAL_KEEP)
            total_requests += requests
            total_events += events
            if requests < self.batch and events < self.batch:
                break
            if stop is not None:
                stop.wait(self.pause_s)  # let the worker in between batches
        return total_requests, total_events

    def run(self, stop: threading.Event) -> None:
        """The hub's pruning thread: a pass at start, then every ``every_s`` seconds until ``stop``."""
        if self.retention_days <= 0:
            return
        while not stop.is_set():
            if self._store() is None:  # a store fault: nothing to prune until it is restored
                stop.wait(self.every_s)
                continue
            try:
                requests, events = self.prune_all(stop)
                if requests or events:
                    log.info("retention: pruned %d request answers (older than %d days) and %d published events "
                             "(older than %d days)", requests, self.request_retention_days, events,
                             self.retention_days)
            except Exception:  # a busy or full disk: try again next time, never stop the hub
                log.exception("retention: pruning failed; will retry")
            self.runs += 1
            self.ran.set()
            stop.wait(self.every_s)
