"""The citizen's satisfaction rating (1..5) after Xong: ask, send ``rate``, thank, time out.

Used by the counter pad (shown after Xong) and by the separate rating tablet (``qms rating``),
which starts it from ``event/ticket_completed`` of its counter.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from typing import Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, OptionProperty, StringProperty

from mqtt_bus.contract import ErrorCode
from queue_core.rating import RATING_LABELS, rating_label

from .desk import Desk
from .viewmodel import Bus

log = logging.getLogger(__name__)

SCORES = tuple(sorted(RATING_LABELS))


class RatingViewModel(EventDispatcher):
    """Phases: ``idle`` → ``ask`` (faces, countdown) → ``sending`` → ``thanks`` → ``idle``.

    ``on_finished(score)`` fires when it goes back to idle (score 0: skipped or timed out).
    """

    phase = OptionProperty("idle", options=("idle", "ask", "sending", "thanks"))
    ticket = ObjectProperty(None, allownone=True)
    lang = StringProperty("vi")
    remaining = NumericProperty(0)  # whole seconds left to rate
    score = NumericProperty(0)  # the score given (0: none)
    recorded = BooleanProperty(False)  # the hub stored it

    __events__ = ("on_finished",)

    def __init__(self, desk: Desk, bus: Bus | None = None, lang: str = "vi", *, timeout_s: float = 20.0,
                 thanks_s: float = 4.0, request_timeout: float = 3.0, retries: int = 2, **kw: Any) -> None:
        super().__init__(**kw)
        self.desk, self.bus = desk, bus
        self.default_lang = self.lang = lang
        self.timeout_s, self.thanks_s = timeout_s, thanks_s
        self.request_timeout, self.retries = request_timeout, retries
        self._deadline = 0.0
        self._ticker: Any = None
        self._thanks: Any = None
        self._seen_seq = -1

    # -- texts -------------------------------------------------------------------------------------
    def label(self, score: int) -> str:
        """The Vietnamese (or ticket language) label of a score."""
        return rating_label(score, self.lang)

    # -- flow --------------------------------------------------------------------------------------
    def start(self, ticket: dict[str, Any]) -> None:
        """Ask the citizen of ``ticket`` (a served TICKET payload), in the ticket's language."""
        self._cancel()
        lang = str(ticket.get("lang") or "")
        self.lang = lang if lang in self.desk.site.languages else self.default_lang
        self.ticket, self.score, self.recorded = ticket, 0, False
        self.phase = "ask"
        if self.timeout_s > 0:
            self._deadline = time.monotonic() + self.timeout_s
            self.remaining = math.ceil(self.timeout_s)
            self._ticker = Clock.schedule_interval(self.tick, min(0.25, self.timeout_s / 4))

    def tick(self, *_: Any) -> None:
        """Count down; time is up → skip."""
        left = self._deadline - time.monotonic()
        self.remaining = max(0, math.ceil(left))
        if left <= 0 and self.phase == "ask":
            log.info("rating of %s timed out", (self.ticket or {}).get("number"))
            self.skip()

    def rate(self, score: int) -> bool:
        """The citizen touched a face: send ``rate`` (False when not asking or no bus)."""
        if self.phase != "ask" or score not in SCORES or not self.ticket:
            return False
        self._cancel()
        self.score, self.phase = score, "sending"
        if self.bus is None:
            self._thank()
            return True
        args = {"ticket": self.ticket["id"], "score": score}
        try:
            self.bus.request("rate", args, self._answered, request_id=uuid.uuid4().hex,
                             timeout=self.request_timeout, retries=self.retries)
        except Exception as exc:
            log.warning("rating not sent: %s", exc)
            self._thank()
        return True

    def _answered(self, answer: Any) -> None:
        if isinstance(answer, Exception):
            log.warning("rating of %s lost: %s", (self.ticket or {}).get("id"), answer)
        elif answer.get("ok") or (answer.get("error") or {}).get("code") == ErrorCode.ALREADY_RATED:
            self.recorded = True
        else:
            log.warning("rating refused: %s", answer.get("error"))
        self._thank()

    def _thank(self) -> None:
        if self.phase == "idle":
            return
        self.phase = "thanks"
        self._thanks = Clock.schedule_once(lambda _dt: self._finish(), self.thanks_s)

    def skip(self) -> None:
        """No rating (Bỏ qua or time out)."""
        if self.phase != "idle":
            self.score = 0
            self._finish()

    def _finish(self) -> None:
        self._cancel()
        self.phase = "idle"
        self.dispatch("on_finished", int(self.score))

    def _cancel(self) -> None:
        for ev in (self._ticker, self._thanks):
            if ev is not None:
                ev.cancel()
        self._ticker = self._thanks = None

    # -- the rating tablet -------------------------------------------------------------------------
    def on_ticket_completed(self, _topic: str, event: dict[str, Any]) -> None:
        """``event/ticket_completed``: ask when it is our counter's citizen (each event once)."""
        seq = event.get("seq")
        ticket = event.get("ticket") or {}
        if event.get("counter") != self.desk.counter_id or ticket.get("status") != "done":
            return
        if event.get("reason") == "expired" or ticket.get("rating") is not None:
            return
        if isinstance(seq, int):
            if seq <= self._seen_seq:
                return  # delivered again after a hub restart
            self._seen_seq = seq
        if self.ticket and self.ticket.get("id") == ticket.get("id") and self.phase != "idle":
            return
        self.start(ticket)

    def on_finished(self, score: int) -> None:
        """Default handler."""
