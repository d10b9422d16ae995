"""PrinterService (thread-safe print/reprint/status) and PrinterMonitor (status poll thread)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from .errors import PrinterUnavailable
from .layout import PrintableTicket, ticket_ops
from .render import Job, render_job
from .status import TZ, payload
from .transport import Transport, open_transport
from .url import PrinterSpec, parse_printer_url

log = logging.getLogger(__name__)
Listener = Callable[[dict[str, str]], None]
PRINTABLE = ("ok", "paper_low")


class PrinterService:
    """One printer, used from any thread. The caller owns tickets; this only prints them.

    The port is (re)opened by its path/address whenever it is closed, so an unplugged printer
    comes back by itself on the next `status()` or `print_ticket()`.
    """

    def __init__(self, url: str | PrinterSpec, *, on_status: Listener | None = None, tz: tzinfo = TZ) -> None:
        self.spec = url if isinstance(url, PrinterSpec) else parse_printer_url(url)
        self.tz = tz
        self._lock = threading.RLock()
        self._transport: Transport | None = None
        self._listeners: list[Listener] = [on_status] if on_status else []
        self._last_ticket: PrintableTicket | None = None
        self._last_status: dict[str, str] | None = None
        self._delivered: dict[str, str] | None = None
        self._notify_lock = threading.Lock()
        self._held: dict[str, int] | None = None  # keep=N: letters the printer holds (None: unknown)
        self._kept_jobs = 0  # jobs since the last fresh one (ESC @ and every letter)

    # -- port -----------------------------------------------------------------------------
    def open(self) -> dict[str, str]:
        """Open the port now (raises PrinterUnavailable saying what to check); return status."""
        with self._lock:
            self._open()
        return self.status()

    def _open(self) -> Transport:
        if self._transport is None:
            self._transport = open_transport(self.spec)
        return self._transport

    def close(self) -> None:
        """Release the port (it is reopened on next use)."""
        with self._lock:
            self._held = None
            if self._transport is not None:
                self._transport.close()
                self._transport = None

    def __enter__(self) -> PrinterService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def printer(self) -> Any:
        """The underlying python-escpos object (None while closed); for tests and tools."""
        return None if self._transport is None else self._transport.device

    # -- status ---------------------------------------------------------------------------
    def add_listener(self, callback: Listener) -> None:
        """Call `callback(payload)` whenever the printer state changes (from any thread)."""
        with self._lock:
            self._listeners.append(callback)

    @property
    def last_status(self) -> dict[str, str] | None:
        """The most recent status payload, without asking the printer."""
        return self._last_status

    def status(self) -> dict[str, str]:
        """Ask the printer now (reopening the port if needed); never raises."""
        with self._lock:
            current = self._last_status = self._query()
        self._notify()
        return current

    def _query(self) -> dict[str, str]:
        current = self._ask()
        if current["state"] not in PRINTABLE:
            self._held = None  # it may come back switched off and on: downloaded letters gone
        return current

    def _ask(self) -> dict[str, str]:
        try:
            transport = self._open()
        except PrinterUnavailable as exc:
            return payload("offline", str(exc), tz=self.tz)
        if not self.spec.status_query:
            return payload("ok", "status queries disabled (status=none)", tz=self.tz)
        try:
            state, detail = transport.read_status(self.spec.timeout)
        except Exception as exc:
            self.close()
            return payload("offline", f"port error, will reopen {self.spec.where}: {exc}", tz=self.tz)
        return payload(state, detail, tz=self.tz)

    def _notify(self) -> None:
        """Deliver the latest status if its state differs from the last one delivered.

        Runs outside the printer lock; the notify lock keeps deliveries in order, and reading
        the latest status here means a slow thread can never deliver a stale state last.
        """
        with self._notify_lock:
            current = self._last_status
            if current is None or (self._delivered and self._delivered["state"] == current["state"]):
                return
            self._delivered = current
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(current)
            except Exception:
                log.exception("printer status listener failed")

    # -- printing -------------------------------------------------------------------------
    def render(self, ticket: PrintableTicket) -> bytes:
        """The bytes this printer would receive for `ticket`."""
        return self._job(ticket).data

    def _job(self, ticket: PrintableTicket) -> Job:
        keep = self.spec.render.keep_glyphs
        held = self._held if keep and self._kept_jobs < keep else None
        return render_job(ticket.number, ticket_ops(ticket), self.spec.render, held)

    def send(self, job: Job) -> int:
        """Send a rendered job without asking for the paper state first (test pages); returns its size.

        Raises PrinterUnavailable when the port can't be opened or the write fails.
        """
        with self._lock:
            transport = self._open()
            try:
                transport.write(job)
            except Exception as exc:
                self.close()
                raise PrinterUnavailable(f"{job.name} not sent to {self.spec.where}: {exc}") from exc
        return len(job.data)

    def print_ticket(self, ticket: PrintableTicket) -> int:
        """Print `ticket` and return the bytes sent; raises PrinterUnavailable if it can't.

        The ticket is kept for `reprint_last()` even when printing failed.
        """
        with self._lock:
            self._last_ticket = ticket
        return self._print_and_notify(ticket)

    def reprint_last(self) -> int:
        """Print the last ticket again (e.g. after changing the paper)."""
        ticket = self._last_ticket
        if ticket is None:
            raise LookupError("no ticket printed yet")
        return self._print_and_notify(ticket)

    def _print_and_notify(self, ticket: PrintableTicket) -> int:
        with self._lock:
            sent = self._print(ticket)
        self._notify()  # outside the lock
        if isinstance(sent, PrinterUnavailable):
            raise sent
        return sent

    def _print(self, ticket: PrintableTicket) -> int | PrinterUnavailable:
        current = self._last_status = self._query()
        if current["state"] not in PRINTABLE:
            return PrinterUnavailable(f"printer {current['state']}: {current['detail']}", current)
        job = self._job(ticket)
        fresh = self._held is None or job.data.startswith(b"\x1b@")
        self._held = None  # unknown until the write succeeds
        try:
            self._open().write(job)
        except Exception as exc:
            self.close()
            current = self._last_status = payload(
                "offline", f"write failed, will reopen {self.spec.where}: {exc}", tz=self.tz)
            return PrinterUnavailable(f"printer offline: {exc}", current)
        if job.held is not None:
            self._held = dict(job.held)
            self._kept_jobs = 1 if fresh else self._kept_jobs + 1
        after = self._last_status = self._query()  # paper may run out mid-ticket (no flow control)
        if after["state"] not in PRINTABLE:
            return PrinterUnavailable(f"printer {after['state']} during the ticket: {after['detail']}", after)
        return len(job.data)


class PrinterMonitor:
    """Polls `service.status()` every `interval` s in a daemon thread; listeners hear changes."""

    def __init__(self, service: PrinterService, on_status: Listener | None = None, interval: float = 2.0) -> None:
        self.service = service
        self.interval = interval
        if on_status:
            service.add_listener(on_status)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PrinterMonitor:
        """Start polling (the first poll happens at once)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="printer-monitor", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop polling and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def poll(self) -> dict[str, str]:
        """One poll now (also what the thread does)."""
        return self.service.status()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("printer poll failed")
            self._stop.wait(self.interval)

    def __enter__(self) -> PrinterMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
