"""Thermal ticket printer: layout, hybrid/text ESC/POS rendering, transports, status.

    from devices.printer import PrinterService, PrintableTicket, PrinterUnavailable
    svc = PrinterService("serial:///dev/ttyUSB0?baudrate=115200&profile=TM-T20II")
    svc.open()                     # raises PrinterUnavailable saying what to check
    svc.print_ticket(ticket)       # raises PrinterUnavailable: show the number on screen
"""

from .errors import PrinterUnavailable
from .layout import PrintableTicket, ticket_ops
from .render import RenderConfig, lower, render_bytes
from .service import PrinterMonitor, PrinterService
from .status import STATES, query_status
from .url import PrinterSpec, parse_printer_url

__all__ = [
    "STATES",
    "PrintableTicket",
    "PrinterMonitor",
    "PrinterService",
    "PrinterSpec",
    "PrinterUnavailable",
    "RenderConfig",
    "lower",
    "parse_printer_url",
    "query_status",
    "render_bytes",
    "ticket_ops",
]
