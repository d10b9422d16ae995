"""Printer errors callers handle."""

from __future__ import annotations


class PrinterUnavailable(RuntimeError):
    """The ticket was not printed (offline, paper out, port missing...): show the number on screen.

    `status` is the `state/device` payload explaining why (kind, state, detail, ts) when known.
    """

    def __init__(self, message: str, status: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status or {}
