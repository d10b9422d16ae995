"""The pure queue core: no I/O, no clock; commands take the time and return events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_exports

if TYPE_CHECKING:
    from .actions import ARG_SPECS, check_args, run_action
    from .engine import Engine, Outcome
    from .errors import ErrorCode, QueueError
    from .events import EVENT_TYPES, Event, EventType
    from .model import (
        NORMAL,
        CounterDef,
        CounterState,
        CounterStatus,
        OpeningHours,
        Period,
        PolicyDef,
        QueueState,
        ServiceDay,
        ServiceDef,
        SiteDef,
        Ticket,
        TicketStatus,
    )
    from .views import counter_view, service_view, ticket_view

# Imported on first use (PEP 562): a device that only names the model (the kiosk, the display) does not
# load the engine, its estimates and their statistics (issue 15: kiosk memory).
_WHERE = {
    "ARG_SPECS": "actions", "check_args": "actions", "run_action": "actions", "Engine": "engine",
    "Outcome": "engine", "ErrorCode": "errors", "QueueError": "errors", "EVENT_TYPES": "events", "Event": "events",
    "EventType": "events", "NORMAL": "model", "CounterDef": "model", "CounterState": "model",
    "CounterStatus": "model", "OpeningHours": "model", "Period": "model", "PolicyDef": "model",
    "QueueState": "model", "ServiceDay": "model", "ServiceDef": "model", "SiteDef": "model", "Ticket": "model",
    "TicketStatus": "model", "counter_view": "views", "service_view": "views", "ticket_view": "views",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "ARG_SPECS", "EVENT_TYPES", "NORMAL", "CounterDef", "CounterState", "CounterStatus", "Engine", "ErrorCode",
    "Event", "EventType", "OpeningHours", "Outcome", "Period", "PolicyDef", "QueueError", "QueueState",
    "ServiceDay", "ServiceDef", "SiteDef", "Ticket", "TicketStatus", "check_args", "counter_view", "run_action",
    "service_view", "ticket_view",
]
