"""The pure queue core: no I/O, no clock; commands take the time and return events."""

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

__all__ = [
    "ARG_SPECS", "EVENT_TYPES", "NORMAL", "CounterDef", "CounterState", "CounterStatus", "Engine", "ErrorCode",
    "Event", "EventType", "OpeningHours", "Outcome", "Period", "PolicyDef", "QueueError", "QueueState",
    "ServiceDay", "ServiceDef", "SiteDef", "Ticket", "TicketStatus", "check_args", "counter_view", "run_action",
    "service_view", "ticket_view",
]
