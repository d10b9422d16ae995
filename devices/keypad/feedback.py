"""Audible feedback for a keypad-only counter: a short beep when done, a low double beep on errors.

Modes: ``bell`` (the terminal bell, ``\\a``), ``aplay`` (a generated WAV played by ALSA's
``aplay``; falls back to ``bell`` when it is missing), ``off``.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import wave
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

MODES = ("off", "bell", "aplay")
RATE = 16000


def tone_wav(path: Path, tones: list[tuple[float, float]], volume: float = 0.4) -> Path:
    """Write a mono 16-bit WAV of ``(frequency_hz, seconds)`` tones (0 Hz = silence)."""
    frames = bytearray()
    for freq, seconds in tones:
        n = int(RATE * seconds)
        for i in range(n):
            fade = min(1.0, i / 80, (n - i) / 80)  # no clicks
            value = volume * fade * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            frames += struct.pack("<h", int(value * 32767))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return path


class Beeper:
    """``ok()`` and ``error()`` beeps; never raises (feedback must not stop the counter)."""

    def __init__(self, mode: str = "bell", stream: IO[str] | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"beep mode {mode!r}; choose one of {', '.join(MODES)}")
        self.stream = stream or sys.stdout
        self._aplay = shutil.which("aplay") if mode == "aplay" else None
        if mode == "aplay" and not self._aplay:
            log.warning("aplay not found (apt-get install alsa-utils): using the terminal bell")
            mode = "bell"
        self.mode = mode
        self._sounds: dict[str, Path] = {}
        if self._aplay:
            folder = Path(tempfile.mkdtemp(prefix="qms-beep-"))
            self._sounds = {"ok": tone_wav(folder / "ok.wav", [(1320, 0.08)]),
                            "error": tone_wav(folder / "error.wav", [(330, 0.15), (0, 0.08), (330, 0.15)])}

    def ok(self) -> None:
        """The action was done."""
        self._beep("ok", "\a")

    def error(self) -> None:
        """The action failed (or the key is unknown)."""
        self._beep("error", "\a\a")

    def _beep(self, kind: str, bell: str) -> None:
        try:
            if self.mode == "aplay" and self._aplay:
                proc = subprocess.Popen([self._aplay, "-q", str(self._sounds[kind])], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                threading.Thread(target=proc.wait, daemon=True).start()  # reap it, never block the UI
            elif self.mode == "bell":
                self.stream.write(bell)
                self.stream.flush()
        except Exception as exc:
            log.warning("beep failed: %s", exc)
