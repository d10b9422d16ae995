"""The announcer: one worker thread speaks called tickets, never twice, never overlapping.

Two policies (config ``display.announce_policy``):

- ``smart`` (default): a bounded, current queue. Right before each clip is played, calls that are
  no longer current are dropped (their counter called someone else, completed, transferred, marked a
  no-show or paused; see :meth:`Announcer.observe`). A lone call gets the chime and is said
  ``repeat`` times; when several calls wait they are said once each, in order, in one sentence
  with one chime ("Kính mời các số: A007 quầy 1, gọi lại B003 quầy 2"). A recall is always said.
- ``fifo``: every call in arrival order, chime and repeats each time, nothing dropped (the old way).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mqtt_bus.contract import EventType

from .pack import CHIME, VoicePack
from .player import NO_AUDIO_HINT, AplayBackend, AudioUnavailable, NullBackend, PlaybackBackend
from .render import CHIME_GAP_MS, read_frames, render_announcement, render_tokens
from .sequence import PAUSE, announcement_tokens, group_parts
from .wavio import duration_s, silence, wav_bytes

log = logging.getLogger(__name__)

SPOKEN_EVENTS = (EventType.TICKET_CALLED, EventType.TICKET_RECALLED)
#: Events after which a counter's earlier call is no longer current.
MOVES_ON = (*SPOKEN_EVENTS, EventType.TICKET_COMPLETED, EventType.TICKET_NO_SHOW, EventType.TICKET_TRANSFERRED,
            EventType.COUNTER_PAUSED)
POLICIES = ("smart", "fifo")
#: The chime is played again only after the speaker was quiet this long (a backlog gets one chime).
CHIME_QUIET_S = 2.0
#: At most this many calls wait for one chime (a longer backlog follows without one).
GROUP_MAX = 6
#: Silence between the calls of a backlog sentence.
GROUP_SEP_MS = 150
#: Silence between the words of a backlog sentence (read briskly; clips keep 15 ms margins of their own).
GROUP_GAP_MS = 50
#: Silence before a repetition of a lone call.
REPEAT_PAUSE = PAUSE


@dataclass
class _Item:
    event: Mapping[str, Any]
    seq: Any
    counter: str | None
    said: int = 0

    @property
    def recall(self) -> bool:
        return self.event.get("type") == EventType.TICKET_RECALLED

    @property
    def number(self) -> str:
        return str(self.event["ticket"]["number"])


class Announcer:
    """Speaks ``ticket_called`` / ``ticket_recalled`` events through one worker thread.

    :meth:`announce` and :meth:`observe` are thread-safe, never raise and never block; an event whose
    ``seq`` was already seen is ignored. ``on_change(speaking, waiting)`` (seqs) is called from the
    worker whenever what is spoken or waiting changes (the board shows it). ``started`` maps a spoken
    call's seq to the ``clock()`` time its own words began (after any chime). ``policy`` is ``fifo``
    unless given; the display passes ``display.announce_policy`` (default ``smart``). :meth:`step` plays
    one clip; a driver without the worker thread (``bench/bench_voice.py``) calls :meth:`probe` then it.
    """

    def __init__(self, pack: VoicePack, backend: PlaybackBackend | None = None, *, mode: str = "words",
                 repeat: int = 1, chime: bool = True, fallback: bool = True,
                 counter_label: Callable[[Mapping[str, Any]], str | None] | None = None,
                 remember: int = 10_000, policy: str = "fifo", group_max: int = GROUP_MAX,
                 is_current: Callable[[Mapping[str, Any]], bool] | None = None,
                 on_change: Callable[[tuple[Any, ...], tuple[Any, ...]], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if policy not in POLICIES:
            raise ValueError(f"announce policy must be one of {POLICIES}, got {policy!r}")
        self.pack, self.mode, self.repeat, self.chime, self.fallback = pack, mode, repeat, chime, fallback
        self.policy, self.group_max = policy, max(int(group_max), 1)
        self.backend: PlaybackBackend = backend or AplayBackend()
        self.counter_label = counter_label or (lambda e: None if e.get("counter") is None else str(e["counter"]))
        self.is_current, self.on_change, self.clock = is_current, on_change, clock
        self.enabled = True
        self.unavailable: str | None = None  # why there is no audio (when not enabled)
        self.spoken = 0  # calls spoken (each once, however many repeats)
        self.dropped = 0  # calls dropped as no longer current
        self.started: collections.OrderedDict[Any, float] = collections.OrderedDict()
        self._seen: collections.OrderedDict[Any, None] = collections.OrderedDict()
        self._remember = remember
        self._moved: dict[str, Any] = {}  # counter → seq of its newest event that ends earlier calls
        self._items: list[_Item] = []
        self._speaking: tuple[Any, ...] = ()
        self._busy = False
        self._stopping = False
        self._last_end = float("-inf")
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._can_group = False
        self._in_group = False  # the last clip was part of a backlog sentence

    # ------------------------------------------------------------------ inputs
    def start(self) -> None:
        """Probe the backend (one log line and silence if there is no audio) and start the worker."""
        self.probe()
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
            self._thread.start()

    def probe(self) -> None:
        """Check the backend and the pack's backlog phrases (:meth:`start` does it; a manual driver calls it)."""
        try:
            self.backend.probe()
        except AudioUnavailable as exc:
            log.warning("no audio device: announcements disabled — %s (%s)", NO_AUDIO_HINT, exc)
            self.backend, self.enabled, self.unavailable = NullBackend(), False, f"{exc}; {NO_AUDIO_HINT}"
        try:
            parts = group_parts([("A1", "1", False), ("A1", "1", True)], self.pack, self.mode)
            self._can_group = self.pack.has_clips([t for part in parts for t in part])
        except (KeyError, ValueError):
            self._can_group = False

    def announce(self, event: Mapping[str, Any]) -> bool:
        """Queue an event for speaking; False when ignored (other type, repeat ``seq``, malformed)."""
        try:
            if event.get("type") not in SPOKEN_EVENTS or not (event.get("ticket") or {}).get("number"):
                return False
            seq = event.get("seq")
            with self._cond:
                if seq is not None:
                    if seq in self._seen:
                        return False
                    self._seen[seq] = None
                    while len(self._seen) > self._remember:
                        self._seen.popitem(last=False)
                self._observe(event)
                if not self.enabled:
                    return False
                self._items.append(_Item(event, seq, _counter(event)))
                self._cond.notify_all()
            self._changed()
            return True
        except Exception:  # the board must keep working whatever arrives
            log.exception("announcer: cannot queue event %r", event)
            return False

    def observe(self, event: Mapping[str, Any]) -> None:
        """Any event of the site: one that moves a counter on makes its waiting calls stale (never raises)."""
        try:
            with self._cond:
                self._observe(event)
        except Exception:
            log.exception("announcer: cannot observe event %r", event)

    def _observe(self, event: Mapping[str, Any]) -> None:
        counter, seq = _counter(event), event.get("seq")
        if counter is None or not isinstance(seq, int) or event.get("type") not in MOVES_ON:
            return
        self._moved[counter] = max(self._moved.get(counter, -1), seq)

    @property
    def waiting(self) -> tuple[Any, ...]:
        """Seqs of the calls waiting to be spoken, in order."""
        with self._lock:
            return tuple(i.seq for i in self._items if i.said == 0)

    @property
    def speaking(self) -> tuple[Any, ...]:
        """Seqs of the calls being spoken now."""
        return self._speaking

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been spoken (or dropped); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._items and not self._busy, timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then end the worker."""
        if self._thread is not None:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Announcer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the worker
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._items or self._stopping)
                if not self._items and self._stopping:
                    return
                self._busy = True
            try:
                self.step()
            except Exception as exc:
                log.error("announcement failed: %s", exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _stale(self, item: _Item) -> bool:
        if self.policy == "fifo":
            return False
        moved = self._moved.get(item.counter or "")
        if moved is not None and isinstance(item.seq, int) and moved > item.seq:
            return True
        if self.is_current is not None:
            try:
                return not self.is_current(item.event)
            except Exception:
                log.exception("announcer: is_current failed")
        return False

    def step(self) -> bool:
        """Play the next clip (a chime, one call, a repetition or a group); False when nothing waits."""
        with self._cond:
            kept = [i for i in self._items if not self._stale(i)]
            for item in self._items:
                if item not in kept:
                    self.dropped += 1
                    log.info("not announcing %s (seq %s): counter %s has moved on", item.number, item.seq,
                             item.counter)
            self._items = kept
            if not kept:
                self._in_group = False
                self._changed_locked(())
                return False
            plan, items = self._plan()
            self._in_group = plan in ("opener", "group")
        wav, offsets, label = self._render(plan, items)
        start = self.clock()
        for item, offset in zip(items, offsets, strict=True):
            if plan not in ("chime", "opener") and item.seq is not None and item.seq not in self.started:
                self.started[item.seq] = start + offset
                while len(self.started) > self._remember:
                    self.started.popitem(last=False)
        self._changed(() if plan == "opener" else tuple(i.seq for i in items))
        try:
            self.backend.play(wav, label)
        finally:
            self._last_end = self.clock()
            self._changed(())
        if plan not in ("chime", "opener", "again"):
            self.spoken += len(items)
        return True

    def _plan(self) -> tuple[str, list[_Item]]:
        """What to play next (lock held): removes what it takes from the queue."""
        items = self._items
        if self.policy == "fifo":
            return "full", [items.pop(0)]
        fresh = [i for i in items if i.said == 0]
        if fresh:
            self._items = fresh  # a backlog: calls already said are not repeated
            if self.clock() - self._last_end >= CHIME_QUIET_S:
                self._in_group = False  # the speaker was quiet: a new sentence
            if self.chime and self.clock() - self._last_end >= CHIME_QUIET_S:
                return "chime", fresh[: self.group_max]
            if (len(fresh) > 1 or self._in_group) and self._can_group:
                # the opening words, then one call per clip, so each is checked right before its words;
                # the clips follow each other with the sentence's pauses: it still sounds like one sentence
                if not self._in_group:
                    return "opener", fresh[: self.group_max]
                first = fresh[0]
                self._items = fresh[1:]
                return "group", [first]
            take = fresh[:1]
            first = take[0]
            first.said = 1
            if self.repeat <= 1 or len(fresh) > 1:
                self._items.remove(first)
            return "once", [first]
        first = items[0]
        first.said += 1
        if first.said >= self.repeat:
            items.remove(first)
        return "again", [first]

    def _render(self, plan: str, items: list[_Item]) -> tuple[bytes, list[float], str]:
        label = ".".join(f"{i.seq}_{i.number}_counter{self.counter_label(i.event)}" for i in items)
        if plan == "chime":
            return render_announcement([CHIME], self.pack, fallback=False), [0.0] * len(items), f"chime_{label}"
        if plan in ("opener", "group"):
            parts = group_parts([(i.number, self.counter_label(i.event), i.recall) for i in items], self.pack,
                                self.mode)
            # the pause after a part is at its end, so a call's words start with its clip
            tokens = parts[0] if plan == "opener" else parts[1]
            fmt, frames = read_frames(render_tokens(tokens, self.pack, gap_ms=GROUP_GAP_MS))
            wav = wav_bytes(fmt, frames + silence(fmt, GROUP_SEP_MS))
            return wav, [0.0] * len(items), (f"group_{label}" if plan == "opener" else label)
        item = items[0]
        tokens = announcement_tokens(item.number, self.counter_label(item.event), self.pack, self.mode,
                                     self.repeat if plan == "full" else 1, recall=item.recall,
                                     chime=self.chime and plan == "full")
        if plan == "again":
            tokens = [REPEAT_PAUSE, *tokens]
        wav = render_announcement(tokens, self.pack, fallback=self.fallback)
        words_at = 0.0
        if tokens and tokens[0] == CHIME:  # the call's words start after the chime
            words_at = clip_seconds(render_announcement([CHIME], self.pack, fallback=False)) + CHIME_GAP_MS / 1000
        return wav, [words_at], label

    def _changed(self, speaking: tuple[Any, ...] | None = None) -> None:
        with self._lock:
            self._changed_locked(speaking)

    def _changed_locked(self, speaking: tuple[Any, ...] | None = None) -> None:
        if speaking is not None:
            self._speaking = speaking
        if self.on_change is not None:
            waiting = tuple(i.seq for i in self._items if i.said == 0 and i.seq not in self._speaking)
            try:
                self.on_change(self._speaking, waiting)
            except Exception:
                log.exception("announcer: on_change failed")


def _counter(event: Mapping[str, Any]) -> str | None:
    counter = event.get("counter")
    return None if counter is None else str(counter)


def clip_seconds(wav: bytes) -> float:
    """Length of a rendered announcement (for the bench and logs)."""
    return duration_s(wav)
