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
import random
import time

import pytest

from hub.store import Store
from qms.context import AppContext
from tests.reliability.fleet import EventLog, check_store, make_fleet
from tests.reliability.helpers import StoreProbe, env_int, late_subscriber_state, wait_until
from tests.reliability.hub_forkserver import HubForkServer

CYCLES = env_int("QMS_CRASH_CYCLES", 200)
SEED = env_int("QMS_CRASH_SEED", 20261123)
BURST = 18  # requests per burst: 3 kiosks x 2 tickets, 6 pads x 2 presses
KILL_WINDOW_S = 0.1  # a burst lasts about this long here


@pytest.mark.timeout(max(300, 120 + CYCLES))  # about 0.3 s a cycle here
def test_sigkill_hub_at_random_moments(tmp_path, broker, roomy_site):
    rng = random.Random(SEED)
    ctx = AppContext(config_path=roomy_site, data_dir=tmp_path / "data")
    site, services, counters = ctx.site.site, list(ctx.site.services), list(ctx.site.counters)
    fleet = make_fleet(broker.url, site, services, counters, rng, reconnect_delay=(0.05, 0.2))
    answers, done, devices, clients = fleet.answers, fleet.done, fleet.devices, fleet.clients
    events = EventLog(fleet.display)
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
                outcome = done.get(timeout=40)
                assert not isinstance(outcome, BaseException), f"cycle {cycle}: {outcome!r}"
            last = check_store(probe, answers, f"after restart {cycle}")
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
        hubs.close()
        fleet.close()
        if probe is not None:
            probe.close()
        if store is not None:
            store.close()
        if os.environ.get("QMS_CRASH_KEEP_LOG"):
            print((tmp_path / "hub.log").read_text(errors="replace")[-5000:])
