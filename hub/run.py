"""``qms hub``: the store, the broker connection and the hub threads, until a stop signal."""

from __future__ import annotations

import logging
import os
import signal
import threading

from mqtt_bus.client import BusClient
from qms.backup import LOCK_FILE
from qms.broker import start_embedded
from qms.context import AppContext
from qms.sdnotify import ping_interval, ready, watchdog

from .server import Hub

log = logging.getLogger(__name__)

HUB_CLIENT_ID = "hub"


def start_hub(ctx: AppContext, broker_url: str, poll_interval: float = 0.25, check_clients: bool | None = None) -> Hub:
    """Open the store and start serving (returns at once); ``check_clients`` defaults to the config's."""
    if check_clients is None:
        check_clients = ctx.config.security.check_clients
    store = ctx.open_store()
    bus = BusClient(broker_url, ctx.site.site, HUB_CLIENT_ID, "hub", keepalive=5)  # a dead hub shows in ~8 s
    return Hub(store, bus, poll_interval=poll_interval, check_clients=check_clients).start()


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
    hub = start_hub(ctx, url)
    log.info("hub for %s serving on %s with store %s", ctx.site.site, hub.bus.address, ctx.store_path)
    lock = ctx.data_dir / LOCK_FILE  # `qms restore` refuses while it exists
    lock.write_text(f"{os.getpid()}\n", encoding="utf-8")
    ready()
    try:
        while not stop.wait(ping_interval()):
            if hub_alive(hub):  # a dead worker or publisher thread: no ping, systemd restarts the hub
                watchdog()
    finally:
        lock.unlink(missing_ok=True)
        hub.stop()
        hub.store.close()
        if broker is not None:
            broker.stop()
        log.info("hub stopped")
    return 0
