"""People ahead and estimated waiting time."""

from __future__ import annotations

import math
from statistics import fmean

from .model import CounterStatus, PolicyDef, QueueState, SiteDef, Ticket, TicketStatus
from .policy import queue_order_key


def record_service_time(state: QueueState, service: str, seconds: float, window: int) -> None:
    """Remember one service duration, keeping the newest ``window`` per service."""
    recent = state.recent_service_s.setdefault(service, [])
    recent.append(max(0.0, seconds))
    del recent[:-window]


def mean_service_s(site: SiteDef, state: QueueState, service: str) -> float:
    """Mean of recent service durations, or the configured default without history."""
    recent = state.recent_service_s.get(service) or []
    return fmean(recent) if recent else float(site.default_service_s)


def serving_counters(site: SiteDef, state: QueueState, service: str) -> int:
    """Open counters serving ``service``; when none is open, those that could (at least 1)."""
    serving = [c for c in site.counters.values() if service in c.services]
    open_ = [c for c in serving if state.counters[c.id].status == CounterStatus.OPEN]
    return max(1, len(open_) or len(serving))


def waiting_in(state: QueueState, service: str) -> list[Ticket]:
    """Waiting tickets of one service."""
    return [t for t in state.tickets.values() if t.service == service and t.status == TicketStatus.WAITING]


def order_key(policy: PolicyDef, state: QueueState, ticket: Ticket) -> tuple[float, str]:
    """``queue_order_key``, computed once per ticket and remembered in ``state.order_keys``.

    The key depends only on the policy, ``queued_at`` and ``priority``, which a ticket keeps for
    life; the memo checks them anyway, so a ticket read again from the store gets a fresh key.
    """
    memo = state.order_keys.get(ticket.id)
    if memo is not None and memo[0] is ticket.queued_at and memo[1] == ticket.priority and memo[2] is policy:
        return memo[3]
    key = queue_order_key(policy, ticket)
    state.order_keys[ticket.id] = (ticket.queued_at, ticket.priority, policy, key)
    return key


def forget_order_keys(state: QueueState) -> None:
    """Drop the remembered keys of tickets no longer in the state, once they outnumber the live ones."""
    if len(state.order_keys) > 2 * len(state.tickets) + 64:
        for tid in [tid for tid in state.order_keys if tid not in state.tickets]:
            del state.order_keys[tid]


def people_ahead(site: SiteDef, state: QueueState, ticket: Ticket) -> int:
    """How many waiting citizens of the same service are likely called first (0 unless waiting)."""
    if ticket.status != TicketStatus.WAITING:
        return 0
    policy, service, waiting = site.policy, ticket.service, TicketStatus.WAITING
    forget_order_keys(state)
    mine = order_key(policy, state, ticket)
    return sum(1 for t in state.tickets.values()
               if t.service == service and t.status == waiting and t.id != ticket.id
               and order_key(policy, state, t) < mine)


def wait_seconds(site: SiteDef, state: QueueState, service: str, ahead: int) -> int:
    """Expected wait with ``ahead`` people in front.

    Idle open counters take the first people at once; after that each person ahead costs one mean
    service time shared among the serving counters, plus half a service for those being served.
    """
    serving = [c.id for c in site.counters.values() if service in c.services]
    idle = sum(1 for c in serving if state.counters[c].status == CounterStatus.OPEN and not state.counters[c].ticket_id)
    if ahead < idle:
        return 0
    per_person = mean_service_s(site, state, service) / serving_counters(site, state, service)
    return math.ceil((ahead - idle + 0.5) * per_person)
