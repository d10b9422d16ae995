"""Example-based tests of the queue rules: numbering, day rollover, policies, lifecycle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_core import Engine, ErrorCode, EventType, QueueError, QueueState, TicketStatus
from queue_core.rating import rating_label, satisfaction_score
from tests.factories import local, make_site


def fresh(**kw):
    site = make_site(**kw)
    return site, Engine(site), QueueState.initial(site)


def issue(engine, state, now, service="tu-phap", priority="normal"):
    return engine.issue_ticket(state, now, service, priority).result["ticket"]


def test_numbers_count_up_with_prefix_and_padding():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    assert [issue(engine, state, now)["number"] for _ in range(3)] == ["A001", "A002", "A003"]
    assert issue(engine, state, now, "chung-thuc")["number"] == "B001"


def test_day_rollover_at_local_midnight():
    _, engine, state = fresh()
    last_evening = issue(engine, state, local(2026, 11, 23, 23, 59, 59))
    issue(engine, state, local(2026, 11, 23, 23, 59, 59))
    first_morning = engine.issue_ticket(state, local(2026, 11, 24, 0, 0, 0), "tu-phap")
    assert last_evening["number"] == "A001"
    assert first_morning.result["ticket"]["number"] == "A001"
    assert first_morning.result["ticket"]["id"] != last_evening["id"]
    # yesterday's leftovers are closed as expired no-shows, not deleted
    expired = [e for e in first_morning.events if e.type == EventType.TICKET_NO_SHOW]
    assert [e.extra["reason"] for e in expired] == ["expired", "expired"]
    assert len(state.tickets) == 3


def test_rollover_uses_local_time_not_utc():
    _, engine, state = fresh()
    # 16:59:59 UTC is 23:59:59 in Hồ Chí Minh City, 17:00 UTC is already the next local day
    from datetime import UTC, datetime
    a = issue(engine, state, datetime(2026, 11, 23, 16, 59, 59, tzinfo=UTC))
    b = issue(engine, state, datetime(2026, 11, 23, 17, 0, 0, tzinfo=UTC))
    assert a["id"].startswith("20261123") and b["id"].startswith("20261124")
    assert b["number"] == "A001"


def test_range_exhausted_without_wrap_and_reuse_of_finished_numbers_with_wrap():
    _, engine, state = fresh(end=2)
    now = local(2026, 11, 23)
    issue(engine, state, now)
    issue(engine, state, now)
    with pytest.raises(QueueError) as err:
        issue(engine, state, now)
    assert err.value.code == ErrorCode.RANGE_EXHAUSTED

    _, engine, state = fresh(end=2, wrap=True)
    issue(engine, state, now)
    issue(engine, state, now)
    with pytest.raises(QueueError):  # both numbers still held by waiting citizens
        issue(engine, state, now)
    engine.call_next(state, now, "2")
    engine.complete(state, now, "2")
    assert issue(engine, state, now)["number"] == "A001"


def test_daily_quota():
    _, engine, state = fresh(quota=2)
    now = local(2026, 11, 23)
    issue(engine, state, now)
    issue(engine, state, now)
    with pytest.raises(QueueError) as err:
        issue(engine, state, now)
    assert err.value.code == ErrorCode.QUOTA_REACHED
    assert issue(engine, state, now + timedelta(days=1))["number"] == "A001"


def test_opening_hours_enforced():
    _, engine, state = fresh(enforce_hours=True)
    with pytest.raises(QueueError) as err:
        issue(engine, state, local(2026, 11, 23, 12, 0))
    assert err.value.code == ErrorCode.SERVICE_CLOSED and "07:30–11:30" in err.value.message
    with pytest.raises(QueueError):
        issue(engine, state, local(2026, 11, 29, 9, 0))  # Sunday
    assert issue(engine, state, local(2026, 11, 23, 7, 30))["number"] == "A001"


def test_strict_priority_first_then_fifo():
    _, engine, state = fresh(policy="strict")
    now = local(2026, 11, 23)
    issue(engine, state, now)
    issue(engine, state, now + timedelta(seconds=1), priority="elderly")
    issue(engine, state, now + timedelta(seconds=2))
    called = [engine.call_next(state, now, "2").result["ticket"]["number"] for _ in range(3)]
    assert called == ["A002", "A001", "A003"]


def test_recall_then_next_makes_no_show_after_max_recalls():
    _, engine, state = fresh(max_recalls=2)
    now = local(2026, 11, 23)
    a = issue(engine, state, now)
    issue(engine, state, now)
    engine.call_next(state, now, "2")
    assert engine.recall(state, now, "2").result["ticket"]["call_count"] == 2
    engine.recall(state, now, "2")
    events = engine.call_next(state, now, "2").events
    assert [e.type for e in events] == [EventType.TICKET_NO_SHOW, EventType.TICKET_CALLED]
    assert state.tickets[a["id"]].status == TicketStatus.NO_SHOW


def test_next_completes_current_ticket_when_not_recalled_too_often():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    a = issue(engine, state, now)
    issue(engine, state, now)
    engine.call_next(state, now, "2")
    engine.call_next(state, now + timedelta(minutes=4), "2")
    assert state.tickets[a["id"]].status == TicketStatus.DONE
    assert state.recent_service_s["tu-phap"] == [240.0]


def test_transfer_keeps_number_and_place():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    a = issue(engine, state, now)
    issue(engine, state, now + timedelta(minutes=1), "chung-thuc")
    engine.call_next(state, now, "1")
    moved = engine.transfer(state, now + timedelta(minutes=2), "1", "chung-thuc").result["ticket"]
    assert moved["number"] == "A001" and moved["service"] == "chung-thuc" and moved["status"] == "waiting"
    assert engine.call_next(state, now, "3").result["ticket"]["id"] == a["id"]


def test_pause_blocks_calls_and_resume_reopens():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    issue(engine, state, now)
    assert engine.pause(state, now, "2").events[0].type == EventType.COUNTER_PAUSED
    with pytest.raises(QueueError) as err:
        engine.call_next(state, now, "2")
    assert err.value.code == ErrorCode.COUNTER_PAUSED
    assert engine.pause(state, now, "2").events == []  # pressing twice changes nothing
    engine.resume(state, now, "2")
    assert engine.call_next(state, now, "2").result["ticket"]["number"] == "A001"


def test_call_specific_number_out_of_order():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    for _ in range(3):
        issue(engine, state, now)
    assert engine.call_ticket(state, now, "2", "a003").result["ticket"]["number"] == "A003"
    with pytest.raises(QueueError) as err:
        engine.call_ticket(state, now, "2", "A003")
    assert err.value.code == ErrorCode.UNKNOWN_TICKET


def test_rating_only_once_and_only_for_served_tickets():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    a = issue(engine, state, now)
    with pytest.raises(QueueError) as err:
        engine.rate(state, now, a["id"], 5)
    assert err.value.code == ErrorCode.NOT_RATEABLE
    engine.call_next(state, now, "2")
    engine.complete(state, now, "2")
    event = engine.rate(state, now, a["id"], 1).events[0]
    assert event.extra == {"score": 1, "label": "Rất không hài lòng"}
    with pytest.raises(QueueError):
        engine.rate(state, now, a["id"], 4)
    for bad in (0, 6, True, "5"):
        with pytest.raises(QueueError) as err:
            engine.rate(state, now, a["id"], bad)
        assert err.value.code == ErrorCode.INVALID_SCORE


def test_rating_labels_and_score():
    assert rating_label(5) == "Rất hài lòng" and rating_label(3, "en") == "Neutral"
    assert satisfaction_score([5, 5]) == 100.0 and satisfaction_score([1]) == 0.0
    assert satisfaction_score([]) is None


def test_ahead_and_estimated_wait_use_history_and_open_counters():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    for _ in range(4):
        issue(engine, state, now, "chung-thuc")
    t = issue(engine, state, now, "chung-thuc")
    assert t["ahead"] == 4 and t["est_wait_s"] is None  # nobody signed in at counters 2 and 3 yet
    engine.sign_in(state, now, "2", "Hà")
    engine.sign_in(state, now, "3", "Mai")
    t = issue(engine, state, now, "chung-thuc")
    # two staffed idle counters (2, 3), default 300 s each: 1-2 called now, 3-4 at 300 s, 5-6 at 600 s
    assert t["ahead"] == 5 and t["est_wait_s"] == 600
    state.recent_service_s["chung-thuc"] = [60.0, 120.0]
    engine.pause(state, now, "3")
    t = issue(engine, state, now, "chung-thuc")
    assert t["ahead"] == 6 and t["est_wait_s"] == 6 * 90  # counter 2 alone, 90 s per citizen


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 4), priority_stream=st.integers(5, 40))
def test_ratio_never_starves_normal_citizens(n, priority_stream):
    """Priority first, yet a steady stream of priority citizens lets normal ones through every n+1 calls."""
    _, engine, state = fresh(policy="ratio", ratio_normal=n)
    now = local(2026, 11, 23)
    normal = issue(engine, state, now, "chung-thuc")
    for i in range(priority_stream):
        issue(engine, state, now + timedelta(seconds=i + 1), "chung-thuc", "elderly")
    first_two = [engine.call_next(state, now, "3").result["ticket"] for _ in range(2)]
    assert first_two[0]["priority"] == "elderly" and first_two[1]["id"] == normal["id"]
    for i in range(3 * (n + 1)):
        issue(engine, state, now + timedelta(minutes=1, seconds=i), "chung-thuc")
    pattern = [engine.call_next(state, now, "3").result["ticket"]["priority"] for _ in range(2 * (n + 1))]
    for start in range(len(pattern) - n):
        window = pattern[start:start + n + 1]
        assert "elderly" in window and ("normal" in window or n == 0), pattern


@settings(max_examples=40, deadline=None)
@given(bonus_min=st.integers(1, 30), gap_s=st.integers(10, 300))
def test_ageing_bounds_how_often_a_normal_citizen_is_overtaken(bonus_min, gap_s):
    """Only priority citizens arriving within the bonus window after a normal one may pass it."""
    _, engine, state = fresh(policy="ageing", ageing_bonus_s=bonus_min * 60)
    t0 = local(2026, 11, 23, 7, 0)
    normal = issue(engine, state, t0, "chung-thuc")
    now = t0
    overtaken = 0
    for _ in range(500):
        now += timedelta(seconds=gap_s)
        issue(engine, state, now, "chung-thuc", "pregnant")
        called = engine.call_next(state, now, "3").result["ticket"]
        if called["id"] == normal["id"]:
            break
        overtaken += 1
    else:
        raise AssertionError("normal citizen starved under ageing")
    assert overtaken <= bonus_min * 60 // gap_s + 1


def test_transferred_citizen_is_not_called_back_by_the_same_counter():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    a = issue(engine, state, now)
    b = issue(engine, state, now + timedelta(minutes=5), "chung-thuc")
    engine.call_next(state, now, "2")  # counter 2 serves tu-phap and chung-thuc
    engine.transfer(state, now, "2", "chung-thuc")
    assert engine.call_next(state, now, "2").result["ticket"]["id"] == b["id"]  # not A001 again
    assert engine.call_next(state, now, "3").result["ticket"]["id"] == a["id"]  # counter 3 takes it


def test_sign_in_is_an_event_and_reaches_called_tickets():
    _, engine, state = fresh()
    now = local(2026, 11, 23)
    issue(engine, state, now)
    events = engine.sign_in(state, now, "2", "Nguyễn Thị Lan").events
    assert [(e.type, e.extra) for e in events] == [(EventType.OFFICER_SIGNED_IN, {"officer": "Nguyễn Thị Lan"})]
    assert engine.sign_in(state, now, "2", "Nguyễn Thị Lan").events == []  # no change, no event
    assert engine.call_next(state, now, "2").result["ticket"]["officer"] == "Nguyễn Thị Lan"
    assert engine.sign_in(state, now, "2").result["counter"]["officer"] is None


def test_clock_set_back_keeps_the_order_of_arrival():
    _, engine, state = fresh()
    first = issue(engine, state, local(2026, 11, 23, 10, 0))
    later = issue(engine, state, local(2026, 11, 23, 9, 50))  # NTP moved the clock back 10 minutes
    assert later["number"] == "A002" and later["ahead"] == 1
    called = [engine.call_next(state, local(2026, 11, 23, 9, 51), "2").result["ticket"]["id"] for _ in range(2)]
    assert called == [first["id"], later["id"]]


def test_clock_set_back_across_midnight_repeats_no_number():
    _, engine, state = fresh()
    after_midnight = issue(engine, state, local(2026, 11, 24, 0, 1))
    back = issue(engine, state, local(2026, 11, 23, 23, 58))  # the clock jumps back into yesterday
    assert back["id"].startswith("20261124") and back["number"] == "A002"
    assert back["id"] != after_midnight["id"]


def test_holidays_close_and_extra_days_open():
    from dataclasses import replace
    from datetime import date

    from queue_core.model import Holiday

    site, _, _ = fresh(enforce_hours=True)
    hours = replace(site.hours, weekdays=frozenset(range(5)),  # Mon–Fri
                    holidays=(Holiday(date(2026, 11, 24), date(2026, 11, 25), "Tết Dương lịch thử"),),
                    extra_days=frozenset({date(2026, 11, 28)}))  # a Saturday worked to make up
    site = replace(site, hours=hours)
    engine, state = Engine(site), QueueState.initial(site)
    with pytest.raises(QueueError) as err:
        issue(engine, state, local(2026, 11, 24, 9, 0))  # Tuesday, inside the periods, but a holiday
    assert err.value.code == ErrorCode.SERVICE_CLOSED and "Tết Dương lịch thử" in err.value.message
    with pytest.raises(QueueError):
        issue(engine, state, local(2026, 11, 25, 16, 59))  # last day of the range
    with pytest.raises(QueueError):
        issue(engine, state, local(2026, 11, 29, 9, 0))  # Sunday: not an extra day
    with pytest.raises(QueueError):
        issue(engine, state, local(2026, 11, 28, 12, 0))  # extra day, but between periods
    assert issue(engine, state, local(2026, 11, 26, 7, 30))["number"] == "A001"  # the day after
    assert issue(engine, state, local(2026, 11, 28, 9, 0))["number"] == "A001"  # Saturday made up
