"""Start-up time of the ``qms`` command: ``qms --help`` and ``qms ticket issue`` (median of fresh processes).

Issue 15: both took 0.57 s / 0.63 s, ~90 % of it imports (the printer package pulled escpos, Pillow and
numpy into every verb). Goal: at most 0.2 s each. ``ticket issue`` runs against a temporary data dir
(the commune config, any time of day). Prints the median of ``--runs`` runs (after one warm-up run, so
the figures are those of a board whose files are in the page cache).

Run: ``python bench/bench_startup.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 0.2


def median_seconds(argv: list[str], runs: int, env: dict[str, str]) -> float:
    """Median wall time of ``python -m qms.cli *argv`` over ``runs`` fresh processes."""
    command = [sys.executable, "-m", "qms.cli", *argv]
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=True)  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    ns = parser.parse_args()
    env = {**os.environ, "QMS_ENV_FILE": "", "QMS_HEADLESS": "1"}
    ok = True
    print(f"qms start-up, median of {ns.runs} runs")
    with tempfile.TemporaryDirectory(prefix="qms-startup-") as tmp:
        for label, argv in (("qms --help", ["--help"]),
                            ("qms ticket issue", ["--data-dir", tmp, "ticket", "issue", "tu-phap", "--any-time"])):
            seconds = median_seconds(argv, ns.runs, env)
            ok &= seconds <= GOAL_S
            print(f"  {label:<18} {seconds:6.2f} s   (goal <= {GOAL_S:g} s)")
    print(f"goal: {'met' if ok else 'MISSED'}")
    return 0  # the figures are the result; bench/run (set -e) goes on to the next bench


if __name__ == "__main__":
    sys.exit(main())
