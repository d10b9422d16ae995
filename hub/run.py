"""``qms hub``: the store, the broker connection and the hub threads, until a stop signal."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from mqtt_bus.client import BusClient
from qms.backup import LOCK_FILE
from qms.broker import start_embedded
from qms.context import AppContext
from qms.sdnotify import ping_interval, ready, watchdog

from .fairness import Limits, Rate
from .server import Hub
from .store_guard import StoreFault

log = logging.getLogger(__name__)

HUB_CLIENT_ID = "hub"


def start_hub(ctx: AppContext, broker_url: str, poll_interval: float = 0.25, check_clients: bool | None = None) -> Hub:
    """Open the store and start serving (returns at once); ``check_clients`` defaults to the config's."""
    if check_clients is None:
        check_clients = ctx.config.security.check_clients
    try:
        store, fault = ctx.open_store(), None
    except StoreFault as exc:  # stay up and say so: devices show "system fault", the hub retries the store
        store, fault = None, exc
        log.error("store fault %s: %s", exc.code, exc.message)
    bus = BusClient(broker_url, ctx.site.site, HUB_CLIENT_ID, "hub", keepalive=5)  # a dead hub shows in ~8 s
    return Hub(store, bus, poll_interval=poll_interval, check_clients=check_clients, reopen=ctx.open_store,
               fault=fault, limits=hub_limits(ctx),
               retention_days=ctx.config.store.retention_days,
               request_retention_days=ctx.config.store.request_retention_days).start()


def hub_limits(ctx: AppContext) -> Limits:
    """The fairness settings of the site config."""
    sec = ctx.config.security
    return Limits(device_rate=Rate(sec.request_rate.per_second, sec.request_rate.burst),
                  monitor_rate=Rate(sec.monitor_request_rate.per_second, sec.monitor_request_rate.burst),
                  per_client_queue=sec.request_queue, issue_per_minute=sec.issue_per_minute)


def hub_alive(hub: Hub) -> bool:
    """True while every hub thread runs."""
    return all(thread.is_alive() for thread in hub._threads)


def run_hub(ctx: AppContext, stop: threading.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set)."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    broker = None
    if ctx.broker_url == "embedded":
        broker = start_embedded(ctx.data_dir)
        url = broker.url
        log.info("embedded mosquitto listening on %s", url)
    else:
        url = ctx.login_url(HUB_CLIENT_ID)
    # a flooding device keeps the MQTT thread busy; hand the GIL over sooner so the worker answers the
    # others quickly (5 ms default: each of its many short waits for the GIL cost up to 5 ms)
    sys.setswitchinterval(0.001)
    hub = start_hub(ctx, url)
    log.info("hub for %s serving on %s with store %s", ctx.site.site, hub.bus.address, ctx.store_path)
    lock = ctx.data_dir / LOCK_FILE  # `qms restore` refuses while this process lives and serves the store
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(f"{os.getpid()}\n", encoding="utf-8")
    ready()
    try:
        while not stop.wait(ping_interval()):
            if hub_alive(hub):  # a dead worker or publisher thread: no ping, systemd restarts the hub
                watchdog()
    finally:
        lock.unlink(missing_ok=True)
        hub.stop()
        if hub.store is not None:
            hub.store.close()
        if broker is not None:
            broker.stop()
        log.info("hub stopped")
    return 0
