"""Durable tickets per second and command latency on the SQLite store (synchronous=FULL).

Run: python bench/bench_store.py [--tickets 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import figure  # bench/figures.py (this script's folder is on sys.path)

from hub.store import Store
from qms.config import load_config, to_site_def
from testkit.sites import roomy_config
from testkit.stats import percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = to_site_def(load_config(roomy_config(Path(tmp), counters=3, end=99999)))
        store = Store(Path(tmp) / "bench.sqlite3", site)
        issue_ms: list[float] = []
        start = time.perf_counter()
        for i in range(args.tickets):
            t0 = time.perf_counter()
            reply = store.run("issue_ticket", {"service": ("tu-phap", "chung-thuc")[i % 2]}, request_id=f"b{i}")
            issue_ms.append((time.perf_counter() - t0) * 1000)
            assert reply.ok
        elapsed = time.perf_counter() - start
        call_ms: list[float] = []
        for i in range(min(500, args.tickets)):
            t0 = time.perf_counter()
            store.run("call_next", {"counter": str(1 + i % 3)}, request_id=f"c{i}")
            call_ms.append((time.perf_counter() - t0) * 1000)
    print(f"store: {args.tickets} durable issue_ticket commands (WAL, synchronous=FULL)")
    print(f"  tickets/s            {args.tickets / elapsed:10.0f}   (goal >= 500)")
    print(f"  issue latency median {statistics.median(issue_ms):10.2f} ms")
    print(f"  issue latency p99    {percentile(issue_ms, 99):10.2f} ms")
    print(f"  call_next median     {statistics.median(call_ms):10.2f} ms   (queue of {args.tickets} waiting)")
    print(f"  call_next p99        {percentile(call_ms, 99):10.2f} ms")
    rate = args.tickets / elapsed
    figure("store", "durable `issue_ticket` per second (WAL, `synchronous=FULL`)", f"{rate:,.0f}/s", "≥ 500/s",
           rate >= 500)
    figure("store", "`issue_ticket` latency median / p99",
           f"{statistics.median(issue_ms):.1f} ms / {percentile(issue_ms, 99):.1f} ms")


if __name__ == "__main__":
    main()
