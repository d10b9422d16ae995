"""The store's size after a simulated year of the default commune center, with and without pruning.

Issue 13: the ``requests`` and ``outbox`` logs were never pruned (~815 MB a year, 740 MB of it these
two). Plays 250 working days of ~400 citizens (issue, call, complete, rate about half of them) through
the store, as the hub runs them (each command with a device's request id), pruning as the hub does
(``store.retention_days``, default 30, for events; ``store.request_retention_days``, default 3, for
the answers kept for retries) at the end of each day. Goal: at most 60 MB after the year.

The store runs with ``synchronous=OFF`` for speed (the file's size does not depend on it). Prints the
file size, the rows and bytes per table (``dbstat``), and the same for a store never pruned.

Run: ``python bench/bench_retention.py [--days 250] [--per-day 400] [--retention-days 30]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import figure  # bench/figures.py (this script's folder is on sys.path)

from hub.retention import Pruner
from hub.store import Store
from qms.config import load_config, to_site_def
from qms.report_sql import DAY_SUMMARIES
from queue_core import SiteDef

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
DAY0 = datetime(2026, 1, 5, 0, 30, tzinfo=UTC)  # 07:30 in Vietnam, a Monday
GOAL_MB, GOAL_RATIO = 60, 1.1


def bench_site() -> SiteDef:
    """The commune center, opening hours not enforced."""
    site = to_site_def(load_config(ROOT / "config" / "commune.yaml"))
    return replace(site, enforce_hours=False)


def last_day(days: int) -> datetime:
    """The morning of the last simulated working day."""
    return DAY0 + timedelta(days=(days - 1) * 7 // 5)


def table_sizes(path: Path) -> dict[str, tuple[int, int]]:
    """``{table: (rows, bytes including its indexes)}`` of the tables this bench is about."""
    conn = sqlite3.connect(path)
    try:
        sizes: dict[str, int] = {}
        for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            owner = conn.execute("SELECT tbl_name FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            table = owner[0] if owner else name
            sizes[table] = sizes.get(table, 0) + size
        return {t: (conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0], sizes.get(t, 0))
                for t in ("tickets", "requests", "outbox", "report_days")}
    finally:
        conn.close()


def simulate(path: Path, days: int, per_day: int, retention_days: int, request_days: int = 3,
             seed: int = 2026) -> float:
    """Play the year into ``path``; returns the seconds it took."""
    site = bench_site()
    rng = random.Random(seed)
    services = list(site.services)
    counters = {c: list(d.services) for c, d in site.counters.items()}
    started = time.perf_counter()
    clock = [DAY0]  # the simulated time: the day the pruning thread sums up is over by then
    with Store(path, site, clock=lambda: clock[0]) as store:
        store._conn.execute("PRAGMA synchronous = OFF")
        day0 = DAY0
        n = 0
        summaries = Pruner(store, store.last_seq, retention_days=0, pause_s=0, summaries=DAY_SUMMARIES)
        for d in range(days):
            now = day0 + timedelta(days=d * 7 // 5)  # five working days a week
            step = timedelta(seconds=8 * 3600 / per_day)
            for _ in range(per_day):
                now += step
                n += 1
                store.run("issue_ticket", {"service": rng.choice(services)}, request_id=f"kiosk-1/{n:x}i", now=now)
                counter = rng.choice(list(counters))
                called = store.run("call_next", {"counter": counter}, request_id=f"counter-{counter}/{n:x}c",
                                   now=now + timedelta(seconds=30))
                ticket = called.response.get("result", {}).get("ticket")
                if ticket:
                    store.run("complete", {"counter": counter}, request_id=f"counter-{counter}/{n:x}d",
                              now=now + timedelta(seconds=60))
                    if rng.random() < 0.5:
                        store.run("rate", {"ticket": ticket["id"], "score": rng.randint(3, 5)},
                                  request_id=f"rating-{counter}/{n:x}r", now=now + timedelta(seconds=70))
            if retention_days > 0:  # the hub prunes every 10 minutes; once a day gives the same size
                cutoff, requests_cutoff = now - timedelta(days=retention_days), now - timedelta(days=request_days)
                while store.prune(cutoff, store.last_seq(), 5000, requests_cutoff) != (0, 0):
                    pass
            clock[0] = now + timedelta(days=1)
            summaries.sum_up_all()  # the day for the report, as the hub's pruning thread does after it
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def command_latency(year: Path, empty: Path, day: datetime, pairs: int = 300, rounds: int = 12
                    ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds per command (``issue_ticket``, then ``call_next``; durable, ``synchronous=FULL`` as the hub
    runs) on the store after the year and on an empty one, the next working day. The two take turns in
    ``rounds`` blocks, so a busy moment of the machine falls on both."""
    site = bench_site()
    services, counters = list(site.services), list(site.counters)
    out: tuple[dict[str, list[float]], dict[str, list[float]]] = ({}, {})
    with Store(year, site) as after_year, Store(empty, site) as fresh:
        for block in range(rounds):
            for store, times in ((after_year, out[0]), (fresh, out[1])):
                for i in range(block * pairs // rounds, (block + 1) * pairs // rounds):
                    now = day + timedelta(seconds=20 * i)
                    for action, args in (("issue_ticket", {"service": services[i % len(services)]}),
                                         ("call_next", {"counter": counters[i % len(counters)]})):
                        t0 = time.perf_counter()
                        store.run(action, args, request_id=f"latency/{i}{action[0]}", now=now)
                        times.setdefault(action, []).append((time.perf_counter() - t0) * 1000)
                        now += timedelta(seconds=5)
    return out


def report(label: str, path: Path, seconds: float) -> str:
    """Size of the file and its tables."""
    lines = [f"{label}: {path.stat().st_size / MB:.1f} MB on disk (simulated in {seconds:.0f} s)"]
    for table, (count, size) in table_sizes(path).items():
        lines.append(f"  {table:<11} {count:>9,} rows {size / MB:7.1f} MB")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--per-day", type=int, default=400)
    parser.add_argument("--retention-days", type=int, default=30)
    parser.add_argument("--request-retention-days", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true", help="skip the never-pruned store")
    parser.add_argument("--latency", nargs=2, type=Path, metavar=("YEAR", "EMPTY"), help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.latency:  # the child that measures: a fresh process, as the hub the next morning
        print(json.dumps(command_latency(*ns.latency, last_day(ns.days) + timedelta(days=3))))
        return 0
    print(f"{ns.days} working days x {ns.per_day} citizens (issue, call, complete; half rate their service)")
    with tempfile.TemporaryDirectory(prefix="qms-retention-") as tmp:
        pruned = Path(tmp) / "pruned.sqlite3"
        took = simulate(pruned, ns.days, ns.per_day, ns.retention_days, ns.request_retention_days)
        print(report(f"events pruned after {ns.retention_days} days, request answers after "
                     f"{ns.request_retention_days}", pruned, took))
        size = pruned.stat().st_size / MB
        os.sync()  # the year's pages on disk; measured in a fresh process, as the hub the next working day
        by_action = json.loads(subprocess.run(
            [sys.executable, __file__, "--days", str(ns.days), "--latency", str(pruned), str(Path(tmp) / "empty.sqlite3")],
            capture_output=True, text=True, check=True).stdout)
        for action in by_action[0]:
            print(f"  {action}: median {statistics.median(by_action[0][action]):.2f} ms after the year, "
                  f"{statistics.median(by_action[1][action]):.2f} ms on an empty store")
        year_ms, empty_ms = ([t for times in d.values() for t in times] for d in by_action)
        ratio = statistics.median(year_ms) / statistics.median(empty_ms)
        print(f"issue_ticket + call_next the next day, {len(year_ms)} commands each (synchronous=FULL): median "
              f"{statistics.median(year_ms):.2f} ms after the year, {statistics.median(empty_ms):.2f} ms on an "
              f"empty store: {ratio:.2f}x (goal <= {GOAL_RATIO}x)")
        if not ns.no_baseline:
            kept = Path(tmp) / "kept.sqlite3"
            took = simulate(kept, ns.days, ns.per_day, 0)
            print(report("never pruned", kept, took))
            kept_mb = kept.stat().st_size / MB
    print(f"goal <= 60 MB: {'met' if size <= GOAL_MB else 'MISSED'} ({size:.1f} MB)")
    figure("retention", f"store after a simulated year ({ns.days} days × {ns.per_day} citizens), pruned",
           f"{size:.1f} MB" + ("" if ns.no_baseline else f" ({kept_mb:.0f} MB unpruned)"), f"≤ {GOAL_MB} MB",
           size <= GOAL_MB)
    figure("retention", "issue/call latency after that year ÷ on an empty store (median, durable)",
           f"{ratio:.2f}× ({statistics.median(year_ms):.1f} / {statistics.median(empty_ms):.1f} ms)",
           f"≤ {GOAL_RATIO}×", ratio <= GOAL_RATIO)
    return 0  # the figures are the result; bench/run (set -e) goes on to the next bench


if __name__ == "__main__":
    sys.exit(main())
