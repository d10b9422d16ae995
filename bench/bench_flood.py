"""Counter latency while one kiosk floods the hub (issue 13: 10,000 requests/s made a counter wait 10.6 s).

The hub runs as its own process (``qms hub``) on a private mosquitto with the default commune center's
limits; 6 counter pads press "next" and "complete" (a press every 0.1 s each) while a misbehaving
kiosk, in its own process (``bench/flood_client.py``), publishes ``issue_ticket`` as fast as it can
(up to 10,000/s) for 5 s. Prints the pads' ``call_next`` latency (p50/p99/max) before and during the
flood, the rate the kiosk reached, and what it was answered (``rate_limited`` at most once a second,
its first tickets up to the issue limit, the rest dropped).

Run: ``python bench/bench_flood.py [--seconds 5] [--rate 10000] [--qos 1]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mqtt_bus.broker import EmbeddedBroker
from mqtt_bus.client import BusClient, RequestTimeout
from mqtt_bus.contract import Role
from qms.context import AppContext

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class FloodSpec:
    """The shape of one run."""

    seconds: float = 5.0  # how long the kiosk floods
    rate: float = 10_000.0  # requests/s it aims at (it may reach less on a small machine)
    qos: int = 1
    counters: int = 6
    press_every_s: float = 0.1  # each pad's pause between presses
    prefill: int = 200  # citizens waiting at the start
    warmup_s: float = 2.0  # pads work alone this long first (the baseline)
    tmp_root: str | None = None  # where the store lives (e.g. /dev/shm: other disk traffic out of the figures)
    flood_nice: int = 10  # the kiosk is another board in life: here it must not take the hub's CPU first
    hub_nice: int = 0  # e.g. -5 (as root): hub and broker ahead of other work on a shared machine, as on their own board


@dataclass
class FloodResult:
    """What one run measured."""

    spec: FloodSpec
    baseline_ms: list[float] = field(default_factory=list)
    flood_ms: list[float] = field(default_factory=list)
    flood: dict[str, Any] = field(default_factory=dict)  # the flood client's own report
    errors: list[str] = field(default_factory=list)
    hub_log_flood_lines: int = 0
    hub_cpu_s: float = 0.0  # CPU time the hub process used from the flood's start until its last answer
    hub_exit: int | None = None


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def site_config(folder: Path) -> Path:
    """The commune center as shipped (default limits), open at any hour."""
    text = (ROOT / "config" / "commune.yaml").read_text(encoding="utf-8")
    path = folder / "site.yaml"
    path.write_text(text.replace("enforce: true", "enforce: false", 1), encoding="utf-8")
    return path


def _renice(pid: int | None, nice: int) -> None:
    """Set a process's nice value if allowed (raising priority needs root; otherwise it stays as it is)."""
    if pid is not None and nice:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, nice)


