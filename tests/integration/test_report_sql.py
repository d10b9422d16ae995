"""The report aggregated in SQL (``qms.report_sql``, what ``qms report`` runs) gives the same figures as
the pure computation over the same tickets (``qms.report.compute_report``), on a real store."""

from __future__ import annotations

import random
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.store import TICKET_COLUMNS, Store
from qms.report import compute_report, csv_rows, load_tickets, render_text, site_labels
from qms.report_legs import load_transfers
from qms.report_sql import store_report
from tests.factories import HCM, make_site
from tests.integration.test_report_month import END, START, generate


@pytest.fixture(scope="module")
def month():
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else Path(tempfile.mkdtemp())
    site = make_site()
    store = Store(folder / "queue.sqlite3", site)
    try:
        generate(store)
        yield site, store
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)


def both(store: Store, start: date, end: date, tz, labels=None, title=""):
    return (store_report(store.connection, start, end, tz, labels, title),
            compute_report(load_tickets(store, start, end), start, end, tz, labels, title,
                           load_transfers(store.connection, start, end)))


@pytest.mark.parametrize("period", [(START, END), (date(2025, 3, 5), date(2025, 3, 5)), (date(2025, 2, 1), END)])
def test_generated_month_is_identical(month, period):
    site, store = month
    sql, pure = both(store, *period, site.tz, site_labels(site), site.name)
    assert sql.total.issued > 0
    assert sql == pure
    assert render_text(sql) == render_text(pure) and csv_rows(sql, True) == csv_rows(pure, True)


def test_empty_period_and_the_store_left_as_it_was(month):
    site, store = month
    before = store.connection.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    sql, pure = both(store, date(2024, 1, 1), date(2024, 1, 31), site.tz)
    assert sql == pure and sql.total.issued == 0 and sql.total.wait_avg_s is None
    assert store.connection.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == before
    assert not store.connection.in_transaction
    assert store.connection.execute("SELECT name FROM temp.sqlite_master").fetchall() == []


def random_rows(rng: random.Random, n: int) -> list[tuple]:
    """Tickets with microsecond timestamps, every status, missing counters/officers and ratings."""
    rows = []
    for i in range(n):
        issued = datetime(2025, 3, 27, tzinfo=UTC) + timedelta(microseconds=rng.randrange(6 * 86400 * 10**6))
        status = rng.choice(["waiting", "called", "done", "done", "no_show"])
        called = None if status == "waiting" or (status == "no_show" and rng.random() < 0.3) else (
            issued + timedelta(microseconds=rng.choice([0, rng.randrange(10**6), rng.randrange(3600 * 10**6)])))
        finished = None if called is None or status == "called" else called + timedelta(
            microseconds=rng.randrange(1, 1800 * 10**6))
        counter = None if called is None else rng.choice(["1", "2", "3", "9"])
        rating = rng.randint(1, 5) if status == "done" and rng.random() < 0.5 else None
        ts = [None if t is None else t.isoformat() for t in (issued, issued, called, finished)]
        rows.append((f"t{i}", f"{i:03d}", rng.choice(["tu-phap", "chung-thuc", "khac"]),
                     issued.astimezone(HCM).date().isoformat(), i, "normal", status, None, "vi", *ts, counter,
                     int(called is not None), 0, rating, rng.choice([None, "An", "Bình"]) if counter else None, None, None, None))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_microsecond_tickets_match(tmp_path, seed):
    """Exact percentiles and identical text/CSV; also in a zone with DST (Paris switched on 30 March 2025)."""
    site = make_site()
    with Store(tmp_path / "q.sqlite3", site) as store:
        conn = store.connection
        conn.executemany(f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(TICKET_COLUMNS))})", random_rows(random.Random(seed), 600))
        for tz in (HCM, ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Kolkata")):
            sql, pure = both(store, date(2025, 3, 28), date(2025, 4, 1), tz, site_labels(site), site.name)
            assert render_text(sql) == render_text(pure)
            assert csv_rows(sql) == csv_rows(pure)
            for name, rows in pure.sections.items():
                assert [r.key for r in sql.sections[name]] == [r.key for r in rows]
                for got, want in zip(sql.sections[name], rows, strict=True):
                    assert (got.issued, got.served, got.no_show, got.ratings, got.satisfaction) == (
                        want.issued, want.served, want.no_show, want.ratings, want.satisfaction)
                    assert (got.wait_p50_s, got.wait_p90_s, got.service_p90_s) == (
                        want.wait_p50_s, want.wait_p90_s, want.service_p90_s)
                    assert got.wait_avg_s == pytest.approx(want.wait_avg_s, rel=1e-12)
                    assert got.service_avg_s == pytest.approx(want.service_avg_s, rel=1e-12)
