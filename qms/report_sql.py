"""The report's figures aggregated by SQLite, so a year's report never loads a year of tickets.

The same figures as :func:`qms.report.compute_report` over the store's tickets, to the exact value:
times are whole microseconds computed from the stored ISO timestamps (always UTC, ``+00:00``) and
divided as ``timedelta.total_seconds()`` divides; percentiles are the values at their nearest rank
(counted from the group sizes); the satisfaction score comes
from the rating counts through ``queue_core.rating.satisfaction_score``. The arrival hour is the
center's local hour: SQL arithmetic when the zone's offset is fixed through the period, else computed
in Python once per distinct minute (a zone with DST).

One read transaction: one ``TEMP`` table of the period's tickets (the figures each needs), two
``GROUP BY`` for the counts and sums, then the waits and the service times each sorted once and read
in order, picking each group's value at its nearest rank (a window query per grouping and figure took
twice as long). Nothing is written to the store file. Needs SQLite 3.38 (``unixepoch``; Debian
bookworm has 3.40).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from qms.report_legs import TICKET_SQL, TRANSFERRED, StoredTicket, legs, load_transfers
from qms.report_model import GROUPINGS, Labels, Report, Stats, nearest_rank, section
from queue_core.rating import satisfaction_score

US = 10**6
TABLE = "temp.qms_report_rows"


def _micros(column: str) -> str:
    """SQL: a stored timestamp as whole microseconds since the epoch (``unixepoch`` would round the fraction)."""
    return (f"(unixepoch(substr({column}, 1, 19) || substr({column}, -6)) * {US}"
            f" + CASE WHEN substr({column}, 20, 1) = '.' THEN CAST(substr({column}, 21, 6) AS INTEGER) ELSE 0 END)")


ROWS = f"""
CREATE TABLE {TABLE} AS
SELECT day, {{hour}} AS hour, service,
       COALESCE(counter, '') AS counter, COALESCE(officer, '') AS officer, COALESCE(procedure, '') AS procedure,
       status, rating,
       CASE WHEN called_at IS NOT NULL THEN {_micros('called_at')} - {_micros('issued_at')} END AS wait_us,
       CASE WHEN status = 'done' AND called_at IS NOT NULL AND finished_at IS NOT NULL
            THEN {_micros('finished_at')} - {_micros('called_at')} END AS service_us,
       1 AS first, 0 AS tin, 0 AS tout
