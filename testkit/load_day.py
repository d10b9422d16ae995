"""A commune center's day, compressed: the scenario of ``bench/bench_load.py`` (and, reduced, of
``tests/reliability/test_load.py``).

Citizens arrive at random (a Poisson process) over a simulated day played many times faster; each
kiosk issues its citizens' tickets, each counter pad presses "next", serves the citizen for a random
time and presses "complete", and the displays follow ``state/counter/+``. The hub runs as its own
process (``qms hub``) on a private mosquitto, as on the appliance. After the day the store is checked
(one ticket per issue, no number twice, ``seq`` without a gap).
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mqtt_bus.broker import EmbeddedBroker
from mqtt_bus.client import BusClient, RequestTimeout
from mqtt_bus.contract import Role
from qms.context import AppContext
from testkit.hub_process import start_hub_process, stop_hub_process
from testkit.sites import roomy_config
from testkit.stats import percentile

PRIORITIES = (("normal", 0.85), ("elderly", 0.08), ("disabled", 0.04), ("pregnant", 0.03))


@dataclass
class LoadSpec:
    """The shape of one run."""

    tickets: int = 600
    day_s: float = 600.0  # simulated length of the day
    speed: float = 30.0  # simulated seconds per real second
    counters: int = 50
    displays: int = 10
    kiosks: int = 3
    service_s: float = 12.0  # mean simulated time an officer spends with a citizen (at least min_service_s)
    min_service_s: float = 3.0
    idle_s: float = 10.0  # simulated wait before pressing "next" again when nobody was waiting
    drain_s: float = 30.0  # real seconds allowed, after the last arrival, to call everyone
    seed: int = 2026


@dataclass
class LoadResult:
    """What one run measured."""

    spec: LoadSpec
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    display_ms: list[float] = field(default_factory=list)
    issued: list[dict[str, Any]] = field(default_factory=list)
    called: dict[str, str] = field(default_factory=dict)  # ticket id -> counter
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    missing_deliveries: int = 0
    arrivals_s: float = 0.0  # real time from the first to the last arrival
    wall_s: float = 0.0
    store_problems: list[str] = field(default_factory=list)
    hub_exit: int | None = None

    @property
    def tickets_per_s(self) -> float:
        """Tickets issued per real second over the arrival phase."""
        return len(self.issued) / self.arrivals_s if self.arrivals_s else 0.0


class Day:
    """One compressed day: the clients, their threads and what they measure."""

    def __init__(self, spec: LoadSpec, broker_url: str, ctx: AppContext) -> None:
        self.spec = spec
        self.url = broker_url
        self.site = ctx.site.site
        self.services = list(ctx.site.services)
        self.result = LoadResult(spec)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.call_sent: dict[tuple[str, str], float] = {}  # (counter, ticket id) -> when "next" was pressed
        self.seen: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)  # -> display -> first arrival
        self.clients: list[BusClient] = []

    def client(self, client_id: str, role: str) -> BusClient:
        c = BusClient(self.url, self.site, client_id, role)
        self.clients.append(c)
        return c

    def real(self, simulated_s: float) -> float:
        return simulated_s / self.spec.speed

    def timed(self, bus: BusClient, action: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """One request; its latency is recorded, a failure counted as an error."""
        t0 = time.perf_counter()
        try:
            response = bus.request(action, args, timeout=10, retries=2)
        except RequestTimeout as exc:
            with self.lock:
                self.result.errors.append(f"{bus.client_id} {action}: {exc}")
            return None
        with self.lock:
            self.result.latencies_ms[action].append((time.perf_counter() - t0) * 1000)
            if not response["ok"]:
                self.result.errors.append(f"{bus.client_id} {action} {args}: {response['error']}")
                return None
        return response["result"]

    # -- devices ----------------------------------------------------------------------------------
    def on_display(self, display: str) -> Any:
        def handler(topic: str, payload: dict[str, Any]) -> None:
            ticket = payload.get("ticket")
            if ticket and ticket.get("status") == "called":
                now = time.perf_counter()
                key = (payload["counter"], ticket["id"])
                with self.lock:
                    self.seen[key].setdefault(display, now)
        return handler

    def kiosk(self, bus: BusClient, arrivals: list[float], start: float, rng: random.Random) -> None:
        kinds, weights = zip(*PRIORITIES, strict=True)
        for at in arrivals:
            delay = start + self.real(at) - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            args = {"service": rng.choice(self.services), "priority": rng.choices(kinds, weights)[0]}
            result = self.timed(bus, "issue_ticket", args)
            if result is not None:
                with self.lock:
                    self.result.issued.append(result["ticket"])

    def pad(self, bus: BusClient, counter: str, rng: random.Random) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            result = self.timed(bus, "call_next", {"counter": counter})
            ticket = result and result["ticket"]
            if not ticket:
                self.stop.wait(self.real(self.spec.idle_s * rng.uniform(0.5, 1.5)))
                continue
            with self.lock:
                self.call_sent[(counter, ticket["id"])] = t0
                if ticket["id"] in self.result.called:
                    self.result.errors.append(f"ticket {ticket['number']} called twice")
                self.result.called[ticket["id"]] = counter
            extra = self.spec.service_s - self.spec.min_service_s
            self.stop.wait(self.real(self.spec.min_service_s + rng.expovariate(1 / extra)))
            if self.timed(bus, "complete", {"counter": counter}) is not None:
                with self.lock:
                    self.result.completed += 1

    # -- the day ----------------------------------------------------------------------------------
    def run(self) -> LoadResult:
        spec, rng = self.spec, random.Random(self.spec.seed)
        for d in range(1, spec.displays + 1):
            display = self.client(f"display-{d}", Role.DISPLAY)
            display.subscribe(display.topics.state_counters_all, self.on_display(f"display-{d}"))
        kiosks = [self.client(f"kiosk-{k}", Role.KIOSK) for k in range(1, spec.kiosks + 1)]
        pads = [(self.client(f"counter-{c}", Role.COUNTER), str(c)) for c in range(1, spec.counters + 1)]
        for c in self.clients:
            c.start()
        if not all(c.wait_connected(10) for c in self.clients):
            raise RuntimeError("clients could not connect to the broker")
        for _ in range(100):  # until the hub process answers
            try:
                kiosks[0].request("snapshot", {}, timeout=0.2, retries=0)
                break
            except RequestTimeout:
                continue
        time.sleep(0.3)  # displays have their retained state
        arrivals = sorted(rng.uniform(0, spec.day_s) for _ in range(spec.tickets))  # Poisson, given the count
        started = time.perf_counter()
        threads = [threading.Thread(target=self.kiosk, args=(bus, arrivals[i::spec.kiosks], started,
                                                             random.Random(rng.random())), daemon=True)
                   for i, bus in enumerate(kiosks)]
        workers = [threading.Thread(target=self.pad, args=(bus, counter, random.Random(rng.random())), daemon=True)
                   for bus, counter in pads]
        for t in workers + threads:
            t.start()
        for t in threads:
            t.join()
        self.result.arrivals_s = time.perf_counter() - started
        deadline = time.monotonic() + spec.drain_s
        while time.monotonic() < deadline:  # the counters call everyone still waiting
            with self.lock:
                if len(self.result.called) >= len(self.result.issued):
                    break
            time.sleep(0.05)
        self.stop.set()
        for t in workers:
            t.join(30)
        self.result.wall_s = time.perf_counter() - started
        self.collect_display_latency()
        for c in self.clients:
            c.close(timeout=1.0)
        return self.result

    def collect_display_latency(self) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self.lock:
                if all(len(self.seen.get(k, {})) >= self.spec.displays for k in self.call_sent):
                    break
            time.sleep(0.05)
        with self.lock:
            for key, t0 in self.call_sent.items():
                arrivals = self.seen.get(key, {})
                self.result.display_ms += [(t - t0) * 1000 for t in arrivals.values()]
                self.result.missing_deliveries += self.spec.displays - len(arrivals)
            not_called = len(self.result.issued) - len(self.result.called)
            if not_called:
                self.result.errors.append(f"{not_called} citizens never called before the drain deadline")


def check_store(path: Path, result: LoadResult) -> None:
    """The store after the day: one ticket per issue, no number twice, seq 1..last."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problems = result.store_problems
        count = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        if count != len(result.issued):
            problems.append(f"{count} tickets in the store for {len(result.issued)} issued")
        dup = conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY service, day, number "
                           "HAVING COUNT(*) > 1)").fetchone()[0]
        if dup:
            problems.append(f"{dup} numbers given twice")
        n, low, high = conn.execute("SELECT COUNT(*), MIN(seq), MAX(seq) FROM outbox").fetchone()
        if n != high or (n and low != 1):
            problems.append(f"outbox seq has gaps: {n} events, {low}..{high}")
        called = conn.execute("SELECT COUNT(*) FROM tickets WHERE status != 'waiting'").fetchone()[0]
        if called != len(result.called):
            problems.append(f"{called} tickets called in the store, {len(result.called)} calls answered")
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("integrity_check failed")
    finally:
        conn.close()


