"""The report's figures aggregated by SQLite, so a year's report never loads a year of tickets.

The same figures as :func:`qms.report.compute_report` over the store's tickets, to the exact value:
times are whole microseconds computed from the stored ISO timestamps (always UTC, ``+00:00``) and
divided as ``timedelta.total_seconds()`` divides; percentiles are the values at their nearest rank
(counted from the group sizes); the satisfaction score comes
from the rating counts through ``queue_core.rating.satisfaction_score``. The arrival hour is the
center's local hour: SQL arithmetic when the zone's offset is fixed through the period, else computed
in Python once per distinct minute (a zone with DST).

One read transaction. The days the hub has summed up (:mod:`qms.report_days`) are read as stored; the
others (today, a day changed since its summary, every day of a store just upgraded) are computed from the
tickets by :func:`day_groups`, which also makes the summaries: one ``TEMP`` table of those days' tickets
(the figures each needs), a ``GROUP BY day, key`` per grouping for the counts and sums, then the waits and
the service times each sorted once and split per day and group. Each grouping's days are then added up
(their sorted values merged) before the next grouping is read, so one grouping's values are in memory at a
time. Nothing is written to the store file. Needs SQLite 3.38 (``unixepoch``; Debian bookworm has 3.40).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import chain

from qms.report_days import pending_days, stored_days, write_day
from qms.report_legs import TICKET_SQL, TRANSFERRED, StoredTicket, legs, load_transfers, transferred_only
from qms.report_model import (
    DAY_GROUPINGS,
    FIGURES,
    GROUPINGS,
    DayGroup,
    Figures,
    Labels,
    Report,
    Stats,
    nearest_rank,
    section,
)
from queue_core.rating import satisfaction_score

US = 10**6
TABLE = "temp.qms_report_rows"


def _micros(column: str) -> str:
    """SQL: a stored timestamp as whole microseconds since the epoch (``unixepoch`` would round the fraction)."""
    return (f"(unixepoch(substr({column}, 1, 19) || substr({column}, -6)) * {US}"
            f" + CASE WHEN substr({column}, 20, 1) = '.' THEN CAST(substr({column}, 21, 6) AS INTEGER) ELSE 0 END)")


ROWS = f"""
CREATE TABLE {TABLE} AS
SELECT day, {{hour}} AS hour, service,  -- each grouping's key: the column of its name
       COALESCE(counter, '') AS counter, COALESCE(officer, '') AS officer, COALESCE(procedure, '') AS procedure,
       status, rating,
       CASE WHEN called_at IS NOT NULL THEN {_micros('called_at')} - {_micros('issued_at')} END AS wait_us,
       CASE WHEN status = 'done' AND called_at IS NOT NULL AND finished_at IS NOT NULL
            THEN {_micros('finished_at')} - {_micros('called_at')} END AS service_us,
       1 AS first, 0 AS tin, 0 AS tout
FROM main.tickets WHERE day BETWEEN ? AND ? AND transfers = 0
"""
LEG_ROW = f"INSERT INTO {TABLE} VALUES ({', '.join('?' * 13)})"
def _fixed_offset(tz: tzinfo, start: date, end: date) -> int | None:
    """The zone's UTC offset in whole seconds if it is the same all through the period (read every hour,
    from the day before to the day after), else None (DST or another change)."""
    first = datetime.combine(start - timedelta(days=1), time(), UTC)
    offsets = {(first + timedelta(hours=h)).astimezone(tz).utcoffset()
               for h in range(((end - start).days + 3) * 24)}
    offset = offsets.pop() if len(offsets) == 1 else None
    return None if offset is None or offset % timedelta(seconds=1) else int(offset.total_seconds())


def _hour_sql(tz: tzinfo, start: date, end: date) -> str:
    """SQL: the local hour ``HH`` of ``issued_at``: integer arithmetic when the offset is fixed (Vietnam's
    is), else the Python function ``qms_local_hour`` of :func:`_local_hour`."""
    offset = _fixed_offset(tz, start, end)
    if offset is None:
        return "qms_local_hour(substr(issued_at, 1, 16) || substr(issued_at, -6))"
    seconds = "unixepoch(substr(issued_at, 1, 19) || substr(issued_at, -6))"
    return f"printf('%02d', (({seconds} + {offset} + 86400) / 3600) % 24)"


def _local_hour(tz: tzinfo) -> Callable[[str], str]:
    """SQL function: ``YYYY-MM-DDTHH:MM+00:00`` -> the local hour ``HH`` in ``tz`` (cached per minute)."""
    cache: dict[str, str] = {}

    def hour(minute: str) -> str:
        if (found := cache.get(minute)) is None:
            found = cache[minute] = f"{datetime.fromisoformat(minute).astimezone(tz).hour:02d}"
        return found
    return hour


def prepare(conn: sqlite3.Connection, tz: tzinfo) -> None:
    """Give ``conn`` the SQL function the rows table needs in zone ``tz`` (``qms_local_hour``)."""
    conn.create_function("qms_local_hour", 1, _local_hour(tz), deterministic=True)


def sum_up_day(conn: sqlite3.Connection, day: date, tz: tzinfo) -> int:
    """Replace ``day``'s stored summary (:mod:`qms.report_days`) with its groups computed from its tickets now,
    inside the caller's write transaction; returns how many groups were written."""
    prepare(conn, tz)
    return write_day(conn, day, tz, day_groups(conn, day, day, tz))


