"""Filling gaps in the event stream, as pure functions over :class:`~queue_display.board.BoardState`.

Events are not retained and a broker crash can lose some (docs/protocol.md, "Recovering a gap").
The board notices a gap when a live event's ``seq`` is more than one above ``event_seq``, or when,
after a reconnect, a state is ahead of it (checked until the first fetch after the reconnect: an
in-order event resent by the hub may come before the state that tells of missed ones). Then the display asks the hub ``events_since``
(the request itself lives in the MQTT glue, :mod:`queue_display.feed`):

1. :func:`receive_event` passes a live event on, or holds it while missed events are fetched;
2. :func:`fetch_needed` says after which ``seq`` to ask; :func:`start_fetch` records the request;
3. :func:`fetched` (or :func:`fetch_failed`) gives the events to apply, in ``seq`` order;
4. :func:`play` applies events and says which calls to announce: a *missed* call only if its counter
   still shows it and it is at most ``window_s`` seconds old, never a stale burst of old calls.

No clock is read here: callers pass ``now``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from .board import BoardState, Call, _seq, _when, apply_event, fresh_call

Event = dict[str, Any]


def _by_seq(events: list[Event] | tuple[Event, ...], above: int) -> tuple[Event, ...]:
    """Events with a valid ``seq`` above ``above``, one per seq, in seq order."""
    unique: dict[int, Event] = {}
    for event in events:
        seq = _seq(event) if isinstance(event, dict) else None
        if seq is not None and seq > above:
            unique.setdefault(seq, event)
    return tuple(unique[s] for s in sorted(unique))


def receive_event(board: BoardState, event: Event) -> tuple[BoardState, tuple[Event, ...]]:
    """A live event: ``(board, events to apply now)``; after a gap or during a fetch the event is held."""
    seq = _seq(event) if isinstance(event, dict) else None
    if seq is None or seq <= board.event_seq:
        return board, (event,)  # malformed (ignored by apply_event) or a duplicate (idempotent)
    waiting = board.fetching is not None or bool(board.held)
    if waiting or (board.event_seq >= 0 and seq > board.event_seq + 1):
        return replace(board, held=_by_seq([*board.held, event], board.event_seq)), ()
    return board, (event,)  # in order (resync stays: a state ahead may still tell of missed events)


def fetch_needed(board: BoardState) -> int | None:
    """The ``after`` to ask ``events_since`` with now, or None (nothing missing, or already asking)."""
    if board.fetching is not None or board.event_seq < 0:
        return None
    if board.held or (board.resync and board.last_seq > board.event_seq):
        return board.event_seq
    return None


def start_fetch(board: BoardState, after: int) -> BoardState:
    """Record that ``events_since`` after ``after`` was asked."""
    return replace(board, fetching=after, resync=False)


def fetched(board: BoardState, events: Any, last_seq: Any, more: bool
            ) -> tuple[BoardState, tuple[Event, ...], frozenset[int]]:
    """The hub's answer: ``(board, events to apply in order, seqs of the missed ones among them)``.

    With ``more`` the held events wait for the next page (:func:`fetch_needed` asks for it).
    """
    page = _by_seq(events if isinstance(events, list) else [], board.event_seq)
    held_seqs = {_seq(e) for e in board.held}
    missed = frozenset(s for e in page if (s := _seq(e)) is not None and s not in held_seqs)
    newest = last_seq if isinstance(last_seq, int) and not isinstance(last_seq, bool) else board.last_seq
    board = replace(board, fetching=None, last_seq=max(board.last_seq, newest))
    if more and page:
        return replace(board, resync=True), page, missed
    return replace(board, held=()), _by_seq([*page, *board.held], board.event_seq), missed


def fetch_failed(board: BoardState) -> tuple[BoardState, tuple[Event, ...]]:
    """No answer: apply the held events as they are (the retained state still shows the truth)."""
    return replace(board, fetching=None, held=(), resync=False), board.held


def still_current(board: BoardState, call: Call, now: datetime, window_s: float) -> bool:
    """True when ``call``'s counter still shows that call and it was made at most ``window_s`` ago (0: never)."""
    if window_s <= 0:
        return False
    row = board.counters.get(call.counter or "")
    if row is None or (row.ticket_id, row.call_count) != call.key:
        return False
    when = _when(call.at)
    return bool(when.tzinfo) and (now - when).total_seconds() <= window_s


def play(board: BoardState, events: tuple[Event, ...], now: datetime, window_s: float,
         missed: frozenset[int] = frozenset()) -> tuple[BoardState, list[Event]]:
    """Apply ``events`` in the given order; return the board and the call events to announce, in order.

    A call is announced when it is news (:func:`~queue_display.board.fresh_call`); a missed one (its
    seq in ``missed``) only if it is still current once every event here is applied.
    """
    final = board
    for event in events:
        final = apply_event(final, event)
    announce: list[Event] = []
    for event in events:
        call = fresh_call(board, event)
        board = apply_event(board, event)
        if call is not None and (call.seq not in missed or still_current(final, call, now, window_s)):
            announce.append(event)
    return board, announce
