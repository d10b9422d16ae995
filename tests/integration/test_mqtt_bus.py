"""BusClient and EmbeddedBroker against a real mosquitto."""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqtt_bus import broker as broker_mod
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker
from mqtt_bus.client import BusClient, BusClosed, RequestTimeout, package_version
from mqtt_bus.contract import HUB_CLIENT_ID, EventType, Role
from mqtt_bus.topics import Topics
from mqtt_bus.url import parse_broker_url
from tests.integration.hub_helpers import Inbox, subscriptions_active, wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["paho", "lean"])
def transport(request) -> str:
    """Every test here runs with paho (the devices' MQTT) and with ``mqtt_bus.lean`` (the hub's)."""
    return request.param


@pytest.fixture
def make_client(make_client, transport):
    """The integration ``make_client``, with this module's ``transport``."""
    def make(*args, **kw):
        kw.setdefault("transport", transport)
        return make_client(*args, **kw)
    return make


def raw_client(url: str) -> mqtt.Client:
    """A bare paho client, for sending what BusClient never would."""
    addr = parse_broker_url(url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    c.connect(addr.host, addr.port)
    c.loop_start()
    return c


def start_echo_hub(make_client, url: str, drop_first: int = 0):
    """A tiny hub: answers every request with its args; ignores the first *drop_first* ones."""
    hub = make_client(url, HUB_CLIENT_ID, Role.HUB)
    seen: list[dict] = []
    lock = threading.Lock()

    def on_request(topic: str, payload: dict) -> None:
        with lock:
            seen.append(payload)
            if len(seen) <= drop_first:
                return
        client_id = hub.topics.parse(topic).id
        answer = {"id": payload["id"], "ok": True, "result": {"action": payload["action"], "echo": payload["args"]}}
        hub.publish_json(hub.topics.response(client_id), answer)

    hub.subscribe(hub.topics.requests_all, on_request)
    assert hub.wait_connected(3)
    return hub, seen


# -- presence ------------------------------------------------------------------------------------
def test_presence_online_then_clean_offline(shared_broker, make_client, site):
    watcher = make_client(shared_broker.url, "watcher")
    inbox = Inbox()
    watcher.subscribe(watcher.topics.status_all, inbox)
    kiosk = make_client(shared_broker.url, "kiosk-1", Role.KIOSK)
    _, online = inbox.wait_for(lambda t, p: t.endswith("/status/kiosk-1") and p["online"])
    assert online["role"] == Role.KIOSK and online["ts"].endswith("+07:00")
    kiosk.close()
    inbox.wait_for(lambda t, p: t.endswith("/status/kiosk-1") and not p["online"])
    assert not kiosk.is_connected
    # retained: a latecomer sees the device is offline
    late = Inbox()
    make_client(shared_broker.url, "late").subscribe(Topics(site).status("kiosk-1"), late)
    _, p = late.wait_for(lambda t, p: True)
    assert p == {"online": False, "role": Role.KIOSK, "ts": p["ts"], "version": package_version()}
    assert package_version() == "0.1.0"  # the installed package's version (setup.py)


def test_last_will_published_when_device_process_is_killed(shared_broker, make_client, site, transport):
    script = (
        "import sys, time\n"
        "from mqtt_bus.client import BusClient\n"
        "c = BusClient(sys.argv[1], sys.argv[2], 'victim', 'counter', transport=sys.argv[3]).start()\n"
        "assert c.wait_connected(5)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script, shared_broker.url, site, transport],
                            stdout=subprocess.PIPE, env=env, cwd=REPO)
    try:
        assert select.select([proc.stdout], [], [], 10)[0], "device subprocess did not start"
        assert proc.stdout.readline().strip() == b"ready"
        inbox = Inbox()
        make_client(shared_broker.url, "watcher").subscribe(Topics(site).status("victim"), inbox)
        inbox.wait_for(lambda t, p: p["online"] and p["role"] == Role.COUNTER)
        proc.send_signal(signal.SIGKILL)
        _, will = inbox.wait_for(lambda t, p: not p["online"], timeout=3)
        assert will["role"] == Role.COUNTER
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    late = Inbox()
    make_client(shared_broker.url, "late").subscribe(Topics(site).status("victim"), late)
    late.wait_for(lambda t, p: p["online"] is False)


# -- connection life -----------------------------------------------------------------------------
def test_device_that_boots_before_the_broker_comes_up(tmp_path, make_client):
    b = EmbeddedBroker(tmp_path / "late-broker")
    try:
        changes: list[bool] = []
        c = make_client(b.url, "early-bird", on_connection_change=changes.append)
        assert not c.wait_connected(0.6)
        b.start()
        assert c.wait_connected(5)
        assert wait_for(lambda: changes == [True], 1)  # the callback runs just after the flag is set
    finally:
        b.stop()


def test_session_id_names_the_mqtt_session_and_topics_keep_the_client_id(broker, make_client):
    """Two sites' hubs on one broker: each session has its own id, so neither takes over the other's."""
    hubs = [make_client(broker.url, HUB_CLIENT_ID, Role.HUB, site=s, session_id=f"hub-{s}") for s in ("xa-a", "xa-b")]
    plain = make_client(broker.url, "display-1")
    assert all(c.wait_connected(3) for c in (*hubs, plain))
    assert [h.session_id for h in hubs] == ["hub-xa-a", "hub-xa-b"] and plain.session_id == "display-1"
    assert hubs[0].status_topic == "qms/v1/xa-a/status/hub"

    def log_text() -> str:
        return broker.log_path.read_text(errors="replace")

    assert wait_for(lambda: all(f" as {sid} " in log_text() for sid in ("hub-xa-a", "hub-xa-b", "display-1")), 3)
    time.sleep(0.3)
    assert all(h.is_connected for h in hubs) and "already connected" not in log_text()
    with pytest.raises(ValueError, match="session_id"):
        BusClient(broker.url, "xa-a", HUB_CLIENT_ID, Role.HUB, session_id="")


@pytest.mark.parametrize("how", ["restart", "kill-and-start"])
def test_resubscribes_after_broker_restart(broker, make_client, how):
    changes: list[bool] = []
    sub = make_client(broker.url, "display-1", on_connection_change=changes.append)
    inbox = Inbox()
    sub.subscribe(sub.topics.events_all, inbox)
    pub = make_client(broker.url, HUB_CLIENT_ID, Role.HUB)
    assert sub.wait_connected(3) and pub.wait_connected(3)
    # connected comes before the broker has acknowledged the subscription: publish until it is in place
    deadline = time.monotonic() + 3
    while not inbox.items and time.monotonic() < deadline:
        pub.publish_json(pub.topics.event(EventType.TICKET_CALLED), {"seq": 1})
        time.sleep(0.1)
    inbox.wait_for(lambda t, p: p["seq"] == 1)

    if how == "restart":
        broker.restart()
    else:
        broker.kill()
        broker.start()
    restarted = time.monotonic()
    assert wait_for(lambda: changes[-2:] == [False, True], 3), changes
    assert pub.wait_connected(3)
    seq = 1
    while time.monotonic() - restarted < 3 and not any(p["seq"] > 1 for _, p in inbox.items):
        seq += 1
        pub.publish_json(pub.topics.event(EventType.TICKET_CALLED), {"seq": seq})
        time.sleep(0.1)
    inbox.wait_for(lambda t, p: p["seq"] > 1, timeout=0.5)  # within 3.5 s of the restart


def test_retained_state_survives_broker_restart(broker, make_client, site):
    hub = make_client(broker.url, HUB_CLIENT_ID, Role.HUB)
    assert hub.wait_connected(3)
    hub.publish_json(hub.topics.state_counter("c1"), {"counter": "c1", "status": "open"}, retain=True).wait_for_publish(2)
    broker.restart()
    inbox = Inbox()
    make_client(broker.url, "display-1").subscribe(Topics(site).state_counters_all, inbox)
    _, p = inbox.wait_for(lambda t, p: t.endswith("/state/counter/c1"))
    assert p["status"] == "open"


# -- robustness of the network thread -------------------------------------------------------------
def test_malformed_payloads_are_dropped_and_loop_survives(shared_broker, make_client, site, caplog):
    caplog.set_level(logging.WARNING, logger="mqtt_bus.client")
    sub = make_client(shared_broker.url, "display-1")
    inbox = Inbox()
    sub.subscribe(sub.topics.events_all, inbox)
    assert sub.wait_connected(3)
    raw = raw_client(shared_broker.url)
    try:
        assert wait_for(raw.is_connected)
        topic = Topics(site).event("ticket_issued")
        subscriptions_active(sub)
        for garbage in (b"{not json", b"[1, 2, 3]", b"\xff\xfe\x00", b'"text"', b"null", b"42", b""):
            raw.publish(topic, garbage, qos=1).wait_for_publish(2)
        raw.publish(topic, '{"seq": 7, "tên": "Nguyễn"}'.encode(), qos=1).wait_for_publish(2)
        raw.publish(topic, b'{"seq": 8}', qos=1).wait_for_publish(2)
        inbox.wait_for(lambda t, p: p.get("seq") == 8)
        # one client, one topic, one QoS: arrival in publish order, so nothing else is still coming
        assert [p for _, p in inbox.items] == [{"seq": 7, "tên": "Nguyễn"}, {"seq": 8}]
        assert sub.is_connected and sub._mqtt._thread.is_alive()
        assert "malformed JSON" in caplog.text and "non-object JSON" in caplog.text
    finally:
        raw.disconnect()
        raw.loop_stop()


def test_raw_handlers_get_every_payload_undecoded(shared_broker, make_client, site):
    hub = make_client(shared_broker.url, HUB_CLIENT_ID, Role.HUB)
    raw: list[tuple[str, bytes]] = []
    cooked = Inbox()
    hub.subscribe_raw(hub.topics.requests_all, lambda t, b: raw.append((t, b)))
    hub.subscribe(hub.topics.requests_all, cooked)
    assert hub.wait_connected(3)
    subscriptions_active(hub)
    pad = make_client(shared_broker.url, "counter-1", "counter")
    assert pad.wait_connected(3)
    pad._mqtt.publish(Topics(site).request("counter-1"), b"{broken", qos=1)
    pad.publish_json(Topics(site).request("counter-1"), {"id": "x", "action": "snapshot", "args": {}})
    cooked.wait_for(lambda t, p: p["id"] == "x")
    assert wait_for(lambda: len(raw) == 2)
    assert raw[0] == (Topics(site).request("counter-1"), b"{broken")
    assert len(cooked.items) == 1
    hub.unsubscribe(hub.topics.requests_all)  # removes JSON and raw handlers
    pad_status = Inbox()
    hub.subscribe(Topics(site).status("counter-1"), pad_status)
    subscriptions_active(hub)  # the broker has dropped the request subscription
    pad.publish_json(Topics(site).request("counter-1"), {"id": "y", "action": "snapshot", "args": {}})
    pad.publish_json(Topics(site).status("counter-1"), {"online": True, "role": "counter", "ts": "after-y"})
    pad_status.wait_for(lambda t, p: p["ts"] == "after-y")  # the pad's packets arrive in order: "y" went before
    assert len(raw) == 2 and len(cooked.items) == 1


def test_raising_handler_and_callback_do_not_kill_the_loop(shared_broker, make_client, caplog):
    def boom(*_):
        raise RuntimeError("handler bug")

    sub = make_client(shared_broker.url, "display-1", on_connection_change=boom)
    good = Inbox()
    sub.subscribe(sub.topics.events_all, boom)
    sub.subscribe(sub.topics.events_all, good)
    pub = make_client(shared_broker.url, HUB_CLIENT_ID, Role.HUB)
    assert sub.wait_connected(3) and pub.wait_connected(3)
    subscriptions_active(sub)
    for seq in (1, 2, 3):
        pub.publish_json(pub.topics.event(EventType.TICKET_ISSUED), {"seq": seq})
    good.wait_for(lambda t, p: p["seq"] == 3)
    assert [p["seq"] for _, p in good.items] == [1, 2, 3]
    assert sub._mqtt._thread.is_alive()
    assert "handler bug" in caplog.text


# -- request / response --------------------------------------------------------------------------
def test_request_response_roundtrip(shared_broker, make_client):
    start_echo_hub(make_client, shared_broker.url)
    kiosk = make_client(shared_broker.url, "kiosk-1", Role.KIOSK)
    resp = kiosk.request("issue_ticket", {"service": "HT", "lang": "vi"}, timeout=2)
    assert resp["ok"] is True
    assert resp["result"] == {"action": "issue_ticket", "echo": {"service": "HT", "lang": "vi"}}
    assert len(resp["id"]) == 32


def test_retry_reuses_the_same_request_id(shared_broker, make_client):
    _, seen = start_echo_hub(make_client, shared_broker.url, drop_first=1)
    counter = make_client(shared_broker.url, "counter-3", Role.COUNTER)
    resp = counter.request("call_next", {"counter": "c3"}, timeout=0.5, retries=3, request_id="abc123")
    assert resp["id"] == "abc123" and resp["ok"]
    assert len(seen) >= 2 and {p["id"] for p in seen} == {"abc123"}


def test_request_timeout_when_nobody_answers(shared_broker, make_client, site):
    watcher = Inbox()
    watching = make_client(shared_broker.url, "watcher")
    watching.subscribe(Topics(site).requests_all, watcher)
    counter = make_client(shared_broker.url, "counter-3", "counter")
    assert counter.wait_connected(3) and watching.wait_connected(3)
    subscriptions_active(watching)
    t0 = time.monotonic()
    with pytest.raises(RequestTimeout) as err:
        counter.request("call_next", {"counter": "c3"}, timeout=0.2, retries=1)
    assert 0.35 < time.monotonic() - t0 < 2
    assert err.value.attempts == 2 and "qms doctor" in str(err.value)
    assert isinstance(err.value, TimeoutError)
    assert wait_for(lambda: len(watcher.items) == 2)
    assert len({p["id"] for _, p in watcher.items}) == 1


def test_request_async_response_and_timeout(shared_broker, make_client):
    kiosk = make_client(shared_broker.url, "kiosk-1", Role.KIOSK)
    got: list[object] = []
    done = threading.Event()

    def callback(result: object) -> None:
        got.append(result)
        done.set()

    kiosk.request_async("snapshot", {}, callback, timeout=0.2, retries=1)
    assert done.wait(3)
    assert isinstance(got[0], RequestTimeout) and got[0].attempts == 2

    done.clear()
    start_echo_hub(make_client, shared_broker.url)
    rid = kiosk.request_async("snapshot", {"x": 1}, callback, timeout=1.0)
    assert done.wait(5)
    assert got[1]["id"] == rid and got[1]["result"]["echo"] == {"x": 1}
    assert rid not in kiosk._pending  # answered: no attempt timer is left to report a late timeout
    assert len(got) == 2


def test_concurrent_requests_each_get_their_own_answer(shared_broker, make_client):
    start_echo_hub(make_client, shared_broker.url)
    pad = make_client(shared_broker.url, "counter-1", Role.COUNTER)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                resp = pad.request("rate", {"n": n, "i": i}, timeout=3)
                assert resp["result"]["echo"] == {"n": n, "i": i}
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors


def test_request_made_while_broker_is_down_is_answered_after_it_returns(broker, make_client):
    start_echo_hub(make_client, broker.url)
    pad = make_client(broker.url, "counter-2", Role.COUNTER)
    assert pad.wait_connected(3)
    broker.kill()
    assert wait_for(lambda: not pad.is_connected)
    result: dict = {}
    th = threading.Thread(target=lambda: result.update(pad.request("call_next", {"counter": "c2"},
                                                                   timeout=1.0, retries=5)))
    th.start()
    assert wait_for(lambda: pad._pending), "the request was never made"
    broker.start()
    th.join(10)
    assert result.get("ok") is True


def test_close_wakes_a_waiting_request(shared_broker, make_client):
    pad = make_client(shared_broker.url, "counter-1", Role.COUNTER)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            pad.request("call_next", {}, timeout=5)
        except BaseException as exc:
            errors.append(exc)

    th = threading.Thread(target=call)
    th.start()
    assert wait_for(lambda: pad._pending), "the request was never made"
    pad.close()
    th.join(2)
    assert not th.is_alive() and isinstance(errors[0], BusClosed)
    with pytest.raises(BusClosed):
        pad.request("snapshot", {})


def test_blocking_request_from_a_handler_is_refused(shared_broker, make_client):
    c = make_client(shared_broker.url, "display-1")
    errors: list[BaseException] = []

    def handler(topic: str, payload: dict) -> None:
        try:
            c.request("snapshot", {})
        except RuntimeError as exc:
            errors.append(exc)

    c.subscribe(c.topics.events_all, handler)
    assert c.wait_connected(3)
    subscriptions_active(c)
    c.publish_json(c.topics.event("ticket_issued"), {"seq": 1})
    assert wait_for(lambda: errors)
    assert "request_async" in str(errors[0])


# -- EmbeddedBroker ------------------------------------------------------------------------------
def test_embedded_broker_basics(broker):
    assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
    text = broker.config_text()
    for line in (f"listener {broker.port} 127.0.0.1", "persistence true", "max_queued_messages 10000",
                 "max_inflight_messages 100", "allow_anonymous true"):
        assert line in text
    assert ("user root" in text) == (os.geteuid() == 0)
    pid = broker.pid
    broker.restart()
    assert broker.is_running() and broker.pid != pid
    assert (broker.dir / "mosquitto.db").exists()  # saved at the graceful stop


def test_embedded_broker_cleans_up_own_temp_dir():
    b = EmbeddedBroker().start()
    d, pid = b.dir, b.pid
    b.stop()
    assert not d.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_missing_mosquitto_says_how_to_install(monkeypatch):
    monkeypatch.setattr(broker_mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(broker_mod, "FALLBACK_PATHS", ())
    with pytest.raises(BrokerUnavailable, match="apt-get install mosquitto"):
        EmbeddedBroker()


def test_broker_that_cannot_start_reports_its_log(tmp_path):
    b = EmbeddedBroker(tmp_path / "bad", extra_config=["no_such_option 1"])
    with pytest.raises(BrokerUnavailable, match="no_such_option"):
        b.start()
    assert not b.is_running()
    b.stop()
