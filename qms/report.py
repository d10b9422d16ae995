"""``qms report``: what happened at the center between two local dates, for its manager.

Per day, arrival hour, service, counter and officer: tickets issued, served (``done``) and
no-shows, waiting time (``called_at − issued_at``, every called ticket) and service time
(``finished_at − called_at``, served tickets only) as mean and 90th percentile, the ratings
1..5 and the satisfaction score 0–100. Dates and hours are the center's local time.

:func:`compute_report` computes them from ticket records (pure); ``qms report`` has the store compute
the same figures in SQL (:mod:`qms.report_sql`), so a year's report never loads a year of tickets.
Output: a text table (default), CSV for Excel (``--csv``) and a PNG dashboard (``--png``,
:mod:`qms.report_charts`). docs/reports.md explains every column.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from statistics import fmean
from typing import TYPE_CHECKING

from qms.report_columns import STAT_COLUMNS, stat_value
from qms.report_legs import TRANSFERRED, Leg, TicketRecord, Transfer, all_legs
from qms.report_model import (
    COLUMNS,
    EXTRA_COLUMNS,
    GROUPINGS,
    RATING_COLUMNS,
    Labels,
    Report,
    Stats,
    cell_value,
    percentile,
    section,
    site_labels,
)
from queue_core import Ticket
from queue_core.rating import satisfaction_score

if TYPE_CHECKING:
    from hub.store import Store
    from qms.context import AppContext

__all__ = ["COLUMNS", "EXTRA_COLUMNS", "RATING_COLUMNS", "TicketRecord", "compute_report", "csv_rows",
           "load_tickets", "percentile", "render_text", "site_labels", "write_csv"]

def wait_seconds(t: Leg) -> float | None:
    """Seconds from arrival (issue or transfer) to (last) call in this leg; None when never called."""
    return None if t.called_at is None else (t.called_at - t.arrived_at).total_seconds()


def service_seconds(t: Leg) -> float | None:
    """Seconds from call to completion or transfer; None for the other legs."""
    if t.status not in ("done", TRANSFERRED) or t.called_at is None or t.finished_at is None:
        return None
    return (t.finished_at - t.called_at).total_seconds()


def group_stats(grouping: str, key: str, label: str, rows: Sequence[Leg]) -> Stats:
    """The figures of one group of legs."""
    waits = [w for t in rows if (w := wait_seconds(t)) is not None]
    services = [s for t in rows if (s := service_seconds(t)) is not None]
    scores = [t.rating for t in rows if t.rating is not None]
    return Stats(
        grouping=grouping, key=key, label=label, issued=sum(t.first for t in rows),
        served=sum(t.status == "done" for t in rows), no_show=sum(t.status == "no_show" for t in rows),
        wait_avg_s=fmean(waits) if waits else None, wait_p50_s=percentile(waits, 50),
        wait_p90_s=percentile(waits, 90),
        service_avg_s=fmean(services) if services else None, service_p90_s=percentile(services, 90),
        ratings=(scores.count(1), scores.count(2), scores.count(3), scores.count(4), scores.count(5)),
        satisfaction=satisfaction_score(scores),
        transferred_in=sum(t.transferred_in for t in rows), transferred_out=sum(t.transferred_out for t in rows),
    )


def _keyers(tz: tzinfo) -> dict[str, Callable[[Leg], str]]:
    return {
        "total": lambda t: "",
        "day": lambda t: t.day.isoformat(),
        "hour": lambda t: f"{t.arrived_at.astimezone(tz).hour:02d}",
        "service": lambda t: t.service,
        "counter": lambda t: t.counter or "",
        "officer": lambda t: t.officer or "",
        "procedure": lambda t: t.procedure or "",
    }


def compute_report(tickets: Iterable[TicketRecord], start: date, end: date, tz: tzinfo,
                   labels: Labels | None = None, title: str = "",
                   transfers: Mapping[str, Sequence[Transfer]] | None = None) -> Report:
    """Group the legs of the tickets of local days ``start``..``end`` (inclusive) every way and compute the figures.

    ``transfers``: ticket id -> its transfers (:func:`qms.report_legs.load_transfers`); a ticket without
    counts in its last service only. Rows follow the order of ``labels`` for services and counters (the
    config order), then key order; days and hours are chronological; a group with no leg gets no row.
    """
    chosen = [t for t in tickets if start <= t.day <= end]
    rows = list(all_legs(chosen, transfers or {}))
    labels = labels or {}
    sections: dict[str, list[Stats]] = {}
    for grouping, keyer in _keyers(tz).items():
        groups: dict[str, list[Leg]] = {}
        for t in rows:
            groups.setdefault(keyer(t), []).append(t)
        if grouping == "total":
            groups.setdefault("", [])
        sections[grouping] = section(grouping, groups, labels,
                                     lambda k, label, g=grouping, gs=groups: group_stats(g, k, label, gs[k]))
    return Report(start, end, str(tz), title, sections)


def load_tickets(store: Store, start: date, end: date) -> list[Ticket]:
    """The tickets of local days ``start``..``end`` from a :class:`hub.store.Store`."""
    return store.tickets("day BETWEEN ? AND ?", (start.isoformat(), end.isoformat()))


# --------------------------------------------------------------------------------------- output
def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def _fit(text: str, width: int) -> str:
    while _width(text) > width:
        text = text[:-2] + "…"
    return text + " " * (width - _width(text))


def _cell(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def render_text(report: Report) -> str:
    """The report as aligned text tables, one per grouping."""
    short = ("Cấp", "Xong", "Vắng", "Chờ TB", "Chờ P90", "PV TB", "PV P90", "Đ.giá", "Hài lòng", "4-5★%", "Đến",
             "Đi")
    widths = [max(_width(h), 5) for h in short]
    name_w = 26
    lines = [f"BÁO CÁO CẤP SỐ THỨ TỰ — {report.title}".rstrip(" —"),
             f"Từ {report.start:%d/%m/%Y} đến {report.end:%d/%m/%Y} (giờ {report.tz}); thời gian tính bằng phút",
             "Cấp: số phiếu cấp · Xong: đã phục vụ · Vắng: vắng mặt · Đến/Đi: chuyển đến/chuyển đi · "
             "Chờ/PV: thời gian chờ/phục vụ, TB = trung bình, P90 = 90% không quá · Đ.giá: số lượt đánh giá "
             "1★·2★·3★·4★·5★ · 4-5★%: tỉ lệ 4★ và 5★"]
    for grouping, rows in report.sections.items():
        header = _fit(GROUPINGS[grouping], name_w) + "  " + "  ".join(
            h.rjust(w) for h, w in zip(short, widths, strict=True)) + "  1·2·3·4·5"
        lines += ["", header, "─" * _width(header)]
        for row in rows:
            cells = [_cell(cell_value(row, attr)) for _, attr in COLUMNS + EXTRA_COLUMNS]
            lines.append(_fit(row.label, name_w) + "  " + "  ".join(
                c.rjust(w) for c, w in zip(cells, widths, strict=True)) + "  " + "·".join(map(str, row.ratings)))
    return "\n".join(lines) + "\n"


def csv_rows(report: Report, decimal_comma: bool = False) -> list[list[str]]:
    """One table for Excel: a row per group, the grouping in the first column (filter on it)."""
    def fmt(value: float | int | None) -> str:
        text = _cell(value) if value is not None else ""
        return text.replace(".", ",") if decimal_comma else text

    rows = [["Nhóm theo", "Mã", "Tên", *(h for h, _ in STAT_COLUMNS)]]
    for grouping, stats in report.sections.items():
        for row in stats:
            rows.append([GROUPINGS[grouping], row.key, row.label,
                         *(fmt(stat_value(row, attr)) for _, attr in STAT_COLUMNS)])
    return rows


def write_csv(report: Report, path: Path, decimal_comma: bool = False) -> None:
    """UTF-8 with BOM (Excel then reads Vietnamese right); ``;`` and decimal commas with ``decimal_comma``."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, delimiter=";" if decimal_comma else ",").writerows(csv_rows(report, decimal_comma))


