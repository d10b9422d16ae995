"""Gap recovery in the display's pure reducer: hold after a gap, fetch, apply in seq order, announce
missed calls only while they are current and recent, each call once."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mqtt_bus.contract import EventType
from queue_display.board import BoardState, apply_state, set_connected, set_hub_status
from queue_display.catchup import fetch_failed, fetch_needed, fetched, play, receive_event, start_fetch
from tests.factories import local
from tests.unit.test_board import COUNTERS, EXAMPLES, SERVICES, fold, shown, simulate, step

NOW = local(2026, 11, 23, 9, 30)
WINDOW = 60.0
CALLS = (EventType.TICKET_CALLED, EventType.TICKET_RECALLED)


def call(seq, number, counter, count=1, ago_s=5.0, kind=EventType.TICKET_CALLED):
    ts = (NOW - timedelta(seconds=ago_s)).isoformat(timespec="milliseconds")
    return {"seq": seq, "ts": ts, "type": kind, "counter": counter,
            "ticket": {"id": f"t-{number}", "number": number, "service": "tu-phap", "status": "called",
                       "call_count": count}}


def done(seq, number, counter):
    return {"seq": seq, "ts": NOW.isoformat(), "type": EventType.TICKET_COMPLETED, "counter": counter,
            "ticket": {"id": f"t-{number}", "number": number, "service": "tu-phap", "status": "done"}}


def counter_state(counter, seq, event=None):
    return {"counter": counter, "name": f"Quầy số {counter}", "services": ["tu-phap"], "status": "open",
            "ticket": event["ticket"] if event else None, "seq": seq}


class Display:
    """The view-model's loop without Kivy: live events in, fetches served from ``outbox``, calls out."""

    def __init__(self, outbox, board=None, window=WINDOW, page=200):
        self.outbox, self.window, self.page = outbox, window, page
        self.board = board or BoardState()
        self.announced: list[int] = []
        self.asked: list[int] = []
        self.live: set[int] = set()  # seqs delivered live (applied or held)
        self.ahead: set[int] = set()  # seqs first learnt from an answer (lost, or not yet delivered live)

    def _play(self, ready, missed=frozenset()):
        self.board, calls = play(self.board, ready, NOW, self.window, missed)
        self.announced += [e["seq"] for e in calls]

    def event(self, event, answer=True):
        self.live.add(event["seq"])
        self.board, ready = receive_event(self.board, event)
        self._play(ready)
        if answer:
            self.serve()

    def state(self, payload):
        self.board = apply_state(self.board, "counter", payload)
        self.serve()

    def serve(self):
        while (after := fetch_needed(self.board)) is not None:
            self.asked.append(after)
            self.board = start_fetch(self.board, after)
            events = [e for e in self.outbox if e["seq"] > after]
            self.ahead |= {e["seq"] for e in events[: self.page]} - self.live
            self.board, ready, missed = fetched(self.board, events[: self.page],
                                                self.outbox[-1]["seq"] if self.outbox else after,
                                                len(events) > self.page)
            self._play(ready, missed)


def test_a_gap_holds_later_events_and_fetches_the_missing_ones_in_order():
    outbox = [call(1, "A001", "1"), call(2, "A002", "2"), call(3, "A003", "3"), call(4, "A004", "4"),
              call(5, "A005", "5")]
    d = Display(outbox)
    d.event(outbox[0])
    assert d.board.event_seq == 1 and d.asked == []
    d.board, ready = receive_event(d.board, outbox[3])  # 2 and 3 lost
    assert ready == () and [e["seq"] for e in d.board.held] == [4] and fetch_needed(d.board) == 1
    d.board = start_fetch(d.board, 1)
    d.event(outbox[4], answer=False)  # arrives while asking: held too
    d.event(outbox[3], answer=False)  # a duplicate of a held event: held once
    assert [e["seq"] for e in d.board.held] == [4, 5] and fetch_needed(d.board) is None
    d.board, ready, missed = fetched(d.board, outbox[1:], 5, False)
    assert [e["seq"] for e in ready] == [2, 3, 4, 5] and missed == {2, 3}
    d._play(ready, missed)
    assert d.announced == [1, 2, 3, 4, 5]
    assert d.board.held == () and d.board.fetching is None and d.board.event_seq == 5
    for event in outbox:  # the broker redelivers everything later: nothing is said twice
        d.event(event)
    assert d.announced == [1, 2, 3, 4, 5] and d.asked == []


