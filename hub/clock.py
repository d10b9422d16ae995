"""Trusted time: whether the board's wall clock can be believed, judged against the store's newest event.

A Raspberry Pi has no real-time clock. The store keeps, with its newest event, a :class:`ClockRef`:
the wall time of that event plus a reference that survives clock changes — the kernel's boot id and
the seconds since boot (read from ``/proc/uptime``, which neither ``date -s`` nor libfaketime
changes). On the same boot the real elapsed time since that event is known, so a wall clock that
disagrees with it is a jump. :func:`judge` is the pure decision; :func:`read_boot` the one reading.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
UPTIME_FILE = Path("/proc/uptime")
CLOCK_REF_KEY = "clock_ref"
"""The ``meta`` key of the store's :class:`ClockRef`."""

TIME_ERROR = 5
"""``adjtimex`` result while the clock is not synchronised (``STA_UNSYNC``)."""
CLOCK_FLOOR = datetime(2025, 1, 1, tzinfo=UTC)
"""No clock earlier than this is right (a board that boots at 1970-01-01)."""


@dataclass(frozen=True)
class BootReading:
    """Which boot this is, the seconds since it (None where unknown), and whether NTP set the clock."""

    boot_id: str | None
    uptime_s: float | None
    synced: bool = False
    """The kernel says a time service (chrony) synchronised the clock (``adjtimex`` is not TIME_ERROR)."""


@dataclass(frozen=True)
class ClockRef:
    """The trusted time of the store's newest event and the boot clock at that instant.

    ``exact`` is False when ``wall`` is only a lower bound (the clock was plausible but nothing
    confirmed it: after a reboot before NTP, a 1970 boot): then only the generous ``max_gap`` rule
    limits a later clock, so the first sync after a boot is accepted. A reference is exact when the
    kernel reports the clock synchronised, after ``qms clock trust``, and along one boot from either.
    """

    wall: datetime
    boot_id: str | None = None
    uptime_s: float | None = None
    exact: bool = False

    def to_json(self) -> str:
        """The ``meta`` value."""
        return json.dumps({"wall": self.wall.astimezone(UTC).isoformat(), "boot_id": self.boot_id,
                           "uptime_s": self.uptime_s, "exact": self.exact})

    @classmethod
    def from_json(cls, text: str) -> ClockRef:
        """Parse a ``meta`` value written by :meth:`to_json`."""
        raw = json.loads(text)
        return cls(datetime.fromisoformat(raw["wall"]), raw.get("boot_id"), raw.get("uptime_s"),
                   bool(raw.get("exact")))


@dataclass(frozen=True)
class ClockPolicy:
    """Tolerances of :func:`judge` (config section ``clock``)."""

    max_step: timedelta = timedelta(minutes=2)
    """On the same boot: how far the wall clock may run ahead of the real elapsed time."""
    max_back: timedelta = timedelta(minutes=15)
    """How far the wall clock may be behind the newest event (clamped, as an NTP correction)."""
    max_gap: timedelta = timedelta(days=14)
    """After a reboot: how far past the newest event the wall clock may be (Tết closes ~10 days)."""


@dataclass(frozen=True)
class Verdict:
    """What :func:`judge` decided: ``now`` is the time to use; ``reason`` says why it is untrusted."""

    trusted: bool
    now: datetime
    reason: str = ""
    exact: bool = True

    def next_ref(self, boot: BootReading) -> ClockRef:
        """The reference to store with the events written at ``now``."""
        return ClockRef(self.now, boot.boot_id, boot.uptime_s, self.exact)


def _fmt(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(delta: timedelta) -> str:
    return str(timedelta(seconds=round(delta.total_seconds())))


def judge(wall: datetime, boot: BootReading, ref: ClockRef | None, policy: ClockPolicy) -> Verdict:
    """Decide whether ``wall`` can be trusted, and the time to use either way (never before ``ref``)."""
    if wall < CLOCK_FLOOR:
        floor = ref.wall if ref is not None else wall
        return Verdict(False, max(wall, floor), f"the board's clock reads {_fmt(wall)}: its date is not set",
                       exact=False)
    if ref is None:
        return Verdict(True, wall, exact=boot.synced)
    then, now_s = ref.uptime_s, boot.uptime_s
    same_boot = (ref.boot_id is not None and ref.boot_id == boot.boot_id
                 and then is not None and now_s is not None and now_s >= then)
    elapsed = timedelta(seconds=now_s - then) if same_boot and now_s is not None and then is not None else timedelta(0)
    known = ref.wall + elapsed  # the real time is at least this (exactly this when ref.exact on this boot)
    if wall < ref.wall - policy.max_back:
        return Verdict(False, known, f"the board's clock reads {_fmt(wall)}, earlier than the newest event "
                                     f"({_fmt(ref.wall)})", exact=ref.exact and same_boot)
    if same_boot and ref.exact:
        if wall > known + policy.max_step:
            return Verdict(False, known, f"the board's clock jumped ahead: it reads {_fmt(wall)}, but only "
                                         f"{_span(elapsed)} passed since the newest event ({_fmt(ref.wall)})")
        if wall < known - policy.max_back:
            return Verdict(False, known, f"the board's clock jumped back: it reads {_fmt(wall)}, but "
                                         f"{_span(elapsed)} passed since the newest event ({_fmt(ref.wall)})")
    elif wall > known + policy.max_gap:
        return Verdict(False, known, f"the board's clock reads {_fmt(wall)}, implausibly far past the newest "
                                     f"event ({_fmt(ref.wall)})", exact=False)
    exact = (same_boot and ref.exact) or boot.synced
    if wall < ref.wall:  # a small step back (an NTP correction): time is held at the newest event
        return Verdict(True, ref.wall, exact=exact)
    return Verdict(True, wall, exact=exact)


@functools.cache
def _adjtimex() -> Callable[[ctypes.Array[ctypes.c_char]], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None


def kernel_clock_synced() -> bool:
    """True when the kernel's clock status is synchronised (``adjtimex`` read-only call; False if unknown)."""
    adjtimex = _adjtimex()
    if adjtimex is None:
        return False
    timex = ctypes.create_string_buffer(512)  # struct timex (~208 bytes) with modes = 0: only read
    return 0 <= adjtimex(timex) < TIME_ERROR


def read_boot() -> BootReading:
    """This boot's id and uptime from ``/proc`` (None where unreadable, e.g. not Linux) and the sync status."""
    try:
        boot_id: str | None = BOOT_ID_FILE.read_text(encoding="ascii").strip() or None
    except OSError:
        boot_id = None
    try:
        uptime_s: float | None = float(UPTIME_FILE.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        uptime_s = None
    return BootReading(boot_id, uptime_s, kernel_clock_synced())


@dataclass
class ClockGuard:
    """The store's judge of its wall clock: a policy plus the boot reading behind a tiny adapter."""

    policy: ClockPolicy
    boot: Callable[[], BootReading] = read_boot

    def judge(self, wall: datetime, ref: ClockRef | None,
              boot: BootReading | None = None) -> tuple[Verdict, BootReading]:
        """The verdict for ``wall`` now, and the boot reading it was made with (``boot``: one already read)."""
        boot = boot or self.boot()
        return judge(wall, boot, ref, self.policy), boot


UNTRUSTED_HINT = ("issuing is paused: wait for the time to sync (the hub board's chrony), or a technician "
                  "checks the date (`date`) and confirms it with `qms clock trust`")
