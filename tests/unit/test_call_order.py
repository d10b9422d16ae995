"""A counter calls its preferred service first; the starvation guard; honest places and estimates."""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_core import CounterDef, Engine, QueueState, TicketStatus
from queue_core.estimate import place
from tests.factories import local, make_site
from tests.unit.test_core_properties import EXAMPLES, rule_by_scan

NOW = local(2026, 11, 24, 8, 0)


def site_with(policy: str = "strict", max_wait_s: int = 1200, **extra):
    """The test site, counter 1 serving huong-dan, then tra-ket-qua-like chung-thuc, then tu-phap (as in
    config/commune.yaml: "first = preferred")."""
    site = make_site(policy=policy)
    counters = {**site.counters, "1": CounterDef("1", "Quầy số 1", ("huong-dan", "chung-thuc", "tu-phap"))}
    return dataclasses.replace(site, counters=counters,
                               policy=dataclasses.replace(site.policy, preferred_max_wait_s=max_wait_s), **extra)


def issue(engine: Engine, state: QueueState, at, service: str, priority: str = "normal", procedure=None):
    return engine.issue_ticket(state, at, service, priority, procedure).result["ticket"]


def test_a_counter_calls_its_preferred_service_first():
    engine = Engine(site_with())
    state = QueueState.initial(engine.site)
    a1 = issue(engine, state, NOW, "tu-phap")
    g1 = issue(engine, state, NOW + timedelta(seconds=1), "huong-dan")
    called = engine.call_next(state, NOW + timedelta(seconds=2), "1").result["ticket"]
    assert called["number"] == g1["number"] == "G001"
    assert engine.call_next(state, NOW + timedelta(seconds=3), "1").result["ticket"]["number"] == a1["number"]


def test_the_guard_calls_an_old_ticket_of_another_service_once_its_wait_has_passed():
    engine = Engine(site_with(max_wait_s=20 * 60))
    state = QueueState.initial(engine.site)
    old = issue(engine, state, NOW, "tu-phap")  # the counter's last service
    for i in range(3):
        issue(engine, state, NOW + timedelta(minutes=5 * i + 1), "huong-dan")
    # 19 minutes: the preferred service still goes first
    first = engine.call_next(state, NOW + timedelta(minutes=19), "1").result["ticket"]
    assert first["service"] == "huong-dan"
    # 20 minutes: A001 has waited the guard's time and goes before the newer guidance tickets
    second = engine.call_next(state, NOW + timedelta(minutes=20), "1").result["ticket"]
    assert second["id"] == old["id"]
    assert engine.call_next(state, NOW + timedelta(minutes=21), "1").result["ticket"]["service"] == "huong-dan"


def test_zero_guard_is_first_come_first_served():
    engine = Engine(site_with(max_wait_s=0))
    state = QueueState.initial(engine.site)
    a1 = issue(engine, state, NOW, "tu-phap")
    issue(engine, state, NOW + timedelta(seconds=1), "huong-dan")
    assert engine.call_next(state, NOW + timedelta(seconds=2), "1").result["ticket"]["id"] == a1["id"]


@pytest.mark.parametrize("policy", ["strict", "ratio"])
def test_the_priority_policy_still_picks_the_class_first(policy):
    engine = Engine(site_with(policy))
    state = QueueState.initial(engine.site)
    issue(engine, state, NOW, "huong-dan")
    elderly = issue(engine, state, NOW + timedelta(seconds=1), "tu-phap", "elderly")
    # a priority citizen of the least preferred service comes before a normal one of the preferred service
    assert engine.call_next(state, NOW + timedelta(seconds=2), "1").result["ticket"]["id"] == elderly["id"]


def test_ageing_counts_the_head_start_within_the_preferred_service_only():
    engine = Engine(site_with("ageing"))
    state = QueueState.initial(engine.site)
    g = issue(engine, state, NOW, "huong-dan")
    issue(engine, state, NOW + timedelta(seconds=1), "tu-phap", "elderly")
    assert engine.call_next(state, NOW + timedelta(seconds=2), "1").result["ticket"]["id"] == g["id"]