FROM main.tickets WHERE day BETWEEN ? AND ? AND transfers = 0
"""
TRANSFERRED_TICKETS = TICKET_SQL.replace("WHERE day", "WHERE +day") + " AND transfers > 0"  # a scan beats the index
LEG_ROW = f"INSERT INTO {TABLE} VALUES ({', '.join('?' * 13)})"
KEYS = {"total": "''", "day": "day", "hour": "hour", "service": "service", "counter": "counter",
        "officer": "officer", "procedure": "procedure"}
assert list(KEYS) == list(GROUPINGS)
Totals = dict[str, tuple[int, ...]]
"""key -> (issued, served, no-shows, waits, wait µs sum, services, service µs sum, ratings 1..5)."""
Percentiles = dict[tuple[str, int], float]
"""(key, q) -> the ``q``-th percentile in seconds."""


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


def _totals(conn: sqlite3.Connection) -> dict[str, Totals]:
    """Every grouping's counts and sums: three ``GROUP BY`` (day × hour, service × counter × officer: a few
    thousand rows; procedure) added up per grouping, instead of one per grouping over every ticket."""
    ratings = ", ".join(f"COUNT(CASE WHEN rating = {n} THEN 1 END)" for n in range(1, 6))
    figures = (f"SUM(first), SUM(status = 'done'), SUM(status = 'no_show'), COUNT(wait_us), "
               f"COALESCE(SUM(wait_us), 0), COUNT(service_us), COALESCE(SUM(service_us), 0), {ratings}, "
               f"SUM(tin), SUM(tout)")
    out: dict[str, Totals] = {grouping: {} for grouping in KEYS}
    for columns in (("total", "day", "hour"), ("service", "counter", "officer"), ("procedure",)):
        keys = ", ".join(KEYS[c] for c in columns)
        for row in conn.execute(f"SELECT {keys}, {figures} FROM {TABLE} GROUP BY {keys}"):
            values = row[len(columns):]
            for grouping, key in zip(columns, row[:len(columns)], strict=True):
                found = out[grouping].get(key)
                out[grouping][key] = values if found is None else tuple(a + b for a, b in zip(found, values, strict=True))
    return out


def _percentiles(conn: sqlite3.Connection, totals: dict[str, Totals], column: str, count: int,
                 qs: tuple[int, ...]) -> dict[str, Percentiles]:
    """grouping -> the nearest-rank percentiles ``qs`` of ``column`` per group, from the values sorted once:
    each grouping's values split per group in that order (still sorted), then each group's value at its rank
    (``totals[grouping][key][count]`` values in the group)."""
    keys = ", ".join(list(KEYS.values())[1:])
    rows = conn.execute(f"SELECT {keys}, {column} FROM {TABLE} WHERE {column} IS NOT NULL ORDER BY {column}")
    values: list[int] = []
    splits: list[dict[str, list[int]]] = [{} for _ in list(KEYS)[1:]]
    for row in rows:  # streamed: memory for the values, not for a year of rows
        value = row[-1]
        values.append(value)
        for split, key in zip(splits, row, strict=False):  # the row has one more item: the value
            found = split.get(key)
            if found is None:
                split[key] = [value]
            else:
                found.append(value)
    out: dict[str, Percentiles] = {grouping: {} for grouping in KEYS}
    splits.insert(0, {"": values})  # "total": one group, every value
    for grouping, split in zip(KEYS, splits, strict=True):  # type: ignore[assignment]
        for key, figures in totals[grouping].items():
            if figures[count] and (sorted_values := split.get(key)) is not None:
                for q in qs:
                    out[grouping][key, q] = sorted_values[nearest_rank(q, figures[count]) - 1] / US
    return out


def _stats(grouping: str, key: str, label: str, totals: tuple[int, ...], waits_pct: Percentiles,
           services_pct: Percentiles) -> Stats:
    issued, served, no_show, waits, wait_us, services, service_us, *ratings, tin, tout = totals
    scores = [score for score, count in enumerate(ratings, start=1) for _ in range(count)]
    return Stats(
        grouping=grouping, key=key, label=label, issued=issued, served=served, no_show=no_show,
        wait_avg_s=wait_us / (waits * US) if waits else None, wait_p50_s=waits_pct.get((key, 50)),
        wait_p90_s=waits_pct.get((key, 90)),
        service_avg_s=service_us / (services * US) if services else None,
        service_p90_s=services_pct.get((key, 90)),
        ratings=(ratings[0], ratings[1], ratings[2], ratings[3], ratings[4]),
        satisfaction=satisfaction_score(scores), transferred_in=tin, transferred_out=tout,
    )


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _insert_legs(conn: sqlite3.Connection, start: date, end: date, tz: tzinfo) -> None:
    """The legs of the period's transferred tickets (few), computed in Python as :mod:`qms.report_legs` does."""
    transfers = load_transfers(conn, start, end)
    rows = []
    for row in conn.execute(TRANSFERRED_TICKETS, (start.isoformat(), end.isoformat())):
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
    """The report of local days ``start``..``end`` (inclusive) from the store's ``tickets`` table."""
    labels = labels or {}
    conn.create_function("qms_local_hour", 1, _local_hour(tz), deterministic=True)
    sections: dict[str, list[Stats]] = {}
    conn.execute("BEGIN")  # one snapshot of the store for every query
    try:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(ROWS.format(hour=_hour_sql(tz, start, end)), (start.isoformat(), end.isoformat()))
        _insert_legs(conn, start, end, tz)
        totals = _totals(conn)
        totals["total"].setdefault("", (0,) * 14)
        waits = _percentiles(conn, totals, "wait_us", 3, (50, 90))
        services = _percentiles(conn, totals, "service_us", 5, (90,))
        for grouping, figures in totals.items():
            sections[grouping] = section(
                grouping, figures, labels,
                lambda k, label, g=grouping, t=figures: _stats(g, k, label, t[k], waits[g], services[g]))
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute("COMMIT")
    return Report(start, end, str(tz), title, sections)
