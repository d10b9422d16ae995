"""The kiosk's printer adapter: tickets from hub answers, printed on one worker thread.

Printing never runs on the UI thread: ``print_ticket`` queues a job and returns; the result comes
back through ``post`` (the UI thread in the app). ``PrinterService`` checks the paper before it
sends a byte, so "please take your ticket" is only promised after the printer accepted the job.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devices.printer import PrintableTicket, PrinterService, PrinterUnavailable
from devices.printer.sample import reference_ticket
from devices.printer.tools import print_test_page
from ui_kit.site_view import SiteView, pick

from .ports import Choice, PrintResult
from .wording import counters_text

log = logging.getLogger(__name__)
Post = Callable[[Callable[[], None]], None]
Done = Callable[[PrintResult], None]
PRINTER_LANGS = ("vi", "en")


def printer_defaults(width_mm: int, mode: str) -> dict[str, str]:
    """URL defaults from ``config.printer`` (the URL's own options win)."""
    return {"width": f"{width_mm}mm", "mode": mode}


def qr_data(site: SiteView, ticket: dict[str, Any], procedure: str) -> str | None:
    """What the ticket's QR code holds, as ``config.printer.qr`` says."""
    return qr_code(site, ticket, procedure)[0]


def qr_code(site: SiteView, ticket: dict[str, Any], procedure: str) -> tuple[str | None, str]:
    """The QR code's content and its kind (``tracking`` or ``portal``: the caption says which)."""
    qr = site.config.printer.qr
    if qr.content == "none":
        return None, "portal"
    if qr.content == "tracking" and qr.tracking_url:
        return qr.tracking_url.replace("{ticket}", str(ticket.get("id", ""))), "tracking"
    return site.portal_url(procedure) or (str(qr.portal_url) if qr.portal_url else None), "portal"


def printable_ticket(site: SiteView, ticket: dict[str, Any], choice: Choice) -> PrintableTicket:
    """The paper ticket for a hub TICKET, in the citizen's language (Vietnamese if not printable)."""
    lang = choice.lang if choice.lang in PRINTER_LANGS else "vi"
    service = str(ticket.get("service") or choice.service)
    procedure = str(ticket.get("procedure") or choice.procedure or "")
    priority = str(ticket.get("priority") or choice.priority)
    footer = site.config.printer.footer
    priority_name = site.priority_name(priority, lang)
    qr, qr_kind = qr_code(site, ticket, procedure)
    return PrintableTicket(
        center_name=site.center_name(lang),
        service_name=site.service_name(service, lang),
        number=str(ticket["number"]),
        issued_at=datetime.fromisoformat(str(ticket["issued_at"])),
        ahead=int(ticket.get("ahead") or 0),
        est_wait_s=None if ticket.get("est_wait_s") is None else int(ticket["est_wait_s"]),
        counters=counters_text(site.counter_names(service, lang), lang),
        procedure_name=site.procedure_name(procedure, lang) or None,
        priority_label=priority_name or None,
        documents=tuple(site.documents(procedure, lang)),
        qr_data=qr,
        qr_kind=qr_kind,
        footer=pick(footer.root, lang) if footer else "",
        lang=lang,
    )


class KioskPrinter:
    """``PrinterPort`` over a ``PrinterService``: one worker thread, results posted to the UI."""

    def __init__(self, service: PrinterService, site: SiteView, post: Post) -> None:
        self.service = service
        self.site = site
        self.post = post
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="kiosk-printer", daemon=True)
        self._thread.start()
        self._jobs.put(self._warm_up)

    def _warm_up(self) -> None:
        """Render a sample ticket once (fonts, QR): the first citizen's paper comes out as fast as the rest."""
        try:
            self.service.render(reference_ticket())
        except Exception:
            log.exception("printer warm-up failed")

    @property
    def state(self) -> str:
        """The last known state (``unknown`` before the first query)."""
        status = self.service.last_status
        return status["state"] if status else "unknown"

    def print_ticket(self, ticket: dict[str, Any], choice: Choice, done: Done) -> None:
        """Queue a ticket."""
        self._submit(lambda: self.service.print_ticket(printable_ticket(self.site, ticket, choice)), done)

    def reprint_last(self, done: Done) -> None:
        """Queue a reprint of the last ticket."""
        self._submit(self.service.reprint_last, done)

    def test_print(self, done: Done) -> None:
        """Queue the technician's test page (the port is released meanwhile)."""
        def job() -> None:
            self.service.close()
            print_test_page(self.service.spec.url)
        self._submit(job, done)

    def _submit(self, action: Callable[[], Any], done: Done) -> None:
        def job() -> None:
            try:
                action()
                result = PrintResult(True, self.service.last_status or {})
            except PrinterUnavailable as exc:
                result = PrintResult(False, exc.status or self.service.last_status or {}, str(exc))
            except LookupError as exc:
                result = PrintResult(False, self.service.last_status or {}, str(exc))
            except Exception as exc:  # a bad ticket or a bug: the number is still on screen
                log.exception("printing failed")
                result = PrintResult(False, self.service.last_status or {}, f"{type(exc).__name__}: {exc}")
            self.post(lambda: done(result))
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

    def close(self) -> None:
        """Finish queued jobs, stop the worker, release the port."""
        self._jobs.put(None)
        self._thread.join(5)
        self.service.close()
