"""Province mode: a page per center (today's figures, its link, the report of a chosen period), the whole
province's report (per center rows), and both as CSV in the format of ``qms report --csv``.

The figures are :mod:`qms.province.report`'s (``qms report``'s over PostgreSQL). Read-only, like the table.
A provincial account (no ``site``) sees everything; a center's manager (an account bound to a site) sees
only that center's page and CSV (403 elsewhere). Bad dates, unknown centers and a database that cannot be
read get a friendly page (400, 404, 503), never a traceback.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, render_template, url_for

from qms.config.history import site_name
from qms.province import report as preport
from qms.report_model import Report, Stats

from .auth import require
from .province import centers
from .report_view import Problem, answers_problems, csv_response, period, report_csv_rows, template_names
from .report_view import now as _now

bp = answers_problems(Blueprint("province_pages", __name__))

CENTER_GROUPING = "Theo trung tâm"  # the province CSV's per-center rows


def _settings() -> Any:
    return current_app.extensions["qms"]


def _zone() -> tzinfo:
    return ZoneInfo(_settings().extra.get("timezone", preport.DEFAULT_TZ))


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


def _load(site: str | None, start: date, end: date, tz: tzinfo) -> tuple[list[str], dict[str, preport.SiteTickets],
                                                                     dict[str, Any]]:
    """The known sites, their tickets of the period and their config catalogues (all, or *site*'s)."""
    import psycopg

    try:
        with preport.connect(_settings().extra["dsn"]) as conn:
            sites = preport.known_sites(conn)
            if site is not None and site not in sites:
                raise Problem(404, "Không có trung tâm này", f"Tỉnh chưa nhận được dữ liệu nào của “{site[:64]}”. "
                              "Hãy chọn trung tâm trong bảng.", f"The province has no data from “{site[:64]}”. "
                              "Pick a center from the table.")
            return sites, preport.load(conn, start, end, tz, site), preport.catalogues(conn, site)
    except psycopg.Error as exc:
        raise _database_problem(exc) from None


def _center_rows(totals: dict[str, Stats], names: dict[str, str]) -> list[Stats]:
    """Each center's period in one row (its total), keyed by its site id, named by its catalogue (else its id)."""
    return [replace(total, grouping="center", key=site, label=names.get(site, site)) for site, total in totals.items()]


def _center_report(site: str, start: date, end: date, tz: tzinfo) -> Report:
    """*site*'s report of the period, from its events alone, labelled from its config catalogue."""
    _, data, by_site = _load(site, start, end, tz)
    catalogue = by_site.get(site)
    return preport.site_report(data.get(site, preport.SiteTickets()), start, end, tz,
                               preport.catalogue_labels(catalogue), site_name(catalogue) or site)


@bp.route("/centers/<site>")
@require("manager")
def center(site: str) -> Any:
    """One center: today's figures, its link, and the report of the chosen period."""
    _may_see(site)
    tz = _zone()
    now = _now(tz)
    start, end = period(now.date())
    report = _center_report(site, start, end, tz)
    try:
        today = next((r for r in centers(_settings().extra["dsn"], now) if r.site == site), None)
    except Exception as exc:  # psycopg.Error: the report above was read, the table is not vital
        current_app.logger.error("province center %s today: %s", site, exc)
        today = None
    return render_template("province_center.html", site=site, today=today, report=report, start=start, end=end,
                           now=now, tz=tz, **template_names())


@bp.route("/centers/<site>/report.csv")
@require("manager")
def center_csv(site: str) -> Any:
    """The center's report as ``qms report --csv`` writes it."""
    _may_see(site)
    tz = _zone()
    start, end = period(_now(tz).date())
    report = _center_report(site, start, end, tz)
    return csv_response(report_csv_rows(report), f"bao-cao-{site}-{start.isoformat()}-{end.isoformat()}.csv")


def _province(start: date, end: date, tz: tzinfo) -> tuple[Report, dict[str, Stats], dict[str, str]]:
    sites, data, by_site = _load(None, start, end, tz)
    names = {s: name for s, catalogue in by_site.items() if (name := site_name(catalogue))}
    return (preport.province_report(data, start, end, tz, labels=preport.province_labels(by_site)),
            preport.center_totals(data, sites, start, end, tz), names)


@bp.route("/report")
@require("manager")
def province_report() -> Any:
    """The whole province's report of the chosen period, with one row per center."""
    _provincial()
    tz = _zone()
    now = _now(tz)
    start, end = period(now.date())
    report, totals, names = _province(start, end, tz)

    def center_link(site: str) -> str:
        return url_for("province_pages.center", site=site, **{"from": start.isoformat(), "to": end.isoformat()})

    return render_template("province_report.html", report=report, center_rows=_center_rows(totals, names), start=start,
                           end=end, now=now, tz=tz, center_link=center_link, **template_names())


@bp.route("/report.csv")
@require("manager")
def province_csv() -> Any:
    """The province's report (``qms report --csv``'s rows) followed by one row per center."""
    _provincial()
    tz = _zone()
    start, end = period(_now(tz).date())
    report, totals, names = _province(start, end, tz)
    rows = report_csv_rows(report)
    per_center = report_csv_rows(Report(start, end, report.tz, report.title, {"total": _center_rows(totals, names)}))
    rows += [[CENTER_GROUPING, *row[1:]] for row in per_center[1:]]
    return csv_response(rows, f"bao-cao-toan-tinh-{start.isoformat()}-{end.isoformat()}.csv")
