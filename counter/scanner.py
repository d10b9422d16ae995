"""A USB barcode scanner in keyboard mode: a burst of fast key presses ending in Enter is a dossier code.

The scanner types the code of the receipt (mã hồ sơ) like a keyboard, a few milliseconds a key,
then Enter. A person on the USB keypad never types that fast, so :class:`ScanBuffer` holds each key
``max_gap_s`` (50 ms): keys that keep coming faster than that, ``min_len`` or more of them, then Enter,
are one scan; anything else goes on to the keypad unchanged, in order (so a scanned ``000.00-...``
is never taken as Gọi lại / Vắng mặt / digits to call). :class:`ScanKeys` runs it on Kivy's clock;
:class:`KivyScanSource` feeds it from the window, ``qms counter-pad --no-screen`` from the terminal
(``StdinKeySource(on_char=...)``); either owns the keypad's key delivery, so the two never both act on one key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from devices.keypad.sources import kivy_key_name

SCAN_CHARS = re.compile(r"[A-Za-z0-9./-]")
"""What a dossier code is made of (queue_core's ``DOSSIER_CODE``)."""
ENTER_CODES = frozenset({13, 271})  # Return, keypad Enter

def scan_char(char: str | None) -> str | None:
    """``char`` if a dossier code may hold it (one of :data:`SCAN_CHARS`), else None."""
    return char if char and len(char) == 1 and SCAN_CHARS.fullmatch(char) else None


Out = tuple[str, str]
"""``("key", keypad key name)``, ``("scan", code)`` or ``("bad_scan", partial text)``."""


class ScanBuffer:
    """Pure: feed each key with its time; get what to do, in order. Call :meth:`flush` after a pause."""

    def __init__(self, max_gap_s: float = 0.05, min_len: int = 5) -> None:
        self.max_gap_s, self.min_len = max_gap_s, min_len
        self.pending: list[tuple[str, str | None]] = []  # (character, keypad key name or None)
        self._last = 0.0
        self.broken = False  # a scan came apart: the rest of it, up to its Enter, is dropped

    def feed(self, char: str | None, key: str | None, now: float) -> list[Out]:
        """One key: ``char`` when it may be part of a code, ``key`` its keypad name (``enter``, ``+``...)."""
        out: list[Out] = []
        if self.pending and now - self._last > self.max_gap_s:
            out += self.flush()
        if self.broken and now - self._last <= self.max_gap_s * 10:  # the tail of a broken scan
            self._last = now
            if key == "enter" or char is None:
                self.broken = False
            return out
        self.broken = False
        if key == "enter":
            if len(self.pending) >= self.min_len:
                code = "".join(c for c, _ in self.pending)
                self.pending = []
                return [*out, ("scan", code)]
            return [*out, *self.flush(), ("key", "enter")]
        if char is not None:
            self.pending.append((char, key))
            self._last = now
            return out
        out += self.flush()
        return [*out, ("key", key)] if key else out

    def flush(self) -> list[Out]:
        """After a pause: held keys go to the keypad; a long fast burst without Enter is a broken scan."""
        pending, self.pending = self.pending, []
        if len(pending) >= self.min_len:
            self.broken = True
            return [("bad_scan", "".join(c for c, _ in pending))]
        return [("key", k) for _, k in pending if k]


class ScanKeys:
    """Keys → scans (``on_scan(code)``), broken scans and keypad keys (``on_key(name)``, if any), on Kivy's
    clock thread: feed :meth:`feed` with each key; held keys are let go by a timer after a pause."""

    def __init__(self, on_scan: Callable[[str], Any], on_key: Callable[[str], Any] | None = None,
                 on_bad_scan: Callable[[str], Any] | None = None, buffer: ScanBuffer | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        from kivy.clock import Clock

        self.on_scan, self.on_key, self.on_bad_scan = on_scan, on_key, on_bad_scan
        self.buffer = buffer or ScanBuffer()
        self._Clock = Clock
        self._clock = clock or time.monotonic
        self._timer: Any = None

    def feed(self, char: str | None, name: str | None, at: float | None = None) -> None:
        """One key: its character (kept only if a code may hold it), its keypad name, when it came (default now)."""
        char = scan_char(char)
        if char is None and name is None:
            return
        self._do(self.buffer.feed(char, name, self._clock() if at is None else at))
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._Clock.schedule_once(self._flush, self.buffer.max_gap_s * 1.5) if self.buffer.pending else None

    def _flush(self, *_: Any) -> None:
        self._timer = None
        self._do(self.buffer.flush())

    def _do(self, outs: list[Out]) -> None:
        for kind, value in outs:
            if kind == "scan":
                self.on_scan(value)
            elif kind == "bad_scan":
                if self.on_bad_scan is not None:
                    self.on_bad_scan(value)
            elif self.on_key is not None:
                self.on_key(value)

    def stop(self) -> None:
        """Drop the pending timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class KivyScanSource(ScanKeys):
    """Keys of the Kivy window → :class:`ScanKeys`.

    ``enabled()`` False lets keys through untouched (a text field has focus: the scanner types there).
    """

    def __init__(self, window: Any, on_scan: Callable[[str], Any], on_key: Callable[[str], Any] | None = None,
                 on_bad_scan: Callable[[str], Any] | None = None, enabled: Callable[[], bool] = lambda: True,
                 buffer: ScanBuffer | None = None, clock: Callable[[], float] | None = None) -> None:
        super().__init__(on_scan, on_key, on_bad_scan, buffer, clock)
        self.window = window
        self.enabled = enabled
        window.bind(on_key_down=self._key_down)

    def _key_down(self, _window: Any, key: int, _scancode: int, codepoint: str | None, modifiers: list) -> bool:
        if not self.enabled() or any(m in ("ctrl", "alt", "meta") for m in modifiers or []):
            return False
        name = "enter" if key in ENTER_CODES else kivy_key_name(key, codepoint)
        char = scan_char(codepoint)
        if name is None and char is None:
            return False
        if self.on_key is None and char is None and not (name == "enter" and self.buffer.pending):
            return False  # no keypad: Esc and the like keep their usual meaning
        self.feed(char, name)
        return True

    def stop(self) -> None:
        """Stop listening."""
        super().stop()
        self.window.unbind(on_key_down=self._key_down)
