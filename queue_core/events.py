"""Events a command causes; the store numbers them with the site-wide ``seq``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EVENT_TYPES = (
    "ticket_issued",
    "ticket_called",
    "ticket_recalled",
    "ticket_completed",
    "ticket_no_show",
    "ticket_transferred",
    "counter_paused",
    "counter_resumed",
    "rating_recorded",
    "officer_signed_in",
)


@dataclass(frozen=True)
class Event:
    """One thing that happened: ``ticket`` is the TICKET payload after the change."""

    type: str
    ts: datetime
    ticket: dict[str, Any] | None
    counter: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self, seq: int, ts_text: str) -> dict[str, Any]:
        """The ``event/{type}`` payload."""
        return {"seq": seq, "ts": ts_text, "type": self.type, "ticket": self.ticket,
                "counter": self.counter, **self.extra}
