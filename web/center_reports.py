"""Center mode: the commune manager's live queue with today's figures, and the report of any period.

- ``/queue``: today's waiting tickets per service (number, since when, priority, procedure, place in the
  queue), each counter's state (open / paused / closed, its citizen, its officer), the estimated waits,
  and today's figures (total, by service, by counter); the page reloads itself every 10 s.
- ``/report?from=&to=``: ``qms report``'s report (:func:`qms.report_sql.store_report`, all groupings) of
  the period; ``/report.csv`` (``qms report --csv``), ``/report.png`` (``--png``) and ``/report.xlsx``
  (``--xlsx``) download it.

Managers and technicians, logged in. Read-only: the store is opened ``mode=ro`` (never created, migrated
nor written; :mod:`qms.live_state` reads the live queue). A missing or unreadable store, a bad or reversed
date, a period over 366 days get a friendly page, never a traceback.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, url_for

from qms.config import ConfigError, SiteConfig, load_config
from qms.config.cache import CoreConfig
from qms.config.history import former_names
from qms.context import STORE_FILE
from qms.live_state import read_live_state
from qms.report_model import Report, site_labels
from qms.report_ratings import read_only
from qms.report_sql import store_report
from queue_core import CounterStatus, SiteDef, TicketStatus
from queue_core.views import counter_view, service_view, ticket_view

from .auth import require
from .report_view import (
    Problem,
    answers_problems,
    csv_response,
    download,
    now,
    period,
    report_csv_rows,
    template_names,
)
from .sections import MANAGER

bp = answers_problems(Blueprint("center_reports", __name__))

REFRESH_S = 10
"""The queue page reloads itself this often."""
STATUS = {CounterStatus.OPEN.value: ("Đang mở", "open"), CounterStatus.PAUSED.value: ("Tạm dừng", "paused"),
          CounterStatus.CLOSED.value: ("Đóng", "closed")}
_charts = threading.Lock()  # pyplot is not thread-safe; `qms web` serves requests in threads


@dataclass(frozen=True)
class Center:
    """The config as the pages need it: the validated file, the queue core's view of it, the names."""

    config: SiteConfig
    site: SiteDef
    labels: dict[str, dict[str, str]]


_centers: dict[Path, tuple[tuple[int, int], Center]] = {}  # config file -> (its mtime and size, what it said)


def _center() -> Center:
    """The center's config, read again only when the file changed (a reload of the queue page every 10 s
    would otherwise spend 150 ms validating it)."""
    path = Path(current_app.extensions["qms"].config_path)
    try:
        stat = path.stat()
        mark = (stat.st_mtime_ns, stat.st_size)
        found = _centers.get(path)
        if found is not None and found[0] == mark:
            return found[1]
        config = load_config(path)
    except (ConfigError, OSError) as exc:
        current_app.logger.error("center reports: the config: %s", exc)
        raise Problem(503, "Không đọc được cấu hình", "Không đọc được tệp cấu hình của trung tâm. Hãy báo cán bộ "
                      "kỹ thuật.", "The center's config file cannot be read. Ask the technician.") from None
    core = CoreConfig.of(config)
    former = former_names(current_app.extensions["qms"].data_dir)  # removed services keep their names
    center = _centers[path] = (mark, Center(config, core.site, site_labels(core.site, core.names, former)))
    return center[1]


@contextmanager
def _store() -> Iterator[sqlite3.Connection]:
    """The store, read-only; a friendly Problem when it is not there or cannot be read."""
    path = current_app.extensions["qms"].data_dir / STORE_FILE
    if not path.exists():
        raise Problem(503, "Chưa có dữ liệu", "Chưa có kho dữ liệu hàng đợi trên máy này: máy chủ hàng đợi (qms "
                      "hub) chưa chạy lần nào, hoặc thư mục dữ liệu không đúng. Hãy báo cán bộ kỹ thuật.",
                      "There is no queue store on this board yet: the hub has never run, or the data folder is "
                      "wrong. Ask the technician.")
    try:
        conn = read_only(path)
    except sqlite3.Error as exc:
        raise _unreadable(exc) from None
    conn.isolation_level = None  # store_report runs its own read transaction
    try:
        yield conn
    except sqlite3.Error as exc:
        raise _unreadable(exc) from None
    finally:
        conn.close()


def _unreadable(exc: Exception) -> Problem:
    current_app.logger.error("center reports: cannot read the store: %s", exc)
    return Problem(503, "Không đọc được dữ liệu", "Không đọc được kho dữ liệu hàng đợi. Hãy thử lại sau ít phút, "
                   "hoặc báo cán bộ kỹ thuật.", f"The queue store cannot be read ({type(exc).__name__}). Try again "
                   "in a few minutes, or ask the technician.")


def _report(conn: sqlite3.Connection, center: Center, start: date, end: date) -> Report:
    """``qms report``'s report of ``start``..``end``, to the figure."""
    return store_report(conn, start, end, center.site.tz, center.labels, center.site.name)


