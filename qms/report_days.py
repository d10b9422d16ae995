"""The report's figures of each past day, kept in the store so a year's report adds up days, not tickets.

Issue 15: ``qms report`` for a year ≤ 1 s. Computed from 75,000 tickets it took 1.4–2 s on a slow board
(the timestamps parsed, six groupings counted, every wait sorted); read from ``report_days`` it adds up
~250 days' sums and merges their sorted waits.

The hub's pruning thread sums up every local day before today that has tickets and no summary
(:func:`qms.report_sql.sum_up_day`, one short transaction a day). The store deletes a day's summary in the transaction
that writes one of its tickets (a late rating, a ticket expired the day after, a transfer), so a summary is
always what the tickets say now; the next pass sums that day up again. A summary holds one time zone's
arrival hours: a report in another zone computes those days from the tickets.

A row per (grouping, day, key): its :data:`~qms.report_model.FIGURES`, and its waits and service times
(microseconds, sorted; for a grouping other than ``day``, their positions among the day's), each as
integers in the smallest type that holds them, delta-coded, little-endian, zlib-compressed.
"""

from __future__ import annotations

import sqlite3
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo
from itertools import accumulate, pairwise

from qms.report_model import DayGroup

TABLE = "main.report_days"
BIG_ENDIAN = sys.byteorder == "big"
TYPECODES = ("b", "h", "i", "q")  # signed, smallest first


def _holds(code: str, low: int, high: int) -> bool:
    """Whether the signed array type ``code`` holds every integer from ``low`` to ``high``."""
    bound = 1 << (8 * array(code).itemsize - 1)
    return -bound <= low and high < bound


def encode_ints(values: Sequence[int], delta: bool = True) -> bytes:
    """Integers as bytes: (the first and each difference from the one before, when ``delta``: the values are
    sorted) in the smallest signed array type that holds them all, little-endian, compressed; its type code
    first."""
    if not values:
        return b""
    ints = [values[0], *(b - a for a, b in pairwise(values))] if delta else list(values)
    low, high = min(ints), max(ints)
    packed = array(next(c for c in TYPECODES if _holds(c, low, high)), ints)
    if BIG_ENDIAN:
        packed.byteswap()
    return packed.typecode.encode() + zlib.compress(packed.tobytes())


def decode_ints(blob: bytes, delta: bool = True) -> list[int]:
    """The integers :func:`encode_ints` wrote."""
    if not blob:
        return []
    ints = array(chr(blob[0]), zlib.decompress(blob[1:]))
    if BIG_ENDIAN:
        ints.byteswap()
    return list(accumulate(ints)) if delta else ints.tolist()


def ranks(values: Sequence[int], within: Sequence[int]) -> list[int]:
    """The positions in ``within`` (sorted) of ``values`` (sorted, a part of ``within``), each position once."""
    out, at = [], 0
    for value in values:
        at = bisect_left(within, value, at)
        if at >= len(within) or within[at] != value:
            raise ValueError(f"{value} is not among the day's values")
        out.append(at)
        at += 1
    return out


def _has_table(conn: sqlite3.Connection) -> bool:
    """A store made before schema 6 (or the province's collected tickets) has no summaries."""
    return conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'report_days'").fetchone() is not None


@dataclass
class StoredDays:
    """The days of a period the hub summed up (``days``, ISO dates), and their groups a grouping at a time.

    A ``day`` group stores its waits and service times; the other groupings store the positions of theirs
    among their day's (a wait is 3–4 bytes compressed, a position ~1).
    """

    conn: sqlite3.Connection
    start: date
    end: date
    days: frozenset[str]
    _values: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)

    def groups(self, grouping: str) -> Iterator[DayGroup]:
        """The stored groups of ``grouping`` on :attr:`days`."""
        if not self.days:
            return
        if grouping != "day" and not self._values:
            for _ in self.groups("day"):  # the values the positions point at
                pass
        rows = self.conn.execute(f"SELECT day, key, figures, waits, services FROM {TABLE} "
                                 "WHERE grouping = ? AND day BETWEEN ? AND ?",
                                 (grouping, self.start.isoformat(), self.end.isoformat()))
        for day, key, figures, waits, services in rows:
            if day not in self.days:
                continue
            if grouping == "day":
                values = self._values[day] = decode_ints(waits), decode_ints(services)
                yield DayGroup(grouping, day, key, tuple(decode_ints(figures, delta=False)), *values)
            else:
                all_waits, all_services = self._values[day]
                yield DayGroup(grouping, day, key, tuple(decode_ints(figures, delta=False)),
                               [all_waits[i] for i in decode_ints(waits)],
                               [all_services[i] for i in decode_ints(services)])


def stored_days(conn: sqlite3.Connection, start: date, end: date, tz: tzinfo) -> StoredDays:
    """The days of ``start``..``end`` summed up in zone ``tz`` (inside the caller's read transaction)."""
    if not _has_table(conn):
        return StoredDays(conn, start, end, frozenset())
    rows = conn.execute(f"SELECT day FROM {TABLE} WHERE grouping = 'day' AND day BETWEEN ? AND ? AND tz = ?",
                        (start.isoformat(), end.isoformat(), str(tz)))
    return StoredDays(conn, start, end, frozenset(day for (day,) in rows))


def pending_days(conn: sqlite3.Connection, before: date, tz: tzinfo) -> list[date]:
    """Local days before ``before`` that have tickets and no summary in zone ``tz``, oldest first."""
    rows = conn.execute("SELECT DISTINCT day FROM main.tickets WHERE day < ? EXCEPT "
                        f"SELECT day FROM {TABLE} WHERE grouping = 'day' AND tz = ? ORDER BY day",
                        (before.isoformat(), str(tz)))
    return [date.fromisoformat(day) for (day,) in rows]


def write_day(conn: sqlite3.Connection, day: date, tz: tzinfo, groups: Iterable[DayGroup]) -> int:
    """Replace ``day``'s summary with ``groups`` (inside the caller's write transaction); how many were written."""
    groups = list(groups)
    whole = {g.day: g for g in groups if g.grouping == "day"}
    rows = []
    for g in groups:
        if g.grouping == "day":
            waits, services = g.waits, g.services
        else:
            waits, services = ranks(g.waits, whole[g.day].waits), ranks(g.services, whole[g.day].services)
        rows.append((g.grouping, g.day, g.key, str(tz), encode_ints(g.figures, delta=False), encode_ints(waits),
                     encode_ints(services)))
    conn.execute(f"DELETE FROM {TABLE} WHERE day = ?", (day.isoformat(),))
    conn.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)
