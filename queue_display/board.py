"""The hall display's board as a pure reducer over MQTT messages (no Kivy, paho or clock).

Every field is *last writer wins by seq*: a counter's ticket and its status each remember the
``seq`` that set them; a ``state/...`` payload with ``seq`` S reflects every event up to S, so it
replaces a field whose seq is <= S, and an event with seq N replaces a field whose seq is < N.
The recent calls are a set keyed by ``(ticket id, transfers, call count)``, kept as the newest few. So
applying the same messages in any order, any number of times, gives the same board.

The board also remembers how far its events reach (``event_seq``) so that a gap can be noticed and
filled: :mod:`queue_display.catchup` decides when to ask the hub for missed events.

Malformed payloads never raise: the board is returned unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from typing import Any

from mqtt_bus.contract import EventType

CALL_TYPES = (EventType.TICKET_CALLED, EventType.TICKET_RECALLED)
#: Events that tell the counter's ticket (``ticket`` is the counter's ticket, or the one it let go).
_RELEASES = (EventType.TICKET_COMPLETED, EventType.TICKET_NO_SHOW, EventType.TICKET_TRANSFERRED)
_STATUS_EVENTS = (EventType.COUNTER_PAUSED, EventType.COUNTER_RESUMED)
STATUSES = ("open", "paused", "closed")
_NEVER = -1
#: How many call-event seqs the board remembers for :func:`fresh_call` (replays after a hub crash are recent).
SEEN_CALLS = 256
_EPOCH = datetime.min.isoformat()


@dataclass(frozen=True)
class CounterRow:
    """One counter as the board shows it."""

    counter: str
    name: str = ""
    status: str = "open"
    number: str | None = None
    ticket_id: str | None = None
    service: str | None = None
    call_count: int = 0
    services: tuple[str, ...] = ()
    status_seq: int = _NEVER
    ticket_seq: int = _NEVER
    seq: int = _NEVER  # of the newest state payload (name, services)
    staffed: bool = True  # the hub's "staffed": False for an open counter with nobody signed in


@dataclass(frozen=True)
class ServiceRow:
    """One service's queue as the board shows it."""

    service: str
    name: str = ""
    prefix: str = ""
    waiting: int = 0
    est_wait_s: int | None = None
    last_called: str | None = None
    seq: int = _NEVER


@dataclass(frozen=True)
class Call:
    """One call of a ticket to a counter (a recall is a call of its own)."""

    number: str
    counter: str | None
    ticket_id: str
    call_count: int
    at: str  # ISO time of the call
    seq: int | None = None  # event seq; None when learnt from a counter's retained state
    recall: bool = False
    service: str | None = None
    transfers: int = 0  # the ticket's transfers when called: after a transfer its calls count from 1 again

    @property
    def key(self) -> tuple[str, int]:
        """The ticket and its call count, as a counter's row shows its current call."""
        return (self.ticket_id, self.call_count)

    @property
    def identity(self) -> tuple[str, int, int]:
        """The same call seen as an event and in a state payload is one call; a transferred ticket's are new."""
        return (self.ticket_id, self.transfers, self.call_count)


@dataclass(frozen=True)
class BoardState:
    """Everything the board shows, as plain immutable data."""

    counters: dict[str, CounterRow] = field(default_factory=dict)
    services: dict[str, ServiceRow] = field(default_factory=dict)
    calls: tuple[Call, ...] = ()  # newest first, at most ``history + 1`` (the current call and the history)
    history: int = 6
    connected: bool = False
    hub_online: bool | None = None  # None: no status/hub seen yet
    last_seq: int = _NEVER
    seen_calls: frozenset[int] = frozenset()  # seqs of call events applied (the newest SEEN_CALLS)
    # gap recovery (see queue_display.catchup)
    event_seq: int = _NEVER  # every event up to here was applied (before the first event: the state's seq)
    events_seen: bool = False  # an event was applied since the hub (re)started
    resync: bool = False  # reconnected: a state ahead of event_seq means events were missed
    held: tuple[dict[str, Any], ...] = ()  # live events after a gap, waiting for the missed ones (by seq)
    fetching: int | None = None  # ``after`` of the events_since request in flight

    @property
    def current(self) -> Call | None:
        """The newest call (shown huge)."""
        return self.calls[0] if self.calls else None

    @property
    def recent(self) -> tuple[Call, ...]:
        """The calls before the current one, newest first (at most ``history``)."""
        return self.calls[1:1 + self.history]


# ------------------------------------------------------------------------------------ helpers
def _seq(payload: dict[str, Any]) -> int | None:
    seq = payload.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.min


def call_day(call: Call, tz: tzinfo) -> date | None:
    """The date of the call in the center's time zone (None when its time is unknown)."""
    when = _when(call.at)
    return when.astimezone(tz).date() if when.tzinfo else None


def _order(call: Call) -> tuple[Any, ...]:
    when = _when(call.at)
    return (when.timestamp() if when.tzinfo else 0.0, call.at, -1 if call.seq is None else call.seq,
            call.ticket_id, call.transfers, call.call_count)


