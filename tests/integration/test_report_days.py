"""The report's day summaries (qms/report_days.py), kept by the hub's pruning thread, on real store files: a
report over summed-up days reads no ticket and gives exactly the figures computed from the tickets; a ticket of
a summed-up day written later (a late rating) drops that day's summary until the next pass; a report in another
zone, or over days not summed up, computes them from the tickets."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.retention import Pruner
from hub.store import Store
from qms.hub_service import start_hub
from qms.report import compute_report, load_tickets, render_text, site_labels
from qms.report_days import pending_days, stored_days
from qms.report_legs import load_transfers
from qms.report_sql import DAY_SUMMARIES, store_report
from tests.factories import make_site
from tests.integration.hub_helpers import wait_for
from tests.integration.test_report_month import END, START, generate

PERIODS = [(START, END), (date(2025, 3, 5), date(2025, 3, 5)), (date(2025, 2, 1), date(2025, 4, 30))]
ROWS_TABLE = "qms_report_rows"  # the temporary table of tickets the report computes from


@pytest.fixture(scope="module")
def generated():
    """A month run through a real store (~1,800 commands), once; each test works on a copy of the file."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else Path(tempfile.mkdtemp())
    site = make_site()
    with Store(folder / "queue.sqlite3", site) as store:
        entries = generate(store)
        store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield site, folder / "queue.sqlite3", entries
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def store(generated, tmp_path):
    site, path, _ = generated
    shutil.copy(path, tmp_path / "queue.sqlite3")
    with Store(tmp_path / "queue.sqlite3", site) as store:  # its clock: now, long after the month
        yield store


def pure(store: Store, start: date, end: date, tz, labels=None, title=""):
    return compute_report(load_tickets(store, start, end), start, end, tz, labels, title,
                          load_transfers(store.connection, start, end))


def traced_report(store: Store, start: date, end: date, tz, labels=None, title=""):
    """The store's report, and the SQL statements it ran."""
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)
    try:
        return store_report(store.connection, start, end, tz, labels, title), statements
    finally:
        store.connection.set_trace_callback(None)


def computed_from_tickets(statements: list[str]) -> bool:
    return any(ROWS_TABLE in s and "CREATE TABLE" in s for s in statements)


def pruner(store: Store) -> Pruner:
    return Pruner(store, store.last_seq, retention_days=0, pause_s=0, summaries=DAY_SUMMARIES)


def test_summed_up_days_give_the_same_report_without_reading_a_ticket(store):
    site = store.site
    days = {t.day for t in store.tickets()}
    assert pruner(store).sum_up_all() == len(days) > 25
    assert pending_days(store.connection, date(2026, 1, 1), site.tz) == []
    for start, end in PERIODS:
        report, statements = traced_report(store, start, end, site.tz, site_labels(site), site.name)
        assert not computed_from_tickets(statements)
        assert any("report_days" in s for s in statements)
        assert report == pure(store, start, end, site.tz, site_labels(site), site.name)
        assert report.total.issued > 0 and report.total.wait_p90_s is not None
    text = render_text(traced_report(store, START, END, site.tz, site_labels(site))[0])
    assert text == render_text(pure(store, START, END, site.tz, site_labels(site)))
    assert pruner(store).sum_up_all() == 0, "nothing left to sum up"


def test_a_late_rating_drops_its_days_summary_until_the_next_pass(store, generated):
    site, _, entries = generated
    pruner(store).sum_up_all()
    late = next(e for e in entries if e.status == "done" and e.rating is None and e.day == date(2025, 3, 10))
    store.run("rate", {"ticket": late.id, "score": 1}, now=datetime(2025, 3, 11, 2, tzinfo=UTC))
    summed = stored_days(store.connection, START, END, site.tz).days
    assert "2025-03-10" not in summed and "2025-03-11" in summed and len(summed) > 20
    report, statements = traced_report(store, START, END, site.tz)
    assert computed_from_tickets(statements), "the changed day is computed from its tickets"
    assert report == pure(store, START, END, site.tz)
    day = next(row for row in report.sections["day"] if row.key == "2025-03-10")
    assert day.ratings[0] == sum(1 for e in entries if e.day == late.day and e.rating == 1) + 1
    assert pruner(store).sum_up_all() == 1
    report, statements = traced_report(store, START, END, site.tz)
    assert not computed_from_tickets(statements) and report == pure(store, START, END, site.tz)


def test_days_summed_up_in_another_zone_or_missing_are_computed(store):
    site = store.site
    pruner(store).sum_up_all()
    paris = ZoneInfo("Europe/Paris")  # the summaries hold Vietnam's arrival hours
    report, statements = traced_report(store, START, END, paris)
    assert computed_from_tickets(statements) and report == pure(store, START, END, paris)
    store.connection.execute("DELETE FROM report_days WHERE day IN ('2025-03-01', '2025-03-17', '2025-03-18')")
    report, statements = traced_report(store, START, END, site.tz)
    assert computed_from_tickets(statements) and report == pure(store, START, END, site.tz)


def test_today_is_left_to_the_report(generated, tmp_path):
    site, path, _ = generated
    shutil.copy(path, tmp_path / "queue.sqlite3")
    now = datetime(2025, 3, 15, 3, tzinfo=UTC)  # 10:00 on 15 March in Vietnam
    with Store(tmp_path / "queue.sqlite3", site, clock=lambda: now) as store:
        pruner(store).sum_up_all()
        summed = stored_days(store.connection, date(2025, 1, 1), date(2025, 12, 31), site.tz).days
        assert summed and max(summed) == "2025-03-14"
        assert pending_days(store.connection, date(2025, 4, 2), site.tz)[0] == date(2025, 3, 15)


def test_the_hub_sums_up_past_days_at_start(ctx, broker):
    old = datetime.now(UTC) - timedelta(days=3)
    with ctx.open_store() as store:
        store.run("issue_ticket", {"service": "tu-phap"}, now=old)
        store.run("call_next", {"counter": "1"}, now=old + timedelta(minutes=2))
        store.run("complete", {"counter": "1"}, now=old + timedelta(minutes=9))
        store.run("issue_ticket", {"service": "tu-phap"})  # today: left to the report
    hub = start_hub(ctx, broker.url, poll_interval=0.05)
    try:
        wait_for(lambda: hub.pruner.runs >= 1, timeout=10)
    finally:
        hub.stop()
    with sqlite3.connect(ctx.store_path) as conn:
        days = [day for (day,) in conn.execute("SELECT day FROM report_days WHERE grouping = 'day'")]
    tz = ctx.site.tz
    assert days == [old.astimezone(tz).date().isoformat()]


def test_a_day_that_cannot_be_summed_up_does_not_stop_the_others(store, caplog):
    class Failing:
        pending = staticmethod(DAY_SUMMARIES.pending)

        @staticmethod
        def sum_up(conn, day, tz):
            if day == date(2025, 3, 10):
                raise ValueError("a bug in the summary of 10 March")
            return DAY_SUMMARIES.sum_up(conn, day, tz)

    days = {t.day for t in store.tickets()}
    pruner = Pruner(store, store.last_seq, retention_days=0, pause_s=0, summaries=Failing())
    assert pruner.sum_up_all() == len(days) - 1
    assert "summing up 2025-03-10 failed" in caplog.text
    assert pending_days(store.connection, date(2026, 1, 1), store.site.tz) == [date(2025, 3, 10)]
    report, statements = traced_report(store, START, END, store.site.tz)
    assert computed_from_tickets(statements) and report == pure(store, START, END, store.site.tz)
