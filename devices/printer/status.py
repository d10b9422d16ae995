"""Printer status over `DLE EOT n` real-time queries, as the `state/device/{id}` payload.

No reply means **offline**, never "paper ok" (python-escpos' `paper_status()` answers 2 = plenty
of paper when nothing came back, so it is not used here).
"""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from escpos.printer import Dummy, File, Network, Serial

STATES = ("ok", "paper_low", "paper_out", "offline", "error")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DLE_EOT = b"\x10\x04"


def payload(state: str, detail: str, ts: datetime | None = None, tz: tzinfo = TZ) -> dict[str, str]:
    """`{"kind": "printer", "state", "detail", "ts"}` with an ISO 8601 time carrying its offset."""
    if state not in STATES:
        raise ValueError(f"unknown printer state {state!r}")
    when = ts or datetime.now(tz)
    return {"kind": "printer", "state": state, "detail": detail, "ts": when.isoformat(timespec="seconds")}


def _valid(byte: int) -> bool:
    """Status bytes have bits 1 and 4 set and bits 0 and 7 clear (ESC/POS)."""
    return byte & 0x93 == 0x12


def ask(printer: Any, n: int, timeout: float) -> int | None:
    """Send `DLE EOT n`, return the status byte, or None if no valid reply within `timeout`.

    I/O errors (port gone, connection reset) propagate as OSError.
    """
    cmd = DLE_EOT + bytes([n])
    deadline = time.monotonic() + timeout
    if isinstance(printer, Serial):
        dev = printer.device
        dev.reset_input_buffer()
        dev.write(cmd)
        while True:  # read(1) returns as soon as a byte arrives (port timeout = status timeout)
            got = dev.read(1)
            if got and _valid(got[0]):
                return got[0]
            if not got or time.monotonic() >= deadline:
                return None
    if isinstance(printer, Network):
        sock = printer.device
        old = sock.gettimeout()
        try:
            sock.sendall(cmd)
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    got = sock.recv(1)
                except TimeoutError:
                    return None
                if not got:
                    raise ConnectionResetError("printer closed the connection")
                if _valid(got[0]):
                    return got[0]
            return None
        finally:
            sock.settimeout(old)
    printer._raw(cmd)  # USB and others: python-escpos' own read (up to its timeout)
    try:
        data = printer._read()
    except NotImplementedError:
        return None
    return next((b for b in bytes(data or b"") if _valid(b)), None)


def decode(online: int | None, paper: int | None, cause: int | None = None) -> tuple[str, str]:
    """(state, detail) from the replies to DLE EOT 1 (printer), 4 (paper sensor), 2 (offline cause)."""
    if online is None:
        return "offline", "no reply to status query (printer off, cable, or wrong baud rate)"
    if paper is None:
        return "offline", "no reply to paper status query"
    if paper & 0x60:
        return "paper_out", "paper roll end"
    if online & 0x08:
        if cause is not None and cause & 0x04:
            return "error", "cover open"
        if cause is not None and cause & 0x20:
            return "paper_out", "paper end, printing stopped"
        if cause is not None and cause & 0x40:
            return "error", "printer error (cutter jam or head too hot): open and close the cover"
        if cause is not None and cause & 0x08:
            return "error", "paper being fed with the FEED button"
        return "error", "printer reports it is not ready"
    if paper & 0x0C:
        return "paper_low", "paper near end: change the roll soon"
    return "ok", "ready"


def read_status(printer: Any, timeout: float = 0.2) -> tuple[str, str]:
    """Query a printer: (state, detail). Raises OSError when the port itself fails."""
    if isinstance(printer, File | Dummy):
        return "ok", "no status channel (file or dummy output)"
    online = ask(printer, 1, timeout)
    if online is None:
        return decode(None, None)
    paper = ask(printer, 4, timeout)
    cause = ask(printer, 2, timeout) if paper is not None and online & 0x08 else None
    return decode(online, paper, cause)


def query_status(printer: Any, timeout: float = 0.2, tz: tzinfo = TZ) -> dict[str, str]:
    """DLE EOT 1/4 (and 2 when not ready) -> the `state/device` payload; never raises."""
    try:
        state, detail = read_status(printer, timeout)
    except Exception as exc:  # a dead port is an answer too: offline
        state, detail = "offline", f"port error: {exc}"
    return payload(state, detail, tz=tz)
