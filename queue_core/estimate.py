"""People ahead and estimated waiting time, by replaying the real call order.

A waiting ticket's place is found by simulating the counters that will call it: each staffed
counter, when it becomes free, calls what ``policy.choose_from_heads`` — the very rule the engine
uses — picks from the waiting lists, and stays busy for that citizen's expected service time.
"Ahead" is how many citizens those counters call before the ticket; the estimate is when the
ticket is called. Only open counters that are staffed (an officer signed in, a citizen at the
counter, or a call within ``site.staffed_window_s``) are counted; with none, there is nothing to
estimate from and the estimate is ``None``.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean

from .model import CounterDef, CounterState, CounterStatus, QueueState, SiteDef, Ticket, TicketStatus
from .ordering import ListKey, WaitingIndex, entry_of, index_of
from .policy import choose_from_heads, passed_over

REPLAY_CAP = 24
"""Calls simulated at most; further ahead, the rest of the ticket's own queue is counted and costed."""


def record_service_time(state: QueueState, service: str, seconds: float, window: int) -> None:
    """Remember one service duration, keeping the newest ``window`` per service."""
    recent = state.recent_service_s.setdefault(service, [])
    recent.append(max(0.0, seconds))
    del recent[:-window]


def mean_service_s(site: SiteDef, state: QueueState, service: str, procedure: str | None = None) -> float:
    """Mean of recent service durations; without history the configured time of the procedure,
    else of the service, else the site's default."""
    recent = state.recent_service_s.get(service) or []
    if recent:
        return fmean(recent)
    for key in (procedure, service):
        if key is not None and key in site.service_s:
            return float(site.service_s[key])
    return float(site.default_service_s)


def is_staffed(site: SiteDef, live: CounterState, now: datetime | None) -> bool:
    """Open and with someone there: signed in, serving, or a call within ``site.staffed_window_s``."""
    if live.status != CounterStatus.OPEN:
        return False
    if live.officer or live.ticket_id:
        return True
    if live.last_call_at is None or now is None:
        return False
    return (now - live.last_call_at).total_seconds() <= site.staffed_window_s


def staffed_counters(site: SiteDef, state: QueueState, service: str, now: datetime | None) -> list[CounterDef]:
    """The counters serving ``service`` that are open and staffed now."""
    return [c for c in site.counters.values()
            if service in c.services and is_staffed(site, state.counters[c.id], now)]


def serving_counters(site: SiteDef, state: QueueState, service: str, now: datetime | None = None) -> int:
    """Open, staffed counters serving ``service``."""
    return len(staffed_counters(site, state, service, now))


def waiting_in(state: QueueState, service: str) -> list[Ticket]:
    """Waiting tickets of one service (a plain scan)."""
    return [t for t in state.tickets.values() if t.service == service and t.status == TicketStatus.WAITING]


def waiting_count(state: QueueState, service: str) -> int:
    """How many wait in ``service``, from the index (no scan)."""
    index = index_of(state)
    for priority in (True, False):
        index.head(state.tickets, (service, priority))  # repairs a stale head, if any
    return index.waiting(state.tickets, [service])


def state_now(state: QueueState) -> datetime | None:
    """The newest time the state knows (for views asked without a clock)."""
    times = [c.last_call_at for c in state.counters.values() if c.last_call_at is not None]
    latest = index_of(state).latest_queued(state.tickets, state.counters.values())  # no scan of every ticket
    return max([*times, latest] if latest is not None else times, default=None)


@dataclass(order=True)
class _Sim:
    """A counter in the replay: when it is next free, and its rule state."""

    free_at: datetime
    counter: str
    definition: CounterDef = field(compare=False)
    live: CounterState = field(compare=False)


@dataclass
class _Replay:
    """The replay's view of the waiting lists: cursors past the tickets it has called, heads cached."""

    site: SiteDef
    index: WaitingIndex
    tickets: dict[str, Ticket]
    taken: set[str] = field(default_factory=set)
    cursors: dict[ListKey, int] = field(default_factory=dict)
    heads: dict[ListKey, Ticket | None] = field(default_factory=dict)
    taken_in: dict[ListKey, int] = field(default_factory=dict)

    def head(self, key: ListKey, counter: str) -> Ticket | None:
        """The first ticket of ``key`` not yet called in the replay that ``counter`` may call."""
        if key not in self.heads:
            self.heads[key] = self._scan(key, None)
        found = self.heads[key]
        if found is not None and passed_over(self.site, found, counter):
            return self._scan(key, counter)  # rare: look past the citizens sent away from this counter
        return found

    def _scan(self, key: ListKey, counter: str | None) -> Ticket | None:
        def skip(t: Ticket) -> bool:
            return t.id in self.taken or (counter is not None and passed_over(self.site, t, counter))

        size = len(self.index.lists.get(key, ()))
        found = self.index.head(self.tickets, key, skip, self.cursors.get(key, 0))[1]
        if len(self.index.lists.get(key, ())) != size:  # a stale entry was repaired: positions moved
            self.cursors[key] = 0
            found = self.index.head(self.tickets, key, skip, 0)[1]
        return found

    def take(self, ticket: Ticket) -> None:
        """The replay calls ``ticket``."""
        key = (ticket.service, ticket.is_priority)
        self.taken.add(ticket.id)
        self.taken_in[key] = self.taken_in.get(key, 0) + 1
        self.heads.pop(key, None)
        entries = self.index.lists.get(key, [])
        i = self.cursors.get(key, 0)
        while i < len(entries) and entries[i][2] in self.taken:
            i += 1
        self.cursors[key] = i


