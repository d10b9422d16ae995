"""Texts the pad shows for a ticket, an answer or an error (pure: no Kivy, no MQTT)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mqtt_bus.contract import ErrorCode
from ui_kit.i18n import tr
from ui_kit.site_view import SiteView

PRIORITY_MARK = "★"

#: Hub error codes with a text of their own (others show the hub's message).
KNOWN_ERRORS = frozenset({ErrorCode.COUNTER_PAUSED, ErrorCode.COUNTER_CLOSED, ErrorCode.NO_CURRENT_TICKET,
                          ErrorCode.SAME_SERVICE, ErrorCode.UNKNOWN_TICKET, ErrorCode.UNKNOWN_COUNTER,
                          ErrorCode.UNKNOWN_SERVICE, "timeout", "offline", ErrorCode.CLOCK_UNTRUSTED,
                          ErrorCode.NOT_UNDOABLE, ErrorCode.SAME_COUNTER, ErrorCode.COUNTER_NOT_SERVING,
                          ErrorCode.INVALID_DOSSIER})

#: Message after a successful action: key and whether the ticket number goes in it.
DONE_TEXTS = {
    "call_next": "counter.msg.called", "call_ticket": "counter.msg.called", "recall": "counter.msg.recalled",
    "complete": "counter.msg.completed", "no_show": "counter.msg.no_show",
    "transfer": "counter.msg.transferred", "pause": "counter.msg.paused", "resume": "counter.msg.resumed",
    "undo": "counter.msg.restored", "reprint": "counter.msg.reprinted", "set_dossier": "counter.msg.dossier_set",
}


@dataclass(frozen=True)
class TicketText:
    """The lines of the "now serving" card."""

    number: str = ""
    detail: str = ""  # procedure, else service
    priority: str = ""  # "★ Người cao tuổi" or ""
    since: str = ""  # "Lấy số 09:01 · chờ 12 phút"
    calls: str = ""  # "Đã gọi 2 lần" (from the second call on)


def _time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def describe_ticket(ticket: dict[str, Any] | None, site: SiteView, lang: str,
                    now: datetime | None = None) -> TicketText:
    """What the card says about ``ticket`` (empty when None)."""
    if not ticket:
        return TicketText()
    detail = site.procedure_name(ticket.get("procedure"), lang) or site.service_name(
        str(ticket.get("service", "")), lang)
    prio = site.priority_name(ticket.get("priority"), lang)
    issued = _time(ticket.get("issued_at"))
    since = ""
    if issued is not None:
        end = _time(ticket.get("called_at")) or now or datetime.now(issued.tzinfo)
        minutes = max(0, int((end - issued).total_seconds() // 60))
        since = tr("counter.ticket.since", lang, time=issued.strftime("%H:%M"), minutes=minutes)
    count = int(ticket.get("call_count") or 0)
    return TicketText(
        number=str(ticket.get("number", "")),
        detail=detail,
        priority=f"{PRIORITY_MARK} {prio}" if prio else "",
        since=since,
        calls=tr("counter.ticket.calls", lang, count=count) if count > 1 else "",
    )


def error_text(code: str, message: str, lang: str, **values: Any) -> str:
    """A readable message for a hub error code (the hub's own message when we have none)."""
    if code in KNOWN_ERRORS:
        values.setdefault("number", "")
        values.setdefault("counter", "")
        return tr(f"counter.error.{code}", lang, **values)
    return tr("counter.error.other", lang, message=message or code)


def done_text(action: str, result: dict[str, Any], site: SiteView, lang: str) -> str:
    """The message after ``action`` succeeded with ``result``."""
    if action == "sign_in":
        officer = (result.get("counter") or {}).get("officer")
        return tr("counter.msg.signed_in", lang, name=officer) if officer else tr("counter.msg.signed_out", lang)
    if action in ("call_next", "call_ticket", "recall") and result.get("ticket") is None:
        return tr("counter.msg.nobody", lang)
    key = DONE_TEXTS.get(action)
    if key is None:
        return ""
    ticket = result.get("ticket") or {}
    if action == "transfer" and ticket.get("to_counter"):
        return tr("counter.msg.transferred_counter", lang, number=ticket.get("number", ""),
                  counter=site.counter_name(str(ticket["to_counter"]), lang))
    return tr(key, lang, number=ticket.get("number", ""), code=ticket.get("dossier") or "",
              service=site.service_name(str(ticket.get("service", "")), lang))
