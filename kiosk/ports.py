"""What the kiosk view-model needs from the outside world (real adapters and test fakes fit these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

Cancel = Callable[[], None]
Response = dict[str, Any] | Exception


@dataclass(frozen=True)
class Choice:
    """What the citizen picked: the request args and the texts printed on the ticket."""

    service: str
    procedure: str = ""
    priority: str = "normal"
    lang: str = "vi"

    def args(self) -> dict[str, Any]:
        """``issue_ticket`` args (docs/protocol.md)."""
        args: dict[str, Any] = {"service": self.service, "priority": self.priority, "lang": self.lang}
        if self.procedure:
            args["procedure"] = self.procedure
        return args


@dataclass(frozen=True)
class PrintResult:
    """How a print went: ``ok``, and the printer's ``state/device`` payload."""

    ok: bool
    status: dict[str, str]
    message: str = ""


class Scheduler(Protocol):
    """Runs callbacks later on the UI thread (Kivy's Clock, or a manual clock in tests)."""

    def schedule(self, fn: Callable[[], None], delay: float) -> Cancel:
        """Call ``fn`` after ``delay`` seconds; the result cancels it."""

    def now(self) -> float:
        """Monotonic seconds."""


class HubPort(Protocol):
    """The hub, through MQTT."""

    @property
    def connected(self) -> bool:
        """Connected to the broker."""

    @property
    def hub_online(self) -> bool | None:
        """The hub's retained ``status/hub`` (None while unknown)."""

    def issue(self, choice: Choice, request_id: str, done: Callable[[Response], None]) -> None:
        """Send ``issue_ticket``; ``done(response or exception)`` runs on the UI thread."""


class PrinterPort(Protocol):
    """The kiosk's ticket printer; every call returns at once, ``done`` runs on the UI thread."""

    @property
    def state(self) -> str:
        """Last known state: ok, paper_low, paper_out, offline, error."""

    def print_ticket(self, ticket: dict[str, Any], choice: Choice, done: Callable[[PrintResult], None]) -> None:
        """Print a ticket the hub issued."""

    def reprint_last(self, done: Callable[[PrintResult], None]) -> None:
        """Print the last ticket again."""

    def test_print(self, done: Callable[[PrintResult], None]) -> None:
        """Print the technician's test page."""


class SpeakerPort(Protocol):
    """Spoken guidance; never blocks."""

    def say(self, text: str, lang: str, clip: str | None = None) -> None:
        """Speak ``text`` soon (replacing a prompt not yet started); ``clip``: a recorded WAV of it."""


class PinChecker(Protocol):
    """Checks the admin PIN off the UI thread."""

    def __call__(self, pin: str, done: Callable[[bool], None]) -> None:
        """``done(True)`` when the PIN is right."""
