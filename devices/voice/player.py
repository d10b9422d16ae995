"""Audio playback backends: the one place the ``aplay`` / ``paplay`` command line is written."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

from .wavio import FORMAT, duration_s, silence, wav_bytes

NO_AUDIO_HINT = "check HDMI audio / `aplay -l`"


class AudioUnavailable(RuntimeError):
    """The backend has no usable audio output; the message says why."""


class PlaybackBackend(Protocol):
    """Plays one WAV, blocking until it has finished."""

    name: str

    def probe(self) -> None:
        """Raise :class:`AudioUnavailable` if nothing can be played."""

    def play(self, wav: bytes, label: str) -> None:
        """Play ``wav`` to the end (``label`` names it in logs and files)."""


class NullBackend:
    """Plays nothing (announcements disabled); counts what it was given."""

    name = "null"

    def __init__(self) -> None:
        self.played: list[str] = []

    def probe(self) -> None:
        """Always usable."""

    def play(self, wav: bytes, label: str) -> None:
        """Record the label only."""
        self.played.append(label)


class FileSinkBackend:
    """Writes each announcement to ``folder/NNNN-label.wav``, in order (tests, no audio device)."""

    name = "file"

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.written: list[Path] = []

    def probe(self) -> None:
        """Create the folder; unusable if that fails."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AudioUnavailable(f"cannot create {self.folder}: {exc}") from None

    def play(self, wav: bytes, label: str) -> None:
        """Write the WAV file."""
        path = self.folder / f"{len(self.written) + 1:04d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.wav"
        path.write_bytes(wav)
        self.written.append(path)


class AplayBackend:
    """Plays through ``aplay`` (ALSA) or ``paplay`` (PulseAudio/PipeWire) as a blocking subprocess."""

    name = "aplay"

    def __init__(self, device: str | None = None, command: str | None = None) -> None:
        self.device = device
        self.command = command or shutil.which("aplay") or shutil.which("paplay")

    def probe(self) -> None:
        """Unusable without the command, or when ``aplay -l`` lists no sound card."""
        if not self.command:
            raise AudioUnavailable("neither aplay nor paplay is installed (apt install alsa-utils)")
        if Path(self.command).name == "aplay" and not self.device:
            proc = subprocess.run([self.command, "-l"], capture_output=True, text=True, timeout=10, check=False)
            if proc.returncode != 0 or "card" not in proc.stdout:
                raise AudioUnavailable(f"`aplay -l` lists no sound card ({proc.stderr.strip() or 'empty'})")

    def command_line(self, path: str) -> list[str]:
        """The command that plays the WAV file ``path``: ``aplay -q [-D DEV]`` or ``paplay [--device=DEV]``."""
        assert self.command, "probe() first"
        aplay = Path(self.command).name == "aplay"
        cmd = [self.command, *(["-q"] if aplay else [])]
        if self.device:
            cmd += ["-D", self.device] if aplay else [f"--device={self.device}"]
        return [*cmd, path]

    def play(self, wav: bytes, label: str) -> None:
        """Run the player on a temporary file and wait for it."""
        with tempfile.NamedTemporaryFile(prefix="qms-announce-", suffix=".wav") as f:
            f.write(wav)
            f.flush()
            cmd = self.command_line(f.name)
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=duration_s(wav) + 15, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:-1])} failed for {label}: {proc.stderr.strip()}")


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


def make_backend(spec: str) -> PlaybackBackend:
    """A backend from a config string: ``aplay``, ``aplay:hw:0,3``, ``paplay``, ``kivy``, ``file:DIR``, ``null``."""
    kind, _, arg = spec.partition(":")
    if kind in ("aplay", "paplay"):
        return AplayBackend(device=arg or None, command=shutil.which(kind))
    if kind == "kivy":
        return KivySoundBackend()
    if kind == "file" and arg:
        return FileSinkBackend(arg)
    if kind == "null":
        return NullBackend()
    raise ValueError(f"unknown audio backend {spec!r}: use aplay[:DEVICE], paplay, kivy, file:DIR or null")
