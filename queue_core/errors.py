"""The one error type of the queue core, with stable codes for the MQTT contract."""

from __future__ import annotations

from typing import Any


class QueueError(Exception):
    """A command that cannot be done; ``code`` is stable, ``message`` says what to do."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
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
