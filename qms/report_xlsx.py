"""The report as an Excel workbook (openpyxl, write-only: a year of tickets streams through).

Opens right in Vietnamese Excel and LibreOffice whatever the regional settings (numbers are numbers,
not text with a decimal point). Sheets: "Tổng hợp" (the period and its totals), one per grouping
(day, arrival hour, service, counter, officer, procedure) with the columns of the CSV, and
"Danh sách phiếu": a row per ticket and service it went through (a transferred ticket has one row
per leg). Vietnamese headers, the header row frozen, set column widths, minutes with one decimal.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties

from qms.report_columns import STAT_COLUMNS, stat_value
from qms.report_legs import TICKET_SQL, TRANSFERRED, Leg, StoredTicket, legs, load_transfers
from qms.report_model import GROUPINGS, Labels, Report, Stats, minutes

SHEETS = {"day": "Theo ngày", "hour": "Theo giờ đến", "service": "Theo lĩnh vực", "counter": "Theo quầy",
          "officer": "Theo cán bộ", "procedure": "Theo thủ tục"}
TICKETS_SHEET = "Danh sách phiếu"
GROUP_NAME = {"day": "Ngày", "hour": "Giờ đến", "service": "Lĩnh vực", "counter": "Quầy", "officer": "Cán bộ",
              "procedure": "Thủ tục"}
STATUS = {"done": "Đã phục vụ", "no_show": "Vắng mặt", "waiting": "Đang chờ", "called": "Đang phục vụ",
          TRANSFERRED: "Chuyển đi"}
TICKET_COLUMNS = (  # (header, width)
    ("Số phiếu", 9), ("Ngày", 11), ("Lĩnh vực", 26), ("Thủ tục", 30), ("Ưu tiên", 16), ("Đến lúc", 19),
    ("Gọi lúc", 19), ("Xong lúc", 19), ("Chờ (phút)", 12), ("Phục vụ (phút)", 15), ("Quầy", 12),
    ("Cán bộ", 22), ("Kết quả", 14), ("Chuyển", 34), ("Đánh giá (★)", 13),
    ("Mã hồ sơ", 28),
)
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F5FA8")
DATE_TIME = "dd/mm/yyyy hh:mm:ss"
ONE_DECIMAL = "0.0"


def _header(ws: WriteOnlyWorksheet, headers: Iterable[str], widths: Iterable[float]) -> None:
    """Column widths, the frozen header row, printing (a page wide, header on every page), then the header."""
    widths = list(widths)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.page_setup.orientation = "landscape" if sum(widths) > 90 else "portrait"
    ws.page_setup.paperSize = "9"  # A4
    ws.print_title_rows = "1:1"
    cells = []
    for text in headers:
        cell = WriteOnlyCell(ws, text)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cells.append(cell)
    ws.append(cells)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _cell(ws: WriteOnlyWorksheet, value: Any, number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value)
    if number_format and value is not None:
        cell.number_format = number_format
    return cell


def _stats_sheet(wb: Workbook, title: str, first: str, rows: list[Stats]) -> None:
    ws = wb.create_sheet(title)
    _header(ws, [first, "Mã", *(h for h, _ in STAT_COLUMNS)], [30, 14, *(max(9, len(h) + 2) for h, _ in STAT_COLUMNS)])
    for row in rows:
        cells = [_cell(ws, row.label), _cell(ws, row.key)]
        for _, attr in STAT_COLUMNS:
            value = stat_value(row, attr)
            cells.append(_cell(ws, value, ONE_DECIMAL if isinstance(value, float) else None))
        ws.append(cells)


def _summary_sheet(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Tổng hợp")
    _header(ws, ["Chỉ số", "Giá trị"], [30, 56])
    for label, value in (("Đơn vị", report.title or "–"), ("Từ ngày", report.start.strftime("%d/%m/%Y")),
                         ("Đến ngày", report.end.strftime("%d/%m/%Y")), ("Múi giờ", report.tz)):
        ws.append([label, value])
    total = report.total
    for header, attr in STAT_COLUMNS:
        value = stat_value(total, attr)
        ws.append([_cell(ws, header), _cell(ws, "–" if value is None else value,
                                             ONE_DECIMAL if isinstance(value, float) else None)])
    note = _cell(ws, "Thời gian tính bằng phút; P90: 90% không quá; phiếu chuyển lĩnh vực được tính ở cả hai "
                     "lĩnh vực (chuyển đi / chuyển đến)")
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.append(["Ghi chú", note])


def _local(dt: datetime | None, tz: tzinfo) -> datetime | None:
    """Excel has no time zones: the center's local time, naive."""
    return None if dt is None else dt.astimezone(tz).replace(tzinfo=None)


