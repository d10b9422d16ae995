"""JSON-ready views of tickets, counters and services (the contract's payload shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .estimate import people_ahead, wait_seconds, waiting_in
from .model import QueueState, SiteDef, Ticket, TicketStatus


def iso(dt: datetime | None, site: SiteDef) -> str | None:
    """ISO 8601 in the center's time zone, millisecond precision."""
    return None if dt is None else dt.astimezone(site.tz).isoformat(timespec="milliseconds")


def ticket_view(site: SiteDef, state: QueueState, ticket: Ticket) -> dict[str, Any]:
    """The TICKET payload: the contract's fields first, then compatible extras."""
    ahead = people_ahead(site, state, ticket)
    waiting = ticket.status == TicketStatus.WAITING
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "priority": ticket.priority,
        "status": ticket.status.value,
        "issued_at": iso(ticket.issued_at, site),
        "called_at": iso(ticket.called_at, site),
        "counter": ticket.counter,
        "ahead": ahead,
        "est_wait_s": wait_seconds(site, state, ticket.service, ahead) if waiting else 0,
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
    }


def counter_view(site: SiteDef, state: QueueState, counter_id: str) -> dict[str, Any]:
    """The ``state/counter/{id}`` payload without ``seq`` (the store adds it)."""
    definition = site.counters[counter_id]
    live = state.counters[counter_id]
    ticket = state.tickets.get(live.ticket_id) if live.ticket_id else None
    return {
        "counter": counter_id,
        "name": definition.name,
        "services": list(definition.services),
        "status": live.status.value,
        "ticket": ticket_view(site, state, ticket) if ticket else None,
        "officer": live.officer,
    }


def service_view(site: SiteDef, state: QueueState, service_id: str) -> dict[str, Any]:
    """The ``state/service/{id}`` payload without ``seq``."""
    definition = site.services[service_id]
    waiting = len(waiting_in(state, service_id))
    day = state.days.get(service_id)
    return {
        "service": service_id,
        "name": definition.name,
        "prefix": definition.prefix,
        "waiting": waiting,
        "est_wait_s": wait_seconds(site, state, service_id, waiting),
        "last_called": day.last_called if day else None,
        "issued_today": day.issued if day else 0,
    }