@dataclass(frozen=True)
class Place:
    """A waiting ticket's place: citizens called before it, and seconds until its call (None: unknown)."""

    ahead: int
    wait_s: int | None


def place(site: SiteDef, state: QueueState, ticket: Ticket, now: datetime | None = None) -> Place:
    """Replay the calls of the staffed counters until ``ticket`` is called (0 / 0 unless it waits)."""
    if ticket.status != TicketStatus.WAITING:
        return Place(0, 0)
    now = now or state_now(state) or ticket.queued_at
    replay = _Replay(site, index_of(state), state.tickets)
    staffed = staffed_counters(site, state, ticket.service, now)
    sims = [_sim(site, state, c, now) for c in staffed or
            [c for c in site.counters.values() if ticket.service in c.services]]
    heapq.heapify(sims)
    ahead = 0
    while sims and ahead < REPLAY_CAP:
        sim = sims[0]
        counter = sim.counter
        chosen = choose_from_heads(site.policy, sim.live, sim.definition.services,
                                   lambda s, p: replay.head((s, p), counter), sim.free_at)  # noqa: B023
        if chosen is None:
            heapq.heappop(sims)  # nothing more this counter would call
            continue
        if chosen.id == ticket.id:
            return Place(ahead, _seconds(sim.free_at - now) if staffed else None)
        replay.take(chosen)
        sim.live.normal_streak = 0 if chosen.is_priority else sim.live.normal_streak + 1
        sim.free_at += timedelta(seconds=mean_service_s(site, state, chosen.service, chosen.procedure))
        heapq.heapreplace(sims, sim)  # the top, busy again: back to its place
        ahead += 1
    # past the cap (or a ticket no counter would call): the rest of its service's queue before it, costed plainly
    rest = _rest_of_service(site, replay, ticket)
    if not staffed:
        return Place(ahead + rest, None)
    start = min(sims).free_at if sims else now
    per_person = mean_service_s(site, state, ticket.service, ticket.procedure) / len(staffed)
    return Place(ahead + rest, _seconds(start - now) + math.ceil(rest * per_person))


def _rest_of_service(site: SiteDef, replay: _Replay, ticket: Ticket) -> int:
    """Citizens of the ticket's service the policy puts before it, less those the replay called (bisects only)."""
    rest = 0
    mine = entry_of(ticket)
    for priority in (True, False):
        key = (ticket.service, priority)
        entries = replay.index.lists.get(key, [])
        if priority == ticket.is_priority:
            before = bisect_left(entries, mine)
        elif site.policy.kind == "strict":
            before = len(entries) if priority else 0
        else:  # ratio: first come; ageing: with the priority head start
            shift = site.policy.ageing_bonus_s if site.policy.kind == "ageing" else 0
            threshold = mine[0] + (shift if priority else -shift)
            before = bisect_left(entries, (threshold,))
        rest += max(0, before - replay.taken_in.get(key, 0))
    return rest


def _sim(site: SiteDef, state: QueueState, c: CounterDef, now: datetime) -> _Sim:
    """A counter at the start of the replay: free now, or when its current citizen is likely done."""
    live = state.counters[c.id]
    free_at = now
    current = state.tickets.get(live.ticket_id) if live.ticket_id else None
    if current is not None and current.called_at is not None:
        expected = timedelta(seconds=mean_service_s(site, state, current.service, current.procedure))
        free_at = max(now, current.called_at + expected)
    return _Sim(free_at, c.id, c, CounterState(c.id, live.status, normal_streak=live.normal_streak))


def _seconds(delta: timedelta) -> int:
    return max(0, math.ceil(delta.total_seconds()))


def people_ahead(site: SiteDef, state: QueueState, ticket: Ticket, now: datetime | None = None) -> int:
    """How many citizens are called before ``ticket`` (0 unless waiting)."""
    return place(site, state, ticket, now).ahead


def wait_seconds(site: SiteDef, state: QueueState, service: str, ahead: int, now: datetime | None = None) -> int | None:
    """Expected wait with ``ahead`` people in front, or None when no staffed counter serves ``service``.

    Idle staffed counters take the first people at once; after that each person ahead costs one
    mean service time shared among the staffed counters, plus half a service for those being served.
    """
    staffed = staffed_counters(site, state, service, now or state_now(state))
    if not staffed:
        return None
    idle = sum(1 for c in staffed if not state.counters[c.id].ticket_id)
    if ahead < idle:
        return 0
    per_person = mean_service_s(site, state, service) / len(staffed)
    return math.ceil((ahead - idle + 0.5) * per_person)
