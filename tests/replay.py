"""Rebuild a ``QueueState`` from its event log: proof that the events tell the whole story."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from queue_core.estimate import record_service_time
from queue_core.events import Event, EventType
from queue_core.model import CounterStatus, QueueState, ServiceDay, SiteDef, Ticket, TicketStatus


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def ticket_from_view(view: dict[str, Any]) -> Ticket:
    """The ``Ticket`` a TICKET payload describes (ids are ``YYYYMMDD-service-index``)."""
    day_text, _, index = view["id"].rpartition("-")
    day_text = day_text.split("-", 1)[0]
    issued = _dt(view["issued_at"])
    queued = _dt(view["queued_at"])
    assert issued is not None and queued is not None
    return Ticket(
        id=view["id"], number=view["number"], service=view["service"],
        day=date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:8])), day_index=int(index),
        priority=view["priority"], issued_at=issued, queued_at=queued,
        status=TicketStatus(view["status"]), procedure=view["procedure"], lang=view["lang"],
        called_at=_dt(view["called_at"]), finished_at=_dt(view["finished_at"]), counter=view["counter"],
        call_count=view["call_count"], transfers=view["transfers"], transferred_from=view["transferred_from"],
        to_counter=view.get("to_counter"), rating=view["rating"],
        officer=view["officer"],
    )


def apply_event(site: SiteDef, state: QueueState, event: Event) -> None:
    """Apply one event to ``state``."""
    t = ticket_from_view(event.ticket) if event.ticket else None
    counter = state.counters.get(event.counter) if event.counter else None
    if event.type in (EventType.COUNTER_PAUSED, EventType.COUNTER_RESUMED) and counter is not None:
        counter.status = CounterStatus(event.extra["status"])
        return
    if event.type == EventType.OFFICER_SIGNED_IN and counter is not None:
        counter.officer = event.extra["officer"]
        return
    if t is None:
        return
    state.tickets[t.id] = t
    if event.type == EventType.TICKET_ISSUED:
        day = state.days.get(t.service)
        if day is None or day.day != t.day:
            day = ServiceDay(t.service, t.day)
        number = int(t.number[len(site.services[t.service].prefix):])
        if day.last_number is not None and number <= day.last_number:
            day.cycle += 1
        day.last_number = number
        day.issued = t.day_index
        state.days[t.service] = day
    elif event.type == EventType.TICKET_CALLED and counter is not None:
        counter.ticket_id = t.id
        counter.normal_streak = 0 if t.is_priority else counter.normal_streak + 1
        day = state.days.get(t.service)
        if day is not None and day.day == t.day:
            day.last_called = t.number
    elif event.type in (EventType.TICKET_RESTORED, EventType.TICKET_RECALLED) and counter is not None:
        counter.ticket_id = t.id  # an undo, or a no-show called back: the counter serves it again
        if event.type == EventType.TICKET_RESTORED and event.extra.get("from_status") == "done":
            recent = state.recent_service_s.get(t.service) or []
            if recent:
                recent.pop()  # the duration the undone complete recorded (the newest one)
    elif event.type in (EventType.TICKET_COMPLETED, EventType.TICKET_NO_SHOW, EventType.TICKET_TRANSFERRED):
        if counter is not None and counter.ticket_id == t.id:
            counter.ticket_id = None
        if t.called_at is not None and event.type == EventType.TICKET_COMPLETED and t.finished_at is not None:
            record_service_time(state, t.service, (t.finished_at - t.called_at).total_seconds(),
                                site.service_time_window)
        elif t.called_at is not None and event.type == EventType.TICKET_TRANSFERRED:
            record_service_time(state, event.extra["from_service"], (event.ts - t.called_at).total_seconds(),
                                site.service_time_window)


def replay(site: SiteDef, events: Iterable[Event]) -> QueueState:
    """The state reached by applying ``events`` in order to a fresh state."""
    state = QueueState.initial(site)
    for event in events:
        apply_event(site, state, event)
    return state
