"""JSON-ready views of tickets, counters and services (the contract's payload shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .estimate import is_staffed, place, state_now, wait_seconds, waiting_count
from .model import QueueState, SiteDef, Ticket


def iso(dt: datetime | None, site: SiteDef) -> str | None:
    """ISO 8601 in the center's time zone, millisecond precision."""
    return None if dt is None else dt.astimezone(site.tz).isoformat(timespec="milliseconds")


def ticket_view(site: SiteDef, state: QueueState, ticket: Ticket, now: datetime | None = None) -> dict[str, Any]:
    """The TICKET payload: the contract's fields first, then compatible extras.

    ``est_wait_s`` is None for a waiting ticket when no staffed counter serves its service yet.
    """
    where = place(site, state, ticket, now)
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "priority": ticket.priority,
        "status": ticket.status.value,
        "issued_at": iso(ticket.issued_at, site),
        "called_at": iso(ticket.called_at, site),
        "counter": ticket.counter,
        "ahead": where.ahead,
        "est_wait_s": where.wait_s,
        "procedure": ticket.procedure,
        "lang": ticket.lang,
        "call_count": ticket.call_count,
        "transfers": ticket.transfers,
        "transferred_from": ticket.transferred_from,
        "to_counter": ticket.to_counter,
        "queued_at": iso(ticket.queued_at, site),
        "finished_at": iso(ticket.finished_at, site),
        "rating": ticket.rating,
        "officer": ticket.officer,
        "dossier": ticket.dossier,
    }


def counter_view(site: SiteDef, state: QueueState, counter_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The ``state/counter/{id}`` payload without ``seq`` (the store adds it).

    ``staffed``: open with an officer signed in, a citizen at the counter or a recent call.
    """
    definition = site.counters[counter_id]
    live = state.counters[counter_id]
    ticket = state.tickets.get(live.ticket_id) if live.ticket_id else None
    return {
        "counter": counter_id,
        "name": definition.name,
        "services": list(definition.services),
        "status": live.status.value,
        "ticket": ticket_view(site, state, ticket, now) if ticket else None,
        "officer": live.officer,
        "staffed": is_staffed(site, live, now or state_now(state)),
    }


def service_view(site: SiteDef, state: QueueState, service_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The ``state/service/{id}`` payload without ``seq`` (``est_wait_s`` None: no staffed counter)."""
    definition = site.services[service_id]
    waiting = waiting_count(state, service_id)
    day = state.days.get(service_id)
    return {
        "service": service_id,
        "name": definition.name,
        "prefix": definition.prefix,
        "waiting": waiting,
        "est_wait_s": wait_seconds(site, state, service_id, waiting, now),
        "last_called": day.last_called if day else None,
        "issued_today": day.issued if day else 0,
    }
