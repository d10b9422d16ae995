"""``qms hub`` as a service: the wiring around ``hub.server.Hub``.

The hub itself gets a store and a bus handed in; this module opens them from the site config and the
data dir, and around them keeps what makes a service: the stop signals, the embedded broker, the
lock file ``qms restore`` looks for, and systemd's ready and watchdog notices.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from hub.fairness import Limits, Rate
from hub.server import SWITCH_INTERVAL_S, Hub
from hub.store_guard import StoreFault
from mqtt_bus.client import BusClient
from mqtt_bus.contract import HUB_CLIENT_ID, Role
from qms.backup import LOCK_FILE
from qms.broker import start_embedded
from qms.context import AppContext
from qms.sdnotify import ping_interval, ready, watchdog

log = logging.getLogger(__name__)

HUB_KEEPALIVE_S = 5  # a dead hub shows on the devices in ~8 s (the broker gives up after 1.5 keepalives)


def hub_limits(ctx: AppContext) -> Limits:
    """The fairness settings of the site config."""
    sec = ctx.config.security
    return Limits(device_rate=Rate(sec.request_rate.per_second, sec.request_rate.burst),
                  monitor_rate=Rate(sec.monitor_request_rate.per_second, sec.monitor_request_rate.burst),
                  per_client_queue=sec.request_queue, issue_per_minute=sec.issue_per_minute)


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
    bus = BusClient(broker_url, ctx.site.site, HUB_CLIENT_ID, Role.HUB, keepalive=HUB_KEEPALIVE_S)
    return Hub(store, bus, poll_interval=poll_interval, check_clients=check_clients, reopen=ctx.open_store,
               fault=fault, limits=hub_limits(ctx),
               retention_days=ctx.config.store.retention_days,
               request_retention_days=ctx.config.store.request_retention_days).start()


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
