"""A province of many centers on one machine (tests/province/test_simulated_province.py).

Real centers: a mosquitto each, bridged with ``qms province bridge-config``, the hub of ``qms.hub_service.start_hub``
and its SQLite store; traffic over MQTT from a kiosk, counter pads and rating tablets. Generated sites: the same
hub (``start_hub``) and store each, connected to one shared local mosquitto that carries a bridge per site (the
same rendered bridge config, each with its site's own provincial login); their traffic goes through
``Hub.answer`` (the hub's check and store command path, without the MQTT hop) on a virtual clock, and the hub's
own publisher sends the outbox on. :func:`run_day` plays a center's day (issue, call, complete, no-show, recall,
undo, transfer, no-show call-back, rating) against either.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from hub.server import Hub
from mqtt_bus.broker import EmbeddedBroker
from mqtt_bus.client import BusClient
from qms import hub_service
from qms.context import AppContext
from qms.hub_service import start_hub
from qms.province.configs import BridgeSettings, render_bridge_conf
from qms.report_model import COLUMNS, EXTRA_COLUMNS, GROUPINGS, Stats, minutes
from testkit.province import Province, center_config

Send = Callable[[str, str, dict[str, Any]], dict[str, Any]]
"""``send(client_id, action, args)``: the hub's answer (``ok`` true or false)."""

COUNTERS = {"1": ("huong-dan", "tra-ket-qua", "tu-phap"), "2": ("tu-phap", "chung-thuc"),
            "4": ("dat-dai", "kinh-te")}  # counters of the commune config used here, with their services
ISSUED_SERVICES = ("huong-dan", "tu-phap", "tu-phap", "chung-thuc", "dat-dai", "kinh-te")
OFFICERS = {"1": "Nguyễn Thị Lan", "2": "Lê Thị Thu Hà", "4": "Đặng Quốc Bảo"}


