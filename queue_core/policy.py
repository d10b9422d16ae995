"""Which waiting ticket a counter calls next: strict, ratio or ageing priority, preferred service first.

A counter lists its services in order of preference. The priority policy first picks the class of
citizen (priority or normal; under ``ageing`` both compete with the priority head start). Among
the heads of that class — the oldest ticket of each of the counter's services — the counter takes
the oldest one when it has waited ``preferred_max_wait_s`` or longer (so a later service is never
starved), else the first service in its order that has someone waiting. ``preferred_max_wait_s=0``
is plain first come, first served across the counter's services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from .model import CounterState, PolicyDef, SiteDef, Ticket

Heads = Callable[[str, bool], "Ticket | None"]
"""``heads(service, is_priority)``: the oldest waiting ticket of that service and class the counter may call."""


def sent_away_from(site: SiteDef, ticket: Ticket, counter: str) -> bool:
    """A citizen transferred away from ``counter`` goes to another counter when one serves the service."""
    if ticket.transferred_from != counter:
        return False
    return any(c.id != counter and ticket.service in c.services for c in site.counters.values())


def passed_over(site: SiteDef, ticket: Ticket, counter: str) -> bool:
    """``call_next`` at ``counter`` leaves this ticket to others: sent away from it, or sent to another counter."""
    if ticket.to_counter is not None and ticket.to_counter != counter:
        return True
    return sent_away_from(site, ticket, counter)


def fifo_key(ticket: Ticket, service_order: dict[str, int]) -> tuple[datetime, int, int, str]:
    """First come, first served; the counter's service order breaks exact ties."""
    return (ticket.queued_at, service_order.get(ticket.service, 99), ticket.day_index, ticket.id)


def _policy_key(policy: PolicyDef, ticket: Ticket, order: dict[str, int]) -> tuple[float, int, int, str]:
    """Who has waited longest under the policy (ageing: a priority citizen's head start counted)."""
    ts = ticket.queued_at.timestamp()
    if policy.kind == "ageing" and ticket.is_priority:
        ts -= policy.ageing_bonus_s
    return (ts, order.get(ticket.service, 99), ticket.day_index, ticket.id)


def choose_from_heads(
    policy: PolicyDef,
    counter: CounterState,
    services: Sequence[str],
    heads: Heads,
    now: datetime,
) -> Ticket | None:
    """The ticket the counter calls, from the heads of its services' queues (``services`` in preference order)."""
    order = {s: i for i, s in enumerate(services)}
    prio = [(s, t) for s in services if (t := heads(s, True)) is not None]
    normal = [(s, t) for s in services if (t := heads(s, False)) is not None]
    if policy.kind == "strict":
        pool = prio or normal
    elif policy.kind == "ratio":
        pool = prio if prio and (not normal or counter.normal_streak >= policy.ratio_normal) else normal
    else:  # ageing: both classes compete, a priority citizen with the head start
        pool = prio + normal
    if not pool:
        return None

    def key(t: Ticket) -> tuple[float, int, int, str]:
        return _policy_key(policy, t, order)

    overdue = [t for _, t in pool if (now - t.queued_at).total_seconds() >= policy.preferred_max_wait_s]
    if overdue:
        return min(overdue, key=key)  # the guard: the longest waiting of any of the counter's services
    first = min(order[s] for s, _ in pool)  # else the most preferred service with someone waiting
    return min((t for s, t in pool if order[s] == first), key=key)


def choose_next(
    policy: PolicyDef,
    counter: CounterState,
    candidates: Iterable[Ticket],
    service_order: dict[str, int],
    now: datetime,
) -> Ticket | None:
    """The ticket to call among ``candidates`` (waiting tickets the counter serves), by a plain scan.

    The same rule as ``choose_from_heads``; the engine uses the index, tests use this as the reference.
    """
    heads: dict[tuple[str, bool], Ticket] = {}
    for t in candidates:
        key = (t.service, t.is_priority)
        if key not in heads or fifo_key(t, service_order) < fifo_key(heads[key], service_order):
            heads[key] = t
    services = sorted(service_order, key=service_order.__getitem__)
    return choose_from_heads(policy, counter, services, lambda s, p: heads.get((s, p)), now)


def queue_order_key(policy: PolicyDef, ticket: Ticket) -> tuple[float, str]:
    """Sort key of a waiting ticket's place in its own service's queue (FIFO per class, policy applied)."""
    ts = ticket.queued_at.timestamp()
    if policy.kind == "strict":
        return (ts - (1e10 if ticket.is_priority else 0), ticket.id)
    if policy.kind == "ageing" and ticket.is_priority:
        return (ts - policy.ageing_bonus_s, ticket.id)
    return (ts, ticket.id)
