"""Hall displays for the benches, in a process of their own (as on the appliance: each display is its own board).

``python -m testkit.state_listener BROKER_URL SITE N [paho|light]``: N display clients subscribe to
``state/counter/+`` and note when each counter state carrying a ticket arrives (``time.monotonic``: CLOCK_MONOTONIC, the same
clock in every process of the machine). Lines on stdin drive it:

- ``wait [[counter, ticket], ...]``: wait until each of those states reached every display (or none arrived
  for 1 s, or 10 s passed), then print one JSON line ``[[counter, ticket, [times...]], ...]``;
- end of input: close the clients and exit.

It prints ``ready`` once every client is connected. In the bench's own process the 10 displays' deliveries
(~1,000 in a rush of 50 pads) competed for one interpreter lock with the 50 pads sending their calls.

``paho`` (the default): each display is a ``BusClient``, the devices' own client, with its network thread.
``light``: the N displays are connections of one ``testkit.mqtt_light.LightFleet`` on this process's one
thread (each still acknowledges every QoS 1 message and decodes its JSON): what a display board spends on
its own CPU then no longer competes with the hub for this machine's cores.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable

from mqtt_bus.client import BusClient
from mqtt_bus.contract import Role
from mqtt_bus.topics import Topics
from mqtt_bus.url import parse_broker_url
from testkit.mqtt_light import LightFleet

QUIET_S = 1.0  # no new arrival for this long: the rest will not come (a pad's second call came first)
DEADLINE_S = 10.0


class Arrivals:
    """When each counter state carrying a ticket reached each of ``count`` displays."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.times: dict[tuple[str, str], list[float]] = {}
        self.total = 0
        self.lock = threading.Lock()  # paho mode: the displays' network threads record at once

    def record(self, payload: object) -> None:
        """Note the arrival, now, of a ``state/counter/{id}`` payload (one without a ticket is not timed)."""
        now = time.monotonic()
        ticket = payload.get("ticket") if isinstance(payload, dict) else None
        if ticket:
            with self.lock:
                self.times.setdefault((payload["counter"], ticket["id"]), []).append(now)  # type: ignore[index]
                self.total += 1

    def wait(self, keys: list[tuple[str, ...]], pause: Callable[[float], object]) -> list[list[object]]:
        """Until each of ``keys`` reached every display (or none arrived for ``QUIET_S``, or ``DEADLINE_S``
        passed), calling ``pause(0.05)`` between looks; then ``[[counter, ticket, [times...]], ...]``."""
        deadline, seen, quiet_since = time.monotonic() + DEADLINE_S, -1, time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < QUIET_S:
            with self.lock:
                if all(len(self.times.get(k, [])) >= self.count for k in keys):  # type: ignore[call-overload]
                    break
                total = self.total
            if total != seen:
                seen, quiet_since = total, time.monotonic()
            pause(0.05)
        with self.lock:
            return [[*k, self.times.get(k, [])[: self.count]] for k in keys]  # type: ignore[call-overload]


def main(argv: list[str]) -> int:
    url, site, count = argv[0], argv[1], int(argv[2])
    if argv[3:] == ["light"]:
        return light_main(url, site, count)
    logging.basicConfig(level=logging.ERROR)
    sys.setswitchinterval(0.0005)  # 10 clients in one process: deliveries must not queue 5 ms for the GIL
    arrivals = Arrivals(count)
    clients = []
    for d in range(count):
        client = BusClient(url, site, f"display-{d}", Role.DISPLAY)
        client.subscribe(client.topics.state_counters_all, lambda topic, payload: arrivals.record(payload))
        clients.append(client.start())
    for client in clients:
        client.wait_connected(5)
    print("ready", flush=True)
    for line in sys.stdin:
        verb, _, rest = line.partition(" ")
        if verb == "wait":
            print(json.dumps(arrivals.wait([tuple(k) for k in json.loads(rest)], time.sleep)), flush=True)
    for client in clients:
        client.close()
    return 0


def light_main(url: str, site: str, count: int) -> int:
    """The ``light`` mode: N display connections of one :class:`LightFleet`, served by this thread."""
    address, topics = parse_broker_url(url), Topics(site)
    fleet, arrivals = LightFleet(address.host, address.port), Arrivals(count)
    for d in range(count):
        conn = fleet.connect(f"display-{d}", lambda conn, topic, raw: arrivals.record(json.loads(raw) if raw else None),
                             address.username, address.password)  # a display decodes every state it gets
        conn.subscribe(topics.state_counters_all)
    fleet.run_until(lambda: all(c.subscribed for c in fleet.conns), 5)
    fleet.poll(0.2)  # the retained states arrive now, not during the first rush
    fleet.register(sys.stdin, "stdin")  # states are read (and timed) as they come, between commands too
    print("ready", flush=True)
    while True:
        if "stdin" not in fleet.poll(1.0):
            continue
        line = sys.stdin.readline()  # the bench sends one line and waits for the answer
        if not line:
            break
        verb, _, rest = line.partition(" ")
        if verb == "wait":
            print(json.dumps(arrivals.wait([tuple(k) for k in json.loads(rest)], fleet.poll)), flush=True)
    fleet.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
