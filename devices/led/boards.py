"""``LedBoards``: keep each counter's LED board showing its current number from ``state/counter/*``.

Paused or closed counters show ``----``; an open counter with nobody called is blank. A board is
written only when its text changes. Writes happen on a worker thread (a slow or unplugged RS485
adapter never blocks MQTT); after a failure the latest texts are sent again every ``retry_s``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from .protocol import BLANK, DASHES, LedProtocol
from .transport import LedTransport, LedUnavailable

log = logging.getLogger(__name__)


def parse_led_map(text: str | None) -> dict[str, int]:
    """``"1=11,2=12"`` → ``{"1": 11, "2": 12}`` (ValueError with the bad part)."""
    mapping: dict[str, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        counter, sep, address = part.partition("=")
        if not sep or not counter.strip() or not address.strip().isdigit():
            raise ValueError(f"--led-map wants COUNTER=ADDRESS pairs like 1=11,2=12; bad part {part!r}")
        mapping[counter.strip()] = int(address)
    return mapping


def board_text(payload: Mapping[str, Any]) -> str:
    """What a counter's board shows for its state payload."""
    if payload.get("status") in ("paused", "closed"):
        return DASHES
    ticket = payload.get("ticket")
    number = ticket.get("number") if isinstance(ticket, dict) else None
    return number if isinstance(number, str) else BLANK


class LedBoards:
    """One transport shared by every counter's board (RS485 is a bus)."""

    def __init__(self, transport: LedTransport, protocol: LedProtocol, addresses: Mapping[str, int] | None = None,
                 *, threaded: bool = True, retry_s: float = 5.0) -> None:
        self.transport, self.protocol = transport, protocol
        self.addresses = {k: protocol.check_address(v) for k, v in (addresses or {}).items()}
        self.retry_s = retry_s
        self.shown: dict[str, str] = {}  # counter → text its board shows
        self._seq: dict[str, int] = {}  # counter → seq of the payload shown or queued
        self._pending: dict[str, str] = {}
        self._cv = threading.Condition()
        self._failing = False
        self._closed = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="led-boards", daemon=True)
            self._thread.start()

    def address(self, counter: str) -> int | None:
        """The board address of ``counter``: from the map, else the counter id when it is a number."""
        if counter in self.addresses:
            return self.addresses[counter]
        if counter.isdigit() and int(counter) <= self.protocol.max_address:
            return int(counter)
        return None

    def apply_state(self, payload: Mapping[str, Any]) -> None:
        """A ``state/counter/{id}`` payload (any thread; never raises)."""
        try:
            counter, seq = payload.get("counter"), payload.get("seq")
            if not isinstance(counter, str) or self.address(counter) is None:
                return
            if isinstance(seq, int) and seq < self._seq.get(counter, -1):
                return  # older than what the board shows
            self.show(counter, board_text(payload), seq if isinstance(seq, int) else None)
        except Exception:
            log.exception("LED: bad counter state %r", payload)

    def show(self, counter: str, text: str, seq: int | None = None) -> None:
        """Make ``counter``'s board show ``text`` (skipped when it already does)."""
        with self._cv:
            if seq is not None:
                self._seq[counter] = seq
            if self._pending.get(counter, self.shown.get(counter)) == text:
                return
            self._pending[counter] = text
            self._cv.notify()
        if self._thread is None:
            self.flush()

    def flush(self) -> bool:
        """Send everything pending now (this thread); True when all went out."""
        with self._cv:
            pending, self._pending = dict(self._pending), {}
        failed: dict[str, str] = {}
        for counter, text in pending.items():
            address = self.address(counter)
            if address is None:
                continue
            try:
                self.transport.write(self.protocol.frame(address, text))
            except (LedUnavailable, OSError) as exc:
                failed[counter] = text
                if not self._failing:
                    log.warning("LED boards unavailable: %s; retrying every %g s", exc, self.retry_s)
                self._failing = True
                continue
            self.shown[counter] = text
        with self._cv:
            for counter, text in failed.items():
                self._pending.setdefault(counter, text)
        if not failed and pending and self._failing:
            log.info("LED boards reachable again; refreshing every board")
            self._failing = False
            with self._cv:  # a board that lost power meanwhile shows nothing: send every text again
                for counter, text in self.shown.items():
                    self._pending.setdefault(counter, text)
            return self.flush()
        return not failed

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._pending or self._closed,
                                  timeout=self.retry_s if self._failing else None)
                if self._closed:
                    return
            if not self.flush():
                with self._cv:
                    self._cv.wait_for(lambda: self._closed, timeout=self.retry_s)

    def close(self) -> None:
        """Stop the worker and close the port."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(2.0)
        self.transport.close()
