"""Retention: the hub prunes the published outbox after ``store.retention_days``, the answers kept
for retries after ``store.request_retention_days``, and refusals (which changed nothing) after
``REFUSAL_KEEP``: long enough that a late duplicate of a refused request (a broker redelivering it
after a restart) gets the same refusal, short enough that a device sending bad requests all day
does not fill the disk.

Runs at start and then every 10 minutes, in small batches (one short transaction each, with a pause
between them) so a device's request never waits long behind it. Tickets, the report's data, are kept.

The same thread sums up the report's figures of each past local day that has none yet (``summaries``:
qms/report_days.py), a day a transaction (~10 ms), so a year's report reads days, not tickets.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol

from .store import Store

log = logging.getLogger(__name__)

REFUSAL_KEEP = timedelta(minutes=10)


class DaySummaries(Protocol):
    """The report's day summaries the pruning thread keeps (``qms.report_sql.DAY_SUMMARIES``)."""

    def pending(self, conn: sqlite3.Connection, before: date, tz: tzinfo) -> list[date]:
        """The days before ``before`` with tickets and no summary."""

    def sum_up(self, conn: sqlite3.Connection, day: date, tz: tzinfo) -> int:
        """Write ``day``'s summary (in the caller's write transaction)."""


class Pruner:
    """Deletes what is older than the retention window, a batch at a time."""

    def __init__(self, store: Store | Callable[[], Store | None], published_seq: Callable[[], int], retention_days: int,
                 request_retention_days: int | None = None, every_s: float = 600.0, batch: int = 500,
                 pause_s: float = 0.05, summaries: DaySummaries | None = None) -> None:
        self._store = store if callable(store) else (lambda: store)  # the hub's store may be swapped or gone
        self.published_seq = published_seq
        self.retention_days = retention_days
        self.request_retention_days = retention_days if request_retention_days is None else request_retention_days
        self.every_s = every_s
        self.batch = batch
        self.pause_s = pause_s
        self.summaries = summaries
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

    def sum_up_all(self, stop: threading.Event | None = None) -> int:
        """Sum up every past local day without a summary, one transaction a day; returns how many days.

        Today is left to the report (it changes all day); so is everything while the clock is not trusted. A
        ticket of a summed-up day written later (a late rating) deletes its summary: the next pass redoes it.
        """
        now = self.trusted_now() if self.summaries is not None else None
        if self.summaries is None or now is None:
            return 0
        store, tz = self.store, self.store.site.tz
        with store.transaction() as conn:
            days = self.summaries.pending(conn, now.astimezone(tz).date(), tz)
        done = 0
        for day in days:
            if stop is not None and stop.is_set():
                break
            try:
                with store.transaction() as conn:
                    self.summaries.sum_up(conn, day, tz)
                done += 1
            except sqlite3.OperationalError:
                raise  # a busy or full disk: the whole pass again next time
            except Exception:  # that day only: the report computes it from its tickets
                log.exception("report: summing up %s failed; its report reads its tickets", day)
            if stop is not None:
                stop.wait(self.pause_s)  # let the worker in between days
        return done

    def run(self, stop: threading.Event) -> None:
        """The hub's pruning thread: a pass at start, then every ``every_s`` seconds until ``stop``."""
        if self.retention_days <= 0 and self.summaries is None:
            return
        while not stop.is_set():
            if self._store() is None:  # a store fault: nothing to prune until it is restored
                stop.wait(self.every_s)
                continue
            try:
                requests, events = self.prune_all(stop) if self.retention_days > 0 else (0, 0)
                if requests or events:
                    log.info("retention: pruned %d request answers (older than %d days) and %d published events "
                             "(older than %d days)", requests, self.request_retention_days, events,
                             self.retention_days)
            except Exception:  # a busy or full disk: try again next time, never stop the hub
                log.exception("retention: pruning failed; will retry")
            try:
                if days := self.sum_up_all(stop):
                    log.info("report: summed up %d past day(s) for the report", days)
            except Exception:  # the report then reads those days' tickets: slower, never wrong
                log.exception("report: summing up past days failed; will retry")
            self.runs += 1
            self.ran.set()
            stop.wait(self.every_s)
