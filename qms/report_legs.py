"""A ticket's legs: the time it spent in each service it went through (issue 18, transfers counted honestly).

A ticket issued in X and transferred to Y has two legs: in X it is issued, waits, is called and leaves
"chuyển đi" (its service time there ends at the transfer); in Y it arrives "chuyển đến" at the transfer,
waits from then, is called, served (or not) and rated. Each leg counts in its own service, counter and
officer; the ticket counts once as issued (its first leg).

The store's ``tickets`` row holds the last leg only; the earlier ones come from the ``ticket_transferred``
events of the outbox (the hub keeps them when it prunes the event log). A ticket whose transfer events
are gone (pruned before that rule) counts as before: one leg in its last service.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

TRANSFERRED = "transferred"  # status of a leg that ended in a transfer


class TicketRecord(Protocol):
    """What a report needs of a ticket (``queue_core.Ticket`` has it all; ``id`` and ``procedure`` too, when
    there are transfers or procedures to count)."""

    day: date
    service: str
    status: object  # str or a str enum
    issued_at: datetime
    called_at: datetime | None
    finished_at: datetime | None
    counter: str | None
    officer: str | None
    rating: int | None


@dataclass(frozen=True)
class Transfer:
    """One ``ticket_transferred`` event: the leg it ended."""

    ticket: str
    at: datetime
    from_service: str
    counter: str | None
    called_at: datetime | None
    officer: str | None


@dataclass(frozen=True)
class Leg:
    """The part of a ticket's visit spent in one service."""

    ticket: str
    day: date
    service: str
    status: str  # waiting, called, done, no_show or transferred
    arrived_at: datetime  # issued, or transferred in
    called_at: datetime | None
    finished_at: datetime | None
    counter: str | None
    officer: str | None
    rating: int | None
    first: bool  # the leg the ticket was issued in
    transferred_in: bool
    transferred_out: bool
    procedure: str | None = None

    @property
    def issued_at(self) -> datetime:
        """The arrival in this leg's service (the report's arrival hour)."""
        return self.arrived_at


@dataclass(frozen=True)
class StoredTicket:
    """A row of the store's ``tickets`` table, the columns of :data:`TICKET_SQL` (a :class:`TicketRecord`)."""

    id: str
    number: str
    service: str
    day: date
    priority: str
    status: str
    procedure: str | None
    issued_at: datetime
    called_at: datetime | None
    finished_at: datetime | None
    counter: str | None
    officer: str | None
    rating: int | None
    transfers: int
    dossier: str | None = None  # the one-door system's dossier code (mã hồ sơ), set_dossier

    @classmethod
    def from_row(cls, row: Sequence[object]) -> StoredTicket:
        """From a row of :data:`TICKET_SQL`."""
        (id_, number, service, day, priority, status, procedure, issued, called, finished, counter, officer,
         rating, transfers, dossier) = row
        issued_at = _dt(issued)  # type: ignore[arg-type]
        assert issued_at is not None
        return cls(str(id_), str(number), str(service), date.fromisoformat(str(day)), str(priority), str(status),
                   procedure, issued_at, _dt(called), _dt(finished), counter, officer,  # type: ignore[arg-type]
                   rating, int(transfers), dossier)  # type: ignore[arg-type,call-overload]


TICKET_SQL = ("SELECT id, number, service, day, priority, status, procedure, issued_at, called_at, finished_at, "
              "counter, officer, rating, transfers, dossier FROM main.tickets WHERE day BETWEEN ? AND ?")


def _status(value: object) -> str:
    return str(getattr(value, "value", value))


def legs(ticket: TicketRecord, transfers: Sequence[Transfer] = ()) -> list[Leg]:
    """The ticket's legs, oldest first, from its row and its transfers (sorted by time)."""
    out: list[Leg] = []
    arrived = ticket.issued_at
    tid, procedure = getattr(ticket, "id", ""), getattr(ticket, "procedure", None)
    for i, tr in enumerate(transfers):
        out.append(Leg(tid, ticket.day, tr.from_service, TRANSFERRED, arrived, tr.called_at, tr.at, tr.counter,
                       tr.officer, None, i == 0, i > 0, True, procedure))
        arrived = tr.at
    called = ticket.called_at if ticket.called_at is not None and ticket.called_at >= arrived else None
    finished = ticket.finished_at if called is not None else None
    out.append(Leg(tid, ticket.day, ticket.service, _status(ticket.status), arrived, called, finished,
                   ticket.counter if called else None, ticket.officer if called else None, ticket.rating,
                   not transfers, bool(transfers), False, procedure))
    return out


def all_legs(tickets: Iterable[TicketRecord], transfers: Mapping[str, Sequence[Transfer]]) -> Iterator[Leg]:
    """Every leg of every ticket."""
    for t in tickets:
        yield from legs(t, transfers.get(getattr(t, "id", ""), ()) if transfers else ())


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


TRANSFERS_SQL = """
SELECT payload FROM main.outbox WHERE type = 'ticket_transferred'
  AND json_extract(payload, '$.ticket.id') IN (SELECT id FROM main.tickets WHERE day BETWEEN ? AND ? AND transfers > 0)
ORDER BY seq
"""
SCAN_DAYS = 60


def transferred_only(sql: str, start: date, end: date) -> str:
    """``sql`` (its tickets ``WHERE day BETWEEN ? AND ?``) narrowed to the transferred tickets (~1 %): over
    :data:`SCAN_DAYS` days a scan of the table (``+day``) beats walking the (day, service) index for them,
    over a few days the index wins (a day's summary: 9 ms → 0.1 ms)."""
    sql = sql if "transfers > 0" in sql else f"{sql} AND transfers > 0"
    return sql.replace(" day BETWEEN", " +day BETWEEN") if (end - start).days > SCAN_DAYS else sql


def load_transfers(conn: sqlite3.Connection, start: date, end: date) -> dict[str, list[Transfer]]:
    """ticket id -> its transfers (oldest first), for the tickets of local days ``start``..``end``."""
    out: dict[str, list[Transfer]] = {}
    for (payload,) in conn.execute(transferred_only(TRANSFERS_SQL, start, end), (start.isoformat(), end.isoformat())):
        event = json.loads(payload)
        ticket = event["ticket"]
        at = _dt(event["ts"])
        assert at is not None
        out.setdefault(ticket["id"], []).append(Transfer(
            ticket["id"], at, event["from_service"], event.get("counter"), _dt(ticket.get("called_at")),
            ticket.get("officer")))
    return out