def run_flood(spec: FloodSpec) -> FloodResult:
    """One run in a temporary folder: broker, hub process, pads, flood process."""
    result = FloodResult(spec)
    with tempfile.TemporaryDirectory(prefix="qms-flood-", dir=spec.tmp_root) as tmp:
        folder = Path(tmp)
        broker = EmbeddedBroker(folder / "mosquitto").start()
        _renice(broker.pid, spec.hub_nice)
        ctx = AppContext(config_path=site_config(folder), data_dir=folder / "data")
        services = list(ctx.site.services)
        with ctx.open_store() as store:  # the waiting room, through the store as the CLI does
            for i in range(spec.prefill):
                store.run("issue_ticket", {"service": services[i % len(services)]})
        hub_log = folder / "hub.log"
        with hub_log.open("wb") as log_file:
            hub = subprocess.Popen([sys.executable, "-m", "qms.cli", "--config", str(ctx.config_path),
                                    "--data-dir", str(ctx.data_dir), "--broker", broker.url, "hub"],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file)
            _renice(hub.pid, spec.hub_nice)
            try:
                _drive(spec, result, broker.url, ctx.site.site, hub.pid)
            finally:
                hub.send_signal(signal.SIGTERM)
                try:
                    result.hub_exit = hub.wait(15)
                except subprocess.TimeoutExpired:
                    hub.kill()
                    result.hub_exit = hub.wait()
                broker.stop()
        result.hub_log_flood_lines = sum("is flooding the hub" in line
                                         for line in hub_log.read_text(encoding="utf-8", errors="replace").splitlines())
    return result


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _drive(spec: FloodSpec, result: FloodResult, url: str, site: str, hub_pid: int) -> None:
    pads = [BusClient(url, site, f"counter-{c}", Role.COUNTER) for c in range(1, spec.counters + 1)]
    for pad in pads:
        pad.start()
    try:
        if not all(p.wait_connected(10) for p in pads):
            raise RuntimeError("pads could not connect to the broker")
        pads[0].request("snapshot", {}, timeout=0.3, retries=60)  # the hub process is up
        lock = threading.Lock()
        stop = threading.Event()
        window: list[float] = []  # [flood start, flood end] in perf_counter time, once known

        def press(pad: BusClient, counter: str) -> None:
            while not stop.is_set():
                for action in ("call_next", "complete"):
                    t0 = time.perf_counter()
                    try:
                        pad.request(action, {"counter": counter}, timeout=5, retries=0)
                    except RequestTimeout:
                        with lock:
                            result.errors.append(f"{pad.client_id} {action}: no answer in 5 s")
                        continue
                    took = (time.perf_counter() - t0) * 1000
                    if action == "call_next":
                        with lock:
                            in_flood = len(window) == 2 and window[0] <= t0 <= window[1]
                            (result.flood_ms if in_flood else result.baseline_ms if not window else []).append(took)
                    stop.wait(spec.press_every_s)

        threads = [threading.Thread(target=press, args=(pad, str(i)), daemon=True) for i, pad in
                   enumerate(pads, start=1)]
        for t in threads:
            t.start()
        time.sleep(spec.warmup_s)
        start = time.perf_counter()
        with lock:
            window += [start, start + spec.seconds + 1.0]  # the flood client starts within ~1 s
        cpu_before = cpu_s(hub_pid)
        flood = subprocess.run([sys.executable, str(ROOT / "bench" / "flood_client.py"), url, site, "kiosk-1",
                                str(spec.seconds), str(spec.rate), str(spec.qos)],
                               capture_output=True, text=True, timeout=spec.seconds + 60, cwd=ROOT,
                               preexec_fn=lambda: os.nice(spec.flood_nice))
        result.hub_cpu_s = cpu_s(hub_pid) - cpu_before
        with lock:
            window[1] = time.perf_counter() - 1.0  # the client waits 1 s for answers after its last publish
        stop.set()
        for t in threads:
            t.join(10)
        if flood.returncode != 0:
            result.errors.append(f"flood client failed: {flood.stderr.strip()[-300:]}")
        else:
            result.flood = json.loads(flood.stdout.strip().splitlines()[-1])
    finally:
        for pad in pads:
            pad.close(timeout=1.0)


def report(result: FloodResult) -> str:
    """The figures, one per line."""
    f = result.flood
    rate = f.get("sent", 0) / f["seconds"] if f.get("seconds") else 0.0
    lines = [
        f"flooding kiosk: {f.get('sent', 0)} requests in {f.get('seconds', 0)} s ({rate:,.0f}/s, QoS "
        f"{result.spec.qos}); answers: {f.get('codes', {})} from {f.get('answers_from_s')} s until "
        f"{f.get('answers_until_s')} s; hub log lines about it: {result.hub_log_flood_lines}",
    ]
    for name, values in (("before the flood", result.baseline_ms), ("during the flood", result.flood_ms)):
        lines.append(f"counter call_next {name}: n={len(values)} p50={percentile(values, 50):.1f} ms "
                     f"p99={percentile(values, 99):.1f} ms max={max(values, default=float('nan')):.1f} ms")
    lines.append(f"hub process CPU during the flood: {result.hub_cpu_s:.1f} s")
    lines.append(f"errors: {len(result.errors)} {result.errors[:3]}; hub exit code: {result.hub_exit}")
    return "\n".join(lines)


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
    return 0 if not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