def ticket_legs(conn: sqlite3.Connection, start: date, end: date) -> Iterator[tuple[StoredTicket, Leg, Leg | None]]:
    """(ticket, leg, the leg before it) of the period's tickets, in order of issue; streams from the store."""
    transfers = load_transfers(conn, start, end)
    rows = conn.execute(TICKET_SQL + " ORDER BY issued_at, id", (start.isoformat(), end.isoformat()))
    for row in rows:
        ticket = StoredTicket.from_row(row)
        previous = None
        for leg in legs(ticket, transfers.get(ticket.id, ())):
            yield ticket, leg, previous
            previous = leg


def _tickets_sheet(wb: Workbook, items: Iterable[tuple[StoredTicket, Leg, Leg | None]], tz: tzinfo,
                   labels: Labels) -> None:
    ws = wb.create_sheet(TICKETS_SHEET)
    _header(ws, [h for h, _ in TICKET_COLUMNS], [w for _, w in TICKET_COLUMNS])
    names = {g: labels.get(g, {}) for g in ("service", "counter", "procedure", "priority")}
    for ticket, leg, previous in items:
        wait = None if leg.called_at is None else (leg.called_at - leg.arrived_at).total_seconds()
        service = None
        if leg.called_at is not None and leg.finished_at is not None and leg.status in ("done", TRANSFERRED):
            service = (leg.finished_at - leg.called_at).total_seconds()
        moved = ""
        if previous is not None:
            moved = f"chuyển đến từ {names['service'].get(previous.service, previous.service)}"
        elif leg.transferred_out:
            moved = "chuyển đi"
        ws.append([
            ticket.number, _cell(ws, ticket.day, "dd/mm/yyyy"), names["service"].get(leg.service, leg.service),
            names["procedure"].get(ticket.procedure or "", ticket.procedure or ""),
            "" if ticket.priority == "normal" else names["priority"].get(ticket.priority, ticket.priority),
            _cell(ws, _local(leg.arrived_at, tz), DATE_TIME), _cell(ws, _local(leg.called_at, tz), DATE_TIME),
            _cell(ws, _local(leg.finished_at, tz), DATE_TIME), _cell(ws, minutes(wait), ONE_DECIMAL),
            _cell(ws, minutes(service), ONE_DECIMAL), names["counter"].get(leg.counter or "", leg.counter or ""),
            leg.officer or "", STATUS.get(leg.status, leg.status), moved, leg.rating, ticket.dossier or "",
        ])


def write_xlsx(report: Report, path: Path, tickets: Iterable[tuple[StoredTicket, Leg, Leg | None]] = (),
               tz: tzinfo | None = None, labels: Labels | None = None) -> Path:
    """Write the workbook: the summary, a sheet per grouping and the tickets (``tickets``: :func:`ticket_legs`)."""
    wb = Workbook(write_only=True)
    wb.properties.title = f"Báo cáo cấp số thứ tự {report.start:%d/%m/%Y} – {report.end:%d/%m/%Y}"
    wb.properties.creator = "qms"
    _summary_sheet(wb, report)
    for grouping, title in SHEETS.items():
        _stats_sheet(wb, title, GROUP_NAME[grouping], report.sections.get(grouping, []))
    _tickets_sheet(wb, tickets, tz or _zone(report.tz), labels or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def store_xlsx(conn: sqlite3.Connection, report: Report, path: Path, tz: tzinfo,
               labels: Mapping[str, Mapping[str, str]]) -> Path:
    """The workbook of ``report`` with its tickets read from the store (one read transaction)."""
    conn.execute("BEGIN")
    try:
        return write_xlsx(report, path, ticket_legs(conn, report.start, report.end), tz, labels)
    finally:
        conn.execute("COMMIT")


assert set(SHEETS) | {"total"} == set(GROUPINGS)