def _better(a: Call, b: Call) -> Call:
    """Merge two sightings of one call: the event's version (it knows the seq and the exact time) wins."""
    return max(a, b, key=lambda c: (c.seq is not None, -1 if c.seq is None else c.seq, _order(c)))


def _count(ticket: dict[str, Any], key: str = "call_count", default: int = 1) -> int:
    count = ticket.get(key)
    return count if isinstance(count, int) and not isinstance(count, bool) else default


def _ticket_fields(ticket: Any) -> dict[str, Any]:
    if not isinstance(ticket, dict) or not _str(ticket.get("number")):
        return {"number": None, "ticket_id": None, "service": None, "call_count": 0}
    return {"number": ticket["number"], "ticket_id": _str(ticket.get("id")) or ticket["number"],
            "service": _str(ticket.get("service")), "call_count": _count(ticket)}


def _call_from_ticket(ticket: Any, counter: str | None, at: Any, seq: int | None, recall: bool) -> Call | None:
    if not isinstance(ticket, dict) or not _str(ticket.get("number")):
        return None
    return Call(number=ticket["number"], counter=counter, ticket_id=_str(ticket.get("id")) or ticket["number"],
                call_count=_count(ticket), at=_str(at) or _str(ticket.get("called_at")) or _EPOCH, seq=seq,
                recall=recall, service=_str(ticket.get("service")), transfers=_count(ticket, "transfers", 0))


def add_call(board: BoardState, call: Call) -> BoardState:
    """Merge ``call`` into the recent calls (idempotent, order-independent, bounded)."""
    merged = {c.identity: c for c in board.calls}
    old = merged.get(call.identity)
    merged[call.identity] = call if old is None else _better(old, call)
    calls = tuple(sorted(merged.values(), key=_order, reverse=True)[: max(board.history, 0) + 1])
    return board if calls == board.calls else replace(board, calls=calls)


def _bump(board: BoardState, seq: int) -> int:
    return max(board.last_seq, seq)


# ------------------------------------------------------------------------------------ reducers
def apply_state(board: BoardState, kind: str, payload: dict[str, Any]) -> BoardState:
    """Apply a retained ``state/counter/{id}`` or ``state/service/{id}`` payload (``kind``: counter/service)."""
    kind = kind.removeprefix("state/")
    seq = _seq(payload) if isinstance(payload, dict) else None
    if seq is None:
        return board
    if not board.events_seen and (not board.resync or board.event_seq == _NEVER) and seq > board.event_seq:
        board = replace(board, event_seq=seq)  # no event yet: the retained state is where events start
    if kind == "counter":
        return _apply_counter_state(board, payload, seq)
    if kind == "service":
        return _apply_service_state(board, payload, seq)
    return board


def _apply_counter_state(board: BoardState, p: dict[str, Any], seq: int) -> BoardState:
    ident = _str(p.get("counter"))
    if ident is None:
        return board
    row = board.counters.get(ident) or CounterRow(ident)
    changes: dict[str, Any] = {}
    if seq >= row.seq:
        services = p.get("services")
        changes.update(seq=seq, name=_str(p.get("name")) or row.name or ident,
                       services=tuple(s for s in services if isinstance(s, str)) if isinstance(services, list)
                       else row.services)
    if seq >= row.status_seq and p.get("status") in STATUSES:
        changes.update(status=p["status"], status_seq=seq, staffed=p.get("staffed") is not False)
    if seq >= row.ticket_seq and "ticket" in p:
        changes.update(_ticket_fields(p["ticket"]), ticket_seq=seq)
    new = replace(board, counters={**board.counters, ident: replace(row, **changes)}, last_seq=_bump(board, seq))
    ticket = p.get("ticket")
    if isinstance(ticket, dict) and ticket.get("status") == "called":
        call = _call_from_ticket(ticket, ident, None, None, recall=False)
        if call is not None:
            new = add_call(new, replace(call, recall=call.call_count > 1))
    return new


def _apply_service_state(board: BoardState, p: dict[str, Any], seq: int) -> BoardState:
    ident = _str(p.get("service"))
    if ident is None:
        return board
    row = board.services.get(ident) or ServiceRow(ident)
    if seq < row.seq:
        return replace(board, last_seq=_bump(board, seq))
    waiting, est = p.get("waiting"), p.get("est_wait_s")
    row = replace(
        row, seq=seq, name=_str(p.get("name")) or row.name or ident, prefix=_str(p.get("prefix")) or row.prefix,
        waiting=waiting if isinstance(waiting, int) and waiting >= 0 else row.waiting,
        est_wait_s=est if (isinstance(est, int | float) and not isinstance(est, bool)) or (
            est is None and "est_wait_s" in p) else row.est_wait_s,  # null: nothing to estimate from
        last_called=_str(p.get("last_called")),
    )
    return replace(board, services={**board.services, ident: row}, last_seq=_bump(board, seq))