class _DaySummaries:
    """The hub's pruning thread keeps the report's day summaries with these (hub.retention.DaySummaries)."""

    pending = staticmethod(pending_days)
    sum_up = staticmethod(sum_up_day)


DAY_SUMMARIES = _DaySummaries()


def _day_totals(conn: sqlite3.Connection) -> dict[tuple[str, str, str], Figures]:
    """(grouping, day, key) -> the group's counts and sums on that day, for every grouping but ``total``: three
    ``GROUP BY`` (day × hour; day × service × counter × officer: a few dozen rows a day; day × procedure) added
    up per grouping, instead of one per grouping over every row."""
    ratings = ", ".join(f"COUNT(CASE WHEN rating = {n} THEN 1 END)" for n in range(1, 6))
    figures = (f"SUM(first), SUM(status = 'done'), SUM(status = 'no_show'), COUNT(wait_us), "
               f"COALESCE(SUM(wait_us), 0), COUNT(service_us), COALESCE(SUM(service_us), 0), {ratings}, "
               f"SUM(tin), SUM(tout)")
    out: dict[tuple[str, str, str], Figures] = {}
    for columns in (("day", "hour"), ("service", "counter", "officer"), ("procedure",)):
        keys = ", ".join(columns)
        for day, *row in conn.execute(f"SELECT day, {keys}, {figures} FROM {TABLE} GROUP BY day, {keys}"):
            values = row[len(columns):]
            for grouping, key in zip(columns, row, strict=False):  # the row has the figures after the keys
                found = out.get((grouping, day, key))
                out[grouping, day, key] = tuple(values) if found is None else tuple(
                    a + b for a, b in zip(found, values, strict=True))
    return out


def _day_values(conn: sqlite3.Connection, column: str) -> dict[tuple[str, str, str], list[int]]:
    """(grouping, day, key) -> the group's values of ``column`` that day, sorted: the values sorted once and
    split per group in that order."""
    keys = ", ".join(DAY_GROUPINGS)
    out: dict[tuple[str, str, str], list[int]] = {}
    for row in conn.execute(f"SELECT {keys}, {column} FROM {TABLE} WHERE {column} IS NOT NULL ORDER BY {column}"):
        value, day = row[-1], row[0]
        for grouping, key in zip(DAY_GROUPINGS, row, strict=False):  # the row has one more item: the value
            found = out.get((grouping, day, key))
            if found is None:
                out[grouping, day, key] = [value]
            else:
                found.append(value)
    return out


def day_groups(conn: sqlite3.Connection, start: date, end: date, tz: tzinfo) -> list[DayGroup]:
    """Every group of every local day ``start``..``end``, from the tickets, grouping by grouping
    (:data:`DAY_GROUPINGS` order): what :func:`store_report` adds up, and what the hub keeps of a past day
    (:mod:`qms.report_days`). Needs :func:`prepare` on ``conn`` and a transaction."""
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    try:
        conn.execute(ROWS.format(hour=_hour_sql(tz, start, end)), (start.isoformat(), end.isoformat()))
        _insert_legs(conn, start, end, tz)
        totals = _day_totals(conn)
        waits, services = _day_values(conn, "wait_us"), _day_values(conn, "service_us")
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    return [DayGroup(grouping, day, key, figures, waits.get((grouping, day, key), []),
                     services.get((grouping, day, key), [])) for (grouping, day, key), figures in totals.items()]


def _unsummed(conn: sqlite3.Connection, start: date, end: date, summed: Collection[str]) -> list[tuple[date, date]]:
    """The days of ``start``..``end`` with tickets and no summary, as runs (first, last) of consecutive
    ticket days: one run for today, one for the whole period before the hub summed anything up."""
    runs: list[list[str]] = []
    previous_summed = True
    for (day,) in conn.execute("SELECT DISTINCT day FROM main.tickets WHERE day BETWEEN ? AND ? ORDER BY day",
                               (start.isoformat(), end.isoformat())):
        if day not in summed:
            if previous_summed:
                runs.append([day, day])
            runs[-1][1] = day
        previous_summed = day in summed
    return [(date.fromisoformat(first), date.fromisoformat(last)) for first, last in runs]


