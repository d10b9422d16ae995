"""``qms report`` for a year of tickets: seconds and peak memory of the command.

Issue 15: the report loaded every ticket as an object (8.5 s / 328 MB for a year); it must take at most
1 s and 100 MB. Fills a store (the commune config) with 250 working days of ~300 tickets, written
straight into the ``tickets`` table (the report reads nothing else), with microsecond timestamps,
no-shows, tickets never called, officers changing at noon, half the served tickets rated, procedures,
and 1% of the tickets transferred (their first leg in a ``ticket_transferred`` event, as the hub keeps). Then sums
up each day for the report as the hub's pruning thread does within 10 minutes of a day's end
(qms/report_days.py), and runs ``qms report --from .. --to ..`` for the year in a subprocess, several times,
and prints the median seconds and the peak RSS of that process (``os.wait4``'s ``ru_maxrss``). Once more on a
copy of the store made before the days were summed up (a store just upgraded: the report computes every
day from its tickets; the hub sums them up within minutes of starting), without a goal. Linux keeps a process's peak
RSS across ``exec``, so a child's figure is at least its parent's size when it forked: the store is
filled by another child and this process imports nothing of the project, to stay far below the report's.

Run: ``python bench/bench_report.py [--days 250] [--per-day 300] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from figures import figure  # bench/figures.py (stdlib only; this script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "commune.yaml"
FIRST_DAY = date(2026, 1, 5)  # a Monday
GOAL_S, GOAL_MB = 1.0, 100


def last_day(days: int) -> date:
    """The last of ``days`` working days (five a week) from :data:`FIRST_DAY`."""
    return FIRST_DAY + timedelta(days=(days - 1) * 7 // 5)


def fill(path: Path, days: int, per_day: int, seed: int = 2026) -> int:
    """Write the year's tickets into a new store at ``path``; returns how many."""
    sys.path.insert(0, str(ROOT))
    from hub.store import TICKET_COLUMNS, Store
    from qms.config import load_config, to_site_def

    site = to_site_def(load_config(CONFIG))
    rng = random.Random(seed)
    services = list(site.services)
    procedures = {s: list(d.procedures) for s, d in site.services.items()}
    counters = {s: [c for c, d in site.counters.items() if s in d.services] or list(site.counters)
                for s in services}
    officers = {c: (f"Cán bộ {c} sáng", f"Cán bộ {c} chiều") for c in site.counters}
    rows, events = [], []
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d * 7 // 5)
        opening = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)  # 07:30 in Vietnam
        numbers: dict[str, int] = {}
        for i in range(per_day):
            service = rng.choice(services)
            numbers[service] = numbers.get(service, 0) + 1
            issued = opening + timedelta(seconds=rng.uniform(0, 8.5 * 3600))
            status, called, finished, counter, officer, rating = "no_show", None, None, None, None, None
            procedure = rng.choice(procedures[service]) if procedures[service] and rng.random() < 0.9 else None
            first_service, moves = service, 0
            if rng.random() < 0.97:  # the rest were never called: expired the next day
                counter = rng.choice(counters[service])
                called = issued + timedelta(seconds=rng.uniform(30, 3600))
                officer = officers[counter][called.hour >= 5] if rng.random() < 0.95 else None
                if rng.random() < 0.01:  # sent on to another service: the first leg is in the event log
                    moved = called + timedelta(seconds=rng.uniform(60, 600))
                    first_service = rng.choice([s for s in services if s != service])
                    events.append((moved.isoformat(timespec="milliseconds"), json.dumps({
                        "ts": moved.isoformat(timespec="milliseconds"), "type": "ticket_transferred",
                        "counter": counter, "from_service": first_service,
                        "ticket": {"id": f"{day:%Y%m%d}-{service}-{numbers[service]}-{i}",
                                   "called_at": called.isoformat(timespec="milliseconds"), "officer": officer}})))
                    moves = 1
                    called = moved + timedelta(seconds=rng.uniform(30, 1800))
                finished = called + timedelta(seconds=rng.uniform(60, 1200))
                if rng.random() < 0.93:
                    status = "done"
                    rating = rng.randint(1, 5) if rng.random() < 0.5 else None
            ts = [None if t is None else t.isoformat() for t in (issued, issued, called, finished)]
            rows.append((f"{day:%Y%m%d}-{service}-{numbers[service]}-{i}", f"{numbers[service]:03d}", service,
                         day.isoformat(), i, "normal", status, procedure, "vi", *ts, counter,
                         int(called is not None), moves, rating, officer, None, None, None))
    with Store(path, site) as store:
        conn = store.connection
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(TICKET_COLUMNS))})", rows)
        conn.executemany("INSERT INTO outbox (ts, type, payload) VALUES (?, 'ticket_transferred', ?)", events)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return len(rows)


