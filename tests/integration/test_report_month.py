"""Reports on a GENERATED month: the real Store + Engine driven at fixed times, with a ledger of
what the script did; every expected figure is computed from the ledger by code of this test.

The month (March 2025, Mon–Sat) has: officers signing in and changing at noon, a counter with
nobody signed in for its first week, no-shows, tickets left waiting (expired the next day), a transfer
every Friday, arrivals at 06:50 local (still the previous day in UTC), and tickets just outside
the period (28 Feb, 1 Apr at 06:50 local = 31 Mar in UTC) that must not count.
"""

from __future__ import annotations

import csv
import math
import os
import random
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from hub.store import Store
from qms.report import compute_report, csv_rows, load_tickets, render_text, site_labels, write_csv
from qms.report_legs import load_transfers
from tests.factories import HCM, make_site

START, END = date(2025, 3, 1), date(2025, 3, 31)
SERVICES = {"tu-phap": 0.45, "chung-thuc": 0.35, "huong-dan": 0.20}
COUNTERS = {"tu-phap": ("1", "2"), "chung-thuc": ("2", "3"), "huong-dan": ("1",)}
OFFICERS = {"1": "Nguyễn Văn An", "2": "Trần Thị Bình", "3": "Phạm Thu Hà"}
AFTERNOON_2 = "Lê Văn Cường"  # takes over counter 2 at 12:00:15 on Thursdays
FIRST_SIGN_IN_3 = date(2025, 3, 10)  # before: nobody signed in at counter 3


@dataclass
class Entry:
    """What the script did to one ticket (the same attributes a report reads)."""

    day: date
    service: str
    issued_at: datetime
    status: str = "waiting"
    called_at: datetime | None = None
    finished_at: datetime | None = None
    counter: str | None = None
    officer: str | None = None
    rating: int | None = None
    id: str = ""
    moved: tuple[datetime, datetime, str, str | None] | None = None  # transfer: (called, moved, counter, officer)


def officer_at(counter: str, when: datetime) -> str | None:
    local = when.astimezone(HCM)
    if counter == "3" and local.date() < FIRST_SIGN_IN_3:
        return None
    if counter == "2" and local.weekday() == 3 and local.time() >= datetime(2000, 1, 1, 12, 0, 15).time():
        return AFTERNOON_2
    return OFFICERS[counter]


def after_lunch(when: datetime) -> datetime:
    """Counters call nobody from 11:30 to 13:30."""
    lunch = when.replace(hour=11, minute=30, second=0)
    return when.replace(hour=13, minute=30, second=0) if lunch <= when < lunch + timedelta(hours=2) else when


def plan_day(rng: random.Random, day: date, entries: list[Entry]) -> list[tuple[datetime, int, str, dict]]:
    """The day's actions (time, order, action, args) and the ledger entries they will produce."""
    at = lambda h, m, s=0: datetime(day.year, day.month, day.day, h, m, s, tzinfo=HCM)  # noqa: E731
    actions: list[tuple[datetime, int, str, dict]] = []
    for c in OFFICERS:
        if officer := officer_at(c, at(7, 0)):
            actions.append((at(7, 0), 0, "sign_in", {"counter": c, "officer": officer}))
    if day.weekday() == 3:
        actions.append((at(12, 0, 15), 0, "sign_in", {"counter": "2", "officer": AFTERNOON_2}))
    morning = [at(7, 30) + timedelta(minutes=round(rng.triangular(0, 235, 50))) for _ in range(rng.randint(24, 38))]
    afternoon = [at(13, 30) + timedelta(minutes=round(rng.triangular(0, 205, 40))) for _ in range(rng.randint(10, 20))]
    arrivals = sorted(morning + afternoon)
    if day.weekday() == 0 or day == date(2025, 4, 1):
        arrivals.insert(0, at(6, 50))
    free = {c: at(7, 30) for c in OFFICERS}
    for i, issued in enumerate(arrivals):
        service = rng.choices(list(SERVICES), weights=list(SERVICES.values()))[0]
        e = Entry(day, service, issued)
        entries.append(e)
        actions.append((issued, 1, "issue_ticket", {"service": service, "_entry": e}))
        if i == len(arrivals) - 1 and (day.weekday() == 2 or day == date(2025, 4, 1)):
            continue  # nobody calls the last citizen of Wednesdays (and of 1 April: still waiting)
        counter = min(COUNTERS[service], key=lambda c: (free[c], c))
        call = after_lunch(max(issued + timedelta(seconds=30), free[counter]))
        e.called_at, e.counter, e.officer = call, counter, officer_at(counter, call)
        actions.append((call, 2, "call", {"counter": counter, "_entry": e}))
        if day.weekday() == 4 and i == 3 and service == "tu-phap":  # Friday: counter sends one to chung-thuc
            moved = call + timedelta(minutes=4)
            e.moved = (call, moved, counter, e.officer)
            actions.append((moved, 3, "transfer", {"counter": counter, "service": "chung-thuc"}))
            free[counter] = moved + timedelta(seconds=30)
            e.service, counter = "chung-thuc", "3"
            call = after_lunch(max(moved + timedelta(seconds=30), free["3"]))
            e.called_at, e.counter, e.officer = call, "3", officer_at("3", call)
            actions.append((call, 2, "call", {"counter": "3", "_entry": e}))
        if rng.random() < 0.08:
            e.status, e.finished_at = "no_show", call + timedelta(minutes=rng.randint(1, 3))
            actions.append((e.finished_at, 3, "no_show", {"counter": counter}))
        else:
            e.status, e.finished_at = "done", call + timedelta(minutes=rng.randint(2, 15), seconds=rng.randrange(60))
            actions.append((e.finished_at, 3, "complete", {"counter": counter}))
            if rng.random() < 0.6:
                low = 1 if counter == "3" else 3
                e.rating = rng.randint(low, 5)
                actions.append((e.finished_at + timedelta(seconds=20), 4, "rate", {"_entry": e}))
        free[counter] = e.finished_at + timedelta(seconds=30)
    return actions


