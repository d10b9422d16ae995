"""The generated bridge drop-in and provincial config/ACL: the shipped examples match the generator, ids are
checked, passwords are kept when a site is added, and a TLS bridge carries a center's event to the province."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker, find_mosquitto, free_port
from qms.province.configs import (
    BridgeSettings,
    ProvinceBrokerSettings,
    render_bridge_conf,
    render_province_acl,
    render_province_conf,
)
from testkit.hub_process import stop_hub_process
from testkit.province import (
    ROOT,
    Province,
    ProvinceBroker,
    TempDatabase,
    pg_available,
    qms,
    tls_province,
    wait_until,
)

MOSQ = ROOT / "config" / "mosquitto"


def example(name: str) -> str:
    """The generated part of a shipped example (its three leading comment lines dropped)."""
    return "".join((MOSQ / name).read_text().splitlines(keepends=True)[3:])


def test_the_shipped_examples_match_the_generator():
    assert example("qms-province.conf.example") == render_bridge_conf(BridgeSettings(
        site="xa-demo", host="mqtt.province.example", password="CHANGE-ME", cafile="/etc/qms/province-ca.crt"))
    assert example("province.conf.example") == render_province_conf(ProvinceBrokerSettings(
        certfile="/etc/mosquitto/certs/province.crt", keyfile="/etc/mosquitto/certs/province.key"))
    assert example("province-acl.example") == render_province_acl(["xa-demo", "xa-da-huoai"])


def test_the_bridge_sends_only_its_own_site_and_keeps_a_persistent_session():
    text = render_bridge_conf(BridgeSettings(site="xa-a", host="10.0.0.1", port=8883, password="pw"))
    topics = [line for line in text.splitlines() if line.startswith("topic ")]
    assert topics == ["topic qms/v1/xa-a/event/# out 1", "topic qms/v1/xa-a/state/# out 1",
                      "topic qms/v1/xa-a/config out 1", "topic qms/v1/xa-a/response/display-province out 1",
                      "topic qms/v1/xa-a/request/display-province in 1"]
    for line in ("cleansession false", "local_cleansession false", "remote_username site-xa-a",
                 "address 10.0.0.1:8883"):
        assert line in text.splitlines()
    assert "bridge_cafile" not in text  # TLS only with a CA
    with pytest.raises(ValueError, match="line break"):
        render_bridge_conf(BridgeSettings(site="xa-a", host="h", password="a\nconnection evil"))


def test_bad_or_repeated_site_ids_are_refused():
    with pytest.raises(ValueError, match="listed twice"):
        render_province_acl(["xa-a", "xa-a"])
    with pytest.raises(ValueError, match="must not contain"):
        render_province_acl(["xa/#"])
    with pytest.raises(ValueError, match="must not contain"):
        render_bridge_conf(BridgeSettings(site="x+y", host="h"))


def test_bridge_config_takes_the_site_from_the_center_config(always_open_config, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    out = tmp_path / "qms-province.conf"
    qms("--config", str(always_open_config), "province", "bridge-config", "--province-host", "10.1.2.3",
        "--password-file", str(secret), "--out", str(out))
    text = out.read_text()
    assert "remote_username site-xa-da-huoai" in text and "remote_password s3cret" in text
    assert "topic qms/v1/xa-da-huoai/event/# out 1" in text
    assert oct(out.stat().st_mode & 0o777) == "0o640"


def test_broker_config_keeps_the_passwords_when_a_site_is_added(tmp_path):
    pytest.importorskip("paho")
    out = tmp_path / "etc"
    qms("province", "broker-config", "--site", "xa-a", "--out", str(out))
    first = (out / "secrets" / "site-xa-a").read_text()
    qms("province", "broker-config", "--site", "xa-a", "--site", "xa-b", "--out", str(out))
    assert (out / "secrets" / "site-xa-a").read_text() == first
    assert (out / "secrets" / "site-xa-b").exists() and (out / "secrets" / "ingest").exists()
    assert oct((out / "secrets" / "site-xa-b").stat().st_mode & 0o777) == "0o600"
    users = [line.split(":")[0] for line in (out / "passwd").read_text().splitlines()]
    assert users == ["site-xa-a", "site-xa-b", "ingest"]
    assert first.strip() not in (out / "passwd").read_text(), "only hashes in the password file"


def test_a_tls_bridge_with_the_site_login_carries_an_event_to_the_province(tmp_path):
    try:
        find_mosquitto()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    province, etc, ca = tls_province(tmp_path, "xa-t")
    port = province.port
    center = None
    got: list[tuple[str, dict]] = []
    arrived = threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ingest-tls-test", protocol=mqtt.MQTTv5)
    try:
        sub.username_pw_set("ingest", (etc / "secrets" / "ingest").read_text().strip())
        sub.tls_set(ca_certs=str(ca))

        def on_message(client, userdata, msg) -> None:
            got.append((msg.topic, json.loads(msg.payload)))
            arrived.set()

        subscribed = threading.Event()
        sub.on_message = on_message
        sub.on_subscribe = lambda *a: subscribed.set()
        sub.connect("127.0.0.1", port)
        sub.loop_start()
        sub.subscribe("qms/v1/+/event/#", qos=1)
        assert subscribed.wait(5), "the ingester login subscribes over TLS"
        bridge = qms("province", "bridge-config", "--site", "xa-t", "--province-host", "127.0.0.1",
                     "--province-port", str(port), "--password-file", str(etc / "secrets" / "site-xa-t"),
                     "--cafile", str(ca), "--restart-timeout", "1,2").splitlines()
        assert f"bridge_cafile {ca}" in bridge
        center = EmbeddedBroker(tmp_path / "center", extra_config=bridge).start()
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hub-test")
        pub.connect("127.0.0.1", center.port)
        pub.loop_start()
        event = {"seq": 1, "ts": "2026-12-01T09:00:00.000+07:00", "type": "ticket_called", "ticket": None,
                 "counter": "1"}
        deadline = 0
        while not arrived.is_set() and deadline < 50:  # the bridge connects within a second or two
            pub.publish("qms/v1/xa-t/event/ticket_called", json.dumps(event), qos=1)
            arrived.wait(0.2)
            deadline += 1
        pub.loop_stop()
        pub.disconnect()
        assert got and got[0] == ("qms/v1/xa-t/event/ticket_called", event), province.log_tail()
        log = province.log_path.read_text()
        assert "as site-xa-t" in log and "u'site-xa-t'" in log, log  # the bridge logged in with its site login
        if pg_available() is None:  # and `qms province ingest` over TLS stores it
            import psycopg

            db = TempDatabase()
            prov = Province(tmp_path, ["xa-t"], port=port)
            try:
                ingest = prov.start_ingest(db.dsn, cafile=ca)
                try:
                    def stored() -> list[tuple]:
                        with psycopg.connect(db.dsn) as c:
                            return c.execute("SELECT site, seq, type FROM province_events").fetchall()
                    center_pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hub-test-2")
                    center_pub.connect("127.0.0.1", center.port)
                    center_pub.loop_start()
                    center_pub.publish("qms/v1/xa-t/event/ticket_called", json.dumps({**event, "seq": 2}),
                                       qos=1).wait_for_publish(5)
                    center_pub.loop_stop()
                    center_pub.disconnect()
                    assert wait_until(lambda: ("xa-t", 2, "ticket_called") in stored(), 10), stored()
                finally:
                    assert stop_hub_process(ingest) == 0
            finally:
                db.drop()
    finally:
        sub.loop_stop()
        sub.disconnect()
        if center is not None:
            center.stop()
        province.stop()


def test_the_installed_center_broker_with_its_acl_bridges_both_ways(tmp_path):
    """Debian's mosquitto.conf + qms.conf (logins, ACL) + the bridge drop-in in conf.d, as installed: the hub's
    events reach the province and the ingester's events_since request reaches the hub, whose answer comes back."""
    from mqtt_bus.acl import render_acl, write_password_file
    from tests.install.site_broker import site_broker

    try:
        find_mosquitto()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    site, port, etc = "xa-da-huoai", free_port(), tmp_path / "etc"
    qms("province", "broker-config", "--site", site, "--out", str(etc), "--port", str(port), "--bind", "127.0.0.1",
        "--install-dir", str(etc))
    province = ProvinceBroker(tmp_path / "province", etc / "province.conf", port).start()
    (tmp_path / "acl").write_text(render_acl(site, [("hub", "hub")]))
    write_password_file(tmp_path / "passwd", {"hub": "hub-pw"})
    center = site_broker(tmp_path / "center", tmp_path / "passwd", tmp_path / "acl")
    (tmp_path / "center" / "etc" / "conf.d").mkdir(parents=True, exist_ok=True)
    (tmp_path / "center" / "etc" / "conf.d" / "qms-province.conf").write_text(qms(
        "province", "bridge-config", "--site", site, "--province-host", "127.0.0.1", "--province-port", str(port),
        "--password-file", str(etc / "secrets" / f"site-{site}"), "--restart-timeout", "1,2"))
    clients: list[mqtt.Client] = []
    inbox: list[tuple[str, dict]] = []
    cond = threading.Condition()

    def client(login: str, password: str, broker_port: int, subs: list[str]) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=login, protocol=mqtt.MQTTv5)
        c.username_pw_set(login, password)
        done = threading.Event()

        def on_message(cl, userdata, msg) -> None:
            with cond:
                inbox.append((msg.topic, json.loads(msg.payload)))
                cond.notify_all()

        c.on_message = on_message
        c.on_subscribe = lambda *a: done.set()
        c.connect("127.0.0.1", broker_port)
        c.loop_start()
        clients.append(c)
        c.subscribe([(t, mqtt.SubscribeOptions(qos=1)) for t in subs])
        assert done.wait(5)
        return c

    def wait_for(topic: str, timeout: float = 10, resend: tuple[mqtt.Client, dict] | None = None) -> dict:
        with cond:
            for _ in range(int(timeout / 0.2)):
                found = [p for t, p in inbox if t == topic]
                if found:
                    return found[0]
                if resend:  # until the bridge is up, publishes to it are not queued yet
                    resend[0].publish(topic_of[id(resend[1])], json.dumps(resend[1]), qos=1)
                cond.wait(0.2)
        raise AssertionError(f"nothing on {topic}; got {inbox}\n{center.log_tail()}")

    try:
        center.start()
        hub = client("hub", "hub-pw", center.port, [f"qms/v1/{site}/request/+"])
        ingest = client("ingest", (etc / "secrets" / "ingest").read_text().strip(), port,
                        [f"qms/v1/{site}/event/#", f"qms/v1/{site}/response/display-province"])
        event = {"seq": 7, "ts": "2026-12-01T09:00:00.000+07:00", "type": "ticket_issued", "ticket": None,
                 "counter": None}
        request = {"id": "r1", "action": "events_since", "args": {"after": 6}}
        answer = {"id": "r1", "ok": True, "result": {"events": [event], "last_seq": 7, "more": False}}
        topic_of = {id(event): f"qms/v1/{site}/event/ticket_issued",
                    id(request): f"qms/v1/{site}/request/display-province",
                    id(answer): f"qms/v1/{site}/response/display-province"}
        assert wait_for(topic_of[id(event)], resend=(hub, event)) == event
        assert wait_for(topic_of[id(request)], resend=(ingest, request)) == request
        assert wait_for(topic_of[id(answer)], resend=(hub, answer)) == answer
    finally:
        for c in clients:
            c.loop_stop()
            c.disconnect()
        center.stop()
        province.stop()
