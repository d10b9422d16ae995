"""The store's live queue read with plain SQL, for readers that may not import the hub (the web app's
``/queue`` page): the waiting and called tickets, the counters, the service days and the recent service
times, as the queue core's :class:`QueueState` (so its views and estimates apply).

The same reading as ``hub.store.Store._load`` (the hub may not import ``qms``, the web app may not import
the hub); ``tests/web/test_center_reports.py`` checks that both give the same state. Never writes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from queue_core import CounterState, CounterStatus, QueueState, ServiceDay, SiteDef, Ticket, TicketStatus

_TIMES = ("issued_at", "queued_at", "called_at", "finished_at")
_TICKET_FIELDS = tuple(f.name for f in fields(Ticket))


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _rows(conn: sqlite3.Connection, sql: str) -> list[dict[str, Any]]:
    cursor = conn.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def ticket_of(row: dict[str, Any]) -> Ticket:
    """A ``tickets`` row as the queue core's ticket."""
    values = {k: row[k] for k in _TICKET_FIELDS if k in row}
    values.update({k: _dt(row[k]) for k in _TIMES}, day=date.fromisoformat(row["day"]),
                  status=TicketStatus(row["status"]))
    return Ticket(**values)


def read_live_state(conn: sqlite3.Connection, site: SiteDef) -> QueueState:
    """The live state of ``site`` in one read transaction (``conn`` in autocommit mode; read-only will do)."""
    state = QueueState.initial(site)
    conn.execute("BEGIN")
    try:
        tickets = _rows(conn, "SELECT * FROM tickets WHERE status IN ('waiting', 'called')")
        counters = _rows(conn, "SELECT * FROM counters")
        days = _rows(conn, "SELECT * FROM service_days")
        times = _rows(conn, "SELECT * FROM service_times")
    finally:
        conn.execute("COMMIT")
    for row in tickets:
        if row["service"] in site.services:
            state.tickets[row["id"]] = ticket_of(row)
    for row in counters:
        if row["id"] in state.counters:
            state.counters[row["id"]] = CounterState(row["id"], CounterStatus(row["status"]), row["ticket_id"],
                                                     row["normal_streak"], row["officer"], _dt(row["last_call_at"]))
    for row in days:
        if row["service"] in site.services:
            state.days[row["service"]] = ServiceDay(row["service"], date.fromisoformat(row["day"]), row["last_number"],
                                                    row["issued"], row["cycle"], row["last_called"])
    for row in times:
        state.recent_service_s[row["service"]] = json.loads(row["recent_json"])
    return state
