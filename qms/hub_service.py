"""``qms hub`` as a service: the wiring around ``hub.server.Hub``.

The hub itself gets a store and a bus handed in; this module opens them from the site config and the
data dir, and around them keeps what makes a service: the stop signals, the embedded broker, the
lock file ``qms restore`` looks for, and systemd's ready and watchdog notices.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path

from hub.fairness import Limits, Rate
from hub.reload import SiteUpdate
from hub.server import SWITCH_INTERVAL_S, Hub
from hub.store_guard import StoreFault
from mqtt_bus.client import BusClient
from mqtt_bus.contract import HUB_CLIENT_ID, Role
from qms.backup import LOCK_FILE
from qms.broker import start_embedded
from qms.catalogue import catalogue_of, config_version
from qms.config import ConfigError, parse_config, to_site_def
from qms.config.history import VERSIONS_DIR, former_names
from qms.context import AppContext
from qms.report_sql import DAY_SUMMARIES
from qms.sdnotify import ping_interval, ready, watchdog

log = logging.getLogger(__name__)

HUB_KEEPALIVE_S = 5  # a dead hub shows on the devices in ~8 s (the broker gives up after 1.5 keepalives)
HUB_MAX_INFLIGHT = 0
"""QoS 1 messages the hub may have sent and the broker not yet acknowledged: 0 is no limit. The hub's lean
client (``mqtt_bus.lean``) has none anyway; this is for paho, which the hub uses for an ``mqtts://`` broker.
A rush of 50 pads is ~200 messages (answers, events, state); with paho's default 20 every 20th waited a round
trip to the broker, and with any limit paho walks every unacknowledged message at each acknowledgement."""


def hub_limits(ctx: AppContext) -> Limits:
    """The fairness settings of the site config."""
    sec = ctx.config.security
    return Limits(device_rate=Rate(sec.request_rate.per_second, sec.request_rate.burst),
                  monitor_rate=Rate(sec.monitor_request_rate.per_second, sec.monitor_request_rate.burst),
                  per_client_queue=sec.request_queue, issue_per_minute=sec.issue_per_minute)


class ConfigWatcher:
    """The hub's config source (``hub/reload.py``): the file's new text once it changed and validates.

    Cheap when nothing changed (one ``stat``); an invalid file is logged once and ignored (the hub keeps
    the config it has); a file of another site is refused (the topics would change under the devices).
    """

    def __init__(self, ctx: AppContext) -> None:
        self.path = Path(ctx.config_path)
        self.site_id = ctx.site.site
        self.ignore_hours = bool(ctx.overrides.get("ignore_hours"))
        self.versions = Path(ctx.data_dir) / VERSIONS_DIR
        raw, self._stat = self._read()
        self.sha256 = config_version(raw or b"")
        self.catalogue = catalogue_of(ctx.config, self.sha256, self._version_of(raw))

    def _read(self) -> tuple[bytes | None, tuple[int, int] | None]:
        try:
            st = self.path.stat()
            return self.path.read_bytes(), (st.st_mtime_ns, st.st_size)
        except OSError:
            return None, None

    def _version_of(self, raw: bytes | None) -> int | None:
        """The web app's version number of these bytes (``<data dir>/web/versions``), if it saved them."""
        if raw is None or not self.versions.is_dir():
            return None
        for path in sorted(self.versions.glob("*.yaml"), reverse=True)[:50]:
            try:
                if path.read_bytes() == raw:
                    return int(path.stem)
            except (OSError, ValueError):
                continue
        return None

    def __call__(self) -> SiteUpdate | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        if (st.st_mtime_ns, st.st_size) == self._stat:
            return None
        raw, self._stat = self._read()
        sha = config_version(raw or b"")
        if raw is None or sha == self.sha256:
            return None
        self.sha256 = sha
        try:
            cfg = parse_config(raw.decode("utf-8"), str(self.path))
        except (ConfigError, UnicodeDecodeError) as exc:
            log.error("the changed config %s is not valid; the hub keeps the one it has:\n%s", self.path, exc)
            return None
        if cfg.site.id != self.site_id:
            log.error("the changed config is for site %r, this hub serves %r: restart the hub to change sites",
                      cfg.site.id, self.site_id)
            return None
        site = to_site_def(cfg)
        if self.ignore_hours:
            site = replace(site, enforce_hours=False)
        self.catalogue = catalogue_of(cfg, sha, self._version_of(raw))
        return SiteUpdate(site, self.catalogue)