def run_load(spec: LoadSpec) -> LoadResult:
    """Run one compressed day with the hub as its own process; return the measurements."""
    with tempfile.TemporaryDirectory(prefix="qms-load-") as tmp_name, EmbeddedBroker(Path(tmp_name) / "mqtt") as broker:
        tmp = Path(tmp_name)
        ctx = AppContext(config_path=roomy_config(tmp, spec.counters), data_dir=tmp / "data")
        log = (tmp / "hub.stderr").open("wb")
        hub = start_hub_process(ctx.config_path, ctx.data_dir, broker.url, stderr=log, stdout=None)
        try:
            result = Day(spec, broker.url, ctx).run()
            if hub.poll() is not None:
                result.errors.append(f"the hub process died with code {hub.returncode}")
        finally:
            code = stop_hub_process(hub)
            log.close()
        result.hub_exit = code
        if code != 0:
            result.errors.append(f"the hub exited with code {code} on SIGTERM")
        check_store(ctx.store_path, result)
        return result


def report(result: LoadResult) -> str:
    """The figures, as printed."""
    s = result.spec
    lines = [f"load: {s.tickets} citizens over a {s.day_s / 60:g}-minute day at {s.speed:g}x "
             f"({s.day_s / s.speed:.0f} s), {s.kiosks} kiosks, {s.counters} counter pads, {s.displays} displays; "
             "hub as its own process",
             f"  tickets issued {len(result.issued)}, called {len(result.called)}, completed {result.completed}; "
             f"{result.tickets_per_s:.1f} tickets/s issued, "
             f"{sum(len(v) for v in result.latencies_ms.values()) / result.wall_s:.0f} requests/s overall",
             "  request -> response latency:"]
    for action in ("issue_ticket", "call_next", "complete"):
        values = result.latencies_ms.get(action, [])
        lines.append(f"    {action:<13} n={len(values):<6} p50 {percentile(values, 50):7.1f} ms   "
                     f"p99 {percentile(values, 99):7.1f} ms")
    lines.append(f"  call -> display (state/counter at each of {s.displays} displays): "
                 f"n={len(result.display_ms)}  p50 {percentile(result.display_ms, 50):.1f} ms   "
                 f"p99 {percentile(result.display_ms, 99):.1f} ms   missing {result.missing_deliveries}")
    lines.append(f"  errors: {len(result.errors)}" + "".join(f"\n    {e}" for e in result.errors[:10]))
    lines.append("  store: " + ("consistent" if not result.store_problems else "; ".join(result.store_problems)))
    return "\n".join(lines)
