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
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.store import Store
from qms.config import load_config, to_site_def

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


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
                for t in ("tickets", "requests", "outbox")}
    finally:
        conn.close()


def simulate(path: Path, days: int, per_day: int, retention_days: int, request_days: int = 3,
             seed: int = 2026) -> float:
    """Play the year into ``path``; returns the seconds it took."""
    cfg = load_config(ROOT / "config" / "commune.yaml")
    site = to_site_def(cfg)
    site = type(site)(**{**site.__dict__, "enforce_hours": False})
    rng = random.Random(seed)
    services = list(site.services)
    counters = {c: list(d.services) for c, d in site.counters.items()}
    started = time.perf_counter()
    with Store(path, site) as store:
        store._conn.execute("PRAGMA synchronous = OFF")
        day0 = datetime(2026, 1, 5, 0, 30, tzinfo=UTC)  # 07:30 in Vietnam
        n = 0
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
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def report(label: str, path: Path, seconds: float) -> str:
    """Size of the file and its tables."""
    lines = [f"{label}: {path.stat().st_size / MB:.1f} MB on disk (simulated in {seconds:.0f} s)"]
    for table, (count, size) in table_sizes(path).items():
        lines.append(f"  {table:<9} {count:>9,} rows {size / MB:7.1f} MB")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--per-day", type=int, default=400)
    parser.add_argument("--retention-days", type=int, default=30)
    parser.add_argument("--request-retention-days", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true", help="skip the never-pruned store")
    ns = parser.parse_args()
    print(f"{ns.days} working days x {ns.per_day} citizens (issue, call, complete; half rate their service)")
    with tempfile.TemporaryDirectory(prefix="qms-retention-") as tmp:
        pruned = Path(tmp) / "pruned.sqlite3"
        took = simulate(pruned, ns.days, ns.per_day, ns.retention_days, ns.request_retention_days)
        print(report(f"events pruned after {ns.retention_days} days, request answers after "
                     f"{ns.request_retention_days}", pruned, took))
        size = pruned.stat().st_size / MB
        if not ns.no_baseline:
            kept = Path(tmp) / "kept.sqlite3"
            took = simulate(kept, ns.days, ns.per_day, 0)
            print(report("never pruned", kept, took))
    print(f"goal <= 60 MB: {'met' if size <= 60 else 'MISSED'} ({size:.1f} MB)")
    return 0 if size <= 60 else 1


if __name__ == "__main__":
    sys.exit(main())
