"""Spoken guidance: whole sentences through espeak-ng, played on a worker thread.

``say()`` never blocks: it leaves the prompt in a one-place mailbox, so a newer prompt replaces
one not yet started (a citizen who taps quickly hears the current screen, not a backlog).
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from devices.voice.player import AplayBackend, AudioUnavailable, NullBackend, PlaybackBackend
from devices.voice.tts import synthesize
from devices.voice.wavio import duration_s, wav_bytes
from ui_kit.sound import app_backend

log = logging.getLogger(__name__)

Synth = Callable[[str, str], bytes]
ESPEAK_VOICES = {"vi": "vi", "en": "en"}  # other languages are read with the Vietnamese voice
SPEED = 135  # words per minute: unhurried, for elderly listeners
CACHE = 32


def espeak_wav(text: str, lang: str) -> bytes:
    """One prompt as a WAV file (bytes)."""
    fmt, frames = synthesize(text, ESPEAK_VOICES.get(lang, "vi"), speed=SPEED)
    return wav_bytes(fmt, frames)


class InterruptiblePlayer:
    """``aplay`` / ``paplay`` that stops as soon as ``should_stop()`` is true: the next screen's
    prompt must not wait for the previous one to finish."""

    name = "interruptible"

    def __init__(self, inner: AplayBackend) -> None:
        self.inner = inner
        self.should_stop: Callable[[], bool] = lambda: False

    def probe(self) -> None:
        """As the wrapped player."""
        self.inner.probe()

    def play(self, wav: bytes, label: str) -> None:
        """Play until the end or an interruption."""
        with tempfile.NamedTemporaryFile(prefix="qms-kiosk-", suffix=".wav") as f:
            f.write(wav)
            f.flush()
            deadline = time.monotonic() + duration_s(wav) + 10
            proc = subprocess.Popen(self.inner.command_line(f.name),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while proc.poll() is None:
                time.sleep(0.05)
                if self.should_stop() or time.monotonic() > deadline:
                    proc.terminate()
                    proc.wait(2)


def pick_backend(specs: tuple[str, ...] = ("aplay", "paplay", "kivy")) -> PlaybackBackend:
    """The first audio backend that works here (aplay/paplay made interruptible), else a silent one."""
    for spec in specs:
        try:
            backend = app_backend(spec)
            backend.probe()
            return InterruptiblePlayer(backend) if isinstance(backend, AplayBackend) else backend
        except (AudioUnavailable, ValueError, OSError) as exc:
            log.info("audio backend %s unusable: %s", spec, exc)
    log.warning("no audio output: voice guidance is silent")
    return NullBackend()


class Speaker:
    """``SpeakerPort``: the newest prompt wins; synthesis and playback off the UI thread."""

    def __init__(self, backend: PlaybackBackend | Callable[[], PlaybackBackend] | None = None,
                 synth: Synth = espeak_wav) -> None:
        self._backend_source = backend or pick_backend
        self.backend: PlaybackBackend | None = None
        self.synth = synth
        self.spoken: list[str] = []  # texts played, newest last (bounded; for tests and the admin screen)
        self._pending: tuple[str, str, str | None] | None = None
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._cond = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="kiosk-voice", daemon=True)
        self._thread.start()

    def say(self, text: str, lang: str, clip: str | None = None) -> None:
        """Speak ``text`` soon: replaces a prompt still waiting (and cuts one being played by aplay).

        ``clip``: a recorded WAV of the prompt, played instead of the synthesized text.
        """
        with self._cond:
            self._pending = (text, lang, clip)
            self._cond.notify()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is pending or playing (tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the worker (a prompt being played finishes)."""
        with self._cond:
            self._stopped = True
            self._pending = None
            self._cond.notify_all()
        self._thread.join(timeout)

    def _wav(self, text: str, lang: str) -> bytes:
        key = (text, lang)
        wav = self._cache.get(key)
        if wav is None:
            wav = self._cache[key] = self.synth(text, lang)
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return wav

    def _run(self) -> None:
        if self.backend is None:
            source = self._backend_source
            self.backend = source if hasattr(source, "play") else source()  # type: ignore[operator,assignment]
        if isinstance(self.backend, InterruptiblePlayer):
            self.backend.should_stop = lambda: self._pending is not None or self._stopped
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._stopped)
                if self._stopped:
                    return
                text, lang, clip = self._pending  # type: ignore[misc]
                self._pending = None
                self._busy = True
            try:
                assert self.backend is not None
                wav = Path(clip).read_bytes() if clip else self._wav(text, lang)
                self.backend.play(wav, f"kiosk-{lang}")
                self.spoken = [*self.spoken[-19:], text]
            except Exception:
                log.exception("prompt not spoken: %r", text)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


class SilentSpeaker:
    """``SpeakerPort`` for ``--no-voice`` / ``kiosk.voice: false``: remembers, says nothing."""

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def say(self, text: str, lang: str, clip: str | None = None) -> None:
        """Keep the text only."""
        self.spoken = [*self.spoken[-19:], text]

    def stop(self, timeout: float = 2.0) -> None:
        """Nothing to stop."""
