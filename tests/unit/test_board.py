"""The display board reducer: convergence under duplicates and reordering, bounded history, freshness."""

from __future__ import annotations

import copy
import os
import random
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mqtt_bus.contract import EventType, Role
from queue_core import Engine, QueueError, QueueState, counter_view, service_view
from queue_core.views import iso
from queue_display.board import (
    BoardState,
    Call,
    apply_event,
    apply_state,
    fresh_call,
    set_connected,
    set_history,
    set_hub_status,
)
from tests.factories import local, make_site

EXAMPLES = int(os.environ.get("QMS_PROPERTY_EXAMPLES", "50"))
SERVICES = ["tu-phap", "chung-thuc", "huong-dan"]
COUNTERS = ["1", "2", "3"]

step = st.one_of(
    st.tuples(st.just("issue_ticket"), st.sampled_from(SERVICES)),
    st.tuples(st.just("issue_ticket"), st.sampled_from(SERVICES)),
    st.tuples(st.just("call_next"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("call_next"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("recall"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("complete"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("no_show"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("transfer"), st.sampled_from(COUNTERS), st.sampled_from(SERVICES)),
    st.tuples(st.just("pause"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("resume"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("publish_state")),
)


def simulate(steps):
    """Run commands on the real core like the hub does: (kind, payload) messages in publish order."""
    site = make_site()
    engine, state = Engine(site), QueueState.initial(site)
    now, seq, messages = local(2026, 11, 23, 9, 0), 0, []

    def states(counters, services):
        return ([("counter", {**counter_view(site, state, c), "seq": seq}) for c in sorted(counters)]
                + [("service", {**service_view(site, state, s), "seq": seq}) for s in sorted(services)])

    messages += states(COUNTERS, SERVICES)
    for s in steps:
        now += timedelta(seconds=7)
        if s[0] == "publish_state":
            messages += states(COUNTERS, SERVICES)
            continue
        before = copy.deepcopy(state)
        try:
            outcome = getattr(engine, s[0])(state, now, *s[1:])
        except QueueError:
            state = before
            continue
        touched_c, touched_s = set(), set()
        for event in outcome.events:
            seq += 1
            messages.append(("event", event.payload(seq, iso(event.ts, site))))
            if event.counter:
                touched_c.add(event.counter)
            if event.ticket:
                touched_s.add(event.ticket["service"])
        messages += states(touched_c, touched_s)
    return site, state, seq, messages


def fold(messages, board=None):
    board = board or BoardState(history=4)
    for kind, payload in messages:
        board = apply_event(board, payload) if kind == "event" else apply_state(board, kind, payload)
    return board


def shown(board):
    """What the screen shows (the seq bookkeeping is allowed to differ)."""
    return ({k: (r.name, r.status, r.number, r.ticket_id, r.call_count) for k, r in board.counters.items()},
            {k: (r.name, r.waiting, r.last_called) for k, r in board.services.items()},
            [(c.number, c.counter, c.key, c.recall) for c in board.calls])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=60), seed=st.integers(0, 2**32 - 1))
def test_duplicated_and_reordered_messages_converge(steps, seed):
    _, _, _, messages = simulate(steps)
    in_order = fold(messages)
    rnd = random.Random(seed)
    shuffled = messages + rnd.sample(messages, k=len(messages) // 2)
    rnd.shuffle(shuffled)
    assert fold(shuffled) == in_order
    assert fold(messages + messages) == in_order  # everything delivered twice


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=60), seed=st.integers(0, 2**32 - 1))
def test_board_matches_the_core_and_events_alone_suffice(steps, seed):
    site, state, _, messages = simulate(steps)
    board = fold(messages)
    for c in COUNTERS:
        view = counter_view(site, state, c)
        row = board.counters[c]
        assert (row.status, row.number) == (view["status"], (view["ticket"] or {}).get("number"))
    for s in SERVICES:
        assert board.services[s].waiting == service_view(site, state, s)["waiting"]
    # a display that saw only the first state then every event, in any order, shows the same counters
    first = [m for m in messages[:len(COUNTERS)]]
    events = [m for m in messages if m[0] == "event"]
    random.Random(seed).shuffle(events)
    assert shown(fold(first + events))[0] == shown(board)[0]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=80), history=st.integers(0, 8))
# a transferred ticket's calls count from 1 again: its call at the new counter must not replace the earlier one
@example(steps=[("issue_ticket", "tu-phap"), ("call_next", "1"), ("transfer", "1", "chung-thuc"), ("call_next", "2")],
         history=1)
def test_history_is_bounded_newest_first_and_lists_the_latest_calls(steps, history):
    _, _, _, messages = simulate(steps)
    board = fold(messages, BoardState(history=history))
    assert len(board.calls) <= history + 1 and len(board.recent) <= history
    calls = [p for k, p in messages if k == "event" and p["type"] in (EventType.TICKET_CALLED, EventType.TICKET_RECALLED)]
    expected = [(p["ticket"]["number"], p["counter"], p["seq"]) for p in reversed(calls)][: history + 1]
    assert [(c.number, c.counter, c.seq) for c in board.calls] == expected
    if calls:
        assert board.current is not None and board.current.seq == calls[-1]["seq"]
        assert board.current.recall == (calls[-1]["type"] == EventType.TICKET_RECALLED)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=60), seed=st.integers(0, 2**32 - 1))