def sum_up(path: Path, days: int) -> int:
    """Sum up every day of the store at ``path`` for the report, as the hub's pruning thread does the day
    after the year's last (``days`` working days)."""
    sys.path.insert(0, str(ROOT))
    from hub.retention import Pruner
    from hub.store import Store
    from qms.config import load_config, to_site_def
    from qms.report_sql import DAY_SUMMARIES

    after = datetime.combine(last_day(days) + timedelta(days=1), datetime.min.time(), UTC)
    with Store(path, to_site_def(load_config(CONFIG)), clock=lambda: after) as store:
        days = Pruner(store, store.last_seq, retention_days=0, pause_s=0, summaries=DAY_SUMMARIES).sum_up_all()
        store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return days


def run_report(data_dir: Path, start: date, end: date) -> tuple[float, float]:
    """One ``qms report`` in a fresh process: (seconds, its peak RSS in MB)."""
    env = {**os.environ, "QMS_ENV_FILE": "", "QMS_HEADLESS": "1"}
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "qms.cli", "--config", str(CONFIG), "--data-dir", str(data_dir),
                              "report", "--from", start.isoformat(), "--to", end.isoformat()],
                             env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"qms report failed (exit {child.returncode})")
    return seconds, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fill", type=Path, metavar="STORE", help=argparse.SUPPRESS)  # the child that fills
    parser.add_argument("--sum-up", type=Path, metavar="STORE", help=argparse.SUPPRESS)  # the child that sums up
    ns = parser.parse_args()
    if ns.fill:
        print(fill(ns.fill, ns.days, ns.per_day))
        return 0
    if ns.sum_up:
        print(sum_up(ns.sum_up, ns.days))
        return 0
    with tempfile.TemporaryDirectory(prefix="qms-report-") as tmp:
        data_dir, upgraded = Path(tmp) / "summed", Path(tmp) / "upgraded"
        data_dir.mkdir()
        upgraded.mkdir()
        child = [sys.executable, __file__, "--days", str(ns.days), "--per-day", str(ns.per_day)]
        n = int(subprocess.run([*child, "--fill", str(data_dir / "queue.sqlite3")],
                               capture_output=True, text=True, check=True).stdout)
        shutil.copy(data_dir / "queue.sqlite3", upgraded / "queue.sqlite3")
        t0 = time.perf_counter()
        days = int(subprocess.run([*child, "--sum-up", str(data_dir / "queue.sqlite3")],
                                  capture_output=True, text=True, check=True).stdout)
        summing = time.perf_counter() - t0
        end = last_day(ns.days)
        runs = [run_report(data_dir, FIRST_DAY, end) for _ in range(ns.runs)]
        cold, cold_peak = run_report(upgraded, FIRST_DAY, end)
        added = (data_dir / "queue.sqlite3").stat().st_size - (upgraded / "queue.sqlite3").stat().st_size
    seconds = statistics.median(s for s, _ in runs)
    peak = max(mb for _, mb in runs)
    ok = seconds <= GOAL_S and peak <= GOAL_MB
    print(f"qms report for {ns.days} working days, {n:,} tickets (median of {ns.runs} runs)")
    print(f"  days summed up  {days} in {summing:.1f} s (one process; the hub: a day a transaction), "
          f"+{added / 1e6:.1f} MB in the store")
    print(f"  time      {seconds:8.2f} s    (goal <= {GOAL_S:g} s)")
    print(f"  peak RSS  {peak:8.0f} MB   (goal <= {GOAL_MB} MB)")
    print(f"  not summed up (a store just upgraded): {cold:.2f} s / {cold_peak:.0f} MB")
    print(f"goal: {'met' if ok else 'MISSED'}")
    figure("report", f"`qms report` for a year ({n:,} tickets; days summed up by the hub): time / peak RSS",
           f"{seconds:.2f} s / {peak:.0f} MB", f"≤ {GOAL_S:g} s / ≤ {GOAL_MB} MB", ok)
    figure("report", "`qms report` for that year before the hub summed its days up (a store just upgraded)",
           f"{cold:.2f} s / {cold_peak:.0f} MB")
    return 0  # the figures are the result; bench/run (set -e) goes on to the next bench


if __name__ == "__main__":
    sys.exit(main())
