"""Province: ingest throughput into PostgreSQL, and the lag from a center's ``ticket_called`` to its provincial row.

1. throughput: ``--events`` real-shaped events of ``--sites`` sites wait in the ingester's persistent session on
   the provincial mosquitto (each published by its site's own login, through the ACL); the ingester is started
   and the time until every row is in PostgreSQL gives events/s (goal >= 5,000).
2. lag: ``--centers`` real centers (mosquitto bridged with the generated config + hub + SQLite store) call tickets
   for ``--seconds``; lag = the row's ``ingested_at`` (PostgreSQL) - the event's ``ts`` (the hub's commit), p99
   goal <= 1 s with the link up.

Everything runs on this machine; the processes and the database are removed at the end (even on Ctrl-C).
Run: python bench/bench_province.py [--events 50000 --sites 124 --centers 3 --seconds 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from testkit.hub_process import stop_hub_process
from testkit.province import Province, TempDatabase, center_config, pg_available, wait_until
from testkit.stats import percentile

try:
    from figures import figure  # bench/figures.py: the table of `bash bench/run`
except ImportError:  # a tree without the figures table
    def figure(bench: str, what: str, value: str, goal: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("met" if met else "not met")
        print(f"  figure: {what}: {value}" + (f" (goal {goal}: {verdict})" if goal else ""), flush=True)

TICKET = {"id": "20261201-tu-phap-1", "number": "A0001", "service": "tu-phap", "priority": "normal",
          "status": "called", "issued_at": "2026-12-01T08:07:51.079+07:00",
          "called_at": "2026-12-01T08:09:51.080+07:00", "counter": "1", "ahead": 0, "est_wait_s": 0,
          "procedure": None, "lang": "vi", "call_count": 1, "transfers": 0, "transferred_from": None,
          "to_counter": None, "queued_at": "2026-12-01T08:07:51.079+07:00", "finished_at": None, "rating": None,
          "officer": "Nguyễn Thị Lan"}


def count(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as c:
        return c.execute("SELECT count(*) FROM province_events").fetchone()[0]


def publish_site(prov: Province, site: str, n: int) -> None:
    """*n* events of *site*, published with the site's own login as its bridge would."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{site}", protocol=mqtt.MQTTv311)
    c.username_pw_set(f"site-{site}", prov.secret(f"site-{site}"))
    c.max_inflight_messages_set(500)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", prov.port)
    c.loop_start()
    last = None
    for seq in range(1, n + 1):
        kind = ("ticket_issued", "ticket_called", "ticket_completed")[seq % 3]
        event = {"seq": seq, "ts": "2026-12-01T08:09:51.080+07:00", "type": kind, "ticket": TICKET, "counter": "1"}
        last = c.publish(f"qms/v1/{site}/event/{kind}", json.dumps(event, ensure_ascii=False), qos=1)
    assert last is not None
    last.wait_for_publish(60)
    c.loop_stop()
    c.disconnect()


