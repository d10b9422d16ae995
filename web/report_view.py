"""What the report pages of both modes share: the period of a query, the friendly error page, the tables'
names and cells, and the CSV download (``qms report --csv``'s rows).

Province mode (web/province_pages.py) shows reports read from PostgreSQL, center mode
(web/center_reports.py) from the center's own store; both render ``templates/_report_stats.html``.
"""

from __future__ import annotations

import csv
import io
from argparse import ArgumentTypeError
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from qms.report import csv_rows, parse_day
from qms.report_model import COLUMNS, EXTRA_COLUMNS, GROUPINGS, Report, Stats, cell_value

MAX_DAYS = 366  # the longest period one page or file covers
COLUMNS_EN = {"issued": "Tickets", "served": "Served", "no_show": "No-shows", "wait_avg_s": "Avg wait (min)",
              "wait_p90_s": "P90 wait (min)", "service_avg_s": "Avg service (min)",
              "service_p90_s": "P90 service (min)", "rated": "Ratings", "satisfaction": "Satisfaction (0–100)",
              "good_share": "4–5★ (%)", "transferred_in": "Transferred in", "transferred_out": "Transferred out"}
GROUPINGS_EN = {"total": "Total", "day": "By day", "hour": "By arrival hour", "service": "By service",
                "counter": "By counter", "officer": "By officer", "procedure": "By procedure"}


class Problem(Exception):
    """A request the pages answer with a friendly error page: HTTP code, title and the why in vi / en."""

    def __init__(self, code: int, title: str, vi: str, en: str) -> None:
        super().__init__(en)
        self.code, self.title, self.vi, self.en = code, title, vi, en


def problem_page(exc: Problem) -> tuple[str, int]:
    """The error page of ``exc`` (a blueprint's handler for :class:`Problem`)."""
    return render_template("error.html", code=exc.code, title_vi=exc.title, text_vi=exc.vi, text_en=exc.en), exc.code


def answers_problems(bp: Blueprint) -> Blueprint:
    """Let ``bp``'s pages raise :class:`Problem`."""
    bp.register_error_handler(Problem, problem_page)
    return bp


def now(tz: tzinfo) -> datetime:
    """The time in ``tz`` (tests set ``WebSettings.extra["now"]``)."""
    return current_app.extensions["qms"].extra.get("now", lambda: datetime.now(tz))().astimezone(tz)


def _day(name: str, default: date) -> date:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_day(text)
    except (ArgumentTypeError, ValueError):
        shown = text[:20]
        raise Problem(400, "Ngày không hợp lệ", f"“{shown}” không phải là một ngày. Hãy nhập ngày dạng "
                      "DD/MM/YYYY (hoặc YYYY-MM-DD), ví dụ 01/12/2026.",
                      f"“{shown}” is not a date. Type it as DD/MM/YYYY (or YYYY-MM-DD), e.g. 01/12/2026.") from None


def period(today: date) -> tuple[date, date]:
    """``from`` and ``to`` of the query (default: the 1st of ``to``'s month to today); Problem when wrong."""
    end = _day("to", today)
    start = _day("from", end.replace(day=1))
    if start > end:
        raise Problem(400, "Ngày không hợp lệ", f"Ngày bắt đầu {start:%d/%m/%Y} ở sau ngày kết thúc {end:%d/%m/%Y}.",
                      f"The first day {start:%d/%m/%Y} is after the last day {end:%d/%m/%Y}.")
    if end - start >= timedelta(days=MAX_DAYS):
        raise Problem(400, "Khoảng thời gian quá dài", f"Tối đa {MAX_DAYS} ngày mỗi lần.",
                      f"At most {MAX_DAYS} days at a time.")
    return start, end


def download(body: str | bytes, mimetype: str, name: str) -> Response:
    """``body`` as a file the browser saves as ``name``."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def csv_response(rows: list[list[str]], name: str) -> Response:
    """``rows`` as a CSV download (UTF-8 with BOM; ``;`` with ``?decimal_comma=1``)."""
    decimal_comma = request.args.get("decimal_comma") == "1"
    out = io.StringIO()
    csv.writer(out, delimiter=";" if decimal_comma else ",").writerows(rows)
    return download("\ufeff" + out.getvalue(), "text/csv", name)


def report_csv_rows(report: Report) -> list[list[str]]:
    """``qms report --csv``'s rows (``--decimal-comma`` with ``?decimal_comma=1``)."""
    return csv_rows(report, request.args.get("decimal_comma") == "1")


def cell(row: Stats, attr: str) -> str:
    """One figure as the tables show it (minutes and scores with one decimal, – when there is none)."""
    value = cell_value(row, attr)
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def template_names() -> dict[str, Any]:
    """What ``_report_stats.html``'s macros read."""
    return {"columns": [(vi, COLUMNS_EN[attr], attr) for vi, attr in COLUMNS + EXTRA_COLUMNS],
            "groupings": GROUPINGS, "groupings_en": GROUPINGS_EN, "cell": cell}
