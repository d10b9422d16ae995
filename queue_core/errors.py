"""The one error type of the queue core, with stable codes for the MQTT contract."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every stable ``error.code`` of an ``ok: false`` response (docs/protocol.md, "Error codes").

    The core raises the first group in :class:`QueueError`; the hub gives the second around it.
    One list for both, so a device compares answers against one set of names.
    """

    # raised by the queue core
    BAD_REQUEST = "bad_request"  # not an object, a bad id, missing or wrongly typed args
    UNKNOWN_ACTION = "unknown_action"  # the message lists the valid actions
    UNKNOWN_SERVICE = "unknown_service"  # no such service in the config
    UNKNOWN_COUNTER = "unknown_counter"  # no such counter in the config
    UNKNOWN_PRIORITY = "unknown_priority"  # no such priority kind
    UNKNOWN_PROCEDURE = "unknown_procedure"  # no such procedure in the service
    UNKNOWN_TICKET = "unknown_ticket"  # no such ticket (id or today's waiting number)
    SERVICE_CLOSED = "service_closed"  # outside opening hours
    QUOTA_REACHED = "quota_reached"  # the service's daily quota is given
    RANGE_EXHAUSTED = "range_exhausted"  # every number of the day is given
    COUNTER_PAUSED = "counter_paused"  # resume the counter first
    COUNTER_CLOSED = "counter_closed"  # the counter is closed
    NO_CURRENT_TICKET = "no_current_ticket"  # complete / no-show / transfer with nobody called
    SAME_SERVICE = "same_service"  # transfer to the service the ticket is already in
    INVALID_SCORE = "invalid_score"  # a rating outside 1..5
    NOT_RATEABLE = "not_rateable"  # only served tickets are rated
    ALREADY_RATED = "already_rated"  # a ticket is rated once
    NOT_UNDOABLE = "not_undoable"  # undo: not finished here, too late, rated, or the counter serves someone
    SAME_COUNTER = "same_counter"  # transfer to the counter the ticket is at
    COUNTER_NOT_SERVING = "counter_not_serving"  # transfer to a counter that does not serve the service
    INVALID_DOSSIER = "invalid_dossier"  # set_dossier: a dossier code outside [A-Za-z0-9./-]{1,40}
    # given by the hub
    BAD_JSON = "bad_json"  # the payload is not UTF-8 JSON (answered with ``"id": null``)
    PAYLOAD_TOO_LARGE = "payload_too_large"  # more than 16 KiB
    FORBIDDEN = "forbidden"  # the client id's role may not ask for this (hub/authz.py)
    RATE_LIMITED = "rate_limited"  # too many requests or tickets from one device; ``details.retry_after_s``
    CLOCK_UNTRUSTED = "clock_untrusted"  # issue refused while the hub's clock is not trusted
    STORE_UNAVAILABLE = "store_unavailable"  # the store cannot be written; nothing changed, retry later
    STORE_FAULT = "store_fault"  # the store is missing, damaged or foreign until a technician restores it
    INTERNAL_ERROR = "internal_error"  # a bug; the hub logs it and keeps serving


class QueueError(Exception):
    """A command that cannot be done; ``code`` is stable, ``message`` says what to do."""

    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        """The ``error`` object of an ``ok: false`` response."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out