def throughput(root: Path, events: int, sites: int) -> None:
    names = [f"xa-{i:03d}" for i in range(1, sites + 1)]
    prov = Province(root / "tp", names)
    prov.configure()
    assert prov.broker is not None
    db = TempDatabase("qms_province_bench")
    ingest = None
    try:
        prov.broker.start()
        ingest = prov.start_ingest(db.dsn)  # once, to create its persistent session and shared subscription
        assert stop_hub_process(ingest) == 0
        ingest = None
        per_site = events // sites
        t0 = time.monotonic()
        threads = [threading.Thread(target=publish_site, args=(prov, s, per_site)) for s in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = per_site * sites
        print(f"  published {total} events of {sites} sites in {time.monotonic() - t0:.1f} s "
              "(queued in the ingester's session)")
        start = time.monotonic()
        ingest = prov.start_ingest(db.dsn)
        done = wait_until(lambda: count(db.dsn) >= total, 300, 0.05)
        elapsed = time.monotonic() - start
        got = count(db.dsn)
        print(f"  ingested {got} of {total} in {elapsed:.2f} s (process start included)")
        import psycopg

        with psycopg.connect(db.dsn) as c:
            span = c.execute("SELECT extract(epoch FROM max(ingested_at) - min(ingested_at)) FROM province_events"
                             ).fetchone()[0]
        print(f"  ingest throughput    {got / float(span):10.0f} events/s   (goal >= 5000; first to last row)"
              f"{'' if done else '  INCOMPLETE'}")
        print(f"  with process start   {got / elapsed:10.0f} events/s")
        rate = got / float(span)
        figure("province", f"`qms province ingest` into PostgreSQL, {sites} sites (first to last row)",
               f"{rate:,.0f} events/s", "≥ 5,000/s", done and rate >= 5000)
    finally:
        if ingest is not None:
            stop_hub_process(ingest)
        prov.broker.stop()
        db.drop()


def lag(root: Path, centers: int, seconds: float, rate: float) -> None:
    import psycopg

    from mqtt_bus.broker import EmbeddedBroker
    from mqtt_bus.client import BusClient
    from qms.context import AppContext
    from qms.hub_service import start_hub

    names = [f"xa-lag-{i}" for i in range(1, centers + 1)]
    prov = Province(root / "lag", names)
    prov.configure()
    assert prov.broker is not None
    db = TempDatabase("qms_province_bench")
    running: list[tuple[EmbeddedBroker, object]] = []
    ingest = None
    try:
        prov.broker.start()
        ingest = prov.start_ingest(db.dsn)
        pads: list[tuple[BusClient, BusClient]] = []
        for site in names:
            folder = root / site
            ctx = AppContext(config_path=center_config(folder / "cfg", site), data_dir=folder / "data")
            broker = EmbeddedBroker(folder / "mosquitto", extra_config=prov.bridge_conf(site)).start()
            hub = start_hub(ctx, broker.url)  # the hub's default outbox poll (0.25 s)
            running.append((broker, hub))
            kiosk = BusClient(broker.url, site, "kiosk-1", "kiosk").start()
            pad = BusClient(broker.url, site, "counter-1", "counter").start()
            assert hub.bus.wait_connected(5) and kiosk.wait_connected(5) and pad.wait_connected(5)
            pads.append((kiosk, pad))
        time.sleep(1.0)  # bridges up

        def drive(kiosk: BusClient, pad: BusClient) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                t = time.monotonic()
                assert kiosk.request("issue_ticket", {"service": "huong-dan"}, timeout=3)["ok"]
                assert pad.request("call_next", {"counter": "1"}, timeout=3)["ok"]
                time.sleep(max(0.0, 1 / rate - (time.monotonic() - t)))

        threads = [threading.Thread(target=drive, args=p) for p in pads]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expected = sum(len(hub.store.events_after(0, 10**6)) for _, hub in running)  # type: ignore[attr-defined]
        wait_until(lambda: count(db.dsn) >= expected, 30)
        with psycopg.connect(db.dsn) as c:
            lags = [r[0] for r in c.execute("SELECT extract(epoch FROM ingested_at - ts) FROM province_events "
                                            "WHERE type = 'ticket_called'").fetchall()]
        lags_ms = [float(v) * 1000 for v in lags]
        print(f"  {len(lags_ms)} ticket_called from {centers} bridged centers ({rate:g} calls/s each, {seconds:g} s)")
        print(f"  lag median           {percentile(lags_ms, 50):10.0f} ms")
        print(f"  lag p99              {percentile(lags_ms, 99):10.0f} ms   (goal <= 1000)")
        print(f"  lag max              {max(lags_ms):10.0f} ms")
        p50, p99 = percentile(lags_ms, 50), percentile(lags_ms, 99)
        figure("province", f"`ticket_called` at a center → its provincial row, {centers} bridged centers, median / p99",
               f"{p50:.0f} ms / {p99:.0f} ms", "p99 ≤ 1 s", p99 <= 1000)
        for kiosk, pad in pads:
            kiosk.close()
            pad.close()
    finally:
        for broker, hub in running:
            hub.stop()  # type: ignore[attr-defined]
            if hub.store is not None:  # type: ignore[attr-defined]
                hub.store.close()  # type: ignore[attr-defined]
            broker.stop()
        if ingest is not None:
            stop_hub_process(ingest)
        prov.broker.stop()
        db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--sites", type=int, default=124)
    parser.add_argument("--centers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=5, help="calls per second per center")
    args = parser.parse_args()
    why = pg_available()
    if why:
        print(f"province: SKIPPED — {why}")
        return
    root = Path(tempfile.mkdtemp(prefix="qms-bench-province-"))
    try:
        print(f"province: ingest of {args.events} events from {args.sites} sites into PostgreSQL")
        throughput(root, args.events, args.sites)
        print("province: lag from ticket_called at a center to its provincial row")
        lag(root, args.centers, args.seconds, args.rate)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