def test_missed_calls_no_longer_current_or_too_old_update_the_board_silently():
    outbox = [call(1, "A001", "1", ago_s=50), call(2, "A002", "2", ago_s=40), call(3, "A003", "1", ago_s=30),
              call(4, "B001", "3", ago_s=600), call(5, "A003", "1", count=2, ago_s=20, kind=EventType.TICKET_RECALLED),
              done(6, "A002", "2"), call(7, "A004", "4", ago_s=10), call(8, "A005", "5", ago_s=1)]
    d = Display(outbox)
    d.event(outbox[0])
    d.event(outbox[7])  # 2..7 were lost
    assert d.asked == [1]
    # A002: completed since; A003's first call: recalled since; B001: ten minutes old. Said: the recall, A004, A005
    assert d.announced == [1, 5, 7, 8]
    assert shown(d.board) == shown(fold([("event", e) for e in outbox], BoardState()))
    assert [c.number for c in d.board.calls][:5] == ["A005", "A004", "A003", "A003", "A002"]
    assert d.board.counters["2"].number is None and d.board.counters["3"].number == "B001"


def test_a_call_fetched_before_its_live_delivery_and_over_in_that_answer_is_never_said():
    """The hub answers with committed events it has not published yet: a call already completed
    within the answer is stale (the counter shows the next ticket), and its live copy is a duplicate."""
    outbox = [call(1, "A001", "1"), call(2, "A002", "2"), call(3, "A003", "3"), call(4, "A004", "1"),
              done(5, "A004", "1"), call(6, "A005", "1")]
    d = Display(outbox)
    d.event(outbox[0])
    d.event(outbox[2])  # 2 was lost; the answer runs ahead to 6
    assert d.asked == [1] and d.announced == [1, 2, 3, 6]
    for event in outbox[3:]:  # then 4..6 arrive live
        d.event(event)
    assert d.announced == [1, 2, 3, 6] and d.board.counters["1"].number == "A005"


def test_zero_window_never_announces_a_missed_call():
    outbox = [call(1, "A001", "1"), call(2, "A002", "2", ago_s=0), call(3, "A003", "3")]
    d = Display(outbox, window=0.0)
    d.event(outbox[0])
    d.event(outbox[2])
    assert d.announced == [1, 3] and d.board.counters["2"].number == "A002"


def test_after_a_reconnect_a_retained_state_ahead_means_events_were_missed():
    outbox = [call(1, "A001", "1"), call(2, "A002", "2"), call(3, "A003", "3")]
    d = Display(outbox)
    d.state(counter_state("1", 0))
    assert d.board.event_seq == 0 and d.asked == []
    d.event(outbox[0])
    d.state(counter_state("2", 2, outbox[1]))  # the hub publishes state before the event: no fetch
    assert d.asked == [] and fetch_needed(d.board) is None
    d.event(outbox[1])
    assert d.announced == [1, 2]
    d.board = set_connected(set_connected(d.board, True), False)
    d.board = set_connected(d.board, True)  # the broker came back; event 3 was lost meanwhile
    assert d.board.resync and d.asked == []
    d.state(counter_state("3", 3, outbox[2]))
    assert d.asked == [2] and d.announced == [1, 2, 3] and not d.board.resync


def test_a_reconnect_asks_at_most_once_and_only_when_a_state_is_ahead():
    outbox = [call(1, "A001", "1"), call(2, "A002", "2"), call(3, "A003", "3")]
    d = Display(outbox)
    d.state(counter_state("1", 0))
    d.event(outbox[0])
    d.board = set_connected(set_connected(set_connected(d.board, True), False), True)
    d.state(counter_state("1", 1, outbox[0]))  # retained, not ahead: nothing asked
    d.event(outbox[1])  # resent by the hub, in order; still, a state ahead may follow
    assert d.asked == [] and d.board.resync
    d.state(counter_state("3", 3, outbox[2]))  # 3 was lost while the broker was away
    assert d.asked == [2] and not d.board.resync and d.announced == [1, 2, 3]
    d.event(outbox[2])  # the hub's own delivery of 3 comes after all: not said twice
    d.state(counter_state("2", 5))  # ahead again (a command committed meanwhile): no reconnect since
    assert d.asked == [2] and d.announced == [1, 2, 3]


def test_initial_retained_state_sets_where_events_start_without_fetching():
    d = Display([call(5, "A005", "2"), call(9, "A009", "1"), call(10, "A010", "3")])
    d.state(counter_state("2", 5))
    d.state(counter_state("1", 9, d.outbox[1]))
    assert d.board.event_seq == 9 and d.asked == []
    d.event(d.outbox[2])
    assert d.asked == [] and d.announced == [10]


def test_a_first_event_without_state_is_applied_at_once():
    d = Display([call(41, "A041", "1")])
    d.event(d.outbox[0])
    assert d.announced == [41] and d.asked == [] and d.board.event_seq == 41


def test_long_gaps_are_fetched_page_by_page_and_held_events_wait_for_the_last_page():
    outbox = [call(s, f"A{s:03d}", str(s)) for s in range(1, 12)]
    d = Display(outbox, page=3)
    d.event(outbox[0])
    d.event(outbox[10])
    assert d.asked == [1, 4, 7, 10]
    assert d.announced == list(range(1, 12)) and d.board.held == () and d.board.event_seq == 11