class _Group:
    """A group's figures over the period, added up from its days: sums, and each day's sorted values."""

    __slots__ = ("figures", "services", "waits")

    def __init__(self) -> None:
        self.figures = [0] * len(FIGURES)
        self.waits: list[Sequence[int]] = []
        self.services: list[Sequence[int]] = []

    def add(self, day: DayGroup) -> None:
        self.figures = [a + b for a, b in zip(self.figures, day.figures, strict=True)]
        if day.waits:
            self.waits.append(day.waits)
        if day.services:
            self.services.append(day.services)

    @staticmethod
    def at(runs: list[Sequence[int]], qs: tuple[int, ...]) -> dict[int, float]:
        """q -> the nearest-rank percentile (seconds) of the values in ``runs`` (each sorted)."""
        if not runs:
            return {}
        values = runs[0] if len(runs) == 1 else sorted(chain.from_iterable(runs))  # timsort merges the runs
        return {q: values[nearest_rank(q, len(values)) - 1] / US for q in qs}


def _stats(grouping: str, key: str, label: str, group: _Group) -> Stats:
    issued, served, no_show, waits, wait_us, services, service_us, *ratings, tin, tout = group.figures
    scores = [score for score, count in enumerate(ratings, start=1) for _ in range(count)]
    wait_pct, service_pct = _Group.at(group.waits, (50, 90)), _Group.at(group.services, (90,))
    return Stats(
        grouping=grouping, key=key, label=label, issued=issued, served=served, no_show=no_show,
        wait_avg_s=wait_us / (waits * US) if waits else None, wait_p50_s=wait_pct.get(50),
        wait_p90_s=wait_pct.get(90),
        service_avg_s=service_us / (services * US) if services else None,
        service_p90_s=service_pct.get(90),
        ratings=(ratings[0], ratings[1], ratings[2], ratings[3], ratings[4]),
        satisfaction=satisfaction_score(scores), transferred_in=tin, transferred_out=tout,
    )


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _insert_legs(conn: sqlite3.Connection, start: date, end: date, tz: tzinfo) -> None:
    """The legs of the period's transferred tickets (few), computed in Python as :mod:`qms.report_legs` does."""
    transfers = load_transfers(conn, start, end)
    rows = []
    for row in conn.execute(transferred_only(TICKET_SQL, start, end), (start.isoformat(), end.isoformat())):
        ticket = StoredTicket.from_row(row)
        for leg in legs(ticket, transfers.get(ticket.id, ())):
            served = leg.status in ("done", TRANSFERRED) and leg.called_at and leg.finished_at
            rows.append((leg.day.isoformat(), f"{leg.arrived_at.astimezone(tz).hour:02d}", leg.service,
                         leg.counter or "", leg.officer or "", ticket.procedure or "", leg.status, leg.rating,
                         None if leg.called_at is None else _us(leg.called_at - leg.arrived_at),
                         _us(leg.finished_at - leg.called_at) if served else None,  # type: ignore[operator]
                         int(leg.first), int(leg.transferred_in), int(leg.transferred_out)))
    conn.executemany(LEG_ROW, rows)


def store_report(conn: sqlite3.Connection, start: date, end: date, tz: tzinfo, labels: Labels | None = None,
                 title: str = "") -> Report:
    """The report of local days ``start``..``end`` (inclusive) from the store: the days the hub has summed
    up (``report_days``) as stored, the others (today, a day changed since) from their tickets."""
    labels = labels or {}
    prepare(conn, tz)
    total = _Group()
    sections: dict[str, list[Stats]] = {}
    conn.execute("BEGIN")  # one snapshot of the store for every query
    try:
        summed = stored_days(conn, start, end, tz)
        computed: dict[str, list[DayGroup]] = {}
        for first, last in _unsummed(conn, start, end, summed.days):
            for group in day_groups(conn, first, last, tz):
                computed.setdefault(group.grouping, []).append(group)
        for grouping in DAY_GROUPINGS:  # one grouping's values in memory at a time
            groups: dict[str, _Group] = {}
            for day in chain(summed.groups(grouping), computed.pop(grouping, ())):
                found = groups.get(day.key)
                if found is None:
                    found = groups[day.key] = _Group()
                found.add(day)
                if grouping == "day":
                    total.add(day)
            sections[grouping] = section(grouping, groups, labels,
                                         lambda k, label, g=grouping, f=groups: _stats(g, k, label, f[k]))
    finally:
        conn.execute("COMMIT")
    sections["total"] = section("total", [""], labels, lambda k, label: _stats("total", k, label, total))
    return Report(start, end, str(tz), title, {grouping: sections[grouping] for grouping in GROUPINGS})
