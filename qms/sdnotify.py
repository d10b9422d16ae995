"""systemd's notify protocol: ``READY=1`` once serving, ``WATCHDOG=1`` while healthy.

A datagram to ``$NOTIFY_SOCKET`` (what ``sd_notify(3)`` does), with the standard library only.
Without systemd (no ``$NOTIFY_SOCKET``) every call is a no-op, so the services run the same from a
terminal. A unit with ``WatchdogSec=`` sets ``$WATCHDOG_USEC``; pinging at half of it leaves room
for one late ping before systemd restarts the service.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

log = logging.getLogger(__name__)
DEFAULT_PING_S = 10.0


def notify(message: str, env: dict[str, str] | None = None) -> bool:
    """Send ``message`` (e.g. ``READY=1``) to the service manager; False when there is none."""
    env = dict(os.environ) if env is None else env
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # abstract socket namespace
        address = "\0" + address[1:]
    try:
        # non-blocking, as sd_notify(3): a manager that does not read must never stall the caller
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK) as sock:
            sock.connect(address)
            sock.send(message.encode("utf-8"))
    except BlockingIOError:
        log.debug("systemd's notify socket is full; %s dropped", message)
        return False
    except OSError as exc:
        log.warning("cannot notify systemd at %s: %s", env.get("NOTIFY_SOCKET"), exc)
        return False
    return True


def ping_interval(env: dict[str, str] | None = None) -> float:
    """Seconds between ``WATCHDOG=1`` pings: half of ``$WATCHDOG_USEC``, else 10 s."""
    env = dict(os.environ) if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
    except ValueError:
        usec = 0
    return usec / 2_000_000 if usec > 0 else DEFAULT_PING_S


def ready() -> bool:
    """Tell systemd the service is up (``Type=notify``)."""
    return notify("READY=1")


def watchdog() -> bool:
    """Tell systemd the service is still healthy (``WatchdogSec=``)."""
    return notify("WATCHDOG=1")


def start_kivy_watchdog() -> Any:
    """From a Kivy app: ``READY=1`` on the first frame, then ``WATCHDOG=1`` from the UI thread's clock.

    The pings come from ``Clock.schedule_interval``, so a frozen UI thread stops them and systemd
    restarts the app. Call it after Kivy is configured; returns the clock event (or None).
    """
    if not os.environ.get("NOTIFY_SOCKET"):
        return None
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: ready(), 0)
    return Clock.schedule_interval(lambda _dt: watchdog(), ping_interval())
