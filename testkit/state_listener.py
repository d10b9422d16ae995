"""Hall displays for the benches, in a process of their own (as on the appliance: each display is its own board).

``python -m testkit.state_listener BROKER_URL SITE N``: N display clients subscribe to ``state/counter/+``
and note when each counter state carrying a ticket arrives (``time.monotonic``: CLOCK_MONOTONIC, the same
clock in every process of the machine). Lines on stdin drive it:

- ``wait [[counter, ticket], ...]``: wait until each of those states reached every display (or none arrived
  for 1 s, or 10 s passed), then print one JSON line ``[[counter, ticket, [times...]], ...]``;
- end of input: close the clients and exit.

It prints ``ready`` once every client is connected. In the bench's own process the 10 displays' deliveries
(~1,000 in a rush of 50 pads) competed for one interpreter lock with the 50 pads sending their calls.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time

from mqtt_bus.client import BusClient
from mqtt_bus.contract import Role

QUIET_S = 1.0  # no new arrival for this long: the rest will not come (a pad's second call came first)
DEADLINE_S = 10.0


def main(argv: list[str]) -> int:
    url, site, count = argv[0], argv[1], int(argv[2])
    logging.basicConfig(level=logging.ERROR)
    sys.setswitchinterval(0.0005)  # 10 clients in one process: deliveries must not queue 5 ms for the GIL
    arrivals: dict[tuple[str, str], list[float]] = {}
    lock = threading.Lock()

    def on_state(topic: str, payload: dict) -> None:
        now = time.monotonic()
        ticket = payload.get("ticket")
        if ticket:
            with lock:
                arrivals.setdefault((payload["counter"], ticket["id"]), []).append(now)

    clients = []
    for d in range(count):
        client = BusClient(url, site, f"display-{d}", Role.DISPLAY)
        client.subscribe(client.topics.state_counters_all, on_state)
        clients.append(client.start())
    for client in clients:
        client.wait_connected(5)
    print("ready", flush=True)
    for line in sys.stdin:
        verb, _, rest = line.partition(" ")
        if verb != "wait":
            continue
        keys = [tuple(k) for k in json.loads(rest)]
        deadline, seen, quiet_since = time.monotonic() + DEADLINE_S, -1, time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < QUIET_S:
            with lock:
                if all(len(arrivals.get(k, [])) >= count for k in keys):
                    break
                total = sum(len(v) for v in arrivals.values())
            if total != seen:
                seen, quiet_since = total, time.monotonic()
            time.sleep(0.05)
        with lock:
            print(json.dumps([[*k, arrivals.get(k, [])[:count]] for k in keys]), flush=True)
    for client in clients:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
