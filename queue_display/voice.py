"""Announcer wiring: load the voice pack in the background, then speak the board's fresh calls.

The board decides what is news (:func:`queue_display.board.fresh_call`); the announcer also drops
a ``seq`` it has spoken. Without a pack or an audio device: one clear log line, the board keeps
working. Calls made while the pack is still loading are kept (the last few) and spoken when ready.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from devices.voice import Announcer, PackError, PlaybackBackend, VoicePack
from devices.voice.tts import espeak_binary
from ui_kit.sound import app_backend

from .settings import DisplaySettings, spoken_counter

log = logging.getLogger(__name__)

PENDING_MAX = 3


class Voice:
    """Speaks ``ticket_called`` / ``ticket_recalled`` events with the site's repeat and reading mode."""

    def __init__(self, settings: DisplaySettings, backend: str | PlaybackBackend,
                 load_pack: Callable[[], VoicePack]) -> None:
        self.settings = settings
        self.backend = app_backend(backend) if isinstance(backend, str) else backend
        self._load_pack = load_pack
        self.announcer: Announcer | None = None
        self.failed: str | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._pending: deque[Mapping[str, Any]] = deque(maxlen=PENDING_MAX)
        self._thread: threading.Thread | None = None
        #: set by the display: is a waiting call still its counter's (the board's view); what is spoken/waits;
        #: the audio state changed (both callbacks run on the announcer's threads)
        self.is_current: Callable[[Mapping[str, Any]], bool] | None = None
        self.on_voice: Callable[[tuple[Any, ...], tuple[Any, ...]], None] | None = None
        self.on_audio: Callable[[dict[str, str]], None] | None = None

    def audio_status(self) -> dict[str, str]:
        """``{"state": "ok" | "loading" | "no_device" | "no_pack", "detail": str}`` for the retained status."""
        if self.failed is not None:
            return {"state": "no_pack", "detail": self.failed}
        if self.announcer is None:
            return {"state": "loading", "detail": ""}
        if not self.announcer.enabled:
            return {"state": "no_device", "detail": self.announcer.unavailable or "no audio device"}
        return {"state": "ok", "detail": f"{self.announcer.pack.name}, {self.announcer.backend.name}"}

    def _audio_changed(self) -> None:
        if self.on_audio is not None:
            try:
                self.on_audio(self.audio_status())
            except Exception:
                log.exception("voice: audio status callback failed")

    def counter_label(self, event: Mapping[str, Any]) -> str | None:
        """What is said for the event's counter: its id digits, else the number in its name."""
        counter = event.get("counter")
        if not isinstance(counter, str) or not counter:
            return None
        return spoken_counter(counter, self.settings.counter_name(counter, "vi"))

    def start(self) -> Voice:
        """Load the pack and start the announcer in a background thread (returns at once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._prepare, name="voice-pack", daemon=True)
            self._thread.start()
        return self

    def _prepare(self) -> None:
        try:
            pack = self._load_pack()
            missing = pack.missing()
            if missing and espeak_binary() is None:
                raise PackError(f"voice pack {pack.name!r} ({pack.directory}) lacks {len(missing)} clip(s) "
                                f"({', '.join(missing[:3])}…) and espeak-ng is not installed to build or speak them")
            if missing:
                log.warning("voice pack %s lacks %d clip(s) (%s…); espeak-ng speaks those calls",
                            pack.name, len(missing), ", ".join(missing[:3]))
            announcer = Announcer(pack, self.backend, mode=self.settings.voice_mode,
                                  repeat=self.settings.announce_repeat, counter_label=self.counter_label,
                                  policy=self.settings.announce_policy, is_current=self._is_current,
                                  on_change=self._voice_changed)
            announcer.start()
        except (PackError, OSError, ValueError) as exc:
            self.failed = str(exc)
            log.warning("voice pack unavailable: announcements disabled, the board keeps working — %s", exc)
            self._ready.set()
            self._audio_changed()
            return
        with self._lock:
            self.announcer = announcer
            pending, self._pending = list(self._pending), deque(maxlen=PENDING_MAX)
        for event in pending:
            announcer.announce(event)
        self._ready.set()
        self._audio_changed()

    def _is_current(self, event: Mapping[str, Any]) -> bool:
        return True if self.is_current is None else self.is_current(event)

    def _voice_changed(self, speaking: tuple[Any, ...], waiting: tuple[Any, ...]) -> None:
        if self.on_voice is not None:
            self.on_voice(speaking, waiting)

    def observe(self, event: Mapping[str, Any]) -> None:
        """Any event of the site (a counter moving on makes its waiting call stale); never raises."""
        announcer = self.announcer
        if announcer is not None:
            announcer.observe(event)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the pack is loaded (or failed)."""
        return self._ready.wait(timeout)

    def announce(self, event: Mapping[str, Any]) -> bool:
        """Speak ``event`` (never raises, never blocks); False when it cannot be spoken."""
        with self._lock:
            if self.announcer is None:
                if self.failed is None:
                    self._pending.append(event)
                return False
            announcer = self.announcer
        return announcer.announce(event)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything queued was spoken."""
        return self.announcer.wait_idle(timeout) if self.announcer else True

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the current announcement and stop."""
        if self._thread is not None:
            self._thread.join(timeout)
        if self.announcer is not None:
            self.announcer.stop(timeout)
