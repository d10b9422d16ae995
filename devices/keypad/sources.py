"""Where key presses come from, as key names: a Kivy window's key codes (:func:`kivy_key_name`; the
counter pad's window source is ``counter.scanner.KivyScanSource``, which also tells a barcode scanner's
bursts apart) or a terminal / pipe (:class:`StdinKeySource`).

Names are those :func:`~devices.keypad.keymap.normalize_key` understands. The stdin source calls its
handler from its reader thread: hand it to the UI thread if needed.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

log = logging.getLogger(__name__)

KeyHandler = Callable[[str], None]
CharHandler = Callable[[str | None, str | None, float], None]
"""``(character or None, keypad key name or None, monotonic time it arrived)``: for a barcode scanner's filter."""

#: Kivy key codes of the numeric keypad and the keys the default map uses.
KIVY_KEYS: dict[int, str] = {
    8: "backspace", 13: "enter", 27: "esc", 127: "backspace", 271: "enter",
    266: ".", 267: "/", 268: "*", 269: "-", 270: "+",
    **{256 + d: str(d) for d in range(10)},
    **{48 + d: str(d) for d in range(10)},
}
_CHARS = set("0123456789+-*/.,")


def kivy_key_name(key: int, codepoint: str | None) -> str | None:
    """Key name from a Kivy ``on_key_down`` (key code, text typed), or None for other keys."""
    if key in KIVY_KEYS:
        return KIVY_KEYS[key]
    if codepoint and codepoint in _CHARS:
        return codepoint
    return None


#: Escape sequences a terminal sends for keypad keys: application keypad mode (``ESC O x``) and,
#: with NumLock off, the navigation keys printed on the keypad (7 Home, 8 Up, ..., . Del).
KEY_SEQUENCES: dict[str, str] = {
    **{f"\x1bO{chr(ord('p') + d)}": str(d) for d in range(10)},
    "\x1bOM": "enter", "\x1bOk": "+", "\x1bOm": "-", "\x1bOj": "*", "\x1bOo": "/", "\x1bOn": ".",
    "\x1b[2~": "0", "\x1b[F": "1", "\x1b[4~": "1", "\x1bOF": "1", "\x1b[B": "2", "\x1b[6~": "3",
    "\x1b[D": "4", "\x1b[E": "5", "\x1b[G": "5", "\x1b[C": "6", "\x1b[H": "7", "\x1b[1~": "7",
    "\x1bOH": "7", "\x1b[A": "8", "\x1b[5~": "9", "\x1b[3~": ".",
}


def decode_keys(text: str) -> list[tuple[str | None, str | None]]:
    """``(character, key name)`` of each key in a chunk read from a terminal or pipe: the character when it
    is a printable one (a scanner types letters too), the keypad's name when it has one (escape sequences
    included); keys with neither are left out."""
    keys: list[tuple[str | None, str | None]] = []
    i = 0
    while i < len(text):
        if text[i] == "\x1b" and i + 1 < len(text) and text[i + 1] in "[O":
            end = i + 2
            while end < len(text) and not ("@" <= text[end] <= "~"):
                end += 1
            seq = text[i:end + 1]
            if seq in KEY_SEQUENCES:
                keys.append((None, KEY_SEQUENCES[seq]))
            i = end + 1
            continue
        ch = text[i]
        name = char_key_name(ch)
        char = ch if ch.isprintable() else None
        if name is not None or char is not None:
            keys.append((char, name))
        i += 1
    return keys


def decode_chars(text: str) -> list[str]:
    """Key names in a chunk read from a terminal or pipe (escape sequences included)."""
    return [name for _, name in decode_keys(text) if name is not None]


def char_key_name(ch: str) -> str | None:
    """Key name of one character read from a terminal or pipe, or None (ignored)."""
    if ch in ("\r", "\n"):
        return "enter"
    if ch in ("\x7f", "\b"):
        return "backspace"
    if ch == "\x1b":
        return "esc"
    return ch if ch in _CHARS else None


class StdinKeySource:
    """Key presses typed on a terminal (one at a time, no Enter needed) or lines from a pipe.

    On a terminal (e.g. the Pi's console with only a USB keypad plugged in) the terminal is put in
    cbreak mode so each key arrives at once, and restored by :meth:`stop`.
    """

    def __init__(self, on_key: KeyHandler, stream: IO[str] | None = None, on_char: CharHandler | None = None) -> None:
        """``on_char``, when given, gets every key instead of ``on_key`` (see :data:`CharHandler`)."""
        self.on_key = on_key
        self.on_char = on_char
        self.stream = stream or sys.stdin
        self._saved: Any = None
        self._thread = threading.Thread(target=self._read, name="keypad-stdin", daemon=True)
        self.finished = threading.Event()

    def start(self) -> StdinKeySource:
        """Start the reader thread."""
        self._cbreak()
        self._thread.start()
        return self

    def _cbreak(self) -> None:
        with contextlib.suppress(Exception):
            fd = self.stream.fileno()
            if os.isatty(fd):
                import termios
                import tty

                self._saved = termios.tcgetattr(fd)
                tty.setcbreak(fd)

    def _chunks(self) -> Iterator[str]:
        """What arrives, as it arrives (an escape sequence comes in one chunk from a terminal)."""
        try:
            fd = self.stream.fileno()
        except (OSError, ValueError, io.UnsupportedOperation):
            fd = None
        if fd is None:
            while chunk := self.stream.read(64):
                yield chunk
            return
        decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
        while data := os.read(fd, 64):
            yield decoder.decode(data)

    def _read(self) -> None:
        try:
            for chunk in self._chunks():
                at = time.monotonic()
                for char, name in decode_keys(chunk):
                    try:
                        if self.on_char is not None:
                            self.on_char(char, name, at)
                        elif name is not None:
                            self.on_key(name)
                    except Exception:
                        log.exception("key handler failed on %r", char or name)
        except OSError as exc:
            log.warning("keypad input ended: %s", exc)
        finally:
            self.finished.set()

    def stop(self) -> None:
        """Restore the terminal (the reader thread is a daemon and ends with the process)."""
        if self._saved is not None:
            import termios

            with contextlib.suppress(Exception):
                termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
