"""Center mode: every rating of a period with its dossier code (mã hồ sơ), as JSON and as CSV.

``GET /api/ratings?from=YYYY-MM-DD&to=YYYY-MM-DD`` → ``{"from", "to", "ratings": [row]}`` (rows of
:func:`qms.report_ratings.rating_rows`); ``GET /ratings.csv`` with the same query gives the same rows as
CSV. Managers and technicians, logged in; bad or reversed dates get a 400 saying what to type.
Read-only: the store is opened ``mode=ro`` and never created.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, current_app, jsonify, request

from qms import config as qms_config
from qms.context import STORE_FILE
from qms.report_ratings import rating_rows, ratings_csv, read_only

from .auth import require
from .sections import MANAGER

bp = Blueprint("ratings", __name__)

MAX_DAYS = 366
"""The longest period one answer covers."""


class BadDates(ValueError):
    """``from`` / ``to`` that are not a period; the message says so in Vietnamese and English."""


def _zone() -> tzinfo:
    """The center's time zone from its config (the board's own when the config cannot say)."""
    try:
        return ZoneInfo(qms_config.load_config(current_app.extensions["qms"].config_path).site.timezone)
    except (qms_config.ConfigError, ValueError, OSError, ZoneInfoNotFoundError, AttributeError):
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local


def _day(name: str, default: date) -> date:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadDates(f"'{name}' phải là ngày dạng YYYY-MM-DD / '{name}' must be a date YYYY-MM-DD, "
                       f"got {text[:20]!r}") from None


def _period(tz: tzinfo) -> tuple[date, date]:
    today = datetime.now(tz).date()
    end = _day("to", today)
    start = _day("from", end)
    if start > end:
        raise BadDates(f"'from' {start} sau 'to' {end} / 'from' {start} is after 'to' {end}")
    if end - start > timedelta(days=MAX_DAYS - 1):
        raise BadDates(f"tối đa {MAX_DAYS} ngày mỗi lần / at most {MAX_DAYS} days at a time")
    return start, end


def _rows() -> tuple[date, date, list[dict[str, Any]]]:
    tz = _zone()
    start, end = _period(tz)
    path = current_app.extensions["qms"].data_dir / STORE_FILE
    if not path.exists():
        return start, end, []
    conn = read_only(path)
    try:
        return start, end, rating_rows(conn, start, end, tz)
    finally:
        conn.close()


@bp.route("/api/ratings")
@require(MANAGER)
def api_ratings() -> Any:
    """The period's ratings with their dossier codes, as JSON."""
    try:
        start, end, rows = _rows()
    except BadDates as err:
        return jsonify({"error": {"code": "bad_dates", "message": str(err)}}), 400
    except sqlite3.Error:
        current_app.logger.exception("ratings: cannot read the store")
        return jsonify({"error": {"code": "store_unavailable",
                                  "message": "không đọc được dữ liệu / the store cannot be read"}}), 503
    return jsonify({"from": start.isoformat(), "to": end.isoformat(), "ratings": rows})


@bp.route("/ratings.csv")
@require(MANAGER)
def ratings_download() -> Any:
    """The same rows as CSV (UTF-8 with BOM, for Excel)."""
    try:
        start, end, rows = _rows()
    except BadDates as err:
        return Response(f"{err}\n", status=400, mimetype="text/plain")
    name = f"danh-gia-ma-ho-so-{start.isoformat()}-{end.isoformat()}.csv"
    return Response("\ufeff" + ratings_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