class ManualClock:
    """A site's virtual wall clock: whole seconds, moved forward by the day's script."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=int(seconds))


@dataclass
class DayLog:
    """What a day's script did (for the test's sanity checks)."""

    actions: dict[str, int] = field(default_factory=dict)

    def count(self, action: str) -> None:
        self.actions[action] = self.actions.get(action, 0) + 1


def run_day(send: Send, seed: int, tickets: int, advance: Callable[[float], None] = lambda s: None,
            on_step: Callable[[int], None] | None = None) -> DayLog:
    """A center's day: *tickets* citizens through three counters, in a random but seeded mix.

    Counters sign in, then each step either issues a ticket or lets a counter act on its citizen:
    complete (often rated), no-show, recall, transfer to another counter's service, undo of a mis-tap
    (complete or no-show taken back within the undo window), or a no-show called back by number.
    ``advance(s)`` moves the site's clock (virtual sites) before each step; ``on_step(i)`` runs first.
    """
    rng = random.Random(seed)
    log = DayLog()
    current: dict[str, dict | None] = dict.fromkeys(COUNTERS)
    no_shows: list[str] = []  # today's no-show numbers, to call back

    def do(client: str, action: str, args: dict[str, Any], expect_ok: bool = True) -> dict[str, Any]:
        answer = send(client, action, args)
        if expect_ok and not answer.get("ok"):
            raise AssertionError(f"{action} {args} by {client}: {answer}")
        log.count(action if answer.get("ok") else f"{action}:refused")
        return answer

    def serve(counter: str) -> None:
        """The counter's citizen leaves one way or another (its current ticket closes)."""
        pad = f"counter-{counter}"
        ticket = current[counter]
        assert ticket is not None
        roll = rng.random()
        if roll < 0.10:
            do(pad, "recall", {"counter": counter})
            advance(rng.randint(10, 60))
            roll = rng.random() * 0.9 + 0.1  # then one of the others
        if roll < 0.22:
            do(pad, "no_show", {"counter": counter})
            current[counter] = None
            if rng.random() < 0.2:  # a mis-tap: taken back at once, then served
                advance(rng.randint(1, 10))
                current[counter] = do(pad, "undo", {"counter": counter, "ticket": ticket["id"]})["result"]["ticket"]
                advance(rng.randint(60, 600))
                do(pad, "complete", {"counter": counter})
                current[counter] = None
                rate(counter, ticket["id"])
            else:
                no_shows.append(ticket["number"])
            return
        if roll < 0.34:
            others = [s for c, services in COUNTERS.items() if c != counter for s in services
                      if s != ticket["service"]]
            do(pad, "transfer", {"counter": counter, "service": rng.choice(others)})
            current[counter] = None
            return
        do(pad, "complete", {"counter": counter})
        current[counter] = None
        if rng.random() < 0.08:  # a mis-tap: taken back, then a no-show after all
            advance(rng.randint(1, 10))
            current[counter] = do(pad, "undo", {"counter": counter, "ticket": ticket["id"]})["result"]["ticket"]
            advance(rng.randint(30, 120))
            do(pad, "no_show", {"counter": counter})
            current[counter] = None
            no_shows.append(ticket["number"])
            return
        rate(counter, ticket["id"])

    def rate(counter: str, ticket_id: str) -> None:
        if rng.random() < 0.7:
            score = rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 5, 6))[0]
            do(f"rating-{counter}", "rate", {"ticket": ticket_id, "score": score})

    for counter, officer in OFFICERS.items():
        do(f"counter-{counter}", "sign_in", {"counter": counter, "officer": officer})
    issued = 0

    def call(counter: str) -> None:
        pad = f"counter-{counter}"
        if no_shows and rng.random() < 0.05:  # the citizen came back: called back by number
            number = no_shows.pop(0)
            current[counter] = do(pad, "call_ticket", {"counter": counter, "number": number})["result"]["ticket"]
        else:
            current[counter] = do(pad, "call_next", {"counter": counter})["result"]["ticket"]

    for step in itertools.count():  # opening hours: citizens arrive while the counters work
        if issued >= tickets:
            break
        if on_step is not None:
            on_step(step)
        advance(rng.randint(20, 240))
        busy = [c for c, t in current.items() if t is not None]
        idle = [c for c, t in current.items() if t is None]
        if rng.random() < 0.4 or (not busy and issued < 3):
            do("kiosk-1", "issue_ticket", {"service": rng.choice(ISSUED_SERVICES)})
            issued += 1
        elif busy and (not idle or rng.random() < 0.6):
            serve(rng.choice(busy))
        else:
            call(rng.choice(idle))
    while True:  # closing: everyone left is called and served, until no counter finds anybody
        for counter in COUNTERS:
            advance(rng.randint(20, 240))
            if current[counter] is not None:
                serve(counter)
            else:
                call(counter)
        if all(t is None for t in current.values()):
            for c in COUNTERS:  # (no call-back here: a left no-show stays one)
                current[c] = do(f"counter-{c}", "call_next", {"counter": c})["result"]["ticket"]
            if all(t is None for t in current.values()):
                break
    return log


# ------------------------------------------------------------------------------------ the sites
class SiteConfigs:
    """The commune center's config (always open, no device limits), parsed once and given to many sites:
    each site's file is the same text with its own ``site.id``, and its context holds the parsed config
    with that id (parsing the YAML 124 times took 0.4 s a site)."""

    def __init__(self, folder: Path) -> None:
        template = center_config(folder / "cfg", TEMPLATE_SITE)
        self.text = template.read_text(encoding="utf-8")
        self.config = AppContext(config_path=template, data_dir=folder / "data").config

    def context(self, folder: Path, site: str) -> AppContext:
        path = folder / "cfg" / "site.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text.replace(f"id: {TEMPLATE_SITE}", f"id: {site}", 1), encoding="utf-8")
        ctx = AppContext(config_path=path, data_dir=folder / "data")
        ctx.__dict__["config"] = self.config.model_copy(
            update={"site": self.config.site.model_copy(update={"id": site})})
        assert ctx.site.site == site
        return ctx


TEMPLATE_SITE = "xa-mau"


