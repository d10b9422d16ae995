"""The devices of a commune center as test actors: kiosks and counter pads that retry until answered.

Every request and its first answer go into one shared list, which :func:`check_store` holds the
store to: nothing answered is lost, nothing is done twice, numbers are unique, ``seq`` has no gap.
"""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mqtt_bus.client import BusClient, new_request_id
from mqtt_bus.contract import ErrorCode, EventType
from tests.reliability.helpers import StoreProbe


@dataclass
class Answer:
    """One request a device sent, with the first answer it received."""

    client: str
    rid: str
    action: str
    args: dict[str, Any]
    response: dict[str, Any]


Plan = list[tuple[str, dict[str, Any]]]


@dataclass
class Device:
    """A kiosk or a counter pad: runs its planned requests per burst on its own thread."""

    client: BusClient
    make_plan: Callable[[random.Random], Plan]
    answers: list[Answer]
    done: queue.Queue[str | BaseException]
    rng: random.Random
    timeout: float = 0.06  # each attempt; retried with the same id until answered
    deadline: float = 30.0  # give up (and fail the test) after this long without an answer
    todo: queue.Queue[bool | None] = field(default_factory=queue.Queue)
    in_flight: int = 0  # > 0 while a request waits for its answer
    thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the device thread."""
        self.thread = threading.Thread(target=self._run, name=self.client.client_id, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.todo.get():
            try:
                for action, args in self.make_plan(self.rng):
                    self.answers.append(self.ask(action, args))
                self.done.put(self.client.client_id)
            except BaseException as exc:  # reported by the main thread
                self.done.put(exc)

    def ask(self, action: str, args: dict[str, Any], rid: str | None = None) -> Answer:
        """Send one request, retrying with the same id until the hub answers."""
        rid = rid or new_request_id()
        self.in_flight += 1
        try:
            response = self.client.request(action, args, timeout=self.timeout, request_id=rid,
                                           retries=int(self.deadline / self.timeout))
        finally:
            self.in_flight -= 1
        return Answer(self.client.client_id, rid, action, args, response)


class EventLog:
    """A subscriber that stays connected for the whole test and records every event it receives."""

    def __init__(self, client: BusClient) -> None:
        self.lock = threading.Lock()
        self.first: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []  # seqs in order of first sighting
        client.subscribe(client.topics.events_all, self._event)

    def _event(self, topic: str, payload: dict[str, Any]) -> None:
        with self.lock:
            if payload["seq"] not in self.first:
                self.first[payload["seq"]] = payload
                self.order.append(payload["seq"])

    def has_all(self, last: int) -> bool:
        """True once every seq 1..last has been received."""
        with self.lock:
            return len(self.first) >= last and all(s in self.first for s in range(1, last + 1))


@dataclass
class Fleet:
    """A center's devices on one broker: a display, three kiosks and a pad per counter, one answer list."""

    display: BusClient
    devices: list[Device]
    answers: list[Answer]
    done: queue.Queue[str | BaseException]

    @property
    def clients(self) -> list[BusClient]:
        """Every client: the display's first."""
        return [self.display, *(d.client for d in self.devices)]

    def close(self) -> None:
        """Stop the device threads and close every client."""
        for d in self.devices:
            d.todo.put(None)
        for c in self.clients:
            c.close(timeout=1.0)


def make_fleet(url: str, site: str, services: list[str], counters: list[str], rng: random.Random,
               timeout: float = 0.06, **client_options: Any) -> Fleet:
    """Kiosks 1..3 and a pad per counter, each with a generator seeded from ``rng``; nothing started yet.

    ``timeout``: each device's attempt; ``client_options`` go to every :class:`BusClient`.
    """
    answers: list[Answer] = []
    done: queue.Queue[str | BaseException] = queue.Queue()
    plans = [*((f"kiosk-{i}", kiosk_plan(services)) for i in (1, 2, 3)),
             *((f"counter-{c}", pad_plan(c)) for c in counters)]
    devices = [Device(BusClient(url, site, client_id, client_id.split("-")[0], **client_options), plan, answers,
                      done, random.Random(rng.random()), timeout=timeout) for client_id, plan in plans]
    return Fleet(BusClient(url, site, "display-1", "display", **client_options), devices, answers, done)


def kiosk_plan(services: list[str]) -> Callable[[random.Random], Plan]:
    """Two citizens per burst take a ticket of a random service."""
    return lambda rng: [("issue_ticket", {"service": rng.choice(services)}) for _ in range(2)]


def pad_plan(counter: str) -> Callable[[random.Random], Plan]:
    """Two presses per burst: mostly "next", sometimes "complete"."""
    return lambda rng: [(rng.choices(["call_next", "complete"], [3, 1])[0], {"counter": counter}) for _ in range(2)]


def check_store(probe: StoreProbe, answers: list[Answer], where: str) -> int:
    """Invariants of the store against every answer given so far; returns the last seq."""
    assert probe.duplicate_numbers() == [], f"{where}: a number was given twice"
    tickets = probe.tickets()
    refused = [a for a in answers if not a.response["ok"]
               and not (a.action == "complete" and a.response["error"]["code"] == ErrorCode.NO_CURRENT_TICKET)]
    assert not refused, f"{where}: unexpected refusals {refused[:3]}"
    issued = [a for a in answers if a.action == "issue_ticket"]
    for a in issued:
        mine = a.response["result"]["ticket"]
        stored = tickets.get(mine["id"])
        assert stored is not None, f"{where}: acknowledged ticket {mine['number']} ({mine['id']}) lost"
        assert (stored["number"], stored["service"]) == (mine["number"], mine["service"]), f"{where}: {mine['id']}"
    assert len(tickets) == len(issued), (
        f"{where}: {len(tickets)} tickets in the store for {len(issued)} answered issue requests "
        "(a retried request issued a second ticket)")
    calls = [a for a in answers if a.action == "call_next" and a.response["ok"] and a.response["result"]["ticket"]]
    for a in calls:
        called = tickets[a.response["result"]["ticket"]["id"]]
        assert called["status"] != "waiting" and called["counter"] == a.args["counter"], f"{where}: call lost {a}"
    completed = [a for a in answers if a.action == "complete" and a.response["ok"]]
    for a in completed:
        assert tickets[a.response["result"]["ticket"]["id"]]["status"] == "done", f"{where}: completion lost {a}"
    counts = probe.event_counts()
    assert counts.get(EventType.TICKET_ISSUED, 0) == len(issued), f"{where}: {counts} vs {len(issued)} issued"
    assert counts.get(EventType.TICKET_CALLED, 0) == len(calls), f"{where}: {counts} vs {len(calls)} calls"
    count, low, high = probe.seq_gaps()
    assert count == high and low == (1 if count else 0), f"{where}: outbox seq has gaps ({count} events, max {high})"
    return high
