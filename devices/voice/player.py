"""Audio playback backends: the one place the ``aplay`` / ``paplay`` command line is written."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from .wavio import duration_s

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


def make_backend(spec: str, extra: Mapping[str, Callable[[], PlaybackBackend]] | None = None) -> PlaybackBackend:
    """A backend from a config string: ``aplay``, ``aplay:hw:0,3``, ``paplay``, ``file:DIR``, ``null``, or a
    name of ``extra`` (the apps add ``kivy``: :func:`ui_kit.sound.app_backend`; this package stays Kivy-free)."""
    kind, _, arg = spec.partition(":")
    if kind in ("aplay", "paplay"):
        return AplayBackend(device=arg or None, command=shutil.which(kind))
    if extra and kind in extra:
        return extra[kind]()
    if kind == "file" and arg:
        return FileSinkBackend(arg)
    if kind == "null":
        return NullBackend()
    raise ValueError(f"unknown audio backend {spec!r}: use aplay[:DEVICE], paplay, file:DIR, null"
                     f"{''.join(', ' + k for k in sorted(extra or ()))}")
