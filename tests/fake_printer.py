"""A fake ESC/POS printer on a pseudo-terminal, for the tests (the demo uses the virtual:// printer instead).

It sits behind a symlink (like ``/dev/serial/by-id/...``), records what it receives and answers
``DLE EOT 1/2/4`` from a switchable ``state`` ("silent" answers nothing). With ``baudrate`` set it
answers only when the port was opened at that speed (as a real printer would print garbage and
answer nothing at the wrong speed), so a set-up wizard can be tested finding the baud rate.
"""

from __future__ import annotations

import os
import select
import termios
import threading
import time
import tty
from pathlib import Path

from PIL import Image

from tests.escpos_paper import paper

REPLIES = {  # state -> DLE EOT n -> status byte
    "ok": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_low": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E},
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
}


class FakePrinter:
    """ESC/POS printer on a pty: records bytes, answers DLE EOT unless state == "silent"."""

    def __init__(self, link: Path, baudrate: int | None = None) -> None:
        self.link = link
        self.baudrate = baudrate
        self.state = "ok"
        self.received = bytearray()
        self.queries: list[int] = []
        self._master = self._slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def plug(self) -> FakePrinter:
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.link)  # atomically, like udev
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def unplug(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1
        self.link.unlink(missing_ok=True)

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.02)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                continue
            if not self._speed_matches():
                continue  # wrong speed: the printer sees noise
            pending = self.take(pending, chunk)

    def take(self, pending: bytes, chunk: bytes) -> bytes:
        """Record ``chunk`` and answer the DLE EOT queries in it; returns the bytes kept for the next chunk."""
        self.received += chunk
        pending += chunk
        while (i := pending.find(b"\x10\x04")) >= 0 and len(pending) > i + 2:
            n = pending[i + 2]
            pending = pending[i + 3:]
            self.queries.append(n)
            reply = REPLIES.get(self.state, {}).get(n)
            if reply is not None:
                os.write(self._master, bytes([reply]))
        return pending[-2:]

    def picture(self) -> Image.Image:
        """What the bytes received so far would print (ESC/POS interpreted by `escpos_paper`)."""
        return paper(bytes(self.received)).image()

    def wait_for(self, needle: bytes, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.received:
                return True
            time.sleep(0.01)
        return False

    def _speed_matches(self) -> bool:
        if self.baudrate is None:
            return True
        speed = getattr(termios, f"B{self.baudrate}", None)
        try:
            return termios.tcgetattr(self._slave)[5] == speed
        except termios.error:
            return False