def run_actions(store: Store, actions: list[tuple[datetime, int, str, dict]]) -> None:
    numbers: dict[int, str] = {}
    for when, _, action, args in sorted(actions, key=lambda a: (a[0], a[1])):
        entry: Entry | None = args.pop("_entry", None)
        if action == "call":
            assert entry is not None
            action, args = "call_ticket", {**args, "number": numbers[id(entry)]}
        elif action == "rate":
            assert entry is not None
            args = {"ticket": entry.id, "score": entry.rating}
        reply = store.run(action, args, now=when)
        assert reply.ok, (action, args, reply.response)
        if action == "issue_ticket":
            assert entry is not None
            ticket = reply.response["result"]["ticket"]
            entry.id, numbers[id(entry)] = ticket["id"], ticket["number"]


def generate(store: Store, seed: int = 2025) -> list[Entry]:
    """Run Feb 28 .. Apr 1 (Mon–Sat) through the store; return the ledger (every ticket)."""
    rng = random.Random(seed)
    entries: list[Entry] = []
    day = date(2025, 2, 28)
    while day <= date(2025, 4, 1):
        if day.weekday() != 6:
            run_actions(store, plan_day(rng, day, entries))
        day += timedelta(days=1)
    for e in entries:  # left waiting: expired as no-show when the next day began
        if e.called_at is None and e.day < date(2025, 4, 1):
            e.status = "no_show"
    return entries


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    shm = Path("/dev/shm")  # RAM: ~1800 fsync'ed commits take 6 s on disk, 1 s here
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path_factory.mktemp("report")
    site = make_site()
    store = Store(folder / "queue.sqlite3", site)
    try:
        yield site, store, generate(store)
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------- expected, from the ledger
def nearest_rank_p90(values: list[float]) -> float | None:
    if not values:
        return None
    return sorted(values)[math.ceil(0.9 * len(values)) - 1]


