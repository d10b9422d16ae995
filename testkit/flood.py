"""One kiosk floods the hub while counter pads work (issue 13): the scenario of ``bench/bench_flood.py``.

The hub runs as its own process (``qms hub``) on a private mosquitto with the default commune center's
limits; 6 counter pads press "next" and "complete" (a press every 0.1 s each) while a misbehaving
kiosk, in its own process (``testkit/flood_client.py``), publishes ``issue_ticket`` as fast as it can
(up to 10,000/s) for 5 s. ``tests/reliability/test_flood.py`` asserts on the result; the bench prints it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mqtt_bus.broker import EmbeddedBroker
from mqtt_bus.client import BusClient, RequestTimeout
from mqtt_bus.contract import Role
from qms.context import AppContext
from testkit.hub_process import start_hub_process, stop_hub_process
from testkit.sites import always_open_config
from testkit.stats import percentile

ROOT = Path(__file__).resolve().parents[1]
FLOOD_CLIENT = Path(__file__).with_name("flood_client.py")


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
        ctx = AppContext(config_path=always_open_config(folder), data_dir=folder / "data")
        services = list(ctx.site.services)
        with ctx.open_store() as store:  # the waiting room, through the store as the CLI does
            for i in range(spec.prefill):
                store.run("issue_ticket", {"service": services[i % len(services)]})
        hub_log = folder / "hub.log"
        with hub_log.open("wb") as log_file:
            hub = start_hub_process(ctx.config_path, ctx.data_dir, broker.url, stderr=log_file)
            _renice(hub.pid, spec.hub_nice)
            try:
                _drive(spec, result, broker.url, ctx.site.site, hub.pid)
            finally:
                result.hub_exit = stop_hub_process(hub)
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
        flood = subprocess.run([sys.executable, str(FLOOD_CLIENT), url, site, "kiosk-1",
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
