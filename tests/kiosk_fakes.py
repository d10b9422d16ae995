"""Stand-ins for the kiosk's ports: a manual clock, a scripted hub, a printer that never prints.

Used by the unit tests and the screenshot tests; nothing here touches a network or a port.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.ports import Cancel, Choice, PrintResult, Response


class ManualClock:
    """``Scheduler`` whose time only moves when ``advance()`` is called."""

    def __init__(self) -> None:
        self.t = 1000.0
        self._jobs: list[tuple[float, int, Callable[[], None]]] = []
        self._n = 0

    def now(self) -> float:
        return self.t

    def schedule(self, fn: Callable[[], None], delay: float) -> Cancel:
        self._n += 1
        job = (self.t + delay, self._n, fn)
        self._jobs.append(job)

        def cancel() -> None:
            if job in self._jobs:
                self._jobs.remove(job)
        return cancel

    def advance(self, seconds: float) -> None:
        """Move time forward, running what falls due, in order."""
        end = self.t + seconds
        while True:
            due = sorted(j for j in self._jobs if j[0] <= end)
            if not due:
                break
            job = due[0]
            self._jobs.remove(job)
            self.t = max(self.t, job[0])
            job[2]()
        self.t = end


def make_ticket(number: str = "A001", service: str = "tu-phap", ahead: int = 3, est_wait_s: int = 900,
                **extra: Any) -> dict[str, Any]:
    """A TICKET payload as the hub sends it."""
    ticket = {"id": f"20261123-{service}-{number[1:]}", "number": number, "service": service,
              "priority": "normal", "status": "waiting", "issued_at": "2026-11-23T09:01:00.000+07:00",
              "called_at": None, "counter": None, "ahead": ahead, "est_wait_s": est_wait_s}
    ticket.update(extra)
    return ticket


class FakeHub:
    """``HubPort`` that records requests; the test answers them with ``reply()``."""

    def __init__(self, connected: bool = True, hub_online: bool | None = True) -> None:
        self.connected = connected
        self.hub_online = hub_online
        self.requests: list[tuple[Choice, str, Callable[[Response], None]]] = []
        self.auto: Callable[[Choice], Response] | None = None

    def issue(self, choice: Choice, request_id: str, done: Callable[[Response], None]) -> None:
        self.requests.append((choice, request_id, done))
        if self.auto is not None:
            done(self.auto(choice))

    def reply(self, response: Response, index: int = -1) -> None:
        """Answer a recorded request (the last one by default)."""
        self.requests[index][2](response)


def ok_response(ticket: dict[str, Any]) -> dict[str, Any]:
    """A successful ``issue_ticket`` answer."""
    return {"id": "x", "ok": True, "result": {"ticket": ticket}}


def error_response(code: str, message: str = "") -> dict[str, Any]:
    """A refusal."""
    return {"id": "x", "ok": False, "error": {"code": code, "message": message}}


class FakePrinter:
    """``PrinterPort`` that records jobs; answers at once (``ok``) or when the test calls ``finish()``."""

    def __init__(self, state: str = "ok", immediate: bool = True) -> None:
        self.state = state
        self.immediate = immediate
        self.jobs: list[tuple[str, Callable[[PrintResult], None]]] = []

    def _job(self, name: str, done: Callable[[PrintResult], None]) -> None:
        self.jobs.append((name, done))
        if self.immediate:
            self.finish(-1)

    def finish(self, index: int = -1) -> None:
        _name, done = self.jobs[index]
        ok = self.state in ("ok", "paper_low")
        status = {"kind": "printer", "state": self.state, "detail": "fake", "ts": ""}
        done(PrintResult(ok, status, "" if ok else f"printer {self.state}"))

    def print_ticket(self, ticket: dict[str, Any], choice: Choice, done: Callable[[PrintResult], None]) -> None:
        self._job(f"ticket:{ticket.get('number')}", done)

    def reprint_last(self, done: Callable[[PrintResult], None]) -> None:
        self._job("reprint", done)

    def test_print(self, done: Callable[[PrintResult], None]) -> None:
        self._job("test", done)


class RecordingSpeaker:
    """``SpeakerPort`` that keeps what it was asked to say."""

    def __init__(self) -> None:
        self.spoken: list[tuple[str, str]] = []
        self.clips: list[str | None] = []

    def say(self, text: str, lang: str, clip: str | None = None) -> None:
        self.spoken.append((text, lang))
        self.clips.append(clip)
