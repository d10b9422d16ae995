"""Events a command causes; the store numbers them with the site-wide ``seq``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """The ``type`` of an event and the last level of its ``event/{type}`` topic (docs/protocol.md)."""

    TICKET_ISSUED = "ticket_issued"  # a kiosk (or the CLI) gave a citizen a number
    TICKET_CALLED = "ticket_called"  # a counter called a ticket (next or by number)
    TICKET_RECALLED = "ticket_recalled"  # a counter called its current ticket again
    TICKET_COMPLETED = "ticket_completed"  # the citizen was served (extra ``reason`` when closed for them)
    TICKET_NO_SHOW = "ticket_no_show"  # the citizen did not come (extra ``reason`` when closed for them)
    TICKET_TRANSFERRED = "ticket_transferred"  # sent on to another service (extra ``from_service``)
    COUNTER_PAUSED = "counter_paused"  # a counter stopped taking citizens (extra ``status``)
    COUNTER_RESUMED = "counter_resumed"  # a paused counter takes citizens again (extra ``status``)
    RATING_RECORDED = "rating_recorded"  # a citizen rated a served ticket (extras ``score``, ``label``)
    OFFICER_SIGNED_IN = "officer_signed_in"  # addition: an officer signed in at a counter (extra ``officer``)
    TICKET_RESTORED = "ticket_restored"  # addition: a no-show / complete undone (extra ``from_status``)
    REPRINT_REQUESTED = "reprint_requested"  # addition: print a ticket again (extra ``kiosk``: which one, or null)
    DOSSIER_SET = "dossier_set"  # addition: the officer tied a dossier code to the ticket (extra ``dossier``)


EVENT_TYPES = tuple(EventType)
"""Every event type, in the order of the contract."""


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
