"""Which waiting ticket a counter calls next: strict, ratio or ageing priority."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .model import CounterState, PolicyDef, Ticket


def fifo_key(ticket: Ticket, service_order: dict[str, int]) -> tuple[datetime, int, int, str]:
    """First come, first served; the counter's service order breaks exact ties."""
    return (ticket.queued_at, service_order.get(ticket.service, 99), ticket.day_index, ticket.id)


def choose_next(
    policy: PolicyDef,
    counter: CounterState,
    candidates: Iterable[Ticket],
    service_order: dict[str, int],
    now: datetime,
) -> Ticket | None:
    """The ticket to call among ``candidates`` (waiting tickets the counter serves)."""
    pool = list(candidates)
    if not pool:
        return None
    priority = [t for t in pool if t.is_priority]
    normal = [t for t in pool if not t.is_priority]

    def first(ts: list[Ticket]) -> Ticket:
        return min(ts, key=lambda t: fifo_key(t, service_order))

    if policy.kind == "strict":
        return first(priority or normal)
    if policy.kind == "ratio":
        if priority and (not normal or counter.normal_streak >= policy.ratio_normal):
            return first(priority)
        return first(normal)

    # ageing: longest effective wait, priority citizens get a head start.
    def effective_wait(t: Ticket) -> float:
        bonus = policy.ageing_bonus_s if t.is_priority else 0
        return (now - t.queued_at).total_seconds() + bonus

    return min(pool, key=lambda t: (-effective_wait(t), *fifo_key(t, service_order)))


def queue_order_key(policy: PolicyDef, ticket: Ticket) -> tuple[float, str]:
    """Sort key estimating a waiting ticket's place in its service's queue (for "ahead")."""
    ts = ticket.queued_at.timestamp()
    if policy.kind == "strict":
        return (ts - (1e10 if ticket.is_priority else 0), ticket.id)
    if policy.kind == "ageing" and ticket.is_priority:
        return (ts - policy.ageing_bonus_s, ticket.id)
    return (ts, ticket.id)
