"""The store's rows as the queue core's model: one reading for the hub's store and the web app's live page.

Pure: the caller runs the SQL; a row is any mapping by column name (``sqlite3.Row``, a dict). The
``tickets`` columns are named as the :class:`Ticket` fields they store; times are ISO text, ``day`` an ISO
date, ``status`` its value; ``service_times.recent_json`` a JSON list of seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from .model import CounterState, CounterStatus, QueueState, ServiceDay, SiteDef, Ticket, TicketStatus

Row = Mapping[str, Any]


def parse_time(text: str | None) -> datetime | None:
    """A stored ISO timestamp (None stays None)."""
    return None if text is None else datetime.fromisoformat(text)


TICKET_DECODE: dict[str, Callable[[Any], Any]] = {
    "day": date.fromisoformat, "status": TicketStatus,
    "issued_at": parse_time, "queued_at": parse_time, "called_at": parse_time, "finished_at": parse_time,
}
"""The ``tickets`` columns not stored as the field's value itself, and how they are read (the others: as they are)."""
_PLAIN = tuple(f.name for f in fields(Ticket) if f.name not in TICKET_DECODE)
_DECODED = tuple(TICKET_DECODE.items())


def ticket_from_row(row: Row) -> Ticket:
    """The ticket of a ``tickets`` row, read by column name."""
    values = {name: row[name] for name in _PLAIN}
    for name, decode in _DECODED:
        values[name] = decode(row[name])
    return Ticket(**values)


def state_from_rows(site: SiteDef, tickets: Iterable[Row], counters: Iterable[Row], days: Iterable[Row],
                    times: Iterable[Row]) -> QueueState:
    """The live state of ``site`` from its open tickets, counters, service days and recent service times
    (rows of services and counters the config no longer has are left out)."""
    state = QueueState.initial(site)
    for row in tickets:
        if row["service"] in site.services:
            state.tickets[row["id"]] = ticket_from_row(row)
    for row in counters:
        if row["id"] in state.counters:
            state.counters[row["id"]] = CounterState(row["id"], CounterStatus(row["status"]), row["ticket_id"],
                                                     row["normal_streak"], row["officer"],
                                                     parse_time(row["last_call_at"]))
    for row in days:
        if row["service"] in site.services:
            state.days[row["service"]] = ServiceDay(row["service"], date.fromisoformat(row["day"]),
                                                    row["last_number"], row["issued"], row["cycle"],
                                                    row["last_called"])
    for row in times:
        state.recent_service_s[row["service"]] = json.loads(row["recent_json"])
    return state
