"""Domain definitions (from the site config) and the mutable queue state.

Pure data: no I/O, no clock. Times are timezone-aware ``datetime`` values passed in by callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from typing import Any, Literal

NORMAL = "normal"
"""The priority kind of a citizen without priority."""


class TicketStatus(StrEnum):
    """Where a ticket is in its life: waiting → called → done | no_show."""

    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"
    NO_SHOW = "no_show"


FINAL_STATUSES = frozenset({TicketStatus.DONE, TicketStatus.NO_SHOW})


class CounterStatus(StrEnum):
    """Whether a counter takes citizens."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass(frozen=True)
class Period:
    """One opening period of a day, e.g. 07:30–11:30 (end exclusive)."""

    start: time
    end: time

    def contains(self, t: time) -> bool:
        """True when ``t`` falls inside the period."""
        return self.start <= t < self.end


@dataclass(frozen=True)
class Holiday:
    """Closed dates (a public holiday such as Tết): ``first``..``last`` inclusive, with an optional name."""

    first: date
    last: date
    name: str = ""

    def covers(self, day: date) -> bool:
        """True when ``day`` is one of the closed dates."""
        return self.first <= day <= self.last


@dataclass(frozen=True)
class OpeningHours:
    """Weekdays (0 = Monday) and the periods of each open day; holidays close a day, extra days open one."""

    weekdays: frozenset[int]
    periods: tuple[Period, ...]
    holidays: tuple[Holiday, ...] = ()
    extra_days: frozenset[date] = frozenset()  # working days outside ``weekdays`` (ngày làm bù)

    def holiday(self, day: date) -> Holiday | None:
        """The holiday that closes ``day``, if any."""
        return next((h for h in self.holidays if h.covers(day)), None)

    def is_open_day(self, day: date) -> bool:
        """True when ``day`` is a working day: not a holiday, and an open weekday or an extra working day."""
        if self.holiday(day) is not None:
            return False
        return day.weekday() in self.weekdays or day in self.extra_days

    def is_open(self, local: datetime) -> bool:
        """True when the local time falls inside an opening period of a working day."""
        if not self.is_open_day(local.date()):
            return False
        return any(p.contains(local.time()) for p in self.periods)

    def describe(self) -> str:
        """Human-readable periods, e.g. ``07:30–11:30, 13:30–17:00``."""
        return ", ".join(f"{p.start:%H:%M}–{p.end:%H:%M}" for p in self.periods)


@dataclass(frozen=True)
class ServiceDef:
    """A service (procedure group, lĩnh vực): its own ticket letter and number range."""

    id: str
    prefix: str
    name: str
    number_start: int = 1
    number_end: int = 999
    number_pad: int = 3
    wrap: bool = False
    daily_quota: int | None = None
    hours: OpeningHours | None = None
    procedures: tuple[str, ...] = ()

    def format_number(self, n: int) -> str:
        """The printed number, e.g. ``A007``."""
        return f"{self.prefix}{n:0{self.number_pad}d}"


@dataclass(frozen=True)
class CounterDef:
    """A counter (quầy) and the services it serves, in order of preference."""

    id: str
    name: str
    services: tuple[str, ...]
    initial_status: CounterStatus = CounterStatus.OPEN


PolicyKind = Literal["strict", "ratio", "ageing"]


@dataclass(frozen=True)
class PolicyDef:
    """How priority citizens are mixed with the others.

    - ``strict``: any priority citizen before any normal one.
    - ``ratio``: a waiting priority citizen is called first, then at most ``ratio_normal``
      normal calls follow at that counter before the next priority call, so neither class starves.
    - ``ageing``: the longest effective wait first, a priority citizen counting as having
      waited ``ageing_bonus_s`` seconds more.

    Within the class the policy picks, a counter calls its first (preferred) service first, unless
    the oldest of that class at the counter has waited ``preferred_max_wait_s``: then it goes first
    (0: first come, first served across the counter's services).
    """

    kind: PolicyKind = "strict"
    ratio_normal: int = 2
    ageing_bonus_s: int = 900
    preferred_max_wait_s: int = 1200


