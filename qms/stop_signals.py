"""A service's stop signals: SIGTERM and SIGINT set an event that its main loop waits on.

``qms hub`` installs them first thing, before its heavy imports and before it opens the store or
the broker connection: a stop that arrives while the service starts is kept, and the service then
stops cleanly and exits 0 instead of dying half-started. Standard library only, so it is cheap to
import that early.
"""

from __future__ import annotations

import signal
import threading

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def catch_stop_signals() -> threading.Event:
    """Make SIGTERM and SIGINT set the returned event (from the main thread only, as ``signal.signal``)."""
    stop = threading.Event()
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
    return stop
