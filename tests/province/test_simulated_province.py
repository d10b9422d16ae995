"""The province's acceptance test (issue 17): 124 centers, a day of traffic, links cut and back.

10 real centers (each its own mosquitto bridged with ``qms province bridge-config``, the hub of ``start_hub`` and
its SQLite store, driven over MQTT by a kiosk, counter pads and rating tablets) and 114 generated sites (the
same hub and store each, on one shared local mosquitto that bridges every site with its own provincial login;
driven through ``Hub.answer`` on a virtual clock, published by the hub's own publisher) send their events to
one provincial mosquitto; ``qms province ingest`` writes them into PostgreSQL. During the day two real centers
lose their link (their broker restarts without its bridge, then with it) and one generated site's hub is down
(its commands still reach the store; a new hub publishes the backlog).

Then every event of every center is in PostgreSQL exactly once, each site's contiguous seq is its last seq, and
the province table's figures for each of the 124 sites equal ``qms report`` over that site's own store (the
real CLI's CSV for the real centers, the same ``store_report`` function for the generated ones).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from datetime import time as day_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mqtt_bus.broker import EmbeddedBroker, find_mosquitto
from qms.report_sql import store_report
from testkit.hub_process import stop_hub_process
from testkit.province import ROOT, Province, TempDatabase, wait_until
from testkit.province_fleet import (
    DayLog,
    Figures,
    GeneratedSite,
    ManualClock,
    NetnsLink,
    RealCenter,
    SiteConfigs,
    day_start,
    figures_of,
    figures_of_csv,
    netns_unavailable,
    run_day,
    shared_bridge_lines,
)
from web.province import CenterRow, centers

from .conftest import temp_database

REAL = [f"tt-{i:02d}" for i in range(1, 11)]  # real centers
GENERATED = [f"xa-{i:03d}" for i in range(1, 115)]  # generated sites
REAL_TICKETS, GENERATED_TICKETS = 30, 16
CUT_AT, BACK_AT = 8, 45  # steps of a cut real center's day with its link down
CUT_S = 10.0  # and for at least this long
KEEPALIVE = "keepalive_interval 5"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def db() -> Iterator[TempDatabase]:
    with temp_database("simulated province", "qms_province_sim") as d:
        yield d


class Fleet:
    """Everything started, so the fixture can stop it all."""

    def __init__(self) -> None:
        self.real: list[RealCenter] = []
        self.generated: list[GeneratedSite] = []
        self.brokers: list[EmbeddedBroker] = []
        self.ingest: subprocess.Popen | None = None
        self.netns: NetnsLink | None = None

    @property
    def sites(self) -> list[RealCenter | GeneratedSite]:
        return [*self.real, *self.generated]

    def close(self) -> None:
        if self.ingest is not None and self.ingest.poll() is None:
            assert stop_hub_process(self.ingest) == 0, "the ingester stops cleanly on SIGTERM"
        with ThreadPoolExecutor(16) as pool:  # a hub takes ~0.1 s to stop (its MQTT thread)
            list(pool.map(lambda site: site.close(), self.sites))
        for broker in self.brokers:
            broker.stop()
        if self.netns is not None:  # (its center removed it, unless the set-up failed before)
            self.netns.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, db) -> Iterator[tuple[Province, Fleet]]:
    find_mosquitto()
    root = tmp_path_factory.mktemp("simprov")
    fast = Path(tempfile.mkdtemp(prefix="qms-simprov-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    started = time.monotonic()
    prov = Province(root / "province", [*REAL, *GENERATED])
    no_netns = netns_unavailable()
    if no_netns:
        print(f"\nno network namespace ({no_netns}): {REAL[0]}'s link is cut by restarting its broker too")
    prov.configure(bind="127.0.0.1" if no_netns else "")  # "": the namespace's center reaches it by its WAN
    assert prov.broker is not None
    f = Fleet()
    try:
        f.brokers.append(prov.broker.start())
        configs = SiteConfigs(root / "template")
        netns = f.netns = None if no_netns else NetnsLink()
        hosts = ["127.0.0.1" if netns is None or i else netns.province_ip for i in range(len(REAL))]
        with ThreadPoolExecutor(4) as pool:  # `qms province bridge-config` of each real center
            bridges = list(pool.map(lambda site, host: prov.bridge_conf(site, host=host), REAL, hosts))
        for site, bridge in zip(REAL, bridges, strict=True):
            ns = netns if site == REAL[0] else None
            if ns is not None:  # the one change: a 5 s keepalive (30 s) so that both ends notice the cut in time
                bridge = [KEEPALIVE if line.startswith("keepalive_interval ") else line for line in bridge]
            f.real.append(RealCenter(configs.context(root / site, site), root / site, bridge, netns=ns))
        shared = EmbeddedBroker(fast / "shared-mosquitto", extra_config=shared_bridge_lines(prov, GENERATED))
        f.brokers.append(shared.start())
        generated = time.monotonic()
        opening = day_start(TZ, datetime.now(TZ).date())
        for site in GENERATED:  # their stores on a RAM disk: 114 stores' fsyncs are not what is tested here
            f.generated.append(GeneratedSite(configs.context(fast / site, site), shared.url, ManualClock(opening)))
        hubs = time.monotonic()
        f.ingest = prov.start_ingest(db.dsn)
        print(f"\nset-up: {time.monotonic() - started:.1f} s (configs, brokers and real centers "
              f"{generated - started:.1f} s, generated hubs {hubs - generated:.1f} s)")
        yield prov, f
    finally:
        f.close()
        subprocess.run(["rm", "-rf", str(fast)], check=False)


def rows(dsn: str, sql: str, *args: object) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn) as c:
        return c.execute(sql, args).fetchall()


def stored_max(dsn: str, site: str) -> int:
    return rows(dsn, "SELECT coalesce(max(seq), 0) FROM province_events WHERE site = %s", site)[0][0]


def play(f: Fleet, dsn: str) -> tuple[dict[str, DayLog], dict[str, tuple[int, int]]]:
    """The day at every site: the real centers in a thread each, meanwhile the generated sites in turn.

    Returns each site's log and, for each cut site, (stored at the province, outbox) just before it came back.
    """
    logs: dict[str, DayLog] = {}
    during_cut: dict[str, tuple[int, int]] = {}
    errors: list[BaseException] = []

    def cut_hook(center: RealCenter):
        cut_at = [0.0]

        def hook(step: int) -> None:
            if step == CUT_AT:
                center.link(False)
                cut_at[0] = time.monotonic()
            elif step == BACK_AT:
                time.sleep(max(0.3, cut_at[0] + CUT_S - time.monotonic()))  # nothing new reached the province
                during_cut[center.site] = (stored_max(dsn, center.site), center.outbox()[-1]["seq"])
                if center.netns is not None:  # the province sees the link go down (its keepalive, the bridge's will)
                    def link() -> list[tuple]:
                        return rows(dsn, "SELECT link_up FROM province_sites WHERE site = %s", center.site)

                    assert wait_until(lambda: link() == [(False,)], 20, 0.25), f"{center.site}: link {link()}"
                center.link(True)
        return hook

    def real_day(i: int, center: RealCenter) -> None:
        try:
            logs[center.site] = run_day(center.send, i, REAL_TICKETS, on_step=cut_hook(center) if i < 2 else None)
        except BaseException as exc:
            errors.append(exc)
            raise

    down = f.generated[0]
    down.stop_publisher()  # down from the start of its day until the generated days are half done
    half = threading.Event()
    done = iter(range(1, len(f.generated) + 1))
    lock = threading.Lock()

    def generated_day(i: int, site: GeneratedSite) -> None:
        try:
            logs[site.site] = run_day(site.send, 1000 + i, GENERATED_TICKETS, site.clock.advance)
            with lock:
                if next(done) == len(f.generated) // 2:
                    half.set()
        except BaseException as exc:
            errors.append(exc)
            raise

    def bring_back() -> None:
        assert half.wait(120)
        during_cut[down.site] = (stored_max(dsn, down.site), down.outbox()[-1]["seq"])
        down.restart_hub()

    threads = [threading.Thread(target=real_day, args=(i, c)) for i, c in enumerate(f.real)]
    threads.append(threading.Thread(target=bring_back))
    for t in threads:
        t.start()
    started = time.monotonic()
    for i, site in enumerate(f.generated):  # one after another: three threads took 1.6 times as long (GIL)
        generated_day(i, site)
    print(f"\nthe generated sites' days: {time.monotonic() - started:.1f} s")
    for t in threads:
        t.join(120)
        assert not t.is_alive()
    print(f"the real centers' days: {time.monotonic() - started:.1f} s")
    assert not errors, errors
    return logs, during_cut


def assert_every_event_once(dsn: str, f: Fleet, timeout: float) -> int:
    """Every event of every outbox is in PostgreSQL once, as the site sent it; the sites' seqs are contiguous.
    Returns the number of events."""
    outboxes = {s.site: s.outbox() for s in f.sites}
    expected = {site: (len(events), events[-1]["seq"]) for site, events in outboxes.items()}

    def arrived() -> dict[str, tuple[int, int]]:
        got = rows(dsn, "SELECT site, count(*), max(seq) FROM province_events GROUP BY site")
        return {site: (n, top) for site, n, top in got}

    assert wait_until(lambda: arrived() == expected, timeout, 0.5), \
        {site: (expected[site], got) for site, got in arrived().items() if got != expected.get(site)} or \
        sorted(set(expected) - set(arrived()))
    stored: dict[str, list[tuple]] = {}
    for site, seq, kind, ticket, payload in rows(
            dsn, "SELECT site, seq, type, ticket_id, payload FROM province_events ORDER BY site, seq"):
        stored.setdefault(site, []).append((seq, kind, ticket, payload))
    for site, events in outboxes.items():
        want = [(e["seq"], e["type"], (e.get("ticket") or {}).get("id"), e) for e in events]
        assert stored[site] == want, f"{site}: the stored events are the site's outbox, once each"

    def contiguous() -> dict[str, tuple[int, int]]:
        return {site: (last, cont) for site, last, cont in
                rows(dsn, "SELECT site, last_seq, contiguous_seq FROM province_sites")}

    want_seqs = {site: (top, top) for site, (_, top) in expected.items()}
    assert wait_until(lambda: contiguous() == want_seqs, 15, 0.25), \
        {s: v for s, v in contiguous().items() if v != want_seqs.get(s)}
    return sum(n for n, _ in expected.values())


Reports = dict[str, tuple[Path, subprocess.Popen]]


def start_real_reports(f: Fleet, day: date, folder: Path) -> Reports:
    """``qms report --csv`` of each real center's store (the real CLI, all at once)."""
    procs = {}
    for c in f.real:
        out = folder / f"{c.site}.csv"
        procs[c.site] = (out, subprocess.Popen(
            [sys.executable, "-m", "qms.cli", "--config", str(c.ctx.config_path), "--data-dir", str(c.ctx.data_dir),
             "report", "--from", day.isoformat(), "--to", day.isoformat(), "--csv", str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return procs


def real_reports(procs: Reports) -> dict[str, Figures]:
    """The total rows of the CSVs of :func:`start_real_reports`."""
    figures = {}
    for site, (out, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"qms report for {site}: {stderr}"
        assert "Tổng cộng" in stdout
        figures[site] = figures_of_csv(out)
    return figures


def generated_report(site: GeneratedSite, day: date) -> Figures:
    """What ``qms report`` computes (``store_report``, its function) over the site's store."""
    conn = sqlite3.connect(site.store_path, isolation_level=None)
    try:
        return figures_of(store_report(conn, day, day, TZ).total)
    finally:
        conn.close()


def same(report: Figures, row: CenterRow) -> bool:
    """The province row shows the report's figures. The waits to their 0.1 minute: the province reads times to
    the millisecond, a real center's store keeps microseconds, so a value on a rounding edge (x.x5 minutes, to a
    millisecond) may show 0.1 apart; the virtual sites' clocks tick whole seconds."""
    counts = ("issued", "served", "no_shows", "ratings", "satisfaction", "good_pct")
    if any(getattr(report, k) != getattr(row, k) for k in counts):
        return False
    return (close(report.avg_wait_min, report.wait_avg_s, row.avg_wait_min)
            and close(report.p90_wait_min, report.wait_p90_s, row.p90_wait_min))


def close(minutes: float | None, seconds: float | None, shown: float | None) -> bool:
    """*shown* is the report's *minutes*, or 0.1 apart when the report's *seconds* sit on a rounding edge."""
    if minutes == shown:
        return True
    if minutes is None or shown is None or seconds is None:
        return False
    return abs((seconds / 6) % 1 - 0.5) < 2e-4 and abs(shown - minutes) < 0.11


@pytest.mark.timeout(240)
def test_124_centers_a_day_with_cuts_every_event_once_and_the_figures_of_qms_report(fleet, db, tmp_path) -> None:
    _, f = fleet
    started = time.monotonic()
    logs, during_cut = play(f, db.dsn)
    played = time.monotonic() - started
    for site, (province_had, center_had) in during_cut.items():
        assert province_had < center_had - 20, f"{site}'s link was really down: {province_had} of {center_had}"
    day = datetime.now(TZ).date()
    reporting = start_real_reports(f, day, tmp_path)  # the stores are final: their reports meanwhile
    events = assert_every_event_once(db.dsn, f, 60)
    arrived = time.monotonic() - started
    assert f.ingest is not None and f.ingest.poll() is None, "the ingester is still running"

    mix: dict[str, int] = {}
    for log in logs.values():
        for action, n in log.actions.items():
            mix[action] = mix.get(action, 0) + n
    for action in ("transfer", "no_show", "undo", "call_ticket", "recall", "rate"):
        assert mix.get(action, 0) >= 20, f"the day's mix has {action}: {mix}"
    assert not any(k.endswith(":refused") for k in mix), mix

    table = {r.site: r for r in centers(db.dsn, datetime.combine(day, day_time(12), TZ))}
    assert sorted(table) == sorted([*REAL, *GENERATED])
    names = {site.site: site.ctx.config.site.name.text("vi") for site in [*f.real, *f.generated]}
    assert {r.site: r.name for r in table.values()} == names, "each center's name came with its config catalogue"
    reports = real_reports(reporting)
    reports.update({s.site: generated_report(s, day) for s in f.generated})
    wrong = {site: (reports[site], table[site]) for site in table if not same(reports[site], table[site])}
    assert not wrong, f"{len(wrong)} sites differ from qms report, e.g. {next(iter(wrong.items()))}"
    assert all(table[s].missing == 0 for s in table)
    total_issued = sum(r.issued for r in table.values())
    print(f"\nsites: {len(table)}; events: {events} "
          f"(real: {[len(c.outbox()) for c in f.real]}; generated: min {min(len(s.outbox()) for s in f.generated)},"
          f" max {max(len(s.outbox()) for s in f.generated)}); tickets: {total_issued}; mix: {json.dumps(mix)}; "
          f"cuts: {during_cut}; day played in {played:.1f} s, all stored at {arrived:.1f} s, "
          f"checked at {time.monotonic() - started:.1f} s")


def test_the_table_counts_undo_call_back_and_transfer_as_qms_report(tmp_path, db) -> None:
    """One store's day with each case where events and the report's tickets part ways: a complete undone then
    a no-show (one no-show, not served), a no-show called back and served (served once, its wait up to the
    call-back), a transfer (two legs, each with its own wait), a ticket still waiting."""
    from hub.store import Store
    from qms.province import db as pdb

    clock = ManualClock(day_start(TZ, datetime.now(TZ).date()))
    ctx = SiteConfigs(tmp_path / "template").context(tmp_path / "xa-le", "xa-le")
    store = Store(ctx.store_path, ctx.site, clock=clock)
    ids = iter(range(1, 1000))

    def do(action: str, minutes: float = 0, **args: object) -> dict:
        clock.advance(minutes * 60)
        reply = store.run(action, args, request_id=f"r{next(ids)}")
        assert reply.ok, reply.response
        return reply.response["result"]

    do("sign_in", counter="1", officer="Nguyễn Thị Lan")
    a = do("issue_ticket", service="huong-dan")["ticket"]
    b = do("issue_ticket", 1, service="huong-dan")["ticket"]
    c = do("issue_ticket", 1, service="tu-phap")["ticket"]
    do("call_next", 5, counter="1")  # a: waited 7 min
    do("complete", 3, counter="1")
    do("undo", 0.1, counter="1", ticket=a["id"])
    do("no_show", 1, counter="1")
    do("call_next", 1, counter="1")  # b
    do("no_show", 2, counter="1")
    do("call_ticket", 10, counter="1", number=b["number"])  # b called back: waited 23.1 min in all
    do("complete", 2, counter="1")
    do("rate", 0, ticket=b["id"], score=4)
    do("call_next", 1, counter="1")  # c: 25.1 min in tu-phap
    do("transfer", 2, counter="1", service="chung-thuc")
    do("call_next", 8, counter="2")  # c: 8 min in chung-thuc
    do("complete", 4, counter="2")
    do("rate", 0, ticket=c["id"], score=5)
    do("issue_ticket", 1, service="dat-dai")  # still waiting
    events = store.events_after(0, 10**6)
    day = clock().astimezone(TZ).date()
    report = figures_of(store_report(store.connection, day, day, TZ).total)
    store.close()
    with temp_database("simulated province", "qms_province_sim_cases") as d:
        import psycopg

        with psycopg.connect(d.dsn, autocommit=True) as conn:
            pdb.create_schema(conn)
            pdb.write_batch(conn, [pdb.parse_event("xa-le", e) for e in events], {})
        (row,) = centers(d.dsn, datetime.combine(day, day_time(12), TZ))
    assert (report.issued, report.served, report.no_shows, report.ratings) == (4, 2, 1, 2)
    assert report.avg_wait_min == round((7 + 23.1 + 25.1 + 8) / 4, 1), report
    assert same(report, row) and row.avg_wait_min == report.avg_wait_min, (report, row)
    assert row.p90_wait_min == report.p90_wait_min == 25.1, (report, row)  # the 4th of 4 legs
    assert (row.satisfaction, row.good_pct) == (87.5, 100.0)