def _hhmm(text: str | None) -> str:
    return "–" if text is None else datetime.fromisoformat(text).strftime("%H:%M")


def _minutes_since(text: str | None, when: datetime) -> int | None:
    return None if text is None else max(0, int((when - datetime.fromisoformat(text)).total_seconds() // 60))


def live_queue(conn: sqlite3.Connection, center: Center, when: datetime) -> dict[str, Any]:
    """Today's queue at ``when`` (local): ``services`` (each with its waiting tickets in call order and its
    estimated wait) and ``counters`` (state, citizen, officer)."""
    state = read_live_state(conn, center.site)
    site, today = center.site, when.date()
    priorities, procedures = center.labels.get("priority", {}), center.labels.get("procedure", {})
    waiting: dict[str, list[dict[str, Any]]] = {s: [] for s in site.services}
    for ticket in state.tickets.values():
        if ticket.status == TicketStatus.WAITING and ticket.day == today:
            view = ticket_view(site, state, ticket, when)
            view.update(since=_hhmm(view["queued_at"]), waited_min=_minutes_since(view["queued_at"], when),
                        priority_name=priorities.get(ticket.priority, ticket.priority),
                        procedure_name=procedures.get(ticket.procedure or "", ticket.procedure or "–"))
            waiting[ticket.service].append(view)
    services = []
    for sid in site.services:
        view = service_view(site, state, sid, when)
        view["tickets"] = sorted(waiting[sid], key=lambda t: (t["ahead"], t["queued_at"]))
        services.append(view)
    counters = []
    for cid in site.counters:
        view = counter_view(site, state, cid, when)
        ticket = view["ticket"]
        if ticket is not None:
            ticket.update(since=_hhmm(ticket["called_at"]), minutes=_minutes_since(ticket["called_at"], when))
        view["status_vi"], view["status_en"] = STATUS.get(view["status"], (view["status"], view["status"]))
        view["service_names"] = [site.services[s].name for s in view["services"] if s in site.services]
        counters.append(view)
    return {"services": services, "counters": counters}


@bp.route("/queue")
@require(MANAGER)
def queue() -> Any:
    """The live queue and today's figures; reloads itself every :data:`REFRESH_S` seconds."""
    center = _center()
    when = now(center.site.tz)
    with _store() as conn:
        live = live_queue(conn, center, when)
        today = _report(conn, center, when.date(), when.date())
    return render_template("center_queue.html", live=live, today=today, when=when, refresh_s=REFRESH_S,
                           site_name=center.site.name, **template_names())


def _period_report() -> tuple[Center, Report]:
    center = _center()
    start, end = period(now(center.site.tz).date())
    with _store() as conn:
        return center, _report(conn, center, start, end)


def _query(report: Report) -> dict[str, str]:
    return {"from": report.start.isoformat(), "to": report.end.isoformat()}


def _name(report: Report, suffix: str) -> str:
    return f"bao-cao-{report.start.isoformat()}-{report.end.isoformat()}.{suffix}"


@bp.route("/report")
@require(MANAGER)
def report() -> Any:
    """``qms report``'s report of the chosen period (default: this month so far), every grouping."""
    _, found = _period_report()
    downloads = [(url_for("center_reports.report_png", **_query(found)), "Tải biểu đồ PNG / Download charts (PNG)"),
                 (url_for("center_reports.report_xlsx", **_query(found)), "Tải Excel / Download Excel (xlsx)")]
    return render_template("center_report.html", report=found, start=found.start, end=found.end,
                           csv_url=url_for("center_reports.report_csv", **_query(found)), downloads=downloads,
                           **template_names())


@bp.route("/report.csv")
@require(MANAGER)
def report_csv() -> Any:
    """The report as ``qms report --csv`` writes it (``?decimal_comma=1``: as with ``--decimal-comma``)."""
    _, found = _period_report()
    return csv_response(report_csv_rows(found), _name(found, "csv"))


@bp.route("/report.png")
@require(MANAGER)
def report_png() -> Any:
    """The report's charts, as ``qms report --png`` draws them."""
    from qms.report_charts import render_dashboard

    _, found = _period_report()
    with tempfile.TemporaryDirectory(prefix="qms-web-") as folder, _charts:
        path = render_dashboard(found, Path(folder) / "report.png")
        return download(path.read_bytes(), "image/png", _name(found, "png"))


@bp.route("/report.xlsx")
@require(MANAGER)
def report_xlsx() -> Any:
    """The report and the period's tickets as an Excel workbook, as ``qms report --xlsx`` writes it."""
    from qms.report_xlsx import store_xlsx

    center = _center()
    start, end = period(now(center.site.tz).date())
    with _store() as conn, tempfile.TemporaryDirectory(prefix="qms-web-") as folder:
        found = _report(conn, center, start, end)
        path = store_xlsx(conn, found, Path(folder) / "report.xlsx", center.site.tz, center.labels)
        return download(path.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        _name(found, "xlsx"))

