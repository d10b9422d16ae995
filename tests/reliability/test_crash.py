"""SIGKILL the hub process at random moments during bursts of requests, hundreds of times.

One mosquitto and one store for the whole test. Three kiosks issue tickets and six counter pads call
next / complete for their own counters; every device retries each request with the SAME id until it
is answered. Each cycle starts a burst, kills the hub (a power cut for that process) at a random
moment, restarts it (sometimes killing it again while it starts up), lets every device get its
answers, then checks:

- no number given twice (per service and day), and one ticket per answered issue request (a retried
  request never issues a second ticket; an answered one is never lost);
- every answered call / complete is in the store; event counts match the answered commands;
- the outbox ``seq`` runs 1..last without a gap, and a subscriber that stayed connected received every
  event (at least once, first sightings in order, payloads equal to the outbox);
- the retained state a late subscriber sees equals the store's snapshot;
- an old request sent again gets its first answer and changes nothing.

``QMS_CRASH_CYCLES`` sets the number of kills (200 by default, 1000 for the full size).
"""

from __future__ import annotations

import json
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.store import Store
from mqtt_bus.client import BusClient, new_request_id
from qms.context import AppContext
from tests.reliability.helpers import StoreProbe, env_int, late_subscriber_state, wait_until
from tests.reliability.hub_forkserver import HubForkServer

CYCLES = env_int("QMS_CRASH_CYCLES", 200)
SEED = env_int("QMS_CRASH_SEED", 20261123)
BURST = 18  # requests per burst: 3 kiosks x 2 tickets, 6 pads x 2 presses
KILL_WINDOW_S = 0.1  # a burst lasts about this long here
REQUEST_TIMEOUT_S = 0.06  # each attempt; retried with the same id until answered
ANSWER_DEADLINE_S = 30.0


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
            response = self.client.request(action, args, timeout=REQUEST_TIMEOUT_S, request_id=rid,
                                           retries=int(ANSWER_DEADLINE_S / REQUEST_TIMEOUT_S))
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
        with self.lock:
            return len(self.first) >= last and all(s in self.first for s in range(1, last + 1))


def kiosk_plan(services: list[str]) -> Callable[[random.Random], Plan]:
    """Two citizens per burst take a ticket of a random service."""
    return lambda rng: [("issue_ticket", {"service": rng.choice(services)}) for _ in range(2)]


def pad_plan(counter: str) -> Callable[[random.Random], Plan]:
    """Two presses per burst: mostly "next", sometimes "complete"."""
    return lambda rng: [(rng.choices(["call_next", "complete"], [3, 1])[0], {"counter": counter}) for _ in range(2)]


def check_store(probe: StoreProbe, answers: list[Answer], cycle: int) -> int:
    """Invariants of the store against every answer given so far; returns the last seq."""
    where = f"after restart {cycle}"
    assert probe.duplicate_numbers() == [], f"{where}: a number was given twice"
    tickets = probe.tickets()
    issued = [a for a in answers if a.action == "issue_ticket"]
    assert all(a.response["ok"] for a in issued), [a.response for a in issued if not a.response["ok"]][:3]
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
    assert counts.get("ticket_issued", 0) == len(issued), f"{where}: {counts} vs {len(issued)} issued"
    assert counts.get("ticket_called", 0) == len(calls), f"{where}: {counts} vs {len(calls)} calls"
    count, low, high = probe.seq_gaps()
    assert count == high and low == (1 if count else 0), f"{where}: outbox seq has gaps ({count} events, max {high})"
    return high


