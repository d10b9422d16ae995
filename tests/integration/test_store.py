"""The SQLite store on real files: idempotency, durability settings, snapshot shape."""

from __future__ import annotations

import sqlite3
from dataclasses import MISSING, fields
from datetime import timedelta

import pytest

from hub.schema import SCHEMA_VERSION
from hub.store import TICKET_COLUMNS, TICKET_UPSERT, Store, _ticket_row
from mqtt_bus.contract import ErrorCode, EventType
from queue_core import Ticket, TicketStatus
from tests.factories import local, make_site


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "q.sqlite3", make_site()) as s:
        yield s


def test_pragmas_and_schema_version(store, tmp_path):
    conn = sqlite3.connect(tmp_path / "q.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_same_request_id_twice_calls_one_citizen(store):
    now = local(2026, 11, 23)
    store.run("issue_ticket", {"service": "tu-phap"}, now=now)
    store.run("issue_ticket", {"service": "tu-phap"}, now=now)
    first = store.run("call_next", {"counter": "2"}, request_id="pad2-17", now=now)
    again = store.run("call_next", {"counter": "2"}, request_id="pad2-17", now=now)
    assert again.replayed and again.response == first.response and again.events == []
    waiting = store.tickets("status = 'waiting'")
    assert [t.number for t in waiting] == ["A002"]
    assert store.last_seq() == 3


def test_refused_request_is_remembered_and_changes_nothing(store):
    reply = store.run("issue_ticket", {"service": "nope"}, request_id="k1")
    assert not reply.ok and reply.response["error"]["code"] == ErrorCode.UNKNOWN_SERVICE
    assert "tu-phap" in reply.response["error"]["message"]
    assert store.run("issue_ticket", {"service": "tu-phap"}, request_id="k1").response == reply.response
    assert store.tickets() == [] and store.last_seq() == 0


@pytest.mark.parametrize(("action", "args", "code"), [
    ("fly", {}, ErrorCode.UNKNOWN_ACTION),
    ("call_next", {}, ErrorCode.BAD_REQUEST),
    ("call_next", {"counter": ["2"]}, ErrorCode.BAD_REQUEST),
    ("rate", {"ticket": "x", "score": "5"}, ErrorCode.BAD_REQUEST),
    ("issue_ticket", {"service": "tu-phap", "colour": "red"}, ErrorCode.BAD_REQUEST),
    ("issue_ticket", "tu-phap", ErrorCode.BAD_REQUEST),
    ("call_next", {"counter": "99"}, ErrorCode.UNKNOWN_COUNTER),
])
def test_bad_requests_get_stable_codes(store, action, args, code):
    reply = store.run(action, args)
    assert reply.response["ok"] is False and reply.response["error"]["code"] == code


def test_snapshot_has_contract_shapes_and_seq(store):
    now = local(2026, 11, 23)
    store.run("issue_ticket", {"service": "tu-phap", "priority": "elderly"}, now=now)
    store.run("call_next", {"counter": "1"}, now=now)
    snap = store.snapshot()
    assert snap["site"] == "test-site" and snap["seq"] == 2
    counter = next(c for c in snap["counters"] if c["counter"] == "1")
    assert {"counter", "name", "services", "status", "ticket", "seq"} <= set(counter)
    assert counter["ticket"]["number"] == "A001" and counter["ticket"]["priority"] == "elderly"
    service = next(s for s in snap["services"] if s["service"] == "tu-phap")
    assert {"service", "name", "waiting", "est_wait_s", "last_called", "seq"} <= set(service)
    assert service["last_called"] == "A001" and service["waiting"] == 0


def test_rating_on_the_store_reaches_ticket_counter_and_service(store):
    now = local(2026, 11, 23)
    t = store.run("issue_ticket", {"service": "chung-thuc"}, now=now).response["result"]["ticket"]
    store.run("call_next", {"counter": "3"}, now=now)
    store.run("complete", {"counter": "3"}, now=now)
    reply = store.run("rate", {"ticket": t["id"], "score": 4}, now=now)
    assert reply.ok and reply.events[0]["type"] == EventType.RATING_RECORDED
    stored = store.ticket(t["id"])
    assert (stored.rating, stored.counter, stored.service) == (4, "3", "chung-thuc")


def test_state_survives_reopening(tmp_path):
    path = tmp_path / "q.sqlite3"
    now = local(2026, 11, 23)
    with Store(path, make_site()) as s:
        s.run("issue_ticket", {"service": "tu-phap"}, now=now)
        s.run("pause", {"counter": "3"}, now=now)
    with Store(path, make_site()) as s:
        assert s.run("issue_ticket", {"service": "tu-phap"}, now=now).response["result"]["ticket"]["number"] == "A002"
        assert next(c for c in s.snapshot()["counters"] if c["counter"] == "3")["status"] == "paused"
        assert s.last_seq() == 3


def test_newer_schema_is_refused_with_advice(tmp_path):
    path = tmp_path / "q.sqlite3"
    Store(path, make_site()).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(RuntimeError, match="upgrade qms"):
        Store(path, make_site())


def fixed_clock():
    return local(2026, 11, 23, 9, 0)


BATCH = [
    ("issue_ticket", {"service": "tu-phap"}, "k1/1"),
    ("issue_ticket", {"service": "nope"}, "k1/2"),  # refused: remembered, rolls nothing else back
    ("issue_ticket", {"service": "chung-thuc", "priority": "elderly"}, "k2/1"),
    ("call_next", {"counter": "2"}, "p2/1"),
    ("issue_ticket", {"service": "tu-phap"}, "k1/1"),  # a retry inside the batch: the first answer
    ("complete", {"counter": "2"}, "p2/2"),
    ("call_next", {"counter": "3"}, "p3/1"),
    ("complete", {"counter": "1"}, "p1/1"),  # refused: counter 1 has nobody
    # the ticket counter 2 finished above, read from the file: the batch's rows are written before that read
    ("rate", {"ticket": "20261123-chung-thuc-1", "score": 5}, "r2/1"),
    ("issue_ticket", {"service": "tu-phap"}, "k1/3"),
]


def store_contents(store: Store) -> tuple:
    return ([t.__dict__ for t in store.tickets()], store.events_after(0),
            store.connection.execute("SELECT id, response FROM requests ORDER BY id").fetchall())


def test_a_batch_answers_and_stores_exactly_what_the_commands_run_one_by_one_would(tmp_path):
    with Store(tmp_path / "one.sqlite3", make_site(), clock=fixed_clock) as one, \
            Store(tmp_path / "batch.sqlite3", make_site(), clock=fixed_clock) as batch:
        alone = [one.run(action, args, request_id=rid) for action, args, rid in BATCH]
        together = batch.run_batch(BATCH)
        assert [r.response for r in together] == [r.response for r in alone]
        assert [(r.events, r.replayed) for r in together] == [(r.events, r.replayed) for r in alone]
        assert together[4].replayed and not together[1].ok and not together[7].ok
        assert [e["seq"] for e in batch.events_after(0)] == list(range(1, batch.last_seq() + 1))
        assert [tuple(r) for r in store_contents(batch)[2]] == [tuple(r) for r in store_contents(one)[2]]
        assert store_contents(batch)[:2] == store_contents(one)[:2]
        again = batch.run_batch(BATCH)  # every id is known now: all replayed, nothing new
        assert all(r.replayed for r in again if r.response.get("id") is not None)
        assert batch.last_seq() == one.last_seq()


def test_a_command_that_fails_unexpectedly_is_undone_alone(store, monkeypatch):
    store.run("issue_ticket", {"service": "tu-phap"}, request_id="k/0")
    append = store._append_events

    def bug_after_writing(conn, events, writes):  # the call is made in memory and staged, then a bug
        out = append(conn, events, writes)
        if any(e.type == EventType.TICKET_CALLED for e in events):
            raise RuntimeError("a bug")
        return out

    monkeypatch.setattr(store, "_append_events", bug_after_writing)
    results = store.run_batch([("issue_ticket", {"service": "tu-phap"}, "k/1"), ("call_next", {"counter": "2"}, "p/1"),
                               ("issue_ticket", {"service": "tu-phap"}, "k/2")])
    monkeypatch.undo()
    assert isinstance(results[1], RuntimeError)
    assert [r.response["result"]["ticket"]["number"] for r in (results[0], results[2])] == ["A002", "A003"]
    assert results[2].response["result"]["ticket"]["ahead"] == 2  # A001 is waiting again: the call was undone
    assert store.recorded_response("p/1") is None  # not answered: a retry runs it
    assert store.run("call_next", {"counter": "2"}, request_id="p/1").response["result"]["ticket"]["number"] == "A001"
    assert [e["seq"] for e in store.events_after(0)] == [1, 2, 3, 4]
    assert [e["type"] for e in store.events_after(0)][-1] == EventType.TICKET_CALLED


def test_a_store_error_mid_batch_stores_nothing_of_it(store, monkeypatch):
    store.run("issue_ticket", {"service": "tu-phap"}, request_id="k/0")
    append = store._append_events
    calls = []

    def full_disk(conn, events, writes):
        calls.append(1)
        if len(calls) == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return append(conn, events, writes)

    monkeypatch.setattr(store, "_append_events", full_disk)
    with pytest.raises(sqlite3.OperationalError):
        store.run_batch([("issue_ticket", {"service": "tu-phap"}, "k/1"), ("call_next", {"counter": "2"}, "p/1")])
    monkeypatch.setattr(store, "_append_events", append)
    assert store.recorded_response("k/1") is None and store.recorded_response("p/1") is None
    assert store.last_seq() == 1 and [t.number for t in store.tickets()] == ["A001"]
    replies = store.run_batch([("issue_ticket", {"service": "tu-phap"}, "k/1"), ("call_next", {"counter": "2"}, "p/1")])
    assert replies[0].response["result"]["ticket"]["number"] == "A002"  # memory was read again from the file
    assert replies[1].response["result"]["ticket"]["number"] == "A001"


def test_a_hint_written_without_its_own_fsync_is_committed_and_full_sync_stays_on(store, tmp_path):
    store.set_meta("published_seq", "7", durable=False)
    assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for every command
    other = sqlite3.connect(tmp_path / "q.sqlite3")
    assert other.execute("SELECT value FROM meta WHERE key = 'published_seq'").fetchone()[0] == "7"
    other.close()


def test_a_ticket_is_updated_in_place_through_its_life(store):
    """Call, complete and rate rewrite the ticket's row where it is: no row moved to the table's end, no hole left."""
    now = local(2026, 11, 23)
    issued = store.run("issue_ticket", {"service": "tu-phap"}, now=now).response["result"]["ticket"]
    store.run("issue_ticket", {"service": "tu-phap"}, now=now)

    def rowids() -> dict[str, int]:
        return dict(store._conn.execute("SELECT id, rowid FROM tickets").fetchall())

    before = rowids()
    store.run("call_next", {"counter": "2"}, now=now)
    store.run("complete", {"counter": "2"}, now=now)
    store.run("rate", {"ticket": issued["id"], "score": 5}, now=now)
    assert rowids() == before
    ticket = store.ticket(issued["id"])
    assert ticket is not None and ticket.status.value == "done" and ticket.rating == 5 and ticket.counter == "2"


def test_ticket_rows_are_written_and_read_by_column_name(store):
    """Every column is the Ticket field of its name: a ticket with no default value left comes back equal,
    each value in the column named as its field."""
    assert sorted(TICKET_COLUMNS) == sorted(f.name for f in fields(Ticket))
    now = local(2026, 11, 23)
    ticket = Ticket(id="t-1", number="B012", service="tu-phap", day=now.date(), day_index=12, priority="elderly",
                    issued_at=now, queued_at=now + timedelta(seconds=1), status=TicketStatus.DONE,
                    procedure="chung-thuc", lang="en", called_at=now + timedelta(seconds=2),
                    finished_at=now + timedelta(seconds=3), counter="2", call_count=3, transfers=1,
                    transferred_from="1", to_counter="2", rating=4, officer="can-bo", dossier="HS-7")
    assert all(getattr(ticket, f.name) != f.default for f in fields(Ticket) if f.default is not MISSING)
    store._conn.execute(TICKET_UPSERT, _ticket_row(ticket))
    row = dict(store._conn.execute("SELECT * FROM tickets WHERE id = 't-1'").fetchone())
    stored = {name: getattr(ticket, name) for name in TICKET_COLUMNS}
    stored.update(day="2026-11-23", status="done", issued_at="2026-11-23T02:00:00+00:00",
                  queued_at="2026-11-23T02:00:01+00:00", called_at="2026-11-23T02:00:02+00:00",
                  finished_at="2026-11-23T02:00:03+00:00")
    assert row == stored
    assert store.ticket("t-1") == ticket


def test_memory_holds_only_open_tickets_after_commands_that_load_or_finish_others(store):
    """Finished tickets a command loaded (rate, call back by number) or finished are dropped from memory after it."""
    now = local(2026, 11, 23)
    first = store.run("issue_ticket", {"service": "tu-phap"}, now=now).response["result"]["ticket"]
    store.run("issue_ticket", {"service": "tu-phap"}, now=now)
    store.run("call_next", {"counter": "2"}, now=now)
    store.run("complete", {"counter": "2"}, now=now)  # finishes the first ticket
    store.run("rate", {"ticket": first["id"], "score": 4}, now=now)  # loads it again
    refused = store.run("rate", {"ticket": first["id"], "score": 5}, now=now)  # loads it, then refuses: rated
    assert not refused.ok
    assert store._cache is not None
    assert {t.number: t.status.value for t in store._cache.tickets.values()} == {"A002": "waiting"}
    assert store.ticket(first["id"]).rating == 4
    index = store._cache.waiting_index  # told of every ticket loaded and dropped: no full comparison needed
    assert index is not None and index.known == set(store._cache.tickets)


def small_tables(store: Store) -> list[list[tuple]]:
    """The counters, service days and service times as stored in the file."""
    conn = store.connection
    return [[tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1")]
            for table in ("counters", "service_days", "service_times")]


STAFF_BATCH = [
    *[("issue_ticket", {"service": s}, f"k/{i}") for i, s in enumerate(["tu-phap", "chung-thuc", "huong-dan"] * 3)],
    ("sign_in", {"counter": "1", "officer": "Lan"}),
    ("call_next", {"counter": "1"}, "p1/1"), ("call_next", {"counter": "2"}, "p2/1"),
    ("call_next", {"counter": "3"}, "p3/1"), ("complete", {"counter": "2"}, "p2/2"),
    ("pause", {"counter": "3"}, "p3/2"), ("call_next", {"counter": "1"}, "p1/2"),
    ("call_next", {"counter": "2"}, "p2/3"), ("resume", {"counter": "3"}, "p3/3"),
    ("call_next", {"counter": "3"}, "p3/4"), ("sign_in", {"counter": "2", "officer": "Minh"}, "p2/4"),
]


def test_a_batch_writes_the_counters_and_service_tables_the_commands_run_one_by_one_would(tmp_path):
    """A command in a batch compares only the counters it names (and its events name) before writing them."""
    batch_of = [(c[0], c[1], c[2] if len(c) > 2 else f"x/{i}") for i, c in enumerate(STAFF_BATCH)]
    with Store(tmp_path / "one.sqlite3", make_site(), clock=fixed_clock) as one, \
            Store(tmp_path / "batch.sqlite3", make_site(), clock=fixed_clock) as batch:
        alone = [one.run(action, args, request_id=rid) for action, args, rid in batch_of]
        together = batch.run_batch(batch_of)
        assert [r.response for r in together] == [r.response for r in alone]
        assert all(r.ok for r in together)
        assert small_tables(batch) == small_tables(one)
        with Store(tmp_path / "fresh.sqlite3", make_site()) as fresh:
            assert small_tables(batch)[0] != small_tables(fresh)[0]  # the commands did change counters
        assert store_contents(batch)[:2] == store_contents(one)[:2]


def test_a_counter_changed_outside_the_commands_scope_is_still_written_before_the_commit(store, monkeypatch, caplog):
    store.run("issue_ticket", {"service": "tu-phap"}, request_id="k/0")
    engine_call_next = store.engine.call_next

    def call_next_touching_another(state, now, counter):  # a bug: counter 3 changes, nothing names it
        state.counters["3"].officer = "Ghost"
        return engine_call_next(state, now, counter)

    monkeypatch.setattr(store.engine, "call_next", call_next_touching_another)
    assert store.run_batch([("call_next", {"counter": "2"}, "p/1")])[0].ok
    stored = dict(store.connection.execute("SELECT id, officer FROM counters").fetchall())
    assert stored["3"] == "Ghost" and "counters ['3'] changed outside" in caplog.text
