"""A simulated province: 3 centers (real mosquitto + hub + SQLite store each) bridged with the generated configs
to one provincial mosquitto, ``qms province ingest`` and PostgreSQL. A center's link is cut mid-traffic and comes
back: every event of every center is in PostgreSQL exactly once. The provincial ACL refuses a site publishing
under another site's topic; malformed events are counted and the ingester keeps going."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqtt_bus.broker import find_mosquitto
from mqtt_bus.client import BusClient
from qms.context import AppContext
from qms.province import db as pdb
from testkit.hub_process import stop_hub_process
from testkit.province import Province, TempDatabase, center_config, wait_until
from testkit.province_fleet import RealCenter

from .conftest import temp_database

SITES = ["xa-a", "xa-b", "xa-c"]
ROUNDS = 40  # issue + call_next + complete per round: ~3 events each
CUT_AT, BACK_AT = 10, 25  # rounds of the cut center with its link down
EXTRA_INGESTERS: list[subprocess.Popen] = []  # started by a test, stopped by the fixture


@pytest.fixture(scope="module")
def db() -> Iterator[TempDatabase]:
    with temp_database("province tests") as d:
        yield d


def new_center(folder: Path, site: str, bridge: list[str]) -> RealCenter:
    """One center: its mosquitto (bridged to the province), its hub and store."""
    ctx = AppContext(config_path=center_config(folder / "cfg", site), data_dir=folder / "data")
    center = RealCenter(ctx, folder, bridge, poll_interval=0.05)
    assert center.hub.bus.wait_connected(5)
    return center


@pytest.fixture(scope="module")
def province(tmp_path_factory, db) -> Iterator[tuple[Province, list[RealCenter], subprocess.Popen]]:
    find_mosquitto()
    root = tmp_path_factory.mktemp("province")
    prov = Province(root / "province", SITES)
    prov.configure()
    assert prov.broker is not None
    prov.broker.start()
    centers: list[RealCenter] = []
    ingest = None
    try:
        for site in SITES:
            centers.append(new_center(root / site, site, prov.bridge_conf(site)))
        ingest = prov.start_ingest(db.dsn)
        yield prov, centers, ingest
    finally:
        for proc in [ingest, *EXTRA_INGESTERS]:
            if proc is not None and proc.poll() is None:
                assert stop_hub_process(proc) == 0, "an ingester stops cleanly on SIGTERM"
        EXTRA_INGESTERS.clear()
        for c in centers:
            c.close()
        prov.broker.stop()


def rows(dsn: str, sql: str, *args: object) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn) as c:
        return c.execute(sql, args).fetchall()


def v5_client(prov: Province, login: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{login}-test", protocol=mqtt.MQTTv5)
    c.username_pw_set(login, prov.secret(login))
    c.connect("127.0.0.1", prov.port)
    c.loop_start()
    return c


def test_a_site_may_publish_only_under_its_own_topics(province) -> None:
    prov, _, _ = province
    acks: dict[int, int] = {}
    done = threading.Event()
    c = v5_client(prov, "site-xa-a")

    def on_publish(client, userdata, mid, reason, props) -> None:
        acks[mid] = reason.value
        if len(acks) == 2:
            done.set()

    c.on_publish = on_publish
    try:
        good = json.dumps({"seq": 999_999, "ts": "2026-12-01T09:00:00+07:00", "type": "counter_paused",
                           "ticket": None, "counter": "9"})
        own = c.publish("qms/v1/xa-a/state/device/test", json.dumps({"kind": "test"}), qos=1)
        forged = c.publish("qms/v1/xa-b/event/counter_paused", good, qos=1)
        assert done.wait(5), f"PUBACKs: {acks}"
    finally:
        c.loop_stop()
        c.disconnect()
    assert acks[own.mid] in (0, 16), "its own topic is accepted (16: no subscriber)"
    assert acks[forged.mid] == 0x87, "another site's topic: PUBACK 'not authorized'"


def test_a_centers_name_comes_from_its_config_catalogue_and_a_nameless_one_is_rejected(province, db) -> None:
    prov, centers, ingest = province
    c = v5_client(prov, "site-xa-c")
    try:
        c.publish("qms/v1/xa-c/config", b'{"catalogue": {"site": {"id": "xa-c"}}}', qos=1).wait_for_publish(5)
        c.publish("qms/v1/xa-c/config", json.dumps({"catalogue": {"site": {"id": "xa-c", "name": {
            "vi": "Trung tâm Phục vụ hành chính công xã Núi Tượng", "en": "Nui Tuong"}}}}), qos=1).wait_for_publish(5)
    finally:
        c.loop_stop()
        c.disconnect()
    named = f"SELECT {pdb.SITE_NAME_SQL} FROM province_sites WHERE site = 'xa-c'"
    assert wait_until(lambda: rows(db.dsn, named) == [("Trung tâm Phục vụ hành chính công xã Núi Tượng",)], 10), \
        rows(db.dsn, named)
    assert rows(db.dsn, "SELECT reason FROM province_rejects WHERE topic = 'qms/v1/xa-c/config'") == [
        ("a config catalogue without catalogue.site.name.vi",)]
    assert ingest.poll() is None
    center = next(c for c in centers if c.site == "xa-c")  # its hub's own catalogue, through the bridge again
    center.hub.publish_config()
    real = center.ctx.config.site.name.text("vi")
    assert wait_until(lambda: rows(db.dsn, named) == [(real,)], 10), rows(db.dsn, named)


def test_malformed_events_are_counted_and_the_ingester_keeps_going(province, db) -> None:
    prov, _, ingest = province
    c = v5_client(prov, "site-xa-c")
    try:
        for payload in (b"not json", b'{"seq": "x", "type": "ticket_called", "ts": "2026-12-01T09:00:00+07:00"}',
                        b'{"seq": 5, "type": "ticket_issued", "ts": "yesterday"}', b"\xff\xfe"):
            c.publish("qms/v1/xa-c/event/ticket_called", payload, qos=1).wait_for_publish(5)
    finally:
        c.loop_stop()
        c.disconnect()
    events = "SELECT count(*) FROM province_rejects WHERE topic LIKE '%%/event/%%'"
    assert wait_until(lambda: rows(db.dsn, events)[0][0] == 4, 10), \
        rows(db.dsn, "SELECT topic, reason FROM province_rejects")
    reasons = [r for (r,) in rows(db.dsn, "SELECT reason FROM province_rejects WHERE topic LIKE '%%/event/%%' "
                                          "ORDER BY id")]
    assert reasons[0].startswith("not JSON") and "'seq'" in reasons[1] and "'ts'" in reasons[2], reasons
    assert ingest.poll() is None, "the ingester is still running"
    assert rows(db.dsn, "SELECT count(*) FROM province_events WHERE site = 'xa-c' AND seq = 5") == [(0,)]


def drive(center: RealCenter, rounds: int, on_round=None) -> None:
    """A kiosk and a counter pad of *center*: issue, call next, complete, *rounds* times."""
    kiosk = BusClient(center.broker.url, center.site, "kiosk-1", "kiosk").start()
    pad = BusClient(center.broker.url, center.site, "counter-1", "counter").start()
    try:
        assert kiosk.wait_connected(5) and pad.wait_connected(5)
        for i in range(rounds):
            if on_round:
                on_round(i)
            for bus, action, args in ((kiosk, "issue_ticket", {"service": "huong-dan"}),
                                      (pad, "call_next", {"counter": "1"}), (pad, "complete", {"counter": "1"})):
                answer = bus.request(action, args, timeout=3, retries=5)
                assert answer["ok"], answer
    finally:
        kiosk.close()
        pad.close()


def stored(dsn: str, site: str) -> list[tuple]:
    return rows(dsn, "SELECT seq, type FROM province_events WHERE site = %s ORDER BY seq", site)


def assert_all_arrived_once(dsn: str, centers: list[RealCenter], timeout: float) -> None:
    """Every event of every center's outbox is in PostgreSQL once, with the center's own payload."""
    def complete() -> bool:
        return all([(e["seq"], e["type"]) for e in c.outbox()] == stored(dsn, c.site) for c in centers)

    assert wait_until(complete, timeout, 0.25), {c.site: (len(c.outbox()), len(stored(dsn, c.site))) for c in centers}
    for c in centers:
        outbox = c.outbox()
        payloads = rows(dsn, "SELECT payload FROM province_events WHERE site = %s ORDER BY seq", c.site)
        assert [p for (p,) in payloads] == outbox, f"{c.site}: the stored payloads are the center's events"

        def site_row(site: str = c.site) -> tuple:
            return rows(dsn, "SELECT last_seq, contiguous_seq, last_seen IS NOT NULL FROM province_sites "
                        "WHERE site = %s", site)[0]

        newest = outbox[-1]["seq"]  # the contiguous seq follows within one check of the ingester
        assert wait_until(lambda n=newest: site_row() == (n, n, True), 2), (site_row(), newest)


def run_traffic(centers: list[RealCenter], rounds: int, hooks: dict[str, object]) -> None:
    threads = [threading.Thread(target=drive, args=(c, rounds, hooks.get(c.site))) for c in centers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
        assert not t.is_alive()


@pytest.mark.timeout(60)
def test_every_event_of_every_center_arrives_once_after_a_cut(province, db) -> None:
    _, centers, ingest = province
    cut = centers[0]
    during_cut: list[tuple[int, int]] = []

    def cut_link(i: int) -> None:
        if i == CUT_AT:
            cut.link(False)
        elif i == BACK_AT:
            time.sleep(0.5)  # what reached the province while the link was down: nothing new
            during_cut.append((max([s for s, _ in stored(db.dsn, cut.site)], default=0), cut.outbox()[-1]["seq"]))
            cut.link(True)

    started = time.monotonic()
    run_traffic(centers, ROUNDS, {cut.site: cut_link})
    print(f"traffic: {time.monotonic() - started:.1f} s")
    (province_had, center_had), = during_cut
    assert province_had < center_had - 30, f"the link was really down: {province_had} stored of {center_had}"
    assert_all_arrived_once(db.dsn, centers, 20)
    for c in centers:
        assert len(c.outbox()) >= ROUNDS * 3
    assert ingest.poll() is None
    resent = rows(db.dsn, "SELECT resend_requests FROM province_sites WHERE site = %s", cut.site)[0][0]
    print(f"events: {[len(c.outbox()) for c in centers]}; resend requests for the cut site: {resent}")
    # each center's retained config catalogue crossed its bridge too: the province knows the center's name
    names = dict(rows(db.dsn, f"SELECT site, {pdb.SITE_NAME_SQL} FROM province_sites"))
    assert names == {c.site: c.ctx.config.site.name.text("vi") for c in centers}, names


@pytest.mark.timeout(60)
def test_a_provincial_broker_crash_mid_traffic_loses_and_doubles_nothing(province, db) -> None:
    prov, centers, ingest = province
    assert prov.broker is not None
    before = {c.site: len(c.outbox()) for c in centers}

    def crash(i: int) -> None:
        if i == 8:
            prov.broker.kill()  # SIGKILL: no persistence save, in-flight messages lost
        elif i == 16:
            prov.broker.start()

    run_traffic(centers, 25, {centers[1].site: crash})
    assert_all_arrived_once(db.dsn, centers, 30)
    assert all(len(c.outbox()) >= before[c.site] + 75 for c in centers)
    assert ingest.poll() is None


@pytest.mark.timeout(60)
def test_two_ingesters_share_the_stream_and_one_dying_loses_nothing(province, db) -> None:
    """A second ``qms province ingest`` joins the shared subscription; the first is SIGKILLed mid-traffic
    (its unacknowledged batch and whatever the broker still routes to its session are lost to it): the
    survivor, with its gap requests, still stores every event once."""
    prov, centers, first = province
    second = prov.start_ingest(db.dsn, client_id="ingest-2")
    EXTRA_INGESTERS.append(second)
    before = {c.site: len(c.outbox()) for c in centers}

    def kill_first(i: int) -> None:
        if i == 8:
            first.send_signal(signal.SIGKILL)
            first.wait(5)

    run_traffic(centers, 25, {centers[2].site: kill_first})
    assert first.returncode == -signal.SIGKILL
    assert_all_arrived_once(db.dsn, centers, 30)
    assert all(len(c.outbox()) >= before[c.site] + 75 for c in centers)
    assert second.poll() is None
