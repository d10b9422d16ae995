"""Thermal ticket printer: layout, hybrid/glyphs/text ESC/POS rendering, transports, status.

    from devices.printer import PrinterService, PrintableTicket, PrinterUnavailable
    svc = PrinterService("serial:///dev/ttyUSB0?baudrate=115200&profile=TM-T20II")
    svc.open()                     # raises PrinterUnavailable saying what to check
    svc.print_ticket(ticket)       # raises PrinterUnavailable: show the number on screen
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from queue_core.lazy import lazy_exports

if TYPE_CHECKING:
    from .errors import PrinterUnavailable
    from .layout import PrintableTicket, ticket_ops
    from .lowering import RenderConfig, lower
    from .render import Job, render_bytes, render_job
    from .service import PrinterMonitor, PrinterService
    from .status import STATES, query_status
    from .transport import Transport, open_transport
    from .url import PrinterSpec, parse_printer_url

# Imported on first use: `devices.printer.errors` (which the `qms` command needs for every verb) must
# not pull escpos, Pillow and numpy in with the rest of the package (issue 15: start-up time).
_EXPORTS = {
    "PrinterUnavailable": "errors", "PrintableTicket": "layout", "ticket_ops": "layout", "RenderConfig": "lowering",
    "lower": "lowering", "Job": "render", "render_bytes": "render", "render_job": "render",
    "PrinterMonitor": "service", "PrinterService": "service", "STATES": "status", "query_status": "status",
    "Transport": "transport", "open_transport": "transport", "PrinterSpec": "url", "parse_printer_url": "url",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "STATES",
    "Job",
    "PrintableTicket",
    "PrinterMonitor",
    "PrinterService",
    "PrinterSpec",
    "PrinterUnavailable",
    "RenderConfig",
    "Transport",
    "lower",
    "open_transport",
    "parse_printer_url",
    "query_status",
    "render_bytes",
    "render_job",
    "ticket_ops",
]
