"""Property tests of the pure queue core over random command sequences."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_core import Engine, ErrorCode, EventType, QueueError, QueueState, TicketStatus
from queue_core.estimate import mean_service_s, people_ahead, place
from queue_core.model import FINAL_STATUSES
from queue_core.ordering import index_of
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


def rule_by_scan(policy, counter, candidates, services, now):
    """The call rule written out plainly over every candidate (no index, no heads)."""
    order = {sv: i for i, sv in enumerate(services)}
    prio = [t for t in candidates if t.is_priority]
    normal = [t for t in candidates if not t.is_priority]
    if policy.kind == "strict":
        pool = prio or normal
    elif policy.kind == "ratio":
        pool = prio if prio and (not normal or counter.normal_streak >= policy.ratio_normal) else normal
    else:
        pool = candidates
    if not pool:
        return None

    def key(t):
        bonus = policy.ageing_bonus_s if policy.kind == "ageing" and t.is_priority else 0
        return (t.queued_at.timestamp() - bonus, order[t.service], t.day_index, t.id)

    overdue = [t for t in pool if (now - t.queued_at).total_seconds() >= policy.preferred_max_wait_s]
    if overdue:
        return min(overdue, key=key)
    first = min(order[t.service] for t in pool)
    return min((t for t in pool if order[t.service] == first), key=key)


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
@given(policy=st.sampled_from(["strict", "ratio", "ageing"]), steps=st.lists(step, min_size=5, max_size=80),
       max_wait=st.sampled_from([0, 30, 1200]))
def test_random_command_sequences_keep_every_invariant(policy, steps, max_wait):
    site = make_site(policy=policy)
    site = dataclasses.replace(site, policy=dataclasses.replace(site.policy, preferred_max_wait_s=max_wait))
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
        called_at = now
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
                # the index-fed choice equals the rule applied by a plain scan of the state before
                serves = site.counters[event.counter].services
                candidates = [o for o in before.tickets.values()
                              if o.status == TicketStatus.WAITING and o.service in serves
                              and not engine._sent_away_from(o, event.counter)
                              and o.to_counter in (None, event.counter)]
                expected = rule_by_scan(site.policy, before.counters[event.counter], candidates, serves, called_at)
                assert expected is not None and expected.id == t["id"], "call order differs from the rule"
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


def index_by_scan(state: QueueState) -> dict[tuple[str, bool], list[str]]:
    """The waiting lists the index must hold, by a plain scan and sort."""
    lists: dict[tuple[str, bool], list] = {}
    for t in state.tickets.values():
        if t.status == TicketStatus.WAITING:
            lists.setdefault((t.service, t.is_priority), []).append(t)
    return {k: [t.id for t in sorted(v, key=lambda t: (t.queued_at, t.day_index, t.id))] for k, v in lists.items()}


def index_lists(state: QueueState) -> dict[tuple[str, bool], list[str]]:
    index = index_of(state)
    for key in list(index.lists):
        index.head(state.tickets, key)
    valid = {k: [e[2] for e in v if index.valid(state.tickets, k, e)] for k, v in index.lists.items()}
    return {k: v for k, v in valid.items() if v}


def calls_until(engine: Engine, state: QueueState, now, counter: str, ticket_id: str, step_s: float) -> int:
    """Calls ``counter`` makes before ``ticket_id``, each citizen served for ``step_s``."""
    state = copy.deepcopy(state)
    calls = 0
    while True:
        called = engine.call_next(state, now, counter).result["ticket"]
        assert called is not None
        if called["id"] == ticket_id:
            return calls
        calls += 1
        now += timedelta(seconds=step_s)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(["strict", "ratio", "ageing"]), steps=st.lists(step, min_size=5, max_size=80),
       max_wait=st.sampled_from([0, 60, 1200]))
def test_the_index_and_the_replayed_ahead_follow_the_real_call_order(policy, steps, max_wait):
    site = make_site(policy=policy)
    site = dataclasses.replace(site, policy=dataclasses.replace(site.policy, preferred_max_wait_s=max_wait))
    engine = Engine(site)
    state = QueueState.initial(site)
    now = local(2026, 11, 23, 7, 0)
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
        assert index_lists(state) == index_by_scan(state)
        reread = copy.deepcopy(state)  # as a store reads its tickets again: fresh objects
        reread.waiting_index = None
        assert index_lists(reread) == index_by_scan(state)
    # counter 3 alone serves chung-thuc: with only it open and staffed, "ahead" is the calls it makes first
    for c in COUNTERS:
        engine.pause(state, now, c)
        engine.sign_in(state, now, c, None)
    engine.resume(state, now, "3")
    if state.counters["3"].ticket_id:
        engine.complete(state, now, "3")
    state.counters["3"].last_call_at = None
    assert engine.issue_ticket(state, now, "chung-thuc").result["ticket"]["est_wait_s"] is None  # nobody there
    engine.sign_in(state, now, "3", "Hà")
    step_s = mean_service_s(site, state, "chung-thuc")
    waiting = sum(t.status == TicketStatus.WAITING for t in state.tickets.values())
    if (now + timedelta(seconds=step_s * (waiting + 1))).date() != now.date():
        return  # the replay would run past midnight, where the engine expires the day's leftovers: no estimate models that
    for t in list(state.tickets.values()):
        if t.status == TicketStatus.WAITING and t.service == "chung-thuc" and not engine._sent_away_from(t, "3"):
            where = place(site, state, t, now)
            assert where.ahead == calls_until(engine, state, now, "3", t.id, step_s)
            assert where.wait_s == math.ceil(where.ahead * step_s)


def test_a_ticket_read_again_with_another_queue_time_gets_a_fresh_place():
    site = make_site(policy="strict")
    engine = Engine(site)
    state = QueueState.initial(site)
    now = local(2026, 11, 24, 8, 0)
    first = engine.issue_ticket(state, now, "tu-phap").result["ticket"]
    second = engine.issue_ticket(state, now + timedelta(seconds=5), "tu-phap").result["ticket"]
    assert [first["ahead"], second["ahead"]] == [0, 1]
    moved = state.tickets[first["id"]]
    state.tickets[moved.id] = dataclasses.replace(moved, queued_at=now + timedelta(seconds=10))
    assert people_ahead(site, state, state.tickets[second["id"]], now) == 0
    assert people_ahead(site, state, state.tickets[first["id"]], now) == 1
