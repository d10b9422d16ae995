"""The board's view-model: Kivy properties computed from the pure reducer's ``BoardState``.

Feed it on the UI thread (``UiBus`` does): :meth:`BoardViewModel.apply_state`,
:meth:`~BoardViewModel.apply_event`, :meth:`~BoardViewModel.set_connected`,
:meth:`~BoardViewModel.set_hub_status`. A call that is news fires ``on_call(event)`` and
makes the current call flash for ``flash_seconds``. No widgets here: tests use it without a window.

Missed events: when ``fetch_events`` is set (the MQTT glue sets it to send ``events_since``), a gap
in ``seq`` makes the view-model hold later events, ask for the missing ones and apply everything in
``seq`` order when :meth:`~BoardViewModel.events_fetched` gets the answer (:mod:`.catchup`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, DictProperty, ListProperty, NumericProperty, StringProperty

from ui_kit.i18n import tr as _tr

from . import board as b
from . import catchup
from .settings import DisplaySettings

log = logging.getLogger(__name__)

@lru_cache(maxsize=512)
def tr(key: str, lang: str, **values: Any) -> str:
    """:func:`ui_kit.i18n.tr`, memoised (the board asks for the same few texts on every update)."""
    return _tr(key, lang, **values)


FLASH_SECONDS = 6.0
FLASH_PERIOD = 0.5
LABEL_KEYS = ("calling", "recalling", "no_calls", "counters.title", "counters.counter", "counters.number",
              "counters.status", "recent.title", "recent.number", "recent.counter", "waiting.title")


class BoardViewModel(EventDispatcher):
    """Everything the hall display shows, as bindable properties."""

    __events__ = ("on_call", "on_event")

    lang = StringProperty("vi")
    texts = DictProperty()  # fixed labels in ``lang`` (key without the "display." prefix)
    site_name = StringProperty("")
    date_text = StringProperty("")
    time_text = StringProperty("")
    notice = StringProperty("")
    hero_number = StringProperty("")  # "" until the first call
    hero_caption = StringProperty("")
    hero_counter = StringProperty("")
    hero_seq = NumericProperty(-1)
    flashing = BooleanProperty(False)  # a fresh call is being shown
    flash_on = BooleanProperty(False)  # the blinking phase while flashing
    counters = ListProperty()  # [{"id", "name", "short", "number", "status", "status_text"}]
    recent = ListProperty()  # [{"number", "counter", "recall", "note"}]
    waiting = ListProperty()  # [{"id", "name", "prefix", "waiting"}]
    connected = BooleanProperty(False)
    hub_online = BooleanProperty(True)
    alert = StringProperty("")  # "" when all is well
    hero_voice = StringProperty("")  # "speaking" / "waiting" / "": what the announcer does with the hero call
    hero_voice_text = StringProperty("")
    voice_speaking = ListProperty()  # seqs of the calls being spoken now
    voice_waiting = ListProperty()  # seqs of the calls waiting to be spoken
    marks = StringProperty("")  # small warnings: a printer out of paper or offline, this display's audio silent

    def __init__(self, settings: DisplaySettings, lang: str = "vi", *, flash_seconds: float = FLASH_SECONDS,
                 now: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.flash_seconds = flash_seconds
        self._now = now or settings.now
        self.board = b.BoardState(history=settings.history)
        self.fetch_events: Callable[[int], None] | None = None  # ask the hub for events after a seq
        self.fetched_count = 0  # missed events recovered from the hub (for tests and logs)
        self._flash_ev: Any = None
        self.devices: dict[str, dict[str, Any]] = {}  # retained state/device payloads by device id
        self.audio: dict[str, str] = {"state": "off", "detail": ""}
        self._flash_end: Any = None
        self._clock_ev: Any = None
        self._today = self._now().date()
        self.bind(lang=lambda *_: self.refresh())
        self.lang = lang
        self.refresh()

    # ------------------------------------------------------------------ inputs (UI thread)
    def apply_state(self, kind: str, payload: dict[str, Any]) -> None:
        """A retained ``state/counter`` or ``state/service`` payload."""
        self._set(b.apply_state(self.board, kind, payload))
        self._fetch_if_needed()

    def apply_event(self, event: dict[str, Any]) -> None:
        """An ``event/{type}`` payload; a call that is news flashes and fires ``on_call``.

        After a gap (and when ``fetch_events`` is set) the event waits until the missed ones arrive.
        """
        board, ready = catchup.receive_event(self.board, event) if self.fetch_events else (self.board, (event,))
        self._play(board, ready)
        self._fetch_if_needed()

    def events_fetched(self, answer: dict[str, Any] | Exception) -> None:
        """The hub's answer to ``events_since`` (or the exception that stands for no answer)."""
        result = answer.get("result") if isinstance(answer, dict) and answer.get("ok") else None
        if isinstance(result, dict):
            board, ready, missed = catchup.fetched(self.board, result.get("events"), result.get("last_seq"),
                                                   result.get("more") is True)
            if missed:
                log.info("fetched %d missed event(s) after seq %s", len(missed), self.board.fetching)
        else:
            log.warning("could not fetch missed events (%s); the board follows the retained state",
                        answer.get("error") if isinstance(answer, dict) else answer)
            board, ready = catchup.fetch_failed(self.board)
            missed = frozenset()
        self.fetched_count += len(missed)
        self._play(board, ready, missed)
        self._fetch_if_needed()

    def _play(self, board: b.BoardState, events: tuple[dict[str, Any], ...],
              missed: frozenset[int] = frozenset()) -> None:
        board, calls = catchup.play(board, events, self._now(), self.settings.announce_missed_s, missed)
        self._set(board)
        for event in events:
            self.dispatch("on_event", event)
        for event in calls:
            if self.hero_seq == event["seq"]:  # the newest call of today (an old replay does not flash)
                self.flash()
            self.dispatch("on_call", event)

    def _fetch_if_needed(self) -> None:
        after = catchup.fetch_needed(self.board) if self.fetch_events else None
        if after is not None and self.fetch_events is not None:
            self._set(catchup.start_fetch(self.board, after))
            self.fetch_events(after)

    def set_connected(self, connected: bool) -> None:
        """The broker connection went up or down."""
        self._set(b.set_connected(self.board, connected))
        self._fetch_if_needed()

    def set_hub_status(self, payload: dict[str, Any]) -> None:
        """The hub's retained ``status/hub`` payload."""
        self._set(b.set_hub_status(self.board, payload))

    def on_call(self, event: dict[str, Any]) -> None:
        """Default handler of the ``on_call`` event (bind to announce)."""

    def on_event(self, event: dict[str, Any]) -> None:
        """Default handler of the ``on_event`` event: every event applied, in seq order (the announcer
        watches them to drop calls that are no longer current)."""

    def set_voice(self, speaking: tuple[Any, ...] | list[Any], waiting: tuple[Any, ...] | list[Any]) -> None:
        """What the announcer speaks now and what waits (seqs); the board marks those calls."""
        if list(speaking) != self.voice_speaking or list(waiting) != self.voice_waiting:
            self.voice_speaking, self.voice_waiting = list(speaking), list(waiting)
            self.refresh()

    def set_device(self, payload: dict[str, Any], device: str | None = None) -> None:
        """A retained ``state/device/{id}`` payload (a printer's paper and link)."""
        if not isinstance(payload, dict):
            return
        ident = device or _device_id(payload)
        if ident:
            self.devices[ident] = payload
            self._refresh_marks()

    def set_audio(self, state: str, detail: str = "") -> None:
        """This display's own audio state (``ok`` / ``loading`` / ``no_device`` / ``no_pack`` / ``off``)."""
        self.audio = {"state": state, "detail": detail}
        self._refresh_marks()

    # ------------------------------------------------------------------ clock and flashing
    def start(self) -> None:
        """Update the date and time every second."""
        self.tick()
        if self._clock_ev is None:
            self._clock_ev = Clock.schedule_interval(self.tick, 1.0)

    def stop(self) -> None:
        """Stop the timers."""
        for ev in (self._clock_ev, self._flash_ev, self._flash_end):
            if ev is not None:
                ev.cancel()
        self._clock_ev = self._flash_ev = self._flash_end = None

    def tick(self, *_: Any) -> None:
        """Refresh the date and time texts (and everything at midnight: yesterday's calls go)."""
        now = self._now()
        if now.date() != self._today:
            self._today = now.date()
            self.refresh()
            return
        self.time_text = now.strftime("%H:%M")
        weekday = tr(f"display.weekday.{now.weekday()}", self.lang)
        self.date_text = tr("display.date", self.lang, weekday=weekday, day=now.day, month=now.month,
                            year=now.year)

    def flash(self) -> None:
        """Blink the current call for ``flash_seconds``."""
        self.flashing = self.flash_on = True
        if self._flash_ev is None:
            self._flash_ev = Clock.schedule_interval(self._blink, FLASH_PERIOD)
        if self._flash_end is not None:
            self._flash_end.cancel()
        self._flash_end = Clock.schedule_once(self._end_flash, self.flash_seconds)

    def _blink(self, *_: Any) -> None:
        self.flash_on = not self.flash_on

    def _end_flash(self, *_: Any) -> None:
        if self._flash_ev is not None:
            self._flash_ev.cancel()
        self._flash_ev = self._flash_end = None
        self.flashing = self.flash_on = False

    # ------------------------------------------------------------------ derived properties
    def _set(self, board: b.BoardState) -> None:
        if board is not self.board:
            self.board = board
            self.refresh()

    def refresh(self) -> None:
        """Recompute every shown property from the board and the language."""
        lang, s, board = self.lang, self.settings, self.board
        self.texts = {k: tr(f"display.{k}", lang) for k in LABEL_KEYS}
        self.site_name = s.site.center_name(lang)
        self.notice = s.notice_text(lang)
        self.tick()
        calls = self.todays_calls()
        hero = next((c for c in calls if b.is_current(board, c)), None)
        self._refresh_hero(hero)
        if hero is None and calls:  # called earlier, but no counter is calling anyone now
            self.hero_caption = tr("display.no_current", lang)
        others = [c for c in calls if c is not hero]
        ids = list(dict.fromkeys([*s.site.counter_ids, *sorted(board.counters)]))
        rows = []
        for ident in ids:
            row = board.counters.get(ident)
            status = row.status if row is not None and row.status_seq >= 0 else ""
            serving = (row.number if row and status not in ("paused", "closed") else None) or ""
            shown = "unstaffed" if status == "open" and row is not None and not row.staffed else status
            rows.append({"id": ident, "name": s.counter_name(ident, lang, row.name if row else ""),
                         "short": s.counter_short(ident, lang), "number": serving,
                         "status": status, "status_text": tr(f"display.status.{shown}", lang) if status else ""})
        self.counters = rows
        self.recent = [{"number": c.number, "counter": s.counter_short(c.counter, lang) if c.counter else "",
                        "recall": c.recall, "voice": self._voice_of(c),
                        "note": " · ".join(t for t in (tr("display.recent.recall", lang) if c.recall else "",
                                                       self._voice_text(c)) if t)}
                       for c in others[:board.history]]
        sids = list(dict.fromkeys([*s.site.service_ids, *sorted(board.services)]))
        self.waiting = [{"id": sid, "name": s.site.service_name(sid, lang, svc.name if svc else ""),
                         "prefix": (svc.prefix if svc else "") or s.site.prefix(sid),
                         "waiting": svc.waiting if svc else None}
                        for sid in sids for svc in [board.services.get(sid)]]
        self.connected = board.connected
        self.hub_online = board.hub_online is not False
        if not board.connected:
            self.alert = tr("display.disconnected", lang)
        else:
            self.alert = "" if self.hub_online else tr("display.hub_offline", lang)
        self._refresh_marks()

    def _voice_of(self, call: b.Call) -> str:
        if call.seq is not None and call.seq in self.voice_speaking:
            return "speaking"
        return "waiting" if call.seq is not None and call.seq in self.voice_waiting else ""

    def _voice_text(self, call: b.Call) -> str:
        voice = self._voice_of(call)
        return tr(f"display.voice.{voice}", self.lang) if voice else ""

    def _refresh_marks(self) -> None:
        lang, marks = self.lang, []
        for ident in sorted(self.devices):
            p = self.devices[ident]
            state = p.get("state")
            if p.get("kind", "printer") == "printer" and state in ("paper_out", "offline", "error"):
                marks.append(tr(f"display.mark.printer_{state}", lang, device=ident))
        if self.audio.get("state") in ("no_device", "no_pack"):
            marks.append(tr(f"display.mark.audio_{self.audio['state']}", lang))
        self.marks = "\n".join(marks)

    def todays_calls(self) -> list[b.Call]:
        """The board's calls made today (the center's date), newest first."""
        return [c for c in self.board.calls if b.call_day(c, self.settings.tz) in (self._today, None)]

    def _refresh_hero(self, call: b.Call | None) -> None:
        lang = self.lang
        if call is None:
            self.hero_number, self.hero_counter, self.hero_seq = "", "", -1
            self.hero_voice = self.hero_voice_text = ""
            self.hero_caption = tr("display.no_calls", lang)
            return
        row = self.board.counters.get(call.counter or "")
        name = self.settings.counter_name(call.counter, lang, row.name if row else "") if call.counter else ""
        self.hero_number = call.number
        self.hero_counter = tr("display.go_to", lang, counter=name) if name else ""
        self.hero_caption = tr("display.recalling" if call.recall else "display.calling", lang)
        self.hero_seq = -1 if call.seq is None else call.seq
        self.hero_voice = self._voice_of(call)
        self.hero_voice_text = self._voice_text(call)


def _device_id(payload: dict[str, Any]) -> str | None:
    for key in ("device", "client_id", "id"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    return None