@dataclass(frozen=True)
class SiteDef:
    """Everything the queue core needs to know about a center."""

    site: str
    name: str
    tz: tzinfo
    services: dict[str, ServiceDef]
    counters: dict[str, CounterDef]
    priorities: tuple[str, ...] = ("elderly", "disabled", "pregnant")
    policy: PolicyDef = field(default_factory=PolicyDef)
    max_recalls: int = 2
    default_service_s: int = 300
    service_time_window: int = 20
    service_s: dict[str, int] = field(default_factory=dict)
    """Configured service time per procedure id or service id (used before there is history)."""
    staffed_window_s: int = 900
    """An open counter counts as staffed for estimates while signed in, serving, or this long after a call."""
    enforce_hours: bool = True
    hours: OpeningHours | None = None
    languages: tuple[str, ...] = ()  # the kiosk languages a ticket may carry; () = any short language code

    def service_hours(self, service_id: str) -> OpeningHours | None:
        """The service's own hours, else the center's."""
        return self.services[service_id].hours or self.hours

    def local_day(self, now: datetime) -> date:
        """The center's calendar day at ``now``."""
        return now.astimezone(self.tz).date()


@dataclass
class Ticket:
    """A citizen's ticket. Mutated only by the engine."""

    id: str
    number: str
    service: str
    day: date
    day_index: int
    priority: str
    issued_at: datetime
    queued_at: datetime
    status: TicketStatus = TicketStatus.WAITING
    procedure: str | None = None
    lang: str = "vi"
    called_at: datetime | None = None
    finished_at: datetime | None = None
    counter: str | None = None
    call_count: int = 0
    transfers: int = 0
    transferred_from: str | None = None
    to_counter: str | None = None  # transferred to this one counter: only it calls the ticket
    rating: int | None = None
    officer: str | None = None
    dossier: str | None = None  # the one-door system's dossier code (mã hồ sơ) the officer tied to it

    @property
    def is_priority(self) -> bool:
        """True for every priority kind except ``normal``."""
        return self.priority != NORMAL

    def copy(self) -> Ticket:
        """A detached copy (tickets are mutable)."""
        return replace(self)


@dataclass
class CounterState:
    """A counter's live state."""

    id: str
    status: CounterStatus
    ticket_id: str | None = None
    normal_streak: int = 0
    officer: str | None = None
    last_call_at: datetime | None = None

    def copy(self) -> CounterState:
        """A detached copy."""
        return replace(self)


@dataclass
class ServiceDay:
    """Numbering of one service on one local day."""

    service: str
    day: date
    last_number: int | None = None
    issued: int = 0
    cycle: int = 0
    last_called: str | None = None

    def copy(self) -> ServiceDay:
        """A detached copy."""
        return replace(self)


@dataclass
class QueueState:
    """The part of the world a command may read or change.

    ``tickets`` holds at least every waiting or called ticket; a store may load more.
    ``recent_service_s`` keeps the last service durations per service (newest last).
    """

    tickets: dict[str, Ticket] = field(default_factory=dict)
    counters: dict[str, CounterState] = field(default_factory=dict)
    days: dict[str, ServiceDay] = field(default_factory=dict)
    recent_service_s: dict[str, list[float]] = field(default_factory=dict)
    waiting_index: Any = field(default=None, compare=False, repr=False)
    """``ordering.WaitingIndex`` of the waiting tickets, built on first use: not state, never compared."""

    @classmethod
    def initial(cls, site: SiteDef) -> QueueState:
        """A fresh state: counters in their configured status, no tickets."""
        streak = site.policy.ratio_normal  # a priority citizen waiting at opening is called first
        return cls(counters={c.id: CounterState(c.id, c.initial_status, normal_streak=streak)
                             for c in site.counters.values()})
