"""Thermal ticket printer: layout, hybrid/glyphs/text ESC/POS rendering, transports, status.

    from devices.printer import PrinterService, PrintableTicket, PrinterUnavailable
    svc = PrinterService("serial:///dev/ttyUSB0?baudrate=115200&profile=TM-T20II")
    svc.open()                     # raises PrinterUnavailable saying what to check
    svc.print_ticket(ticket)       # raises PrinterUnavailable: show the number on screen
"""

from .errors import PrinterUnavailable
from .layout import PrintableTicket, ticket_ops
from .lowering import RenderConfig, lower
from .render import Job, render_bytes, render_job
from .service import PrinterMonitor, PrinterService
from .status import STATES, query_status
from .transport import Transport, open_transport
from .url import PrinterSpec, parse_printer_url

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
