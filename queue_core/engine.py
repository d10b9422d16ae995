"""The queue commands. Each takes the state and the time, changes the state, returns events.

Commands validate everything before changing anything, so a command that raises
``QueueError`` leaves the state as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .errors import ErrorCode, QueueError
from .estimate import record_service_time
from .events import Event, EventType
from .model import (
    FINAL_STATUSES,
    NORMAL,
    CounterState,
    CounterStatus,
    QueueState,
    ServiceDay,
    SiteDef,
    Ticket,
    TicketStatus,
)
from .ordering import index_of
from .policy import choose_from_heads, passed_over, sent_away_from
from .rating import RATING_LABELS
from .views import counter_view, ticket_view

UNDO_WINDOW_S = 30
"""How long after no-show / complete the counter may undo it (the pad offers it for 10 s)."""
DOSSIER_CODE = re.compile(r"[A-Za-z0-9./-]{1,40}")
"""A dossier code (mã hồ sơ) of the one-door system: letters, digits, ``.``, ``/``, ``-``; 1..40 characters."""
LANG_CODE = re.compile(r"[a-z]{2,3}")
"""A ticket's language: 2-3 lowercase letters, as in the config's site.languages."""


@dataclass
class Outcome:
    """What a command returns: its events (in order) and the response ``result``."""

    events: list[Event] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


class Engine:
    """Runs commands for one site against a ``QueueState``."""

    def __init__(self, site: SiteDef) -> None:
        self.site = site

    # ----------------------------------------------------------------- helpers
    def _event(self, state: QueueState, now: datetime, type_: EventType, ticket: Ticket | None,
               counter: str | None, **extra: Any) -> Event:
        view = ticket_view(self.site, state, ticket, now) if ticket else None
        return Event(type=type_, ts=now, ticket=view, counter=counter, extra=extra)

    def _counter(self, state: QueueState, counter_id: str) -> CounterState:
        if counter_id not in self.site.counters:
            valid = ", ".join(self.site.counters)
            raise QueueError(ErrorCode.UNKNOWN_COUNTER, f"unknown counter {counter_id!r}; valid counters: {valid}",
                             valid=list(self.site.counters))
        return state.counters[counter_id]

    def _check_service(self, service_id: str) -> None:
        if service_id not in self.site.services:
            valid = ", ".join(self.site.services)
            raise QueueError(ErrorCode.UNKNOWN_SERVICE, f"unknown service {service_id!r}; valid services: {valid}",
                             valid=list(self.site.services))

    def _current(self, state: QueueState, counter: CounterState) -> Ticket:
        ticket = state.tickets.get(counter.ticket_id) if counter.ticket_id else None
        if ticket is None or ticket.status != TicketStatus.CALLED:
            raise QueueError(ErrorCode.NO_CURRENT_TICKET,
                             f"counter {counter.id} has no called ticket; call the next citizen first")
        return ticket

    def _ensure_can_call(self, counter: CounterState) -> None:
        if counter.status == CounterStatus.PAUSED:
            raise QueueError(ErrorCode.COUNTER_PAUSED, f"counter {counter.id} is paused; resume it before calling")
        if counter.status == CounterStatus.CLOSED:
            raise QueueError(ErrorCode.COUNTER_CLOSED, f"counter {counter.id} is closed; resume it to open")

    def _finish(self, state: QueueState, now: datetime, ticket: Ticket, status: TicketStatus) -> None:
        if ticket.status == TicketStatus.WAITING and state.waiting_index is not None:
            state.waiting_index.discard(ticket.id)
        ticket.status = status
        ticket.finished_at = now
        if status == TicketStatus.DONE and ticket.called_at is not None:
            self._record_service_time(state, ticket.service, (now - ticket.called_at).total_seconds())

    def _record_service_time(self, state: QueueState, service: str, seconds: float) -> None:
        record_service_time(state, service, seconds, self.site.service_time_window)

    def _expire_stale(self, state: QueueState, now: datetime) -> list[Event]:
        """Close yesterday's leftovers: waiting/called tickets of an earlier day become no-shows."""
        today = self.site.local_day(now)
        events: list[Event] = []
        if index_of(state).oldest_day(state.tickets, state.counters.values()) >= today:
            return events  # nobody left over from an earlier day: no scan
        stale = [t for t in state.tickets.values() if t.day < today and t.status not in FINAL_STATUSES]
        for ticket in sorted(stale, key=lambda t: t.id):
            counter = ticket.counter if ticket.status == TicketStatus.CALLED else None
            self._finish(state, now, ticket, TicketStatus.NO_SHOW)
            if counter and state.counters[counter].ticket_id == ticket.id:
                state.counters[counter].ticket_id = None
            events.append(self._event(state, now, EventType.TICKET_NO_SHOW, ticket, counter, reason="expired"))
        return events

    def _close_current(self, state: QueueState, now: datetime, counter: CounterState) -> list[Event]:
        """Before calling someone new: finish the counter's current ticket.

        A ticket recalled ``max_recalls`` times or more becomes a no-show; otherwise it is done.
        """
        ticket = state.tickets.get(counter.ticket_id) if counter.ticket_id else None
        counter.ticket_id = None
        if ticket is None or ticket.status != TicketStatus.CALLED:
            return []
        if ticket.call_count - 1 >= self.site.max_recalls:
            self._finish(state, now, ticket, TicketStatus.NO_SHOW)
            return [self._event(state, now, EventType.TICKET_NO_SHOW, ticket, counter.id, reason="max_recalls")]
        self._finish(state, now, ticket, TicketStatus.DONE)
        return [self._event(state, now, EventType.TICKET_COMPLETED, ticket, counter.id, reason="auto")]

    def _sent_away_from(self, ticket: Ticket, counter: str) -> bool:
        """A citizen transferred away from ``counter`` goes to another counter when one serves the service."""
        return sent_away_from(self.site, ticket, counter)

    def _call(self, state: QueueState, now: datetime, counter: CounterState, ticket: Ticket) -> Event:
        if state.waiting_index is not None:
            state.waiting_index.discard(ticket.id)
        counter.last_call_at = now
        ticket.status = TicketStatus.CALLED
        ticket.called_at = now
        ticket.counter = counter.id
        ticket.call_count = 1
        ticket.officer = counter.officer
        counter.ticket_id = ticket.id
        counter.normal_streak = 0 if ticket.is_priority else counter.normal_streak + 1
        day = state.days.get(ticket.service)
        if day is not None and day.day == ticket.day:
            day.last_called = ticket.number
        return self._event(state, now, EventType.TICKET_CALLED, ticket, counter.id)

    # ---------------------------------------------------------------- commands
    def issue_ticket(self, state: QueueState, now: datetime, service: str, priority: str = NORMAL,
                     procedure: str | None = None, lang: str = "vi") -> Outcome:
        """Give the next number of ``service`` to a citizen."""
        self._check_service(service)
        definition = self.site.services[service]
        if priority != NORMAL and priority not in self.site.priorities:
            valid = ", ".join((NORMAL, *self.site.priorities))
            raise QueueError(ErrorCode.UNKNOWN_PRIORITY, f"unknown priority {priority!r}; valid: {valid}")
        if not LANG_CODE.fullmatch(lang) or (self.site.languages and lang not in self.site.languages):
            valid = ", ".join(self.site.languages) or "a language code such as vi or en"
            raise QueueError(ErrorCode.BAD_REQUEST, f"issue_ticket: unknown lang {lang[:20]!r}; valid: {valid}")
        if procedure is not None and procedure not in definition.procedures:
            raise QueueError(ErrorCode.UNKNOWN_PROCEDURE,
                             f"procedure {procedure!r} does not belong to service {service!r}")
        hours = self.site.service_hours(service)
        local = now.astimezone(self.site.tz)
        if self.site.enforce_hours and hours is not None and not hours.is_open(local):
            holiday = hours.holiday(local.date())
            why = f"closed today ({holiday.name or 'holiday'})" if holiday else "closed now"
            raise QueueError(ErrorCode.SERVICE_CLOSED,
                             f"{definition.name} is {why}; opening hours: {hours.describe()}")
        day = state.days.get(service)
        # a clock set back across midnight must not restart yesterday's numbering: the day never goes back
        today = max(local.date(), day.day) if day is not None else local.date()
        day = day.copy() if day is not None and day.day == today else ServiceDay(service, today)
        if definition.daily_quota is not None and day.issued >= definition.daily_quota:
            raise QueueError(ErrorCode.QUOTA_REACHED,
                             f"{definition.name}: today's {definition.daily_quota} tickets are all given; "
                             "please come back tomorrow")
        number = self._next_number(state, day)
        events = self._expire_stale(state, now)
        day.last_number = number
        day.issued += 1
        state.days[service] = day
        ticket = Ticket(
            id=f"{today:%Y%m%d}-{service}-{day.issued}",
            number=definition.format_number(number),
            service=service, day=today, day_index=day.issued, priority=priority,
            issued_at=now, queued_at=self._queue_time(state, now), procedure=procedure, lang=lang,
        )
        index = index_of(state)
        state.tickets[ticket.id] = ticket
        index.add(ticket)
        issued = self._event(state, now, EventType.TICKET_ISSUED, ticket, None)
        events.append(issued)
        assert issued.ticket is not None
        return Outcome(events, {"ticket": dict(issued.ticket)})  # the same view: its place is computed once

    @staticmethod
    def _queue_time(state: QueueState, now: datetime) -> datetime:
        """``now``, but after every waiting citizen: a clock set back never puts anyone ahead of them."""
        latest = index_of(state).latest_queued(state.tickets, state.counters.values())
        if latest is None or now > latest:
            return now
        return latest + timedelta(milliseconds=1)

    def _next_number(self, state: QueueState, day: ServiceDay) -> int:
        definition = self.site.services[day.service]
        start, end = definition.number_start, definition.number_end
        candidate = start if day.last_number is None else day.last_number + 1
        if candidate <= end:
            return candidate
        if not definition.wrap:
            raise QueueError(ErrorCode.RANGE_EXHAUSTED,
                             f"{definition.name}: all numbers {start}–{end} are given today; "
                             "raise 'numbers.end' or enable 'wrap' in the site config")
        held = {t.number for t in state.tickets.values()
                if t.service == day.service and t.day == day.day and t.status not in FINAL_STATUSES}
        for n in [*range(candidate, end + 1), *range(start, candidate)]:
            n = start + (n - start) % (end - start + 1)
            if definition.format_number(n) not in held:
                if n <= (day.last_number or start):
                    day.cycle += 1
                return n
        raise QueueError(ErrorCode.RANGE_EXHAUSTED, f"{definition.name}: every number is held by a waiting citizen")

    def call_next(self, state: QueueState, now: datetime, counter: str) -> Outcome:
        """Finish the counter's current ticket and call the next one by the priority policy."""
        live = self._counter(state, counter)
        self._ensure_can_call(live)
        events = self._expire_stale(state, now)
        events += self._close_current(state, now, live)
        chosen = self._choose(state, now, live)
        if chosen is None:
            return Outcome(events, {"ticket": None})
        events.append(self._call(state, now, live, chosen))
        return Outcome(events, {"ticket": ticket_view(self.site, state, chosen)})

    def _choose(self, state: QueueState, now: datetime, live: CounterState) -> Ticket | None:
        """The ticket ``live`` calls next: the policy over the heads of its services' waiting lists."""
        index, tickets = index_of(state), state.tickets
        away = lambda t: passed_over(self.site, t, live.id)  # noqa: E731

        def heads(service: str, priority: bool) -> Ticket | None:
            return index.head(tickets, (service, priority), away)[1]

        return choose_from_heads(self.site.policy, live, self.site.counters[live.id].services, heads, now)

    def call_ticket(self, state: QueueState, now: datetime, counter: str, number: str) -> Outcome:
        """Call a specific waiting number out of order (today's ticket with that number)."""
        live = self._counter(state, counter)
        self._ensure_can_call(live)
        # the day never goes back: a clock a little behind the newest service day still finds today's numbers
        today = max([self.site.local_day(now), *(d.day for d in state.days.values())])
        wanted = number.strip().upper()
        matches = [t for t in state.tickets.values()
                   if t.number == wanted and t.day == today and t.status == TicketStatus.WAITING]
        if not matches:
            return self._call_back(state, now, live, wanted, today)
        ticket = min(matches, key=lambda t: t.queued_at)
        events = self._expire_stale(state, now)
        events += self._close_current(state, now, live)
        events.append(self._call(state, now, live, ticket))
        return Outcome(events, {"ticket": ticket_view(self.site, state, ticket)})

    def _call_back(self, state: QueueState, now: datetime, live: CounterState, number: str, today: date) -> Outcome:
        """Call back today's no-show ``number`` to ``live`` as a recall (the ticket stays one ticket)."""
        missed = [t for t in state.tickets.values()
                  if t.number == number and t.day == today and t.status == TicketStatus.NO_SHOW]
        if not missed:
            raise QueueError(ErrorCode.UNKNOWN_TICKET, f"no waiting or no-show ticket {number} today")
        ticket = max(missed, key=lambda t: t.finished_at or t.issued_at)
        events = self._expire_stale(state, now)
        events += self._close_current(state, now, live)
        ticket.status = TicketStatus.CALLED
        ticket.called_at, ticket.finished_at = now, None
        ticket.counter, ticket.officer = live.id, live.officer
        ticket.call_count = 1  # a fresh round: Gọi tiếp then completes it instead of a second no-show
        live.ticket_id = ticket.id
        events.append(self._event(state, now, EventType.TICKET_RECALLED, ticket, live.id, reason="no_show_callback"))
        return Outcome(events, {"ticket": ticket_view(self.site, state, ticket)})

    def recall(self, state: QueueState, now: datetime, counter: str) -> Outcome:
        """Call the counter's current citizen again."""
        live = self._counter(state, counter)
        ticket = state.tickets.get(live.ticket_id) if live.ticket_id else None
        if ticket is None or ticket.status != TicketStatus.CALLED:
            return Outcome([], {"ticket": None})
        ticket.call_count += 1
        event = self._event(state, now, EventType.TICKET_RECALLED, ticket, counter)
        return Outcome([event], {"ticket": ticket_view(self.site, state, ticket)})

    def complete(self, state: QueueState, now: datetime, counter: str) -> Outcome:
        """The citizen was served."""
        live = self._counter(state, counter)
        ticket = self._current(state, live)
        self._finish(state, now, ticket, TicketStatus.DONE)
        live.ticket_id = None
        event = self._event(state, now, EventType.TICKET_COMPLETED, ticket, counter)
        return Outcome([event], {"ticket": ticket_view(self.site, state, ticket)})

    def no_show(self, state: QueueState, now: datetime, counter: str) -> Outcome:
        """The called citizen did not come."""
        live = self._counter(state, counter)
        ticket = self._current(state, live)
        self._finish(state, now, ticket, TicketStatus.NO_SHOW)
        live.ticket_id = None
        event = self._event(state, now, EventType.TICKET_NO_SHOW, ticket, counter)
        return Outcome([event], {"ticket": ticket_view(self.site, state, ticket)})

    def transfer(self, state: QueueState, now: datetime, counter: str, service: str | None = None,
                 to_counter: str | None = None) -> Outcome:
        """Send the current citizen to another service's queue or to one counter, keeping number and place."""
        live = self._counter(state, counter)
        if service is None and to_counter is None:
            raise QueueError(ErrorCode.BAD_REQUEST, "transfer: give 'service', 'to_counter' or both")
        if service is not None:
            self._check_service(service)
        target = self.site.counters[self._counter(state, to_counter).id] if to_counter is not None else None
        ticket = self._current(state, live)
        if target is not None:
            if target.id == counter:
                raise QueueError(ErrorCode.SAME_COUNTER, f"ticket {ticket.number} is already at counter {counter}")
            if service is None:
                service = ticket.service if ticket.service in target.services else target.services[0]
            if service not in target.services:
                raise QueueError(ErrorCode.COUNTER_NOT_SERVING,
                                 f"counter {target.id} does not serve {service!r}; it serves "
                                 f"{', '.join(target.services)}", valid=list(target.services))
        elif service == ticket.service:
            raise QueueError(ErrorCode.SAME_SERVICE, f"ticket {ticket.number} is already in service {service!r}")
        assert service is not None
        origin = ticket.service
        if ticket.called_at is not None:
            self._record_service_time(state, origin, (now - ticket.called_at).total_seconds())
        ticket.service = service
        ticket.status = TicketStatus.WAITING
        ticket.counter = None
        ticket.transfers += 1
        ticket.transferred_from = counter
        ticket.to_counter = target.id if target is not None else None
        live.ticket_id = None
        index_of(state).add(ticket)
        extra: dict[str, Any] = {"from_service": origin}
        if target is not None:
            extra["to_counter"] = target.id
        event = self._event(state, now, EventType.TICKET_TRANSFERRED, ticket, counter, **extra)
        return Outcome([event], {"ticket": ticket_view(self.site, state, ticket)})

    def pause(self, state: QueueState, now: datetime, counter: str) -> Outcome:
        """Stop calling at this counter (its current citizen stays with it)."""
        return self._set_status(state, now, counter, CounterStatus.PAUSED, EventType.COUNTER_PAUSED)

    def resume(self, state: QueueState, now: datetime, counter: str) -> Outcome:
        """Open a paused or closed counter."""
        return self._set_status(state, now, counter, CounterStatus.OPEN, EventType.COUNTER_RESUMED)

    def _set_status(self, state: QueueState, now: datetime, counter: str, status: CounterStatus,
                    event_type: EventType) -> Outcome:
        live = self._counter(state, counter)
        events = []
        if live.status != status:
            live.status = status
            current = state.tickets.get(live.ticket_id) if live.ticket_id else None
            events.append(self._event(state, now, event_type, current, counter, status=status.value))
        return Outcome(events, {"counter": counter_view(self.site, state, counter)})

    def sign_in(self, state: QueueState, now: datetime, counter: str, officer: str | None = None) -> Outcome:
        """Record which officer works at the counter (None signs out)."""
        live = self._counter(state, counter)
        events = []
        if live.officer != (officer or None):
            live.officer = officer or None
            current = state.tickets.get(live.ticket_id) if live.ticket_id else None
            events.append(self._event(state, now, EventType.OFFICER_SIGNED_IN, current, counter, officer=live.officer))
        return Outcome(events, {"counter": counter_view(self.site, state, counter)})

    def rate(self, state: QueueState, now: datetime, ticket: str, score: int) -> Outcome:
        """Attach a satisfaction rating (1..5) to a served ticket."""
        if not isinstance(score, int) or isinstance(score, bool) or score not in RATING_LABELS:
            raise QueueError(ErrorCode.INVALID_SCORE, f"score must be a whole number 1..5, got {score!r}")
        found = state.tickets.get(ticket)
        if found is None:
            raise QueueError(ErrorCode.UNKNOWN_TICKET, f"no ticket with id {ticket!r}")
        if found.status != TicketStatus.DONE:
            raise QueueError(ErrorCode.NOT_RATEABLE, f"ticket {found.number} is {found.status.value}, not done")
        if found.rating is not None:
            raise QueueError(ErrorCode.ALREADY_RATED, f"ticket {found.number} was already rated {found.rating}")
        found.rating = score
        event = self._event(state, now, EventType.RATING_RECORDED, found, found.counter, score=score,
                            label=RATING_LABELS[score]["vi"])
        return Outcome([event], {"ticket": ticket_view(self.site, state, found)})

    def undo(self, state: QueueState, now: datetime, counter: str, ticket: str) -> Outcome:
        """Take back a mis-tapped no-show or complete: the ticket is called at ``counter`` again."""
        live = self._counter(state, counter)
        found = state.tickets.get(ticket)
        if found is None:
            raise QueueError(ErrorCode.UNKNOWN_TICKET, f"no ticket with id {ticket!r}")
        if found.status not in FINAL_STATUSES or found.counter != counter or found.finished_at is None:
            raise QueueError(ErrorCode.NOT_UNDOABLE,
                             f"ticket {found.number} was not finished at counter {counter}; nothing to undo")
        if (now - found.finished_at).total_seconds() > UNDO_WINDOW_S:
            raise QueueError(ErrorCode.NOT_UNDOABLE,
                             f"ticket {found.number} was finished more than {UNDO_WINDOW_S} s ago; "
                             "call it back by its number instead")
        if found.rating is not None:
            raise QueueError(ErrorCode.NOT_UNDOABLE, f"ticket {found.number} is already rated")
        busy = state.tickets.get(live.ticket_id) if live.ticket_id else None
        if busy is not None and busy.status == TicketStatus.CALLED:
            raise QueueError(ErrorCode.NOT_UNDOABLE,
                             f"counter {counter} already serves {busy.number}; call {found.number} back by number")
        previous = found.status
        if previous == TicketStatus.DONE and found.called_at is not None:
            self._forget_service_time(state, found.service, (found.finished_at - found.called_at).total_seconds())
        found.status, found.finished_at = TicketStatus.CALLED, None
        live.ticket_id = found.id
        event = self._event(state, now, EventType.TICKET_RESTORED, found, counter, from_status=previous.value)
        return Outcome([event], {"ticket": ticket_view(self.site, state, found)})

    def set_dossier(self, state: QueueState, now: datetime, counter: str, dossier: str,
                    ticket: str | None = None) -> Outcome:
        """Tie a dossier code to the counter's current ticket, or to ``ticket`` (called or served there)."""
        live = self._counter(state, counter)
        code = dossier.strip()
        if not DOSSIER_CODE.fullmatch(code):
            raise QueueError(ErrorCode.INVALID_DOSSIER,
                             f"dossier code {dossier[:40]!r} is not valid: 1..40 letters, digits, '.', '/' or '-'")
        if ticket is None:
            found = self._current(state, live)
        else:
            found = state.tickets.get(ticket)
            if found is None:
                raise QueueError(ErrorCode.UNKNOWN_TICKET, f"no ticket with id {ticket!r}")
            if found.counter != counter or found.status not in (TicketStatus.CALLED, TicketStatus.DONE):
                raise QueueError(ErrorCode.UNKNOWN_TICKET,
                                 f"ticket {found.number} is not called or served at counter {counter}")
        if found.dossier == code:
            return Outcome([], {"ticket": ticket_view(self.site, state, found)})
        found.dossier = code
        event = self._event(state, now, EventType.DOSSIER_SET, found, counter, dossier=code)
        return Outcome([event], {"ticket": ticket_view(self.site, state, found)})

    @staticmethod
    def _forget_service_time(state: QueueState, service: str, seconds: float) -> None:
        """Drop the duration a wrong ``complete`` recorded (the newest equal one)."""
        recent = state.recent_service_s.get(service) or []
        value = max(0.0, seconds)
        for i in range(len(recent) - 1, -1, -1):
            if recent[i] == value:
                del recent[i]
                return

    def reprint(self, state: QueueState, now: datetime, ticket: str | None = None, number: str | None = None,
                kiosk: str | None = None) -> Outcome:
        """Ask a kiosk printer to print one of today's tickets again (by id, or today's number)."""
        found = self._today_ticket(state, now, ticket, number)
        event = self._event(state, now, EventType.REPRINT_REQUESTED, found, None, kiosk=kiosk)
        return Outcome([event], {"ticket": ticket_view(self.site, state, found)})

    def _today_ticket(self, state: QueueState, now: datetime, ticket: str | None, number: str | None) -> Ticket:
        today = max([self.site.local_day(now), *(d.day for d in state.days.values())])
        if ticket is not None:
            found = state.tickets.get(ticket)
            if found is None or found.day != today:
                raise QueueError(ErrorCode.UNKNOWN_TICKET, f"no ticket with id {ticket!r} today")
            return found
        if number is None:
            raise QueueError(ErrorCode.BAD_REQUEST, "reprint: give 'ticket' (id) or 'number'")
        wanted = number.strip().upper()
        matches = [t for t in state.tickets.values() if t.number == wanted and t.day == today]
        if not matches:
            raise QueueError(ErrorCode.UNKNOWN_TICKET, f"no ticket {wanted} today")
        return max(matches, key=lambda t: t.issued_at)