def ledger_legs(e: Entry) -> list[tuple[Entry, bool]]:
    """(leg, issued here): a transferred ticket's first leg in tu-phap, ended by the transfer (the event
    keeps milliseconds), then its leg in chung-thuc from the transfer on (issue 18)."""
    if e.moved is None:
        return [(e, True)]
    called, moved, counter, officer = e.moved
    moved_ms = moved.replace(microsecond=moved.microsecond // 1000 * 1000)
    first = Entry(e.day, "tu-phap", e.issued_at, "transferred", called, moved_ms, counter, officer, None, e.id)
    second = Entry(e.day, e.service, moved_ms, e.status, e.called_at, e.finished_at, e.counter, e.officer,
                   e.rating, e.id)
    return [(first, True), (second, False)]


def expected(entries: list[Entry], key) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for entry in entries:
        if not START <= entry.day <= END:
            continue
        for e, issued in ledger_legs(entry):
            g = out.setdefault(key(e), {"issued": 0, "served": 0, "no_show": 0, "waits": [], "services": [],
                                        "ratings": [0] * 5, "in": 0, "out": 0})
            g["issued"] += issued
            g["in"] += not issued
            g["out"] += e.status == "transferred"
            g["served"] += e.status == "done"
            g["no_show"] += e.status == "no_show"
            if e.called_at:
                g["waits"].append((e.called_at - e.issued_at).total_seconds())
            if e.status in ("done", "transferred"):
                g["services"].append((e.finished_at - e.called_at).total_seconds())
            if e.rating:
                g["ratings"][e.rating - 1] += 1
    return out


KEYS = {
    "day": lambda e: e.day.isoformat(),
    "hour": lambda e: f"{e.issued_at.astimezone(HCM).hour:02d}",
    "service": lambda e: e.service,
    "counter": lambda e: e.counter or "",
    "officer": lambda e: e.officer or "",
    "total": lambda e: "",
}


# ------------------------------------------------------------------------------------- the tests
def test_store_holds_what_the_script_did(month):
    _, store, entries = month
    stored = {t.id: t for t in store.tickets()}
    assert len(stored) == len(entries)
    for e in entries:
        t = stored[e.id]
        assert (t.day, t.service, t.status.value, t.counter, t.officer, t.rating, t.issued_at, t.called_at) == (
            e.day, e.service, e.status, e.counter, e.officer, e.rating, e.issued_at, e.called_at), e.id
        if e.called_at is not None:
            assert t.finished_at == e.finished_at


@pytest.mark.parametrize("grouping", list(KEYS))
def test_every_grouping_matches_the_ledger(month, grouping):
    site, store, entries = month
    report = compute_report(load_tickets(store, START, END), START, END, site.tz, site_labels(site), site.name,
                            load_transfers(store.connection, START, END))
    want = expected(entries, KEYS[grouping])
    assert sum(g["in"] for g in want.values()) >= 1  # a Friday whose 4th citizen was for tu-phap
    rows = {r.key: r for r in report.sections[grouping]}
    assert set(rows) == set(want)
    for key, w in want.items():
        r = rows[key]
        assert (r.issued, r.served, r.no_show) == (w["issued"], w["served"], w["no_show"]), (grouping, key)
        assert (r.transferred_in, r.transferred_out) == (w["in"], w["out"]), (grouping, key)
        assert r.wait_avg_s == pytest.approx(sum(w["waits"]) / len(w["waits"]) if w["waits"] else None)
        assert r.wait_p90_s == nearest_rank_p90(w["waits"])
        assert r.service_avg_s == pytest.approx(
            sum(w["services"]) / len(w["services"]) if w["services"] else None)
        assert r.service_p90_s == nearest_rank_p90(w["services"])
        assert list(r.ratings) == w["ratings"]
        n = sum(w["ratings"])
        mean = sum((i + 1) * c for i, c in enumerate(w["ratings"])) / n if n else None
        assert r.satisfaction == (None if mean is None else pytest.approx((mean - 1) / 4 * 100, abs=0.05))


def test_known_shape_of_the_month(month):
    site, store, entries = month
    report = compute_report(load_tickets(store, START, END), START, END, site.tz, site_labels(site))
    in_march = [e for e in entries if START <= e.day <= END]
    assert report.total.issued == len(in_march)
    assert len(report.sections["day"]) == 26  # 31 days minus 5 Sundays
    assert {r.key for r in report.sections["day"]} == {e.day.isoformat() for e in in_march}
    assert report.sections["hour"][0].key == "06"  # the Monday 06:50 arrivals, local hour
    assert report.sections["hour"][0].issued == 5  # Mondays 3, 10, 17, 24, 31 March
    assert [r.key for r in report.sections["service"]] == ["tu-phap", "chung-thuc", "huong-dan"]
    assert [r.key for r in report.sections["counter"]] == ["1", "2", "3", ""]  # config order, not-called last
    assert report.sections["counter"][-1].label == "(chưa gọi)"
    officers = {r.label for r in report.sections["officer"]}
    assert {*OFFICERS.values(), AFTERNOON_2, "(không đăng nhập)"} <= officers
    # Wednesdays' uncalled citizens expired as no-shows the next morning: nobody is left waiting
    wednesdays = [d for d in report.sections["day"] if date.fromisoformat(d.key).weekday() == 2]
    assert report.total.issued == report.total.served + report.total.no_show
    assert report.sections["counter"][-1].issued == len(wednesdays) == 4


def test_local_dates_exclude_tickets_issued_on_april_1_at_0650(month):
    _, store, entries = month
    april = [e for e in entries if e.day == date(2025, 4, 1)]
    assert april[0].issued_at.astimezone(HCM).hour == 6 and april[0].issued_at.astimezone(HCM).day == 1
    assert store.ticket(april[0].id).issued_at.isoformat().startswith("2025-03-31T23:50")
    tickets = load_tickets(store, START, END)
    assert all(START <= t.day <= END for t in tickets)
    assert len(tickets) == sum(START <= e.day <= END for e in entries)


def test_text_csv_and_png_outputs(month, tmp_path):
    site, store, _ = month
    report = compute_report(load_tickets(store, START, END), START, END, site.tz, site_labels(site), site.name,
                            load_transfers(store.connection, START, END))
    text = render_text(report)
    assert "Theo lĩnh vực" in text and "Tư pháp – Hộ tịch" in text and "Chờ P90" in text
    assert "T2 03/03/2025" in text
    path = tmp_path / "r.csv"
    write_csv(report, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows == csv_rows(report)
    total = next(r for r in rows if r[0] == "Tổng cộng")
    assert int(total[3]) == report.total.issued
    assert len(rows) == 1 + sum(len(v) for v in report.sections.values())
    pytest.importorskip("matplotlib")
    from qms.report_charts import render_dashboard

    png = render_dashboard(report, tmp_path / "d.png", dpi=50)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    if os.environ.get("QMS_SHOTS"):  # docs/report-dashboard.png: QMS_SHOTS=docs pytest -k png_outputs
        render_dashboard(report, Path(os.environ["QMS_SHOTS"]) / "report-dashboard.png")
