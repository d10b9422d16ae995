"""Province mode: a page per center (today's figures, its link, the report of a chosen period), the whole
province's report (per center rows), and both as CSV in the format of ``qms report --csv``.

The figures are :mod:`qms.province.report`'s (``qms report``'s over PostgreSQL). Read-only, like the table.
A provincial account (no ``site``) sees everything; a center's manager (an account bound to a site) sees
only that center's page and CSV (403 elsewhere). Bad dates, unknown centers and a database that cannot be
read get a friendly page (400, 404, 503), never a traceback.
"""

from __future__ import annotations

import csv
import io
from argparse import ArgumentTypeError
from dataclasses import replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for

from qms.province import report as preport
from qms.report import csv_rows, parse_day
from qms.report_model import COLUMNS, EXTRA_COLUMNS, GROUPINGS, Report, Stats, cell_value

from .auth import require
from .province import centers

bp = Blueprint("province_pages", __name__)

MAX_DAYS = 366  # the longest period one page or file covers
COLUMNS_EN = {"issued": "Tickets", "served": "Served", "no_show": "No-shows", "wait_avg_s": "Avg wait (min)",
              "wait_p90_s": "P90 wait (min)", "service_avg_s": "Avg service (min)",
              "service_p90_s": "P90 service (min)", "rated": "Ratings", "satisfaction": "Satisfaction (0–100)",
              "good_share": "4–5★ (%)", "transferred_in": "Transferred in", "transferred_out": "Transferred out"}
GROUPINGS_EN = {"total": "Total", "day": "By day", "hour": "By arrival hour", "service": "By service",
                "counter": "By counter", "officer": "By officer", "procedure": "By procedure"}
CENTER_GROUPING = "Theo trung tâm"  # the province CSV's per-center rows


class Problem(Exception):
    """A request the pages answer with a friendly error page: HTTP code, title and the why in vi / en."""

    def __init__(self, code: int, title: str, vi: str, en: str) -> None:
        super().__init__(en)
        self.code, self.title, self.vi, self.en = code, title, vi, en


@bp.errorhandler(Problem)
def _problem(exc: Problem) -> tuple[str, int]:
    return render_template("error.html", code=exc.code, title_vi=exc.title, text_vi=exc.vi, text_en=exc.en), exc.code


def _settings() -> Any:
    return current_app.extensions["qms"]


def _zone() -> tzinfo:
    return ZoneInfo(_settings().extra.get("timezone", preport.DEFAULT_TZ))


def _now(tz: tzinfo) -> datetime:
    return _settings().extra.get("now", lambda: datetime.now(tz))().astimezone(tz)


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


def _may_see(site: str) -> None:
    if g.user.site is not None and g.user.site != site:
        abort(403)


def _provincial() -> None:
    if g.user.site is not None:
        abort(403)


def _database_problem(exc: Exception) -> Problem:
    current_app.logger.error("province pages: %s", exc)
    return Problem(503, "Không đọc được cơ sở dữ liệu", "Không đọc được cơ sở dữ liệu của tỉnh. Hãy thử lại sau, "
                   "hoặc báo cán bộ kỹ thuật.", f"Cannot read the province's database ({type(exc).__name__}). "
                   "Try again later, or ask the technician.")


def _load(site: str | None, start: date, end: date, tz: tzinfo) -> tuple[list[str], dict[str, preport.SiteTickets]]:
    import psycopg

    try:
        with preport.connect(_settings().extra["dsn"]) as conn:
            sites = preport.known_sites(conn)
            if site is not None and site not in sites:
                raise Problem(404, "Không có trung tâm này", f"Tỉnh chưa nhận được dữ liệu nào của “{site[:64]}”. "
                              "Hãy chọn trung tâm trong bảng.", f"The province has no data from “{site[:64]}”. "
                              "Pick a center from the table.")
            return sites, preport.load(conn, start, end, tz, site)
    except psycopg.Error as exc:
        raise _database_problem(exc) from None


def _csv(rows: list[list[str]], name: str) -> Response:
    decimal_comma = request.args.get("decimal_comma") == "1"
    out = io.StringIO()
    csv.writer(out, delimiter=";" if decimal_comma else ",").writerows(rows)
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _report_csv_rows(report: Report) -> list[list[str]]:
    return csv_rows(report, request.args.get("decimal_comma") == "1")


def _center_rows(totals: dict[str, Stats]) -> list[Stats]:
    """Each center's period in one row (its total), keyed and named by its site id."""
    return [replace(total, grouping="center", key=site, label=site) for site, total in totals.items()]


def _cell(row: Stats, attr: str) -> str:
    value = cell_value(row, attr)
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _template_names() -> dict[str, Any]:
    return {"columns": [(vi, COLUMNS_EN[attr], attr) for vi, attr in COLUMNS + EXTRA_COLUMNS],
            "groupings": GROUPINGS, "groupings_en": GROUPINGS_EN, "cell": _cell}


@bp.route("/centers/<site>")
@require("manager")
def center(site: str) -> Any:
    """One center: today's figures, its link, and the report of the chosen period."""
    _may_see(site)
    tz = _zone()
    now = _now(tz)
    start, end = period(now.date())
    _, data = _load(site, start, end, tz)
    report = preport.site_report(data.get(site, preport.SiteTickets()), start, end, tz, title=site)
    try:
        today = next((r for r in centers(_settings().extra["dsn"], now) if r.site == site), None)
    except Exception as exc:  # psycopg.Error: the report above was read, the table is not vital
        current_app.logger.error("province center %s today: %s", site, exc)
        today = None
    return render_template("province_center.html", site=site, today=today, report=report, start=start, end=end,
                           now=now, tz=tz, **_template_names())


@bp.route("/centers/<site>/report.csv")
@require("manager")
def center_csv(site: str) -> Any:
    """The center's report as ``qms report --csv`` writes it."""
    _may_see(site)
    tz = _zone()
    start, end = period(_now(tz).date())
    _, data = _load(site, start, end, tz)
    report = preport.site_report(data.get(site, preport.SiteTickets()), start, end, tz, title=site)
    return _csv(_report_csv_rows(report), f"bao-cao-{site}-{start.isoformat()}-{end.isoformat()}.csv")


def _province(start: date, end: date, tz: tzinfo) -> tuple[Report, dict[str, Stats]]:
    sites, data = _load(None, start, end, tz)
    return preport.province_report(data, start, end, tz), preport.center_totals(data, sites, start, end, tz)


@bp.route("/report")
@require("manager")
def province_report() -> Any:
    """The whole province's report of the chosen period, with one row per center."""
    _provincial()
    tz = _zone()
    now = _now(tz)
    start, end = period(now.date())
    report, totals = _province(start, end, tz)

    def center_link(site: str) -> str:
        return url_for("province_pages.center", site=site, **{"from": start.isoformat(), "to": end.isoformat()})

    return render_template("province_report.html", report=report, center_rows=_center_rows(totals), start=start,
                           end=end, now=now, tz=tz, center_link=center_link, **_template_names())


@bp.route("/report.csv")
@require("manager")
def province_csv() -> Any:
    """The province's report (``qms report --csv``'s rows) followed by one row per center."""
    _provincial()
    tz = _zone()
    start, end = period(_now(tz).date())
    report, totals = _province(start, end, tz)
    rows = _report_csv_rows(report)
    per_center = _report_csv_rows(Report(start, end, report.tz, report.title, {"total": _center_rows(totals)}))
    rows += [[CENTER_GROUPING, *row[1:]] for row in per_center[1:]]
    return _csv(rows, f"bao-cao-toan-tinh-{start.isoformat()}-{end.isoformat()}.csv")
