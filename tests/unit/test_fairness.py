"""The hub's fairness parts with a hand-driven clock: token buckets, round-robin queues, issue limits."""

from __future__ import annotations

from hub.fairness import DropLog, FairQueue, IssueLimit, Limits, Rate, TokenBucket, rate_limited
from mqtt_bus.contract import ErrorCode


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate():
    bucket = TokenBucket(Rate(per_s=2.0, burst=3))
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert 0.4 < bucket.wait_s() <= 0.5
    assert bucket.take(0.5) and not bucket.take(0.5)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False], "refills up to the burst only"


def test_queue_serves_clients_in_turn_whatever_their_backlog():
    clock = FakeClock()
    q = FairQueue(Limits(device_rate=Rate(1000, 1000)).rate_for, per_client=100, clock=clock)
    for i in range(50):
        q.offer("kiosk-1", b"flood%d" % i)
    q.offer("counter-1", b"next")
    q.offer("counter-2", b"next")
    served = [q.take(0).raw for _ in range(4)]
    assert served[:3] == [b"flood0", b"next", b"next"], "a counter waits for one flood request, not fifty"
    assert q.pending() == 48


def test_flood_over_the_rate_gets_one_refusal_a_second_and_the_rest_is_dropped_and_counted():
    clock = FakeClock()
    q = FairQueue(Limits(device_rate=Rate(20, 40)).rate_for, per_client=100, clock=clock)
    accepted = [q.offer("kiosk-1", b"r") for _ in range(1000)]
    assert sum(accepted) == 41  # the burst, plus one request kept to be answered rate_limited
    items = [q.take(0) for _ in range(41)]
    refusals = [i for i in items if i.refuse_wait_s is not None]
    assert len(refusals) == 1 and 0 < refusals[0].refuse_wait_s <= 0.05
    assert q.take(0) is None
    clock.now += 1.0  # a second later: 20 more tokens, one more refusal
    assert sum(q.offer("kiosk-1", b"r") for _ in range(1000)) == 21
    assert q.take_drop_counts() == {"kiosk-1": (1938, 0)}
    assert q.take_drop_counts() == {}


def test_monitors_are_generous_and_a_full_queue_drops():
    q = FairQueue(Limits(per_client_queue=10).rate_for, per_client=10, clock=FakeClock())
    assert sum(q.offer("monitor-tech", b"r") for _ in range(15)) == 10  # rate fine, queue full
    assert q.take_drop_counts() == {"monitor-tech": (0, 5)}


def test_drop_log_writes_one_line_per_client_and_interval(caplog):
    clock = FakeClock()
    q = FairQueue(Limits().rate_for, clock=clock)
    drops = DropLog(q, interval_s=10.0)
    for _ in range(500):
        q.offer("kiosk-1", b"r")
    drops.maybe_log()
    for _ in range(500):
        q.offer("kiosk-1", b"r")
    drops.maybe_log()  # within the interval: nothing more
    assert len([r for r in caplog.records if "kiosk-1 is flooding" in r.getMessage()]) == 1
    clock.now += 10.0
    drops.maybe_log()
    lines = [r.getMessage() for r in caplog.records if "kiosk-1 is flooding" in r.getMessage()]
    assert len(lines) == 2 and "total 959" in lines[-1]


def test_issue_limit_counts_a_sliding_minute():
    clock = FakeClock()
    limit = IssueLimit(per_minute=10, clock=clock)
    for _ in range(10):
        assert limit.wait_s("kiosk-1") == 0
        limit.record("kiosk-1")
        clock.now += 1.0
    assert 50.0 <= limit.wait_s("kiosk-1") <= 51.0
    assert limit.wait_s("kiosk-2") == 0, "each kiosk has its own limit"
    clock.now += 51.0
    assert limit.wait_s("kiosk-1") == 0
    assert IssueLimit(per_minute=0, clock=clock).wait_s("kiosk-1") == 0  # 0 = no limit


def test_rate_limited_answer_says_how_long_to_wait():
    answer = rate_limited("r1", 0.2, "too many requests from kiosk-1")
    assert answer == {"id": "r1", "ok": False, "error": {
        "code": ErrorCode.RATE_LIMITED, "message": "too many requests from kiosk-1; please wait 1 s and try again",
        "details": {"retry_after_s": 1}}}


def test_quiet_clients_are_forgotten_but_a_flooder_keeps_its_empty_bucket():
    clock = FakeClock()
    q = FairQueue(Limits().rate_for, clock=clock)
    for i in range(100):  # e.g. random client ids on a broker without the ACL
        q.offer(f"kiosk-{i}", b"r")
    for _ in range(100):
        q.take(0)
    for _ in range(60):
        q.offer("kiosk-0", b"r")
    while q.take(0) is not None:
        pass
    q.take_drop_counts()
    clock.now += 0.5  # kiosk-1..99 spent one token each: full again after 0.05 s
    assert q.forget_idle() == 99 and q.clients() == 1
    assert sum(q.offer("kiosk-0", b"r") for _ in range(100)) <= 11, "the flooder's bucket was kept"
    clock.now += 3.0
    q.take_drop_counts()
    while q.take(0) is not None:
        pass
    assert q.forget_idle() == 1 and q.clients() == 0
