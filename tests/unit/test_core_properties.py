"""Property tests of the pure queue core over random command sequences."""

from __future__ import annotations

import copy
import dataclasses
import os
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_core import Engine, ErrorCode, EventType, QueueError, QueueState, TicketStatus
from queue_core.estimate import people_ahead
from queue_core.model import FINAL_STATUSES
from queue_core.policy import queue_order_key
from tests.factories import local, make_site
from tests.replay import replay

EXAMPLES = int(os.environ.get("QMS_PROPERTY_EXAMPLES", "150"))
SERVICES = ["tu-phap", "chung-thuc", "huong-dan"]
COUNTERS = ["1", "2", "3"]
PRIORITIES = ["normal", "normal", "normal", "elderly", "disabled", "pregnant"]

issue_step = st.tuples(st.just("issue"), st.sampled_from(SERVICES), st.sampled_from(PRIORITIES))
next_step = st.tuples(st.just("call_next"), st.sampled_from(COUNTERS))
step = st.one_of(
    issue_step, issue_step, issue_step, next_step, next_step,
    st.tuples(st.just("recall"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("complete"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("no_show"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("transfer"), st.sampled_from(COUNTERS), st.sampled_from(SERVICES)),
    st.tuples(st.just("pause"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("resume"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("call_ticket"), st.sampled_from(COUNTERS), st.integers(1, 30)),
    st.tuples(st.just("rate"), st.integers(0, 40), st.integers(1, 5)),
    st.tuples(st.just("wait"), st.sampled_from([1, 30, 200, 3600, 6 * 3600])),
    st.tuples(st.just("sign_in"), st.sampled_from(COUNTERS), st.sampled_from(["Lan", "Hà", None])),
)


def run_step(engine: Engine, state: QueueState, now, s, issued: list[str]):
    kind = s[0]
    if kind == "issue":
        return engine.issue_ticket(state, now, s[1], s[2])
    if kind == "call_ticket":
        prefix = "A" if s[1] in ("1", "2") else "B"
        return engine.call_ticket(state, now, s[1], f"{prefix}{s[2]:03d}")
    if kind == "rate":
        if not issued:
            raise QueueError(ErrorCode.UNKNOWN_TICKET, "none yet")
        return engine.rate(state, now, issued[s[1] % len(issued)], s[2])
    if kind == "transfer":
        return engine.transfer(state, now, s[1], s[2])
    if kind == "sign_in":
        return engine.sign_in(state, now, s[1], s[2])
    return getattr(engine, kind)(state, now, s[1])


def comparable(state: QueueState):
    return (
        {k: v for k, v in state.tickets.items()},
        {k: (c.status, c.ticket_id, c.normal_streak, c.officer) for k, c in state.counters.items()},
        {k: (d.day, d.last_number, d.issued, d.last_called) for k, d in state.days.items()},
        state.recent_service_s,
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(["strict", "ratio", "ageing"]), steps=st.lists(step, min_size=5, max_size=80))
def test_random_command_sequences_keep_every_invariant(policy, steps):
    site = make_site(policy=policy)
    engine = Engine(site)
    state = QueueState.initial(site)
    now = local(2026, 11, 23, 22, 0)
    log = []
    issued: list[str] = []
    numbers_seen: set[tuple] = set()
    finals: dict[str, TicketStatus] = {}
    for s in steps:
        if s[0] == "wait":
            now += timedelta(seconds=s[1])
            continue
        before = copy.deepcopy(state)
        try:
            outcome = run_step(engine, state, now, s, issued)
        except QueueError:
            assert comparable(state) == comparable(before), f"{s} changed the state although it was refused"
            continue
        now += timedelta(seconds=1)
        for event in outcome.events:
            log.append(event)
            t = event.ticket
            if event.type == EventType.TICKET_ISSUED:
                key = (t["service"], t["id"][:8], t["number"])
                assert key not in numbers_seen, f"number {key} given twice"
                numbers_seen.add(key)
                issued.append(t["id"])
            if event.type == EventType.TICKET_CALLED and s[0] == "call_next":
                called = state.tickets[t["id"]]
                serves = site.counters[event.counter].services
                for other in before.tickets.values():
                    if (other.status == TicketStatus.WAITING and other.service in serves
                            and other.is_priority == called.is_priority and other.id != called.id
                            and not engine._sent_away_from(other, event.counter)):
                        assert other.queued_at >= before.tickets[called.id].queued_at, "FIFO broken in a class"
            if t is not None and t["id"] in finals and event.type != EventType.RATING_RECORDED:
                raise AssertionError(f"{t['number']} changed after reaching {finals[t['id']]}")
            if t is not None and t["status"] in ("done", "no_show"):
                finals[t["id"]] = TicketStatus(t["status"])

    # the event log tells the whole story
    assert comparable(replay(site, log)) == comparable(state)

    # drain: every ticket ends in exactly one final state
    for c in COUNTERS:
        engine.resume(state, now, c)
    for _ in range(len(state.tickets) * 3 + 3):
        progressed = False
        for c in COUNTERS:
            if engine.call_next(state, now, c).result["ticket"] is not None:
                progressed = True
        if not progressed:
            break
    for c in COUNTERS:
        if state.counters[c].ticket_id:
            engine.complete(state, now, c)
    assert all(t.status in FINAL_STATUSES for t in state.tickets.values())


def ahead_by_scan(site, state: QueueState, ticket) -> int:
    """The straightforward count ``people_ahead`` must equal: every waiting key computed afresh."""
    if ticket.status != TicketStatus.WAITING:
        return 0
    mine = queue_order_key(site.policy, ticket)
    return sum(1 for t in state.tickets.values() if t.service == ticket.service and t.status == TicketStatus.WAITING
               and t.id != ticket.id and queue_order_key(site.policy, t) < mine)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(["strict", "ratio", "ageing"]), steps=st.lists(step, min_size=5, max_size=80))
def test_remembered_place_keys_give_the_same_ahead_as_a_fresh_scan(policy, steps):
    site = make_site(policy=policy)
    engine = Engine(site)
    state = QueueState.initial(site)
    now = local(2026, 11, 23, 22, 0)
    issued: list[str] = []
    for s in steps:
        if s[0] == "wait":
            now += timedelta(seconds=s[1])
            continue
        try:
            outcome = run_step(engine, state, now, s, issued)
        except QueueError:
            continue
        now += timedelta(seconds=1)
        issued += [e.ticket["id"] for e in outcome.events if e.type == EventType.TICKET_ISSUED]
        for event in outcome.events:  # the views the events carry were computed with the memo
            if event.ticket is not None and event.ticket["status"] == "waiting" and event.ticket["id"] in state.tickets:
                assert event.ticket["ahead"] == ahead_by_scan(site, state, state.tickets[event.ticket["id"]])
        if s[0] == "issue":
            assert outcome.result["ticket"] == outcome.events[-1].ticket
        reread = copy.deepcopy(state)  # as a store reads its tickets again: fresh objects, memo kept
        for t in state.tickets.values():
            assert people_ahead(site, state, t) == ahead_by_scan(site, state, t)
            assert people_ahead(site, reread, reread.tickets[t.id]) == ahead_by_scan(site, state, t)
    assert len(state.order_keys) <= 2 * len(state.tickets) + 64 + 1


def test_a_ticket_read_again_with_another_queue_time_gets_a_fresh_place_key():
    site = make_site(policy="strict")
    engine = Engine(site)
    state = QueueState.initial(site)
    now = local(2026, 11, 24, 8, 0)
    first = engine.issue_ticket(state, now, "tu-phap").result["ticket"]
    second = engine.issue_ticket(state, now + timedelta(seconds=5), "tu-phap").result["ticket"]
    assert [first["ahead"], second["ahead"]] == [0, 1]
    moved = state.tickets[first["id"]]
    state.tickets[moved.id] = dataclasses.replace(moved, queued_at=now + timedelta(seconds=10))
    assert people_ahead(site, state, state.tickets[second["id"]]) == 0
    assert people_ahead(site, state, state.tickets[first["id"]]) == 1
