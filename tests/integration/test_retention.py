"""Retention on real store files and a real hub: old request answers and published events are pruned,
unpublished ones and the newest event never, tickets always kept, and ``seq`` keeps growing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from hub.retention import Pruner
from hub.server import PUBLISHED_SEQ_KEY
from hub.store import Store
from mqtt_bus.contract import ErrorCode, Role
from qms.hub_service import start_hub
from tests.integration.hub_helpers import SITE, Watcher, wait_for

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=40)


def rows(path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        key = "seq" if table == "outbox" else "id"
        return conn.execute(f"SELECT {key} FROM {table} ORDER BY {key}").fetchall()


def fill(store: Store) -> None:
    """Seq 1..4 forty days ago, seq 5..6 now; every command with a request id (nobody left waiting)."""
    store.run("issue_ticket", {"service": "tu-phap"}, request_id="kiosk-1/old0", now=OLD)
    store.run("call_next", {"counter": "1"}, request_id="counter-1/old1", now=OLD + timedelta(minutes=1))
    store.run("complete", {"counter": "1"}, request_id="counter-1/old2", now=OLD + timedelta(minutes=5))
    store.run("pause", {"counter": "2"}, request_id="counter-2/old3", now=OLD + timedelta(minutes=6))
    store.run("resume", {"counter": "2"}, request_id="counter-2/new0", now=NOW)
    store.run("issue_ticket", {"service": "tu-phap"}, request_id="kiosk-1/new1", now=NOW)
    assert store.last_seq() == 6


def test_prune_keeps_unpublished_recent_and_newest_events_and_every_ticket(ctx):
    with ctx.open_store() as store:
        fill(store)
        assert store.last_seq() == 6
        assert store.prune(NOW - timedelta(days=30), published_seq=2) == (4, 2)  # seq 3, 4 not yet published
        assert rows(store.path, "outbox") == [(3,), (4,), (5,), (6,)]
        assert rows(store.path, "requests") == [("counter-2/new0",), ("kiosk-1/new1",)]
        assert len(store.tickets()) == 2, "tickets (the reports' data) are kept"
        assert store.prune(NOW - timedelta(days=30), published_seq=6) == (0, 2)
        assert rows(store.path, "outbox") == [(5,), (6,)]
        # everything old and published: the newest event stays, so MAX(seq) is still the site's last seq
        assert store.prune(NOW + timedelta(days=1), published_seq=6) == (2, 1)
        assert rows(store.path, "outbox") == [(6,)] and store.last_seq() == 6
        assert store.prune(NOW + timedelta(days=1), published_seq=6) == (0, 0)
    with ctx.open_store() as store:  # a restart: seq goes on from 6 (AUTOINCREMENT remembers deleted rows too)
        reply = store.run("issue_ticket", {"service": "tu-phap"}, now=NOW)
        assert [e["seq"] for e in reply.events] == [7]


def test_seq_keeps_growing_even_if_every_row_was_deleted(ctx):
    with ctx.open_store() as store:
        fill(store)
    with sqlite3.connect(ctx.store_path) as conn:  # worse than pruning ever does
        conn.execute("DELETE FROM outbox")
    with ctx.open_store() as store:
        assert [e["seq"] for e in store.run("issue_ticket", {"service": "tu-phap"}, now=NOW).events] == [7]


def test_pruning_works_in_small_batches(ctx):
    with ctx.open_store() as store:
        for i in range(25):  # pause, resume, pause, ...: one event each
            store.run(("pause", "resume")[i % 2], {"counter": "3"}, request_id=f"counter-3/{i}", now=OLD)
        store.run("resume", {"counter": "3"}, now=NOW)
        pruner = Pruner(store, lambda: store.last_seq(), retention_days=30, batch=10, pause_s=0)
        assert pruner.prune_all() == (25, 25)
        assert rows(store.path, "outbox") == [(26,)]


def test_hub_prunes_at_start_and_seq_continues_across_restarts(ctx, broker, make_client):
    with ctx.open_store() as store:
        fill(store)
        store.set_meta(PUBLISHED_SEQ_KEY, "3")  # the hub had published up to seq 3 before it stopped
    hub = start_hub(ctx, broker.url, poll_interval=0.05)
    try:
        assert hub.pruner.ran.wait(10)
        display = make_client(broker.url, "display-1", Role.DISPLAY, site=SITE, start=False)
        watcher = Watcher(display)
        display.start()
        assert display.wait_connected(5)
        kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
        assert kiosk.request("issue_ticket", {"service": "tu-phap"})["ok"]
        assert wait_for(lambda: 7 in watcher.seqs(), timeout=5)
        assert rows(ctx.store_path, "outbox")[0] == (4,), "old and published: pruned; seq 4 was not published then"
        kept = [r[0] for r in rows(ctx.store_path, "requests")]
        assert "counter-2/new0" in kept and not [k for k in kept if "/old" in k], kept
    finally:
        hub.stop()
        hub.store.close()
    hub = start_hub(ctx, broker.url, poll_interval=0.05)  # restarted: prunes seq 4 (published since), seq goes on
    try:
        assert hub.pruner.ran.wait(10)
        assert rows(ctx.store_path, "outbox") == [(5,), (6,), (7,)]
        kiosk = make_client(broker.url, "kiosk-2", Role.KIOSK, site=SITE)
        ticket = kiosk.request("issue_ticket", {"service": "tu-phap"})["result"]["ticket"]
        assert ticket["number"] == "A003"  # A001 forty days ago; today A002 (fill) and A003
        assert wait_for(lambda: 8 in watcher.seqs(), timeout=5)
        assert hub.store.last_seq() == 8 and len(hub.store.tickets()) == 4
    finally:
        hub.stop()
        hub.store.close()


def test_request_answers_go_sooner_than_events(ctx):
    with ctx.open_store() as store:
        store.run("issue_ticket", {"service": "tu-phap"}, request_id="kiosk-1/a", now=NOW - timedelta(days=10))
        store.run("pause", {"counter": "2"}, request_id="counter-2/b", now=NOW)
        pruner = Pruner(store, lambda: store.last_seq(), retention_days=30, request_retention_days=3)
        assert pruner.prune_all() == (1, 0)
        assert rows(store.path, "requests") == [("counter-2/b",)] and len(rows(store.path, "outbox")) == 2


def test_refusals_are_kept_ten_minutes_then_a_retry_may_succeed(ctx):
    with ctx.open_store() as store:
        refused = store.run("complete", {"counter": "1"}, request_id="counter-1/x", now=NOW - timedelta(minutes=5))
        assert refused.response["error"]["code"] == ErrorCode.NO_CURRENT_TICKET
        store.run("issue_ticket", {"service": "tu-phap"}, request_id="kiosk-1/y", now=NOW - timedelta(minutes=4))
        store.run("call_next", {"counter": "1"}, request_id="counter-1/z", now=NOW - timedelta(minutes=3))
        # a late duplicate of the refused request (a broker redelivering it) must not complete the new call
        assert store.run("complete", {"counter": "1"}, request_id="counter-1/x").response == refused.response
        pruner = Pruner(store, lambda: store.last_seq(), retention_days=30, request_retention_days=3)
        store.clock = lambda: NOW + timedelta(minutes=6)
        assert pruner.prune_all() == (1, 0), "only the refusal, 11 minutes old, goes"
        assert [r[0] for r in rows(store.path, "requests")] == ["counter-1/z", "kiosk-1/y"]


def test_a_clock_jumped_ahead_prunes_nothing(ctx):
    with ctx.open_store() as store:
        fill(store)
        store.clock = lambda: NOW + timedelta(days=400)  # a bad NTP answer or a typo: untrusted (hub/clock.py)
        assert Pruner(store, lambda: store.last_seq(), retention_days=30).prune_all() == (0, 0)
        assert len(rows(store.path, "outbox")) == 6 and len(rows(store.path, "requests")) == 6


def test_transfer_events_are_kept_for_the_reports(ctx):
    """Issue 18: the report's first leg of a transferred ticket lives in its ``ticket_transferred`` event."""
    with ctx.open_store() as store:
        store.run("issue_ticket", {"service": "huong-dan"}, now=OLD)
        store.run("call_next", {"counter": "1"}, now=OLD + timedelta(minutes=1))
        store.run("transfer", {"counter": "1", "service": "tu-phap"}, now=OLD + timedelta(minutes=3))
        store.run("issue_ticket", {"service": "tu-phap"}, now=NOW)
        kept = [tuple(r) for r in store.connection.execute("SELECT seq FROM outbox WHERE type = 'ticket_transferred'")]
        events = store.connection.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        assert len(kept) == 1 and events >= 4
        assert store.prune(NOW + timedelta(days=1), published_seq=store.last_seq()) == (0, events - 2)
        assert store.prune(NOW + timedelta(days=1), published_seq=store.last_seq()) == (0, 0)
        assert rows(store.path, "outbox") == [*kept, (store.last_seq(),)]