def test_pruned_events_leave_a_hole_that_is_not_asked_again():
    outbox = [call(1, "A001", "1"), call(5, "A005", "5"), call(6, "A006", "6")]  # 2..4 pruned
    d = Display(outbox)
    d.event(outbox[0])
    d.event(outbox[2])
    assert d.asked == [1] and d.announced == [1, 5, 6] and d.board.event_seq == 6


def test_no_answer_releases_the_held_events():
    d = Display([])
    d.event(call(1, "A001", "1"))
    d.board, ready = receive_event(d.board, call(4, "A004", "4"))
    assert ready == ()
    d.board = start_fetch(d.board, 1)
    d.board, released = fetch_failed(d.board)
    d._play(released)
    assert d.announced == [1, 4] and d.board.held == () and fetch_needed(d.board) is None
    d.event(call(5, "A005", "5"), answer=False)
    assert d.announced == [1, 4, 5]


def test_a_restarted_hub_starts_the_seqs_afresh():
    d = Display([])
    d.event(call(40, "A040", "1"))
    d.board = set_hub_status(set_hub_status(d.board, {"online": True}), {"online": False})
    d.board = set_hub_status(d.board, {"online": True})  # its store was replaced: seq starts at 1 again
    d.event(call(1, "A001", "2"))
    assert d.announced == [40, 1] and d.asked == [] and d.board.event_seq == 1


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=2, max_size=60), seed=st.integers(0, 2**32 - 1))
@example(steps=[("issue_ticket", "tu-phap")] * 7 + [("call_next", "1")] * 2, seed=327810)
def test_any_lost_stretch_is_recovered_each_call_once_in_seq_order(steps, seed):
    """Lose a random stretch of messages, as a dropped link does; on reconnect the broker gives the
    retained state. The board ends as if nothing was lost, and every call is announced once, in seq
    order (a wide window here: every missed call still current is said)."""
    _, _, _, messages = simulate(steps)
    events = [p for k, p in messages if k == "event"]
    rnd = random.Random(seed)
    seeded = len(COUNTERS) + len(SERVICES)  # the display saw the first retained state (else, like a display
    if len(messages) <= seeded:  # booting afterwards, it only shows what was called before it knew anything)
        return
    lost_from = rnd.randrange(seeded, len(messages))
    lost_to = rnd.randrange(lost_from, len(messages) + 1)
    d = Display([], window=10**9, page=rnd.choice([1, 3, 200]))
    # The hub answers from its outbox with every *committed* event, even ones it has not published yet
    # (docs/protocol.md): an answer may run up to ``ahead`` events past the message being delivered.
    ahead = rnd.choice([0, 1, 3, len(events)])
    committed = [sum(k == "event" for k, _ in messages[:i]) for i in range(len(messages) + 1)]

    def commit(upto: int) -> None:
        d.outbox = events[: committed[upto] + ahead]

    def reconnect(upto: int) -> None:
        commit(upto)
        d.board = set_connected(d.board, True)
        retained = {(k, p.get("counter") or p.get("service")): (k, p) for k, p in messages[:upto] if k != "event"}
        for k, p in retained.values():
            d.board = apply_state(d.board, k, p)
            d.serve()

    d.board = set_connected(d.board, True)
    for i, (kind, payload) in enumerate(messages):
        if lost_from <= i < lost_to:
            if i == lost_from:
                d.board = set_connected(d.board, False)
            continue
        if i == lost_to and lost_to > lost_from:
            reconnect(i)
        commit(i + 1)
        if kind == "event":
            d.event(payload)
        else:
            d.board = apply_state(d.board, kind, payload)
            d.serve()
    if lost_to == len(messages) > lost_from:
        reconnect(lost_to)
    assert shown(d.board)[:2] == shown(fold(messages))[:2]
    assert d.board.held == () and d.board.fetching is None
    assert d.announced == sorted(set(d.announced))
    said = set(d.announced)
    every_call = [e["seq"] for e in events if e["type"] in CALLS]
    lost = {p["seq"] for k, p in messages[lost_from:lost_to] if k == "event"}
    # A call first learnt from an answer (lost, or fetched before its live delivery) is said only while
    # its counter still shows it: when the same answer already completed it or called the next ticket,
    # the hall hears the current call, not a stale one, and its later live copy is a duplicate.
    early = lost | d.ahead
    assert [s for s in every_call if s not in early] == [s for s in every_call if s in said and s not in early]
    final = fold(messages)
    for seq in early & set(every_call):  # a lost call is said when its counter still shows it
        event = next(e for e in events if e["seq"] == seq)
        row = final.counters[event["counter"]]
        current = (row.ticket_id, row.call_count) == (event["ticket"]["id"], event["ticket"]["call_count"])
        if current:
            assert seq in said, (seq, d.announced)