def apply_event(board: BoardState, event: dict[str, Any]) -> BoardState:
    """Apply an ``event/{type}`` payload; a seq already reflected changes nothing."""
    seq = _seq(event) if isinstance(event, dict) else None
    if seq is None or not isinstance(event.get("type"), str):
        return board
    kind, counter = event["type"], _str(event.get("counter"))
    new = replace(board, last_seq=_bump(board, seq), event_seq=max(board.event_seq, seq), events_seen=True)
    if counter is None:
        return new
    row = board.counters.get(counter) or CounterRow(counter, name=counter)
    changes: dict[str, Any] = {}
    if kind in CALL_TYPES or kind in _STATUS_EVENTS:
        if seq > row.ticket_seq:
            changes.update(_ticket_fields(event.get("ticket")), ticket_seq=seq)
    elif kind in _RELEASES and seq > row.ticket_seq:
        changes.update(_ticket_fields(None), ticket_seq=seq)
    if kind in _STATUS_EVENTS and event.get("status") in STATUSES and seq > row.status_seq:
        changes.update(status=event["status"], status_seq=seq)
    if changes:
        new = replace(new, counters={**new.counters, counter: replace(row, **changes)})
    if kind in CALL_TYPES:
        call = _call_from_ticket(event.get("ticket"), counter, event.get("ts"), seq, kind == EventType.TICKET_RECALLED)
        if call is not None:
            new = add_call(new, call)
        if seq not in new.seen_calls:
            seen = new.seen_calls | {seq}
            if len(seen) > SEEN_CALLS:
                seen = frozenset(sorted(seen)[-SEEN_CALLS:])
            new = replace(new, seen_calls=seen)
    return new


def fresh_call(board: BoardState, event: dict[str, Any]) -> Call | None:
    """The call ``event`` makes if it is news to this board (to flash and announce), else None.

    Call it *before* :func:`apply_event`. Not news: other event types, a ``seq`` already applied
    (or older than the board remembers), or a call the counter has already moved on from
    according to a newer state or event. A call that a newer retained state shows as the
    counter's *current* call is still news: the hub may publish that state just before the event.
    """
    if not isinstance(event, dict) or event.get("type") not in CALL_TYPES:
        return None
    seq, counter = _seq(event), _str(event.get("counter"))
    if seq is None or counter is None:
        return None
    if seq in board.seen_calls or (len(board.seen_calls) >= SEEN_CALLS and seq < min(board.seen_calls)):
        return None
    call = _call_from_ticket(event.get("ticket"), counter, event.get("ts"), seq, event["type"] == EventType.TICKET_RECALLED)
    row = board.counters.get(counter)
    if call is None or (row is not None and row.ticket_seq > seq
                        and (row.ticket_id, row.call_count) != (call.ticket_id, call.call_count)):
        return None
    return call


def set_connected(board: BoardState, connected: bool) -> BoardState:
    """The broker connection went up or down (a reconnect makes the board check for missed events)."""
    if board.connected == connected:
        return board
    return replace(board, connected=connected, resync=board.resync or (connected and board.event_seq != _NEVER))


def set_hub_status(board: BoardState, payload: dict[str, Any]) -> BoardState:
    """Apply the hub's retained ``status/hub`` payload (``{"online": bool, ...}``).

    When the hub comes back after being offline, the seq guards are forgotten: the hub republishes
    all its state on start, and that is the truth even if its store was replaced (seq restarted).
    """
    online = payload.get("online") if isinstance(payload, dict) else None
    if not isinstance(online, bool) or online == board.hub_online:
        return board
    if online and board.hub_online is False:
        board = replace(
            board, seen_calls=frozenset(),
            # 0, not _NEVER: what is shown stays shown (the republished state may arrive before this
            # status), yet any republished payload, whatever its seq, replaces it
            counters={k: replace(r, status_seq=min(r.status_seq, 0), ticket_seq=min(r.ticket_seq, 0),
                                 seq=min(r.seq, 0)) for k, r in board.counters.items()},
            services={k: replace(r, seq=min(r.seq, 0)) for k, r in board.services.items()},
            event_seq=_NEVER, events_seen=False, resync=False,  # its seqs start where its state says
        )
    return replace(board, hub_online=online)


def set_history(board: BoardState, history: int) -> BoardState:
    """Change how many past calls are kept (the current call is always kept)."""
    history = max(int(history), 0)
    return replace(board, history=history, calls=board.calls[: history + 1])


def is_current(board: BoardState, call: Call) -> bool:
    """Whether ``call`` is still its counter's call: not paused or closed since, not completed, no-show,
    transferred, recalled or replaced by another call (a counter row older than the call does not count)."""
    row = board.counters.get(call.counter or "")
    if row is None:
        return True
    if row.status in ("paused", "closed") and row.status_seq >= 0:
        return False
    if call.seq is not None and row.ticket_seq < call.seq:
        return True
    return (row.ticket_id, row.call_count) == call.key


def event_is_current(board: BoardState, event: dict[str, Any]) -> bool:
    """:func:`is_current` for a ``ticket_called`` / ``ticket_recalled`` event (malformed: True)."""
    if not isinstance(event, dict):
        return True
    call = _call_from_ticket(event.get("ticket"), _str(event.get("counter")), event.get("ts"), _seq(event),
                             event.get("type") == EventType.TICKET_RECALLED)
    return True if call is None else is_current(board, call)
