"""The province's report (``qms.province.report``) over PostgreSQL gives ``qms report``'s figures: real stores'
outboxes fed through the ingester's own database functions, compared with the store's SQL report."""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import fields
from datetime import date
from pathlib import Path

import pytest

from hub.store import Store
from qms.config import load_config, to_site_def
from qms.province import db as pdb
from qms.province import report as preport
from qms.report import csv_rows, render_text, site_labels
from qms.report_sql import store_report
from testkit.province import TempDatabase, center_config, qms
from tests.factories import make_site
from tests.integration.test_report_month import END, START, generate

from .conftest import temp_database

SITE = "xa-thang"


def ingest(dsn: str, site: str, events: list[dict]) -> None:
    """Write *events* as the ingester does (``parse_event`` + ``write_batch``), in batches."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        pdb.create_schema(conn)
        for i in range(0, len(events), 2000):
            pdb.write_batch(conn, [pdb.parse_event(site, e) for e in events[i:i + 2000]], {site: 0.1})


@pytest.fixture(scope="module")
def database() -> Iterator[TempDatabase]:
    with temp_database("province report tests", "qms_provreport_test") as d:
        yield d


@pytest.fixture(scope="module")
def month(database) -> Iterator[tuple[object, Store]]:
    """A month of a center's real store (transfers, no-shows, ratings, officers), ingested as two sites."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else Path(tempfile.mkdtemp())
    site = make_site()
    store = Store(folder / "queue.sqlite3", site)
    try:
        generate(store)
        events = store.events_after(0, 10**7)
        assert any(e["type"] == "ticket_transferred" for e in events)
        ingest(database.dsn, SITE, events)
        ingest(database.dsn, "xa-doi", events)  # a twin: the province adds both up
        yield site, store
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("period", [(START, END), (date(2025, 3, 7), date(2025, 3, 7)), (date(2025, 2, 1), END),
                                    (date(2024, 1, 1), date(2024, 1, 31))])
def test_a_centers_report_from_postgresql_is_the_stores_report(database, month, period):
    site, store = month
    labels = site_labels(site)
    expected = store_report(store.connection, *period, site.tz, labels, site.name)
    with preport.connect(database.dsn) as conn:
        data = preport.load(conn, *period, site.tz, SITE)
    got = preport.site_report(data.get(SITE, preport.SiteTickets()), *period, site.tz, labels, site.name)
    assert got == expected
    assert render_text(got) == render_text(expected) and csv_rows(got) == csv_rows(expected)
    if period == (START, END):
        assert expected.total.issued > 900 and expected.total.transferred_out > 0 and expected.total.rated > 0


def test_the_whole_province_adds_the_centers_up(database, month):
    site, store = month
    one = store_report(store.connection, START, END, site.tz)
    with preport.connect(database.dsn) as conn:
        data = preport.load(conn, START, END, site.tz)
    assert set(data) == {SITE, "xa-doi"}
    both = preport.province_report(data, START, END, site.tz)
    for name in ("issued", "served", "no_show", "transferred_in", "transferred_out"):
        assert getattr(both.total, name) == 2 * getattr(one.total, name), name
    assert both.total.ratings == tuple(2 * n for n in one.total.ratings)
    assert both.total.wait_avg_s == pytest.approx(one.total.wait_avg_s)
    assert both.total.satisfaction == pytest.approx(one.total.satisfaction)
    assert [r.key for r in both.sections["service"]] == sorted(r.key for r in one.sections["service"])
    counters = {r.key for r in both.sections["counter"]}
    assert {"xa-doi · 1", f"{SITE} · 1"} <= counters, counters
    rows = preport.center_totals(data, ["xa-rong"], START, END, site.tz)
    assert list(rows) == ["xa-doi", "xa-rong", SITE]
    assert rows[SITE] == one.total
    assert rows["xa-rong"].issued == 0 and rows["xa-rong"].wait_avg_s is None


def test_qms_province_report_cli_writes_the_same_csv(database, month, tmp_path):
    site, store = month
    out = tmp_path / "tinh.csv"
    text = qms("province", "report", "--dsn", database.dsn, "--site", SITE, "--from", "01/03/2025",
               "--to", "2025-03-31", "--csv", str(out), timeout=60)
    expected = store_report(store.connection, START, END, site.tz, None, SITE)
    assert text.startswith(f"BÁO CÁO CẤP SỐ THỨ TỰ — {SITE}")
    with out.open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == csv_rows(expected)
    whole = qms("province", "report", "--dsn", database.dsn, "--from", "2025-03-01", "--to", "2025-03-31")
    assert "Toàn tỉnh" in whole and "xa-doi · 1" in whole


def test_a_real_clock_centers_transfers_undo_and_callbacks(tmp_path):
    """The hub's own clock (microseconds; events keep milliseconds): counts equal, times within a millisecond."""
    with temp_database("province report tests", "qms_provreport_test") as db:
        cfg = center_config(tmp_path / "xa-that", "xa-that")
        site = to_site_def(load_config(cfg))
        store = Store(tmp_path / "xa-that" / "queue.sqlite3", site)
        try:
            script = [("issue_ticket", {"service": "tu-phap"}), ("issue_ticket", {"service": "tu-phap"}),
                      ("issue_ticket", {"service": "huong-dan"}), ("issue_ticket", {"service": "tu-phap"}),
                      ("call_next", {"counter": "2"}), ("transfer", {"counter": "2", "service": "chung-thuc"}),
                      ("call_next", {"counter": "3"}), ("complete", {"counter": "3"}),
                      ("call_next", {"counter": "1"}), ("no_show", {"counter": "1"}),
                      ("call_next", {"counter": "1"}), ("recall", {"counter": "1"}), ("complete", {"counter": "1"}),
                      ("call_next", {"counter": "2"}), ("no_show", {"counter": "2"})]
            done: list[str] = []
            for i, (action, args) in enumerate(script):
                reply = store.run(action, args, request_id=f"r{i}")
                assert reply.ok, (action, reply.response)
                if action == "complete":
                    done.append(reply.response["result"]["ticket"]["id"])
            last = store.events_after(0, 10**6)[-1]
            assert last["type"] == "ticket_no_show"
            assert store.run("undo", {"counter": "2", "ticket": last["ticket"]["id"]}, request_id="u").ok
            assert store.run("complete", {"counter": "2"}, request_id="c").ok
            for n, tid in enumerate(done):
                assert store.run("rate", {"ticket": tid, "score": 5 - n}, request_id=f"rate{n}").ok
            day = store.events_after(0, 10**6)[-1]["ts"][:10]
            ingest(db.dsn, "xa-that", store.events_after(0, 10**6))
            start = end = date.fromisoformat(day)
            expected = store_report(store.connection, start, end, site.tz, site_labels(site), site.name)
        finally:
            store.close()
        with preport.connect(db.dsn) as conn:
            got = preport.site_report(preport.load(conn, start, end, site.tz)["xa-that"], start, end, site.tz,
                                      site_labels(site), site.name)
        assert got.total.issued == 4 and got.total.transferred_out == 1 and got.total.rated == 2
        for grouping, rows in expected.sections.items():
            assert [(r.key, r.label) for r in got.sections[grouping]] == [(r.key, r.label) for r in rows], grouping
            for a, b in zip(got.sections[grouping], rows, strict=True):
                for f in fields(a):
                    va, vb = getattr(a, f.name), getattr(b, f.name)
                    if isinstance(vb, float):
                        assert va == pytest.approx(vb, abs=1e-3), (grouping, a.key, f.name)
                    else:
                        assert va == vb, (grouping, a.key, f.name)

