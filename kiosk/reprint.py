"""Reprint any ticket of today (issue 14, point 9).

A pad, a monitor or this kiosk's technician screen sends ``reprint`` to the hub; the hub emits
``event/reprint_requested`` with the ticket and the kiosk meant to print it (null: any kiosk).
:class:`Reprints` prints those events on this kiosk's printer and sends the technician's requests.
No Kivy here: the bus delivers on the UI thread (``ui_kit.bridge.UiBus``) and the printer queues.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from mqtt_bus.contract import EventType

from .ports import Choice, PrintResult

log = logging.getLogger(__name__)


class _Bus(Protocol):
    topics: Any

    def subscribe(self, topic_filter: str, handler: Callable[[str, dict], None]) -> None: ...

    def request(self, action: str, args: dict[str, Any], done: Callable[[Any], None],
                request_id: str | None = None, timeout: float = 3.0, retries: int = 2) -> str: ...


class _Printer(Protocol):
    def print_ticket(self, ticket: dict[str, Any], choice: Choice, done: Callable[[PrintResult], None]) -> None: ...


def choice_of(ticket: dict[str, Any]) -> Choice:
    """What the ticket's citizen chose, rebuilt from a TICKET payload (for the printed texts)."""
    return Choice(service=str(ticket.get("service") or ""), procedure=str(ticket.get("procedure") or ""),
                  priority=str(ticket.get("priority") or "normal"), lang=str(ticket.get("lang") or "vi"))


class Reprints:
    """Prints the ``reprint_requested`` events meant for ``client_id``; asks for reprints by number."""

    def __init__(self, bus: _Bus, printer: _Printer, client_id: str,
                 on_printed: Callable[[str, PrintResult], None] | None = None) -> None:
        self.bus, self.printer, self.client_id = bus, printer, client_id
        self.on_printed = on_printed  # (number, result) after each reprint, on the UI thread
        self._seen_seq = -1
        bus.subscribe(bus.topics.event(EventType.REPRINT_REQUESTED), self.on_event)

    def on_event(self, _topic: str, event: dict[str, Any]) -> bool:
        """Print the event's ticket when it is for this kiosk (each ``seq`` once); True when queued."""
        target = event.get("kiosk")
        ticket = event.get("ticket") or {}
        if target not in (None, "", self.client_id) or not ticket.get("number") or not ticket.get("issued_at"):
            return False
        seq = event.get("seq")
        if isinstance(seq, int):
            if seq <= self._seen_seq:
                return False  # sent again after a hub restart
            self._seen_seq = seq
        number = str(ticket["number"])
        log.info("reprinting %s (asked for %s)", number, target or "any kiosk")
        self.printer.print_ticket(ticket, choice_of(ticket), lambda result: self._printed(number, result))
        return True

    def _printed(self, number: str, result: PrintResult) -> None:
        if not result.ok:
            log.warning("reprint of %s failed: %s", number, result.message)
        if self.on_printed is not None:
            self.on_printed(number, result)

    def request(self, number: str, done: Callable[[dict[str, Any] | Exception], None]) -> None:
        """Ask the hub to reprint today's ``number`` here (the technician screen)."""
        try:
            self.bus.request("reprint", {"number": number, "kiosk": self.client_id}, done,
                             request_id=uuid.uuid4().hex)
        except Exception as exc:  # closed client: answer like a timeout
            log.warning("reprint not sent: %s", exc)
            done(exc)
