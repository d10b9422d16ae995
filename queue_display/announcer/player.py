"""The announcer: one worker thread speaks called tickets in order, never twice, never overlapping."""

from __future__ import annotations

import collections
import logging
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from .pack import VoicePack
from .render import render_announcement
from .sequence import announcement_tokens
from .wavio import FORMAT, duration_s, silence, wav_bytes

log = logging.getLogger(__name__)

EVENT_TYPES = ("ticket_called", "ticket_recalled")
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

    def play(self, wav: bytes, label: str) -> None:
        """Run the player on a temporary file and wait for it."""
        assert self.command, "probe() first"
        with tempfile.NamedTemporaryFile(prefix="qms-announce-", suffix=".wav") as f:
            f.write(wav)
            f.flush()
            cmd = [self.command, *(["-q"] if Path(self.command).name == "aplay" else [])]
            if self.device:
                cmd += ["-D", self.device] if Path(self.command).name == "aplay" else [f"--device={self.device}"]
            proc = subprocess.run([*cmd, f.name], capture_output=True, text=True,
                                  timeout=duration_s(wav) + 15, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed for {label}: {proc.stderr.strip()}")


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


class Announcer:
    """Speaks ``ticket_called`` / ``ticket_recalled`` events through one worker thread.

    :meth:`announce` is thread-safe, never raises and never blocks; an event whose ``seq`` was
    already seen is ignored. Announcements are spoken one after another in arrival order.
    """

    def __init__(self, pack: VoicePack, backend: PlaybackBackend | None = None, *, mode: str = "words",
                 repeat: int = 1, chime: bool = True, fallback: bool = True,
                 counter_label: Callable[[Mapping[str, Any]], str | None] | None = None,
                 remember: int = 10_000) -> None:
        self.pack, self.mode, self.repeat, self.chime, self.fallback = pack, mode, repeat, chime, fallback
        self.backend: PlaybackBackend = backend or AplayBackend()
        self.counter_label = counter_label or (lambda e: None if e.get("counter") is None else str(e["counter"]))
        self.enabled = True
        self.spoken = 0
        self._seen: collections.OrderedDict[Any, None] = collections.OrderedDict()
        self._remember = remember
        self._queue: queue.Queue[Mapping[str, Any] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Probe the backend (one log line and silence if there is no audio) and start the worker."""
        try:
            self.backend.probe()
        except AudioUnavailable as exc:
            log.warning("no audio device: announcements disabled — %s (%s)", NO_AUDIO_HINT, exc)
            self.backend, self.enabled = NullBackend(), False
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
            self._thread.start()

    def announce(self, event: Mapping[str, Any]) -> bool:
        """Queue an event for speaking; False when ignored (other type, repeat ``seq``, malformed)."""
        try:
            if event.get("type") not in EVENT_TYPES or not (event.get("ticket") or {}).get("number"):
                return False
            seq = event.get("seq")
            with self._lock:
                if seq is not None:
                    if seq in self._seen:
                        return False
                    self._seen[seq] = None
                    while len(self._seen) > self._remember:
                        self._seen.popitem(last=False)
                if not self.enabled:
                    return False
                self._pending += 1
            self._queue.put(event)
            return True
        except Exception:  # the board must keep working whatever arrives
            log.exception("announcer: cannot queue event %r", event)
            return False

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been spoken; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then end the worker."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Announcer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self._speak(event)
            except Exception as exc:
                log.error("announcement of seq %s failed: %s", event.get("seq"), exc)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _speak(self, event: Mapping[str, Any]) -> None:
        number = str(event["ticket"]["number"])
        counter = self.counter_label(event)
        tokens = announcement_tokens(number, counter, self.pack, self.mode, self.repeat,
                                     recall=event["type"] == "ticket_recalled", chime=self.chime)
        wav = render_announcement(tokens, self.pack, fallback=self.fallback)
        self.backend.play(wav, f"{event.get('seq')}_{number}_counter{counter}")
        self.spoken += 1