def test_sigkill_hub_at_random_moments(tmp_path, broker, roomy_site):
    rng = random.Random(SEED)
    ctx = AppContext(config_path=roomy_site, data_dir=tmp_path / "data")
    site, services, counters = ctx.site.site, list(ctx.site.services), list(ctx.site.counters)
    answers: list[Answer] = []
    done: queue.Queue[str | BaseException] = queue.Queue()
    clients: list[BusClient] = []

    def client(client_id: str, role: str) -> BusClient:
        c = BusClient(broker.url, site, client_id, role, reconnect_delay=(0.05, 0.2))
        clients.append(c)
        return c

    watcher = client("display-1", "display")
    events = EventLog(watcher)
    devices = [Device(client(f"kiosk-{i}", "kiosk"), kiosk_plan(services), answers, done, random.Random(rng.random()))
               for i in (1, 2, 3)]
    devices += [Device(client(f"counter-{c}", "counter"), pad_plan(c), answers, done, random.Random(rng.random()))
                for c in counters]
    for c in clients:
        c.start()
    assert all(c.wait_connected(5) for c in clients)
    hubs = HubForkServer(roomy_site, ctx.data_dir, broker.url, tmp_path / "hub.log")
    probe: StoreProbe | None = None
    store: Store | None = None
    for d in devices:
        d.start()
    hit_in_flight = replays = 0
    checked_seq = 0
    started = time.monotonic()
    try:
        hubs.start()
        assert devices[0].ask("snapshot", {}).response["ok"]  # the store exists now
        probe = StoreProbe(ctx.store_path)
        store = Store(ctx.store_path, ctx.site)
        for cycle in range(1, CYCLES + 1):
            before = len(answers)
            for d in devices:
                d.todo.put(True)
            if rng.random() < 0.75:  # after a random number of this burst's answers, plus a jitter
                wanted = before + rng.randrange(BURST)
                deadline = time.monotonic() + 5
                while len(answers) < wanted and time.monotonic() < deadline:
                    time.sleep(0.0005)
                time.sleep(rng.uniform(0, 0.005))
            else:  # at a random time
                time.sleep(rng.uniform(0, KILL_WINDOW_S))
            hit_in_flight += any(d.in_flight for d in devices)
            hubs.kill()
            hubs.start()
            if rng.random() < 0.15:  # and once more while it starts up / republishes
                time.sleep(rng.uniform(0, 0.25))
                hubs.kill()
                hubs.start()
            for _ in devices:
                outcome = done.get(timeout=ANSWER_DEADLINE_S + 10)
                assert not isinstance(outcome, BaseException), f"cycle {cycle}: {outcome!r}"
            last = check_store(probe, answers, cycle)
            wait_until(lambda last=last: events.has_all(last), 5, f"events 1..{last} at the subscriber (cycle {cycle})")
            with events.lock:
                assert events.order == sorted(events.order), f"cycle {cycle}: events first seen out of order"
                for seq, text in probe.payloads_between(checked_seq, last).items():
                    assert events.first[seq] == json.loads(text), f"cycle {cycle}: event {seq} differs"
            checked_seq = last
            equal, seen, expected = late_subscriber_state(broker.url, site, store.snapshot)
            assert equal, f"cycle {cycle}: retained state differs from the store:\n{seen}\n!=\n{expected}"
            old = rng.choice(answers)  # the same request again: first answer, no change
            device = next(d for d in devices if d.client.client_id == old.client)
            again = device.ask(old.action, old.args, rid=old.rid)
            assert again.response == old.response, f"cycle {cycle}: a repeated request id got another answer"
            assert probe.seq_gaps()[2] == last, f"cycle {cycle}: a repeated request id changed the store"
            replays += 1
        elapsed = time.monotonic() - started
        assert store.integrity_check() == "ok"
        assert hubs.starts >= CYCLES + 1
        assert hit_in_flight >= CYCLES // 2, f"only {hit_in_flight}/{CYCLES} kills hit a request in flight"
        print(f"\n{CYCLES} kills ({hubs.starts} hub starts) in {elapsed:.1f} s; {hit_in_flight} with requests in "
              f"flight; {len(answers)} answered requests; {len(probe.tickets())} tickets; last seq {checked_seq}; "
              f"{replays} repeated ids answered identically")
        assert hubs.stop() == 0, "the hub must stop cleanly on SIGTERM after all that"
    finally:
        for d in devices:
            d.todo.put(None)
        hubs.close()
        for c in clients:
            c.close(timeout=1.0)
        if probe is not None:
            probe.close()
        if store is not None:
            store.close()
        if os.environ.get("QMS_CRASH_KEEP_LOG"):
            print((tmp_path / "hub.log").read_text(errors="replace")[-5000:])
