"""A board measures its clock against the hub's and puts the offset in its retained status.

Like ``qms doctor``'s "hub clock" check: ask the hub's read-only ``clock`` request, take the midpoint of the
round trip on this board's wall clock, and subtract the hub's answer. Positive: this board is ahead.
The result goes into ``status/{client_id}`` as ``clock_offset_s`` (one decimal) and ``clock_checked`` (this
board's own time of the measurement, in the center's zone), so the web app's devices page can show it without asking each board.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from .client import BusClient, BusClosed, RequestTimeout, default_clock

log = logging.getLogger(__name__)

PERIOD_S = 300.0  # clocks drift slowly; every 5 minutes is plenty
TIMEOUT_S = 3.0


def measure_offset(bus: BusClient, clock: Callable[[], datetime] | None = None,
                   timeout: float = TIMEOUT_S) -> float | None:
    """This board's clock minus the hub's, in seconds (``None``: no answer, or the hub cannot tell)."""
    clock = clock or (lambda: datetime.now(UTC))
    before = clock()
    response = bus.request("clock", {}, timeout=timeout, retries=0)
    after = clock()
    if not response.get("ok"):
        return None
    hub_now = datetime.fromisoformat(response["result"]["now"])
    return ((before + (after - before) / 2) - hub_now).total_seconds()


class ClockProbe:
    """Measures the offset once connected, then every ``period_s`` (10 s after a miss); publishes it."""

    def __init__(self, bus: BusClient, period_s: float = PERIOD_S,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.bus, self.period_s = bus, period_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"clock-probe-{bus.client_id}", daemon=True)

    def start(self) -> ClockProbe:
        """Start the background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (it ends at its next wake-up)."""
        self._stop.set()

    def check_once(self) -> float | None:
        """Measure now and publish; the offset, or ``None`` when the hub did not answer."""
        try:
            offset = measure_offset(self.bus, self._clock)
        except (RequestTimeout, BusClosed, RuntimeError):
            return None
        if offset is not None:
            checked = self._clock().astimezone(default_clock().tzinfo).isoformat(timespec="seconds")
            self.bus.update_status({"clock_offset_s": round(offset, 1), "clock_checked": checked})
        return offset

    def _run(self) -> None:
        while not self._stop.is_set() and not self.bus._closed:
            if not self.bus.wait_connected(timeout=1.0):
                continue
            try:
                offset = self.check_once()
            except Exception:  # never take the app down for a diagnostic
                log.exception("clock probe failed")
                offset = None
            self._stop.wait(self.period_s if offset is not None else 10.0)