# ------------------------------------------------------------------------------------------ CLI
def parse_day(text: str) -> date:
    """``2025-03-31``, ``31/03/2025`` or ``31-03-2025``."""
    text = text.strip()
    try:
        if m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD or DD/MM/YYYY") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms report``."""
    parser.add_argument("--from", dest="start", type=parse_day, metavar="DATE",
                        help="first local day (YYYY-MM-DD or DD/MM/YYYY; default: 1st of --to's month)")
    parser.add_argument("--to", dest="end", type=parse_day, metavar="DATE", help="last local day (default: today)")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write a CSV table for Excel")
    parser.add_argument("--png", type=Path, metavar="FILE", help="also write a PNG dashboard of charts")
    parser.add_argument("--ratings-csv", type=Path, metavar="FILE",
                        help="also write every rating of the period with its ticket and dossier code (mã hồ sơ)")
    parser.add_argument("--xlsx", type=Path, metavar="FILE",
                        help="also write an Excel workbook: a sheet per grouping and every ticket of the period")
    parser.add_argument("--monthly", action="store_true",
                        help="the previous month's xlsx + PNG into <data-dir>/reports (the systemd timer runs it)")
    parser.add_argument("--keep", type=int, metavar="N",
                        help="with --monthly: keep the newest N months (default $QMS_REPORT_KEEP or 24)")
    parser.add_argument("--decimal-comma", action="store_true",
                        help="CSV with ';' and decimal commas (Excel with Vietnamese regional settings)")


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Print the report; write the CSV, xlsx and PNG when asked (or the monthly files with ``--monthly``)."""
    if ns.keep is not None and not ns.monthly:
        print("qms: --keep goes with --monthly", file=sys.stderr)
        return 2
    if ns.monthly:
        from qms.report_monthly import run_monthly

        return run_monthly(ctx, ns.keep)
    site = ctx.site
    end = ns.end or datetime.now(site.tz).date()
    start = ns.start or end.replace(day=1)
    if start > end:
        print(f"qms: --from {start} is after --to {end}", file=sys.stderr)
        return 2
    if not ctx.store_path.exists():
        print(f"qms: no store at {ctx.store_path}; check --data-dir (or $QMS_DATA_DIR)", file=sys.stderr)
        return 1
    from qms.config.history import former_names
    from qms.report_sql import store_report

    with ctx.open_store() as store:
        labels = site_labels(site, ctx.core_config.names, former_names(ctx.data_dir))
        report = store_report(store.connection, start, end, site.tz, labels, site.name)
        if ns.xlsx:
            from qms.report_xlsx import store_xlsx

            store_xlsx(store.connection, report, ns.xlsx, site.tz, labels)
        if ns.ratings_csv:
            from qms.report_ratings import rating_rows, write_ratings_csv

            write_ratings_csv(rating_rows(store.connection, start, end, site.tz), ns.ratings_csv)
    print(render_text(report), end="")
    if ns.csv:
        write_csv(report, ns.csv, ns.decimal_comma)
        print(f"\n✓ CSV: {ns.csv}")
    if ns.png:
        from qms.report_charts import render_dashboard

        render_dashboard(report, ns.png)
        print(f"✓ PNG: {ns.png}")
    if ns.xlsx:
        print(f"✓ Excel: {ns.xlsx}")
    if ns.ratings_csv:
        print(f"✓ CSV (đánh giá, mã hồ sơ): {ns.ratings_csv}")
    return 0
