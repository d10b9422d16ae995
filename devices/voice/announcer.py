"""The announcer: one worker thread speaks called tickets in order, never twice, never overlapping."""

from __future__ import annotations

import collections
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

from mqtt_bus.contract import EventType

from .pack import VoicePack
from .player import NO_AUDIO_HINT, AplayBackend, AudioUnavailable, NullBackend, PlaybackBackend
from .render import render_announcement
from .sequence import announcement_tokens

log = logging.getLogger(__name__)

SPOKEN_EVENTS = (EventType.TICKET_CALLED, EventType.TICKET_RECALLED)


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
            if event.get("type") not in SPOKEN_EVENTS or not (event.get("ticket") or {}).get("number"):
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
                                     recall=event["type"] == EventType.TICKET_RECALLED, chime=self.chime)
        wav = render_announcement(tokens, self.pack, fallback=self.fallback)
        self.backend.play(wav, f"{event.get('seq')}_{number}_counter{counter}")
        self.spoken += 1
