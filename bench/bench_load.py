"""A commune center's day, compressed: 3 kiosks, 50 counter pads and 10 hall displays on one hub.

Citizens arrive at random (a Poisson process) over a simulated 10-minute day played 20-30 times
faster; each kiosk issues its citizens' tickets, each counter pad presses "next", serves the citizen
for a random time and presses "complete", and 10 displays follow ``state/counter/+``. The hub runs
as its own process (``qms hub``) on a private mosquitto, as on the appliance.

Prints request -> response latency per action (p50/p99), call -> display latency (from the pad's
"next" until a display holds the called ticket, p50/p99), tickets/s achieved and errors (must be 0),
then checks the store (one ticket per issue, no number twice, ``seq`` without a gap). A display that
never saw a call as current is counted as "missing" (retained state only shows the newest state; a
call completed before the hub published it is seen through the events instead).

The scenario is :mod:`testkit.load_day` (``tests/reliability/test_load.py`` runs it reduced). Run:
``python bench/bench_load.py`` (600 tickets, 30x: about 30 s) or ``--full`` (2,000 tickets, 20x).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import figure  # bench/figures.py (this script's folder is on sys.path)

from testkit.load_day import LoadSpec, report, run_load
from testkit.stats import percentile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="2,000 tickets at 20x (the issue's figure)")
    parser.add_argument("--tickets", type=int)
    parser.add_argument("--speed", type=float)
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    spec = LoadSpec(tickets=2000, speed=20.0) if args.full else LoadSpec()
    if args.tickets:
        spec.tickets = args.tickets
    if args.speed:
        spec.speed = args.speed
    result = run_load(spec)
    print(report(result))
    if args.json:
        print(json.dumps({
            "tickets": len(result.issued), "tickets_per_s": round(result.tickets_per_s, 1),
            **{f"{a}_p{p}_ms": round(percentile(v, p), 1) for a, v in result.latencies_ms.items() for p in (50, 99)},
            "display_p50_ms": round(percentile(result.display_ms, 50), 1),
            "display_p99_ms": round(percentile(result.display_ms, 99), 1),
            "errors": len(result.errors), "missing_deliveries": result.missing_deliveries,
        }))
    ok = not result.errors and not result.store_problems
    figure("load", f"a compressed day ({len(result.issued)} tickets, 3 kiosks, 50 pads, 10 displays): "
           "`call_next` → display p50 / p99",
           f"{percentile(result.display_ms, 50):.0f} ms / {percentile(result.display_ms, 99):.0f} ms")
    figure("load", "same day: errors, store problems", f"{len(result.errors)}, {len(result.store_problems)}",
           "0, 0", ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