def test_each_call_is_fresh_exactly_once_even_when_state_overtakes_it(steps, seed):
    _, _, _, messages = simulate(steps)
    rnd = random.Random(seed)
    delivered = []
    for m in messages:  # duplicates, and the state the hub publishes right after sometimes first
        delivered.append(m)
        if rnd.random() < 0.3:
            delivered.append(m)
    for i in range(len(delivered) - 1):
        (k1, p1), (k2, p2) = delivered[i], delivered[i + 1]
        if k1 == "event" and k2 == "counter" and p2["counter"] == p1.get("counter") and rnd.random() < 0.5:
            delivered[i], delivered[i + 1] = delivered[i + 1], delivered[i]
    board, fresh = BoardState(), []
    for kind, payload in delivered:
        if kind == "event":
            call = fresh_call(board, payload)
            if call is not None:
                fresh.append(call.seq)
            board = apply_event(board, payload)
        else:
            board = apply_state(board, kind, payload)
    expected = [p["seq"] for k, p in messages if k == "event" and p["type"] in (EventType.TICKET_CALLED, EventType.TICKET_RECALLED)]
    assert fresh == expected


def test_retained_state_seeds_the_board_without_fresh_calls():
    _, _, _, messages = simulate([("issue_ticket", "tu-phap"), ("issue_ticket", "tu-phap"),
                                  ("call_next", "1"), ("call_next", "2"), ("recall", "2")])
    events = [p for k, p in messages if k == "event"]
    retained = {(k, p.get("counter") or p.get("service")): (k, p) for k, p in messages if k != "event"}
    late = fold(list(retained.values()))  # a display that connects afterwards sees the retained state only
    assert [(c.number, c.counter, c.recall) for c in late.calls] == [("A002", "2", True), ("A001", "1", False)]
    calls = [e for e in events if e["type"] in (EventType.TICKET_CALLED, EventType.TICKET_RECALLED)]
    # counter 2 moved on from its first call of A002: not news; A001 is still counter 1's current
    # call, so a (hub-crash) replay of it would be news: the hub may publish state before the event
    assert [fresh_call(late, e) is not None for e in calls] == [True, False, True]
    live = fold(messages)
    assert [c.number for c in live.calls] == ["A002", "A002", "A001"]


def test_old_replayed_call_is_not_fresh_after_the_counter_moved_on():
    _, _, _, messages = simulate([("issue_ticket", "tu-phap"), ("issue_ticket", "tu-phap"),
                                  ("call_next", "2"), ("call_next", "2")])
    board = fold(messages)
    first_call = next(p for k, p in messages if k == "event" and p["type"] == EventType.TICKET_CALLED)
    assert fresh_call(board, first_call) is None
    assert fresh_call(BoardState(), first_call) == Call("A001", "2", first_call["ticket"]["id"], 1,
                                                        first_call["ts"], first_call["seq"], service="tu-phap")


def test_pause_shows_on_the_row_and_keeps_the_ticket():
    _, _, _, messages = simulate([("issue_ticket", "tu-phap"), ("call_next", "2"), ("pause", "2")])
    row = fold(messages).counters["2"]
    assert (row.status, row.number) == ("paused", "A001")
    events_only = fold([m for m in messages if m[0] == "event"])
    assert (events_only.counters["2"].status, events_only.counters["2"].number) == ("paused", "A001")


def test_connection_hub_status_and_history_setting():
    board = BoardState()
    assert set_connected(board, False) is board
    board = set_connected(board, True)
    assert board.connected
    assert board.hub_online is None
    board = set_hub_status(board, {"online": False, "role": Role.HUB})
    assert board.hub_online is False
    assert set_hub_status(board, {"online": "yes"}) is board
    _, _, _, messages = simulate([("issue_ticket", "tu-phap")] * 5 + [("call_next", "1")] * 5)
    board = fold(messages, BoardState(history=8))
    assert len(board.calls) == 5
    assert len(set_history(board, 2).calls) == 3


json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
junk = st.one_of(
    json_value,
    st.fixed_dictionaries({"seq": st.integers(-3, 50) | st.text(max_size=3), "type": st.sampled_from(
        [EventType.TICKET_CALLED, EventType.TICKET_RECALLED, EventType.COUNTER_PAUSED, EventType.TICKET_COMPLETED, "x"]) | json_value,
        "counter": st.sampled_from(["1", "", None, 3]), "ticket": json_value, "status": json_value,
        "ts": json_value}),
    st.fixed_dictionaries({"seq": st.integers(-3, 50), "counter": json_value | st.just("1"),
                           "service": json_value | st.just("tu-phap"), "ticket": json_value,
                           "status": json_value, "waiting": json_value, "services": json_value,
                           "name": json_value}),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(st.tuples(st.sampled_from(["event", "counter", "service", "status", "device"]), junk),
                         max_size=12))
def test_malformed_payloads_never_raise(payloads):
    board = BoardState()
    for kind, payload in payloads:
        if kind == "event":
            fresh_call(board, payload)
            board = apply_event(board, payload)
        elif kind == "status":
            board = set_hub_status(board, payload)
        else:
            board = apply_state(board, kind, payload)
    assert len(board.calls) <= board.history + 1


def test_a_hub_back_with_a_new_store_is_believed():
    _, _, _, messages = simulate([("issue_ticket", "tu-phap")] * 3 + [("call_next", "2")] * 3)
    board = set_hub_status(fold(messages), {"online": True})
    assert board.counters["2"].number == "A003"
    fresh_store = [("counter", {"counter": "2", "name": "Quầy số 2", "status": "open", "ticket": None, "seq": 1})]
    assert fold(fresh_store, board).counters["2"].number == "A003", "a lower seq is stale while the hub stays up"
    board = set_hub_status(set_hub_status(board, {"online": False}), {"online": True})
    board = fold(fresh_store, board)
    assert board.counters["2"].number is None
    event = {"seq": 2, "ts": "2026-11-23T10:00:00.000+07:00", "type": EventType.TICKET_CALLED, "counter": "2",
             "ticket": {"id": "new-1", "number": "A001", "call_count": 1}}
    assert fresh_call(board, event) is not None