class NetnsLink:
    """A network namespace for a center's mosquitto, plugged in by two veth pairs: the LAN (its hub and devices,
    in the test's namespace, reach it at :attr:`lan_ip`) and the WAN (its bridge reaches the province at
    :attr:`province_ip`). :meth:`set_wan` unplugs and plugs the WAN (``ip link set ... down``): a cut link, with
    nothing restarted. Needs root and iproute2 (:func:`netns_unavailable`)."""

    def __init__(self) -> None:
        tag, net = uuid.uuid4().hex[:6], random.randint(1, 250)
        self.ns = f"qms-{tag}"
        self.lan, self.wan = (f"ql{tag}a", f"ql{tag}b"), (f"qw{tag}a", f"qw{tag}b")
        self.lan_ip, self.province_ip = f"10.213.{net}.2", f"10.214.{net}.1"
        self.script: Path | None = None
        ip("netns", "add", self.ns)
        try:
            ip("netns", "exec", self.ns, "ip", "link", "set", "lo", "up")
            for (outer, inner), prefix in ((self.lan, f"10.213.{net}"), (self.wan, f"10.214.{net}")):
                ip("link", "add", outer, "type", "veth", "peer", "name", inner)
                ip("link", "set", inner, "netns", self.ns)
                ip("addr", "add", f"{prefix}.1/30", "dev", outer)
                ip("link", "set", outer, "up")
                ip("netns", "exec", self.ns, "ip", "addr", "add", f"{prefix}.2/30", "dev", inner)
                ip("netns", "exec", self.ns, "ip", "link", "set", inner, "up")
        except BaseException:
            self.close()
            raise

    def broker(self, folder: Path, extra_config: list[str]) -> EmbeddedBroker:
        """A mosquitto inside the namespace, listening on its LAN address."""
        broker = EmbeddedBroker(folder, extra_config=extra_config)
        broker.host = self.lan_ip  # listens and is reached there (the class's default is 127.0.0.1)
        self.script = folder / "mosquitto-in-netns"
        self.script.write_text(f"#!/bin/sh\nexec ip netns exec {self.ns} {broker.binary} \"$@\"\n")
        self.script.chmod(0o755)
        broker.binary = str(self.script)  # `ip netns exec` execs mosquitto: the child is mosquitto itself
        return broker

    def set_wan(self, up: bool) -> None:
        ip("link", "set", self.wan[0], "up" if up else "down")

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, check=False)  # takes the veths along


def ip(*args: str) -> None:
    res = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if res.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {res.stderr.strip()}")


def netns_unavailable() -> str | None:
    """None when this process may make network namespaces and veth pairs (root, iproute2), else why not."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2 (ip)"
    try:
        NetnsLink().close()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    return None


class HubSite:
    """What a real center and a generated site share: the site's context and the hub on its store."""

    ctx: AppContext
    hub: Hub

    @property
    def store_path(self) -> Path:
        return self.ctx.store_path

    def outbox(self) -> list[dict]:
        """Every event of the store's outbox, in order."""
        assert self.hub.store is not None
        return self.hub.store.events_after(0, 1_000_000)

    def close(self) -> None:
        """Stop the hub (its publisher with it) and close its store."""
        self.hub.stop()
        if self.hub.store is not None:
            self.hub.store.close()


class RealCenter(HubSite):
    """A center as deployed: its own mosquitto with the generated bridge, the hub and its store."""

    def __init__(self, ctx: AppContext, folder: Path, bridge: list[str], poll_interval: float = 0.05,
                 netns: NetnsLink | None = None) -> None:
        self.ctx, self.site, self.bridge, self.folder, self.netns = ctx, ctx.site.site, bridge, folder, netns
        if netns is not None:
            self.broker = netns.broker(folder / "mosquitto", bridge).start()
        else:
            self.broker = EmbeddedBroker(folder / "mosquitto", extra_config=bridge).start()
        self.hub = start_hub(self.ctx, self.broker.url, poll_interval=poll_interval)
        self.clients: dict[str, BusClient] = {}

    def link(self, up: bool) -> None:
        """Cut or mend the link to the province: unplug the WAN (in a namespace), else restart this center's
        broker without or with its bridge (its session and queue are persisted)."""
        if self.netns is not None:
            self.netns.set_wan(up)
            return
        self.broker.extra_config = self.bridge if up else []
        self.broker.restart()

    def send(self, client_id: str, action: str, args: dict[str, Any]) -> dict[str, Any]:
        """A request from the device *client_id* over this center's broker."""
        bus = self.clients.get(client_id)
        if bus is None:
            role = client_id.split("-", 1)[0]
            bus = self.clients[client_id] = BusClient(self.broker.url, self.site, client_id, role).start()
            assert bus.wait_connected(10), f"{self.site}/{client_id} cannot reach its broker"
        return bus.request(action, args, timeout=3, retries=8)

    def close(self) -> None:
        for bus in self.clients.values():
            bus.close()
        super().close()
        self.broker.stop()
        if self.netns is not None:
            self.netns.close()