def test_ahead_follows_the_preference_and_the_policy():
    engine = Engine(site_with())
    state = QueueState.initial(engine.site)
    engine.sign_in(state, NOW, "1", "Lan")
    engine.pause(state, NOW, "2")
    a1 = issue(engine, state, NOW, "tu-phap")
    issue(engine, state, NOW + timedelta(seconds=1), "huong-dan")
    elderly = issue(engine, state, NOW + timedelta(seconds=2), "tu-phap", "elderly")
    later = NOW + timedelta(seconds=3)
    assert place(engine.site, state, state.tickets[elderly["id"]], later).ahead == 0  # strict: called next
    assert place(engine.site, state, state.tickets[a1["id"]], later).ahead == 2  # G001 is preferred at counter 1
    assert elderly["ahead"] == 0


def test_no_staffed_counter_gives_no_estimate_and_a_staffed_one_uses_the_procedure_time():
    site = site_with(service_s={"khai-sinh": 600, "tu-phap": 240})
    engine = Engine(site)
    state = QueueState.initial(site)
    for c in site.counters:
        engine.pause(state, NOW, c)
    engine.resume(state, NOW, "2")  # open, but nobody signed in and no call yet
    first = issue(engine, state, NOW, "tu-phap", procedure="khai-sinh")
    second = issue(engine, state, NOW + timedelta(seconds=1), "tu-phap")
    assert (first["ahead"], first["est_wait_s"]) == (0, None)
    assert (second["ahead"], second["est_wait_s"]) == (1, None)
    engine.sign_in(state, NOW, "2", "Hà")
    later = NOW + timedelta(seconds=2)
    assert place(site, state, state.tickets[second["id"]], later).wait_s == 600  # after one birth registration
    third = issue(engine, state, later, "tu-phap")
    assert (third["ahead"], third["est_wait_s"]) == (2, 600 + 240)


def test_a_counter_counts_as_staffed_for_the_window_after_its_last_call():
    site = site_with(staffed_window_s=15 * 60)
    engine = Engine(site)
    state = QueueState.initial(site)
    for c in ("1", "2"):
        engine.pause(state, NOW, c)
    issue(engine, state, NOW, "chung-thuc")
    engine.call_next(state, NOW, "3")
    engine.complete(state, NOW + timedelta(minutes=1), "3")
    waiting = issue(engine, state, NOW + timedelta(minutes=2), "chung-thuc")
    assert waiting["est_wait_s"] == 0
    assert place(site, state, state.tickets[waiting["id"]], NOW + timedelta(minutes=16)).wait_s is None


step = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(["tu-phap", "chung-thuc", "huong-dan"]),
              st.sampled_from(["normal", "normal", "elderly"])),
    st.tuples(st.just("call"), st.sampled_from(["1", "2", "3"])),
    st.tuples(st.just("wait"), st.sampled_from([5, 120, 600])),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(["strict", "ratio", "ageing"]), max_wait=st.sampled_from([0, 300, 1200]),
       steps=st.lists(step, min_size=10, max_size=120))
def test_every_call_follows_the_rule_written_out_plainly(policy, max_wait, steps):
    engine = Engine(site_with(policy, max_wait))
    state = QueueState.initial(engine.site)
    now = NOW
    for s in steps:
        if s[0] == "wait":
            now += timedelta(seconds=s[1])
        elif s[0] == "issue":
            issue(engine, state, now, s[1], s[2])
        else:
            before = copy.deepcopy(state)
            called = engine.call_next(state, now, s[1]).result["ticket"]
            serves = engine.site.counters[s[1]].services
            candidates = [t for t in before.tickets.values()
                          if t.status == TicketStatus.WAITING and t.service in serves]
            expected = rule_by_scan(engine.site.policy, before.counters[s[1]], candidates, serves, now)
            assert (called and called["id"]) == (expected and expected.id)
        now += timedelta(seconds=1)


def test_the_shipped_config_sets_the_guard_the_staffed_window_and_service_times():
    from qms.config import default_config_path, load_config, to_site_def

    site = to_site_def(load_config(default_config_path()))
    assert site.policy.preferred_max_wait_s == 20 * 60
    assert site.staffed_window_s == 15 * 60
    assert site.service_s["khai-sinh"] == 10 * 60 and site.service_s["huong-dan"] == 3 * 60
    assert site.counters["1"].services == ("huong-dan", "tra-ket-qua", "tu-phap")  # first = preferred
