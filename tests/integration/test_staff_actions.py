"""Undo, call-back of a no-show, transfer to one counter and reprint, on the real SQLite store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.authz import refusal
from hub.store import Store
from mqtt_bus.contract import ErrorCode, EventType
from qms.report import compute_report, load_tickets
from queue_core.engine import UNDO_WINDOW_S
from tests.factories import HCM, local, make_site

NOW = local(2026, 11, 23)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "q.sqlite3", make_site()) as s:
        yield s


def run(store: Store, action: str, args: dict, at=NOW):
    reply = store.run(action, args, now=at)
    return reply


def ok(store: Store, action: str, args: dict, at=NOW) -> dict:
    reply = run(store, action, args, at)
    assert reply.ok, reply.response
    return reply.response["result"]


def code(store: Store, action: str, args: dict, at=NOW) -> str:
    reply = run(store, action, args, at)
    assert not reply.ok, reply.response
    return reply.response["error"]["code"]


def one(store: Store, number: str):
    (t,) = store.tickets("number = ?", (number,))
    return t


def issue(store: Store, n: int = 2) -> None:
    for _ in range(n):
        ok(store, "issue_ticket", {"service": "tu-phap"})


def test_undo_a_no_show_calls_the_ticket_again_and_the_report_counts_it_once(store):
    issue(store)
    called = ok(store, "call_next", {"counter": "2"})["ticket"]
    gone = ok(store, "no_show", {"counter": "2"}, NOW + timedelta(seconds=5))["ticket"]
    assert gone["status"] == "no_show" and one(store, "A001").status == "no_show"
    back = ok(store, "undo", {"counter": "2", "ticket": called["id"]}, NOW + timedelta(seconds=12))["ticket"]
    assert back["status"] == "called" and back["counter"] == "2" and back["finished_at"] is None
    assert one(store, "A001").status == "called"
    (counter,) = [c for c in store.snapshot()["counters"] if c["counter"] == "2"]
    assert counter["ticket"]["number"] == "A001"
    last = store.events_after(store.last_seq() - 1)[-1]
    assert last["type"] == EventType.TICKET_RESTORED and last["from_status"] == "no_show" and last["counter"] == "2"
    ok(store, "complete", {"counter": "2"}, NOW + timedelta(seconds=60))
    report = compute_report(load_tickets(store, NOW.date(), NOW.date()), NOW.date(), NOW.date(), HCM)
    (total,) = report.sections["total"]
    assert (total.issued, total.served, total.no_show) == (2, 1, 0)


def test_undo_a_complete_forgets_its_service_time_and_refuses_what_it_cannot_undo(store):
    issue(store)
    called = ok(store, "call_next", {"counter": "2"})["ticket"]
    ok(store, "complete", {"counter": "2"}, NOW + timedelta(seconds=40))
    assert store.snapshot(set(), {"tu-phap"})  # readable
    times = store._conn.execute("SELECT recent_json FROM service_times WHERE service = 'tu-phap'").fetchone()[0]
    assert times == "[40.0]"
    assert code(store, "undo", {"counter": "1", "ticket": called["id"]}, NOW + timedelta(seconds=41)) \
        == ErrorCode.NOT_UNDOABLE  # finished at counter 2, not 1
    ok(store, "undo", {"counter": "2", "ticket": called["id"]}, NOW + timedelta(seconds=45))
    times = store._conn.execute("SELECT recent_json FROM service_times WHERE service = 'tu-phap'").fetchone()[0]
    assert times == "[]" and one(store, "A001").status == "called"
    # too late
    ok(store, "no_show", {"counter": "2"}, NOW + timedelta(seconds=50))
    late = NOW + timedelta(seconds=50 + UNDO_WINDOW_S + 1)
    assert code(store, "undo", {"counter": "2", "ticket": called["id"]}, late) == ErrorCode.NOT_UNDOABLE
    # the counter serves someone else
    ok(store, "call_next", {"counter": "2"}, NOW + timedelta(seconds=52))
    assert code(store, "undo", {"counter": "2", "ticket": called["id"]}, NOW + timedelta(seconds=53)) \
        == ErrorCode.NOT_UNDOABLE
    assert one(store, "A001").status == "no_show" and one(store, "A002").status == "called"
    assert code(store, "undo", {"counter": "2", "ticket": "nope"}) == ErrorCode.UNKNOWN_TICKET


def test_a_counter_calls_back_a_no_show_of_today_by_number_as_a_recall(store):
    issue(store, 3)
    ok(store, "call_next", {"counter": "2"})
    ok(store, "no_show", {"counter": "2"})
    later = NOW + timedelta(minutes=20)
    ok(store, "call_next", {"counter": "2"}, later)  # A002
    back = ok(store, "call_ticket", {"counter": "2", "number": "a001"}, later + timedelta(seconds=5))["ticket"]
    assert back["number"] == "A001" and back["status"] == "called" and back["call_count"] == 1
    assert one(store, "A002").status == "done"  # finished as call_ticket always does
    types = [(e["type"], e.get("reason")) for e in store.events_after(0)][-2:]
    assert types == [(EventType.TICKET_COMPLETED, "auto"), (EventType.TICKET_RECALLED, "no_show_callback")]
    ok(store, "call_next", {"counter": "2"}, later + timedelta(minutes=3))  # serves A001 → done, calls A003
    assert one(store, "A001").status == "done" and len(store.tickets("number = 'A001'")) == 1
    report = compute_report(load_tickets(store, NOW.date(), NOW.date()), NOW.date(), NOW.date(), HCM)
    (total,) = report.sections["total"]
    assert (total.issued, total.served, total.no_show) == (3, 2, 0)
    # yesterday's no-show is not today's
    tomorrow = NOW + timedelta(days=1)
    assert code(store, "call_ticket", {"counter": "2", "number": "A001"}, tomorrow) == ErrorCode.UNKNOWN_TICKET


def test_transfer_to_one_counter_only_that_counter_calls_it(store):
    issue(store, 2)
    ok(store, "call_next", {"counter": "2"})
    moved = ok(store, "transfer", {"counter": "2", "to_counter": 1})["ticket"]
    assert moved["status"] == "waiting" and moved["to_counter"] == "1" and moved["service"] == "tu-phap"
    assert one(store, "A001").to_counter == "1"
    event = store.events_after(store.last_seq() - 1)[-1]
    assert event["type"] == EventType.TICKET_TRANSFERRED and event["to_counter"] == "1"
    got = ok(store, "call_next", {"counter": "2"})["ticket"]
    assert got["number"] == "A002"  # counter 2 skips A001, sent to counter 1
    ok(store, "complete", {"counter": "2"})
    assert ok(store, "call_next", {"counter": "2"})["ticket"] is None
    assert ok(store, "call_next", {"counter": "1"})["ticket"]["number"] == "A001"
    # a counter that does not serve the service: its first service, or a refusal for an explicit one
    assert code(store, "transfer", {"counter": "1", "to_counter": "3", "service": "tu-phap"}) \
        == ErrorCode.COUNTER_NOT_SERVING
    assert code(store, "transfer", {"counter": "1", "to_counter": "1"}) == ErrorCode.SAME_COUNTER
    assert code(store, "transfer", {"counter": "1"}) == ErrorCode.BAD_REQUEST
    moved = ok(store, "transfer", {"counter": "1", "to_counter": "3"})["ticket"]
    assert (moved["service"], moved["to_counter"]) == ("chung-thuc", "3")
    assert ok(store, "call_next", {"counter": "2"})["ticket"] is None  # counter 2 serves chung-thuc, not for it
    assert ok(store, "call_next", {"counter": "3"})["ticket"]["number"] == "A001"
    # a plain service transfer forgets the target counter
    ok(store, "transfer", {"counter": "3", "service": "tu-phap"})
    assert one(store, "A001").to_counter is None


def test_reprint_any_ticket_of_today_by_number_or_id(store):
    issue(store, 2)
    ok(store, "call_next", {"counter": "2"})
    ok(store, "complete", {"counter": "2"})
    got = ok(store, "reprint", {"number": "A001", "kiosk": "1"})["ticket"]
    assert got["number"] == "A001" and got["status"] == "done"
    event = store.events_after(store.last_seq() - 1)[-1]
    assert event["type"] == EventType.REPRINT_REQUESTED and event["kiosk"] == "1"
    assert event["ticket"]["number"] == "A001"
    waiting_id = one(store, "A002").id
    assert ok(store, "reprint", {"ticket": waiting_id})["ticket"]["status"] == "waiting"
    assert store.events_after(store.last_seq() - 1)[-1]["kiosk"] is None
    assert code(store, "reprint", {"number": "A009"}) == ErrorCode.UNKNOWN_TICKET
    assert code(store, "reprint", {}) == ErrorCode.BAD_REQUEST
    assert code(store, "reprint", {"number": "A001"}, NOW + timedelta(days=1)) == ErrorCode.UNKNOWN_TICKET
    assert one(store, "A001").status == "done"  # nothing changed


def test_who_may_undo_and_reprint():
    assert refusal("counter-2", "undo", {"counter": "2", "ticket": "x"}) is None
    assert refusal("counter-2", "undo", {"counter": "3", "ticket": "x"}) is not None
    assert refusal("counter-2", "reprint", {"number": "A001"}) is None
    assert refusal("kiosk-1", "reprint", {"number": "A001"}) is None
    assert refusal("kiosk-1", "undo", {"counter": "2", "ticket": "x"}) is not None
    assert refusal("display-1", "reprint", {"number": "A001"}) is not None