class SharedBrokerBus(BusClient):
    """A hub's bus on the broker it shares with other sites' hubs: its MQTT session is named ``hub-{site}``
    (on a center's own broker it is ``hub``, unique there); its topics are the hub's as always."""

    def __init__(self, broker: Any, site: str, client_id: str, role: str, **kwargs: Any) -> None:
        super().__init__(broker, site, client_id, role, session_id=f"{client_id}-{site}", **kwargs)


class GeneratedSite(HubSite):
    """A site with the real hub and store on a virtual clock, on the shared bridged broker."""

    def __init__(self, ctx: AppContext, broker_url: str, clock: ManualClock, poll_interval: float = 1.0) -> None:
        self.ctx, self.site, self.clock = ctx, ctx.site.site, clock
        self.broker_url, self.poll_interval = broker_url, poll_interval
        self.hub = self._start()
        self._ids = itertools.count(1)

    def _start(self) -> Hub:
        with patch.object(hub_service, "BusClient", SharedBrokerBus):
            hub = hub_service.start_hub(self.ctx, self.broker_url, poll_interval=self.poll_interval)
        assert hub.store is not None
        hub.store.clock = self.clock  # a day in seconds: the virtual clock; no board clock to judge
        hub.store.guard = None
        return hub

    def send(self, client_id: str, action: str, args: dict[str, Any]) -> dict[str, Any]:
        """The hub's answer to a request of *client_id* (its checks and the store command, as over MQTT)."""
        raw = json.dumps({"id": f"r{next(self._ids)}", "action": action, "args": args}).encode()
        return self.hub.answer(client_id, raw)

    def stop_publisher(self) -> None:
        """The hub stops (its publisher with it); commands still reach the store (like the CLI's)."""
        self.hub.stop()

    def restart_hub(self) -> None:
        """A new hub on the store (it publishes from the published seq it stored)."""
        old = self.hub
        self.hub = self._start()
        assert old.store is not None
        old.store.close()


def shared_bridge_lines(province: Province, sites: list[str], restart: tuple[int, int] = (1, 2)) -> list[str]:
    """One bridge per site (each its own provincial login), rendered as ``qms province bridge-config`` does."""
    lines: list[str] = []
    for site in sites:
        lines += render_bridge_conf(BridgeSettings(
            site=site, host="127.0.0.1", port=province.port, password=province.secret(f"site-{site}"),
            restart_timeout=restart)).splitlines()
    return lines


def day_start(tz: Any, day: date) -> datetime:
    """07:30 local on *day*: the virtual sites' opening."""
    return datetime.combine(day, time(7, 30), tz)


# ------------------------------------------------------------------------------------ reports
@dataclass(frozen=True)
class Figures:
    """The figures the province table shows for a site, as ``qms report`` gives them."""

    issued: int
    served: int
    no_shows: int
    ratings: int
    satisfaction: float | None
    good_pct: float | None
    avg_wait_min: float | None
    p90_wait_min: float | None
    wait_avg_s: float | None = None  # unrounded, when known (to tell a rounding edge from a real difference)
    wait_p90_s: float | None = None


def figures_of(total: Stats) -> Figures:
    """The total row of a report."""
    good = None if total.good_share is None else round(total.good_share, 1)
    return Figures(total.issued, total.served, total.no_show, total.rated, total.satisfaction, good,
                   minutes(total.wait_avg_s), minutes(total.wait_p90_s), total.wait_avg_s, total.wait_p90_s)


def figures_of_csv(path: Path) -> Figures:
    """The total row of ``qms report --csv`` (headers as the report writes them)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, total = rows[0], next(r for r in rows[1:] if r[0] == GROUPINGS["total"])
    names = dict(COLUMNS + EXTRA_COLUMNS)

    def cell(attr: str) -> str:
        title = next(h for h, a in names.items() if a == attr)
        return total[header.index(title)]

    def num(attr: str) -> float | None:
        return None if cell(attr) == "" else float(cell(attr))

    return Figures(int(cell("issued")), int(cell("served")), int(cell("no_show")), int(cell("rated")),
                   num("satisfaction"), num("good_share"), num("wait_avg_s"), num("wait_p90_s"))
