"""Start-up time of the ``qms`` command: ``qms --help`` and ``qms ticket issue`` (median of fresh processes).

Issue 15: both took 0.57 s / 0.63 s, ~90 % of it imports (the printer package pulled escpos, Pillow and
numpy into every verb). Goal: at most 0.2 s each. ``ticket issue`` runs against a temporary data dir
(the commune config, any time of day). Prints the median of ``--runs`` runs after a first run (so the
figures are those of a board whose files are in the page cache).

The first ``ticket issue`` after a config change validates the config (pydantic, ruamel) and caches it in
the data dir; the median is of the runs after it (the figure of every ticket until the next change).

Run: ``python bench/bench_startup.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import figure  # bench/figures.py (stdlib only; this script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 0.2


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; the CPU time (user + system) moves less on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def median_seconds(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """(first run's wall time, median wall time, median CPU time of the next ``runs``) of ``python -m qms.cli
    *argv`` in fresh processes. The first run of ``ticket issue`` is the one after a config change: it
    validates the config and writes the cache in the data dir (qms/config/cache.py); the next ones read it."""
    command = [sys.executable, "-m", "qms.cli", *argv]
    first = timed(command, env)[0]
    times = [timed(command, env) for _ in range(runs)]
    return first, statistics.median(w for w, _ in times), statistics.median(c for _, c in times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    ns = parser.parse_args()
    ok = True
    print(f"qms start-up, median of {ns.runs} runs")
    with tempfile.TemporaryDirectory(prefix="qms-startup-") as tmp, \
            tempfile.TemporaryDirectory(prefix="qms-pycache-") as pycache:
        # byte-compiled modules, as on a board whose install ran compileall (PYTHONDONTWRITEBYTECODE, set in
        # some shells, would compile every module from source on every run: ~35 ms more here)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(QMS_ENV_FILE="", QMS_HEADLESS="1", PYTHONPYCACHEPREFIX=pycache)
        for label, argv in (("qms --help", ["--help"]),
                            ("qms ticket issue", ["--data-dir", tmp, "ticket", "issue", "tu-phap", "--any-time"])):
            first, seconds, cpu = median_seconds(argv, ns.runs, env)
            ok &= seconds <= GOAL_S
            print(f"  {label:<18} {seconds:6.2f} s, CPU {cpu:.2f} s   (goal <= {GOAL_S:g} s; first run {first:.2f} s)")
            after_change = " (first run after a config change)" if "issue" in label else ""
            figure("startup", f"`{label}`, median wall / CPU time{after_change}",
                   f"{seconds:.2f} s / {cpu:.2f} s" + (f" ({first:.2f} s)" if after_change else ""),
                   f"≤ {GOAL_S:g} s", seconds <= GOAL_S)
    print(f"goal: {'met' if ok else 'MISSED'}")
    return 0  # the figures are the result; bench/run (set -e) goes on to the next bench


if __name__ == "__main__":
    sys.exit(main())
