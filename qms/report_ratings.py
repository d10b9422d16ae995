"""Every rating of a period with its ticket and dossier code (mã hồ sơ), for the province to match.

The provincial one-door system scores satisfaction per dossier; a row here is one rated ticket:
``ticket`` (id), ``number``, ``day``, ``service``, ``procedure``, ``counter``, ``officer``, ``rating``
(1..5), ``dossier`` (None when the officer tied none) and ``finished_at`` (ISO, the center's time).
``qms report --ratings-csv`` and the web app's ``/api/ratings`` (and its CSV) give the same rows.
Reads the store with plain SQL (no hub import: the web app uses it too).
"""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

RATING_FIELDS = ("ticket", "number", "day", "service", "procedure", "counter", "officer", "rating", "dossier",
                 "finished_at")
"""The keys of a row, in the order of the CSV's columns."""

RATINGS_SQL = ("SELECT id, number, day, service, procedure, counter, officer, rating, dossier, finished_at "
               "FROM tickets WHERE day BETWEEN ? AND ? AND rating IS NOT NULL ORDER BY finished_at, id")


def _local(text: str | None, tz: tzinfo) -> str | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(tz).isoformat(timespec="seconds")


def rating_rows(conn: sqlite3.Connection, start: date, end: date, tz: tzinfo) -> list[dict[str, Any]]:
    """The rated tickets of the local days ``start``..``end``, oldest finish first."""
    rows = conn.execute(RATINGS_SQL, (start.isoformat(), end.isoformat())).fetchall()
    out = []
    for row in rows:
        values = dict(zip(RATING_FIELDS, tuple(row), strict=True))
        values["finished_at"] = _local(values["finished_at"], tz)
        out.append(values)
    return out


def ratings_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV text (a header of :data:`RATING_FIELDS`; empty cells for None)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(RATING_FIELDS)
    writer.writerows([["" if r[k] is None else r[k] for k in RATING_FIELDS] for r in rows])
    return buf.getvalue()


def read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the store at ``path`` (never creates nor migrates it)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def write_ratings_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Write :func:`ratings_csv` with a BOM, so Excel opens it as UTF-8."""
    path.write_text(ratings_csv(rows), encoding="utf-8-sig", newline="")
