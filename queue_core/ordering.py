"""The waiting tickets of each service in first-come order, kept up to date instead of sorted per call.

``WaitingIndex`` holds, per (service, priority class), the waiting tickets sorted by
``(queued_at, day_index, id)``. The engine adds a ticket when it starts waiting (issue, transfer)
and drops it when it is called or finished; an entry that no longer matches its ticket (called,
finished, moved, read again with another queue time) is found and fixed when it reaches the head
of its list, so a missed update costs a little time, never a wrong call. Tickets put into
``state.tickets`` by others (a store reading its rows) are picked up on the next access.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from .model import CounterState, QueueState, Ticket, TicketStatus

Entry = tuple[float, int, str]
"""``(queued_at as a timestamp, day_index, id)``: a ticket's place in its list."""

ListKey = tuple[str, bool]
"""``(service, is_priority)``."""


def entry_of(ticket: Ticket) -> Entry:
    """The ticket's place in its list."""
    return (ticket.queued_at.timestamp(), ticket.day_index, ticket.id)


@dataclass
class WaitingIndex:
    """Waiting tickets per (service, priority class), oldest first."""

    lists: dict[ListKey, list[Entry]] = field(default_factory=dict)
    placed: dict[str, tuple[ListKey, Entry]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)

    def add(self, ticket: Ticket) -> None:
        """Put a waiting ticket in its list (or move it there); other tickets are dropped."""
        self.known.add(ticket.id)
        self.discard(ticket.id)
        if ticket.status == TicketStatus.WAITING:
            key, entry = (ticket.service, ticket.is_priority), entry_of(ticket)
            insort(self.lists.setdefault(key, []), entry)
            self.placed[ticket.id] = (key, entry)

    def discard(self, ticket_id: str) -> None:
        """Take a ticket out of its list, if it is in one."""
        where = self.placed.pop(ticket_id, None)
        if where is None:
            return
        entries = self.lists[where[0]]
        i = bisect_left(entries, where[1])
        if i < len(entries) and entries[i] == where[1]:
            del entries[i]

    def forget(self, ticket_id: str) -> None:
        """A ticket taken out of the state's tickets: out of its list and no longer known.

        Whoever removes tickets tells the index, so :meth:`sync` does not compare every id on the next access
        (with 1,500 tickets waiting, that comparison was a fifth of a ``call_next`` in a rush).
        """
        self.discard(ticket_id)
        self.known.discard(ticket_id)

    def sync(self, tickets: dict[str, Ticket]) -> None:
        """Take in tickets added to ``tickets`` behind the index's back; forget the ids no longer there."""
        if len(self.known) != len(tickets):  # same size, other ids: only by replacing tickets, repaired at heads
            for tid in tickets.keys() - self.known:
                self.add(tickets[tid])
            for tid in self.known - tickets.keys():
                self.discard(tid)
            self.known.intersection_update(tickets)

    def valid(self, tickets: dict[str, Ticket], key: ListKey, entry: Entry) -> Ticket | None:
        """The ticket of ``entry`` when it still waits in the list ``key`` at that place."""
        ticket = tickets.get(entry[2])
        if (ticket is None or ticket.status != TicketStatus.WAITING or ticket.service != key[0]
                or ticket.is_priority != key[1] or entry_of(ticket) != entry):
            return None
        return ticket

    def head(self, tickets: dict[str, Ticket], key: ListKey, skip: Callable[[Ticket], bool] | None = None,
             start: int = 0) -> tuple[int, Ticket | None]:
        """The first waiting ticket of list ``key`` from position ``start`` not ``skip``-ped, and its position.

        Stale entries met on the way are repaired (a ticket still waiting elsewhere is placed again).
        """
        entries = self.lists.get(key)
        i = start
        while entries is not None and i < len(entries):
            entry = entries[i]
            ticket = self.valid(tickets, key, entry)
            if ticket is None:
                del entries[i]
                if self.placed.get(entry[2], (None, None))[1] == entry:
                    del self.placed[entry[2]]
                stale = tickets.get(entry[2])
                if stale is not None and stale.status == TicketStatus.WAITING:
                    self.add(stale)  # moved or re-read with another place: put it where it belongs now
                    entries = self.lists.get(key)
                    i = start  # the re-add may have landed before i in this very list
                continue
            if skip is None or not skip(ticket):
                return i, ticket
            i += 1
        return i, None

    def latest_queued(self, tickets: dict[str, Ticket], counters: Iterable[CounterState]) -> datetime | None:
        """The latest ``queued_at`` of a waiting or called ticket: the lists' tails and the counters' citizens."""
        found = [tickets[e[2]] for e in (entries[-1] for entries in self.lists.values() if entries)
                 if e[2] in tickets]
        found += [t for c in counters if c.ticket_id and (t := tickets.get(c.ticket_id)) is not None]
        found = [t for t in found if t.status in (TicketStatus.WAITING, TicketStatus.CALLED)]
        return max((t.queued_at for t in found), default=None)

    def oldest_day(self, tickets: dict[str, Ticket], counters: Iterable[CounterState]) -> date:
        """The earliest day of a waiting or called ticket (the lists' heads and the counters' citizens);
        ``date.max`` when there is none."""
        oldest = date.max
        for key in list(self.lists):
            head = self.head(tickets, key)[1]
            if head is not None and head.day < oldest:
                oldest = head.day
        for counter in counters:  # every command looks: one plain loop (200 counters: ~1/3 of a call_next in a rush)
            if counter.ticket_id is not None:
                ticket = tickets.get(counter.ticket_id)
                if (ticket is not None and ticket.day < oldest and ticket.status != TicketStatus.DONE
                        and ticket.status != TicketStatus.NO_SHOW):
                    oldest = ticket.day
        return oldest

    def waiting(self, tickets: dict[str, Ticket], services: Iterable[str]) -> int:
        """How many tickets wait in ``services`` (stale entries included until repaired)."""
        return sum(len(self.lists.get((s, p), ())) for s in services for p in (True, False))


def index_of(state: QueueState) -> WaitingIndex:
    """The state's index, built on first use and brought up to date with ``state.tickets``."""
    index = state.waiting_index
    if index is None:
        index = state.waiting_index = WaitingIndex()
    index.sync(state.tickets)
    return index
