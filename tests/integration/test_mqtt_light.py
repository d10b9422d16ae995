"""The benches' light MQTT connections (testkit/mqtt_light.py) against a real mosquitto and the devices' client."""

from __future__ import annotations

import json
import threading

import pytest

from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker
from mqtt_bus.contract import Role
from testkit.mqtt_light import LightConn, LightFleet


def test_light_connections_exchange_qos1_messages_with_a_bus_client(shared_broker, site, make_client):
    fleet = LightFleet(shared_broker.host, shared_broker.port)
    got: list[tuple[str, str, dict]] = []

    def on_message(conn: LightConn, topic: str, raw: bytes) -> None:
        got.append((conn.client_id, topic, json.loads(raw)))

    try:
        displays = [fleet.connect(f"display-{i}", on_message) for i in range(3)]
        for d in displays:
            d.subscribe(f"qms/v1/{site}/state/counter/+")
        assert fleet.run_until(lambda: all(d.subscribed == 1 for d in displays), 5)

        hub = make_client(shared_broker.url, "hub", Role.HUB)
        assert hub.wait_connected(5)
        hub.publish_json(f"qms/v1/{site}/state/counter/1", {"counter": "1", "ticket": {"id": "t1", "number": "A0001"}},
                         retain=True)
        assert fleet.run_until(lambda: len(got) == 3, 5), got
        assert sorted(c for c, _, _ in got) == ["display-0", "display-1", "display-2"]
        assert {t for _, t, _ in got} == {f"qms/v1/{site}/state/counter/1"}
        assert all(p["ticket"]["number"] == "A0001" for _, _, p in got)

        # the other way: a light pad's QoS 1 request reaches a subscriber and the broker acknowledges it
        received = threading.Event()
        hub.subscribe(f"qms/v1/{site}/request/+", lambda topic, payload: received.set() if payload["id"] == "r1" else None)
        pad = fleet.connect("counter-1", on_message)
        fleet.poll(0.3)  # the hub's subscription is in place
        pad.publish(f"qms/v1/{site}/request/counter-1", json.dumps({"id": "r1", "action": "snapshot"}).encode())
        assert fleet.run_until(lambda: not pad.unacked, 5), "the broker acknowledges the QoS 1 publish"
        assert received.wait(5)
    finally:
        fleet.close()


def test_a_refused_connection_says_so(tmp_path):
    (tmp_path / "nobody.passwd").write_text("")  # no user at all: every login is refused
    try:
        broker = EmbeddedBroker(tmp_path / "mqtt", allow_anonymous=False,
                                password_file=tmp_path / "nobody.passwd").start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        fleet = LightFleet(broker.host, broker.port)
        with pytest.raises(ConnectionError, match="refused"):
            fleet.connect("display-0", username="nobody", password="wrong")
        fleet.close()
    finally:
        broker.stop()
