"""Counter latency while one kiosk floods the hub (issue 13: 10,000 requests/s made a counter wait 10.6 s).

The hub runs as its own process (``qms hub``) on a private mosquitto with the default commune center's
limits; 6 counter pads press "next" and "complete" (a press every 0.1 s each) while a misbehaving
kiosk, in its own process (``testkit/flood_client.py``), publishes ``issue_ticket`` as fast as it can
(up to 10,000/s) for 5 s. Prints the pads' ``call_next`` latency (p50/p99/max) before and during the
flood, the rate the kiosk reached, and what it was answered (``rate_limited`` at most once a second,
its first tickets up to the issue limit, the rest dropped).

The scenario is :mod:`testkit.flood` (``tests/reliability/test_flood.py`` runs it too). Run:
``python bench/bench_flood.py [--seconds 5] [--rate 10000] [--qos 1]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import figure  # bench/figures.py (this script's folder is on sys.path)

from testkit.flood import FloodSpec, report, run_flood
from testkit.stats import percentile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=10_000.0)
    parser.add_argument("--qos", type=int, default=1, choices=(0, 1))
    parser.add_argument("--tmp-root", help="folder for the store and broker (default: the system's temp dir)")
    parser.add_argument("--hub-nice", type=int, default=0, help="nice value of hub and broker, e.g. -5 (root)")
    ns = parser.parse_args()
    result = run_flood(FloodSpec(seconds=ns.seconds, rate=ns.rate, qos=ns.qos, tmp_root=ns.tmp_root,
                                 hub_nice=ns.hub_nice))
    print(report(result))
    p99 = percentile(result.flood_ms, 99)
    figure("flood", f"counters' `call_next` p50 / p99 while a kiosk floods the hub at {ns.rate:,.0f} requests/s",
           f"{percentile(result.flood_ms, 50):.0f} ms / {p99:.0f} ms", "p99 < 200 ms", p99 < 200)
    return 0 if not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