def start_hub(ctx: AppContext, broker_url: str, poll_interval: float = 0.25, check_clients: bool | None = None) -> Hub:
    """Open the store and start serving (returns at once); ``check_clients`` defaults to the config's.

    A store that cannot be opened does not stop the hub: it serves ``store_fault`` (devices show
    "system fault") and tries the store again.
    """
    if check_clients is None:
        check_clients = ctx.config.security.check_clients
    try:
        store, fault = ctx.open_store(), None
    except StoreFault as exc:
        store, fault = None, exc
        log.error("store fault %s: %s", exc.code, exc.message)
    bus = BusClient(broker_url, ctx.site.site, HUB_CLIENT_ID, Role.HUB, keepalive=HUB_KEEPALIVE_S,
                    max_inflight=HUB_MAX_INFLIGHT, transport="lean")
    watcher = ConfigWatcher(ctx)
    return Hub(store, bus, config_source=watcher, catalogue=watcher.catalogue, poll_interval=poll_interval, check_clients=check_clients, reopen=ctx.open_store,
               fault=fault, limits=hub_limits(ctx),
               retention_days=ctx.config.store.retention_days,
               request_retention_days=ctx.config.store.request_retention_days,
               former_names=lambda: former_names(ctx.data_dir)["service"], summaries=DAY_SUMMARIES).start()


def run_hub(ctx: AppContext, stop: threading.Event) -> int:
    """Serve until ``stop`` is set (by SIGTERM/SIGINT: ``qms.stop_signals``); 0 when stopped cleanly.

    A stop that came while the process started means nothing is opened at all.
    """
    if stop.is_set():
        log.info("hub stopped before it started")
        return 0
    # A flooding device keeps the MQTT thread busy; hand the GIL over sooner so the worker answers the
    # others quickly (5 ms default: each of its many short waits for the GIL cost up to 5 ms). Measured
    # with bench/bench_flood.py (10,000 requests/s for 5 s): pads' call_next p50 under flood ~40 ms -> ~4 ms
    # on a quiet machine (docs/reliability.md); on a loaded shared one (2026-12-01, 3 runs each) p99
    # 162-216 ms with it, 201-348 ms without. 0.5 ms: the worker also waits for the GIL behind the
    # publisher around each SQLite call (hub.server.SWITCH_INTERVAL_S).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    broker = None
    if ctx.broker_url == "embedded":
        broker = start_embedded(ctx.data_dir)
        log.info("embedded mosquitto listening on %s", broker.url)
    try:
        hub = start_hub(ctx, broker.url if broker is not None else ctx.login_url(HUB_CLIENT_ID))
        # Everything loaded so far (~40,000 objects: modules, config, the open tickets) lives as long as the
        # process: out of the cyclic collector's sight. Its full collections otherwise walked them all with
        # the GIL held, 18 ms each in bench/bench_hub.py's run, one landing inside a rush; frozen, 0.6 ms.
        # Objects dropped later are still freed by their reference counts; only a cycle among these (a
        # config reload's old objects) would now stay, a few KB a reload.
        gc.freeze()
        try:
            serve(ctx, hub, stop)
        finally:
            hub.stop()
            if hub.store is not None:
                hub.store.close()
    finally:
        if broker is not None:
            broker.stop()
        log.info("hub stopped")
    return 0


def serve(ctx: AppContext, hub: Hub, stop: threading.Event) -> None:
    """Hold the restore lock, tell systemd the hub is ready, and ping its watchdog while every thread runs."""
    log.info("hub for %s serving on %s with store %s", ctx.site.site, hub.bus.address, ctx.store_path)
    lock = ctx.data_dir / LOCK_FILE  # `qms restore` refuses while this process lives and serves the store
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(f"{os.getpid()}\n", encoding="utf-8")
    try:
        ready()
        while not stop.wait(ping_interval()):
            if hub.alive():  # a dead worker or publisher thread: no ping, systemd restarts the hub
                watchdog()
    finally:
        lock.unlink(missing_ok=True)
