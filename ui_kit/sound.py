"""Sound through Kivy (SDL2 audio): the apps' fallback when neither ``aplay`` nor ``paplay`` works.

It lives with the Kivy side of the apps; ``devices.voice`` stays free of Kivy.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from devices.voice.player import AudioUnavailable, PlaybackBackend, make_backend
from devices.voice.wavio import FORMAT, duration_s, silence, wav_bytes


class KivySoundBackend:
    """Plays through Kivy's ``SoundLoader`` (SDL2 audio), waiting for the sound's length."""

    name = "kivy"

    def _load(self, wav: bytes, path: Path) -> Any:
        from kivy.core.audio import SoundLoader  # optional dependency, imported only when used

        path.write_bytes(wav)
        return SoundLoader.load(str(path))

    def probe(self) -> None:
        """Unusable when Kivy has no audio provider or reports a zero length (no device)."""
        with tempfile.TemporaryDirectory(prefix="qms-announce-") as tmp:
            try:
                sound = self._load(wav_bytes(FORMAT, silence(FORMAT, 200)), Path(tmp) / "probe.wav")
            except Exception as exc:
                raise AudioUnavailable(f"Kivy audio unavailable: {exc}") from None
            if sound is None or not sound.length:
                raise AudioUnavailable("Kivy SoundLoader reports no audio output (length 0)")
            sound.unload()

    def play(self, wav: bytes, label: str) -> None:
        """Play and sleep until the sound has ended."""
        with tempfile.TemporaryDirectory(prefix="qms-announce-") as tmp:
            sound = self._load(wav, Path(tmp) / "announcement.wav")
            if sound is None:
                raise RuntimeError(f"Kivy could not load announcement {label}")
            sound.play()
            deadline = time.monotonic() + duration_s(wav) + 2
            time.sleep(duration_s(wav))
            while sound.state == "play" and time.monotonic() < deadline:
                time.sleep(0.05)
            sound.stop()
            sound.unload()


def app_backend(spec: str) -> PlaybackBackend:
    """:func:`devices.voice.make_backend` with ``kivy`` added."""
    return make_backend(spec, {"kivy": KivySoundBackend})
