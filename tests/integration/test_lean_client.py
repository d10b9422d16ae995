"""The hub's lean MQTT client (mqtt_bus/lean.py) against a real mosquitto: large payloads, bursts, keepalive,
a silent or absent broker, a refused login, clean shutdown and failing handlers."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqtt_bus.acl import write_password_file
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker, free_port
from mqtt_bus.contract import HUB_CLIENT_ID, Role
from mqtt_bus.lean import NO_CONN, LeanClient, Message, MessageInfo, Reason
from tests.integration.hub_helpers import Inbox, wait_for


class Peer:
    """A started ``LeanClient`` that records its connections, disconnections and the messages it receives."""

    def __init__(self, broker: EmbeddedBroker, client_id: str, keepalive: int = 60) -> None:
        self.client = LeanClient(client_id)
        self.connects = self.disconnects = 0
        self.messages: list[Message] = []
        self._cond = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect_async(broker.host, broker.port, keepalive)
        self.client.loop_start()

    def _on_connect(self, client: LeanClient, userdata: object, flags: dict, reason: Reason, props: object) -> None:
        with self._cond:
            self.connects += not reason.is_failure
            self._cond.notify_all()

    def _on_disconnect(self, client: LeanClient, userdata: object, flags: object, reason: Reason,
                       props: object) -> None:
        with self._cond:
            self.disconnects += 1
            self._cond.notify_all()

    def _on_message(self, client: LeanClient, userdata: object, message: Message) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait(self, check: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Whether ``check()`` (called under the peer's lock) became true within ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(check, timeout)

    def payloads(self, topic: str) -> list[bytes]:
        with self._cond:
            return [m.payload for m in self.messages if m.topic == topic]

    def subscribe(self, topic: str) -> None:
        """Subscribe to ``topic`` at QoS 1; return once the broker applies it (a probe published after the
        SUBSCRIBE comes back: the broker handles one client's packets in order)."""
        assert self.wait(lambda: self.connects >= 1), "not connected"
        probe = f"{topic}/probe-{uuid.uuid4().hex[:6]}"
        assert self.client.subscribe([(topic, 1), (probe, 1)])[0] == 0
        self.client.publish(probe, b"probe", qos=1)
        assert self.wait(lambda: any(m.topic == probe for m in self.messages)), "the subscription never applied"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def peer() -> Iterator[Callable[..., Peer]]:
    """``peer(broker, client_id, keepalive=60)`` -> a started ``Peer``, closed at teardown."""
    made: list[Peer] = []

    def make(broker: EmbeddedBroker, client_id: str, keepalive: int = 60) -> Peer:
        made.append(Peer(broker, client_id, keepalive))
        return made[-1]

    yield make
    for p in made:
        p.close()


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- size and volume -----------------------------------------------------------------------------
def test_a_300_kb_payload_round_trips_byte_exact(shared_broker, site, peer):
    """300 KB: a three-byte remaining length, read in at least five recv() calls (of at most 64 KiB)."""
    topic = f"{site}/big"
    sub, pub = peer(shared_broker, f"{site}-sub"), peer(shared_broker, f"{site}-pub")
    sub.subscribe(topic)
    assert pub.wait(lambda: pub.connects == 1)
    payload = os.urandom(300 * 1024)
    info = pub.client.publish(topic, payload, qos=1)
    info.wait_for_publish(10)
    assert info.is_published()
    assert sub.wait(lambda: len(sub.payloads(topic)) == 1, 10)
    assert sub.payloads(topic)[0] == payload
    # and the connection carries on with small messages after the large one
    pub.client.publish(topic, b"after", qos=1)
    assert sub.wait(lambda: len(sub.payloads(topic)) == 2)
    assert sub.payloads(topic)[1] == b"after"


def test_2000_qos1_messages_from_another_thread_all_arrive_in_order(shared_broker, site, peer):
    topic, n = f"{site}/burst", 2000
    sub, pub = peer(shared_broker, f"{site}-sub"), peer(shared_broker, f"{site}-pub")
    sub.subscribe(topic)
    assert pub.wait(lambda: pub.connects == 1)
    infos: list[MessageInfo] = []

    def burst() -> None:
        infos.extend(pub.client.publish(topic, b"%d" % i, qos=1) for i in range(n))

    thread = threading.Thread(target=burst)
    started = time.monotonic()
    thread.start()
    thread.join(10)
    assert len(infos) == n
    for info in infos:
        info.wait_for_publish(10)
    assert all(info.is_published() for info in infos), "every message acknowledged by the broker"
    assert sub.wait(lambda: len(sub.payloads(topic)) >= n, 20), len(sub.payloads(topic))
    elapsed = time.monotonic() - started
    assert sub.payloads(topic) == [b"%d" % i for i in range(n)]
    assert len({info.mid for info in infos}) == n
    print(f"{n} QoS 1 messages published and received in {elapsed * 1000:.0f} ms")


# -- keepalive -----------------------------------------------------------------------------------
def test_an_idle_connection_with_keepalive_1_stays_up(broker, peer):
    """mosquitto drops a client silent for 1.5 keepalives (1.5 s): pings must go out and be answered."""
    client = peer(broker, "idle", keepalive=1)
    client.subscribe("idle/t")
    time.sleep(4)  # idle: nothing but pings for four keepalives
    assert (client.connects, client.disconnects) == (1, 0)
    client.client.publish("idle/t", b"still here", qos=1)
    assert client.wait(lambda: client.payloads("idle/t") == [b"still here"])
    assert (client.connects, client.disconnects) == (1, 0)
    assert "exceeded timeout" not in broker.log_path.read_text()


def test_a_broker_that_stops_answering_is_dropped_and_rejoined(broker, make_client):
    """SIGSTOP: the TCP connection stays open but no PINGRESP comes; the client drops it after at most two
    keepalives (a ping after one, a second without an answer) and reconnects once the broker runs again."""
    changes: list[tuple[bool, float]] = []
    bus = make_client(broker.url, HUB_CLIENT_ID, Role.HUB, transport="lean", keepalive=1, reconnect_delay=(0.1, 0.5),
                      on_connection_change=lambda up: changes.append((up, time.monotonic())))
    assert bus.wait_connected(5)
    inbox = Inbox()
    bus.subscribe(f"{bus.topics.root}/t", inbox)
    pid = broker.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        stopped = time.monotonic()
        assert wait_for(lambda: not bus.is_connected, 5)
        down_after = changes[-1][1] - stopped
        assert changes[-1][0] is False
        assert down_after < 3.0, f"disconnected {down_after:.2f} s after the broker stopped"
    finally:
        os.kill(pid, signal.SIGCONT)
    resumed = time.monotonic()
    assert bus.wait_connected(5), "reconnected after SIGCONT"
    up_after = time.monotonic() - resumed
    assert [up for up, _ in changes] == [True, False, True]
    bus.publish_json(f"{bus.topics.root}/t", {"n": 1})
    inbox.wait_for(lambda _t, p: p == {"n": 1}, 5)
    print(f"down {down_after:.2f} s after SIGSTOP, up {up_after:.2f} s after SIGCONT")


# -- the broker gone -----------------------------------------------------------------------------
def test_messages_published_while_the_broker_is_down_arrive_after_it_returns_in_order(broker, peer):
    """The subscriber is paho with a persistent session (the broker keeps its subscription and queues for it
    over the restart), so only the lean publisher's offline queue is under test."""
    topic, received = "offline/t", []
    got_all = threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="offline-sub", clean_session=False,
                      protocol=mqtt.MQTTv311)
    subscribed = threading.Event()
    sub.on_subscribe = lambda *_: subscribed.set()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        received.append(msg.payload)
        if len(received) >= 50:
            got_all.set()

    sub.on_message = on_message
    sub.on_connect = lambda c, *_: c.subscribe(topic, 1)
    sub.reconnect_delay_set(0.1, 0.5)
    sub.connect(broker.host, broker.port)
    sub.loop_start()
    try:
        assert subscribed.wait(5)
        pub = peer(broker, "offline-pub")
        assert pub.wait(lambda: pub.connects == 1)
        broker.stop()
        assert pub.wait(lambda: pub.disconnects == 1)
        infos = [pub.client.publish(topic, b"%d" % i, qos=1) for i in range(50)]
        assert {info.rc for info in infos} == {NO_CONN}
        assert not any(info.is_published() for info in infos)
        broker.start()
        assert got_all.wait(10), f"{len(received)} of 50"
        assert received == [b"%d" % i for i in range(50)]
        for info in infos:
            info.wait_for_publish(5)
        assert all(info.is_published() and info.rc == 0 for info in infos)
    finally:
        sub.disconnect()
        sub.loop_stop()


@pytest.fixture
def locked_broker(tmp_path) -> Iterator[EmbeddedBroker]:
    """A mosquitto that knows one user, ``hub`` (password ``right``), and lets no one in anonymously."""
    try:
        passwd = write_password_file(tmp_path / "passwd", {"hub": "right"})
        b = EmbeddedBroker(tmp_path / "mosquitto", password_file=passwd).start()
    except (BrokerUnavailable, FileNotFoundError) as exc:
        pytest.skip(str(exc))
    yield b
    b.stop()


def test_a_refused_login_is_logged_and_retried_and_never_connects(locked_broker, make_client, caplog):
    caplog.set_level(logging.WARNING, logger="mqtt_bus")
    changes: list[bool] = []
    url = f"mqtt://hub:wrong@{locked_broker.host}:{locked_broker.port}"
    bus = make_client(url, HUB_CLIENT_ID, Role.HUB, transport="lean", reconnect_delay=(0.05, 0.2),
                      on_connection_change=changes.append)

    def refusals() -> list[str]:
        return [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]

    assert wait_for(lambda: len(refusals()) >= 3, 5), caplog.text
    assert all("not authorised" in m or "bad user name or password" in m for m in refusals()), refusals()
    assert bus._mqtt._thread.is_alive(), "still trying"
    assert not bus.is_connected and changes == []
    assert locked_broker.log_tail(200).count("not authorised") >= 3  # mosquitto saw each attempt


def test_the_right_password_on_the_same_broker_connects(locked_broker, make_client):
    """(The refusal above is the password's: the same client with the right one gets in.)"""
    bus = make_client(f"mqtt://hub:right@{locked_broker.host}:{locked_broker.port}", HUB_CLIENT_ID, Role.HUB,
                      transport="lean")
    assert bus.wait_connected(5)


# -- shutdown and failures -----------------------------------------------------------------------
def test_close_leaves_no_file_descriptors_and_ends_the_network_thread(shared_broker, site, make_client, caplog):
    before = fd_count()
    for i in range(3):
        bus = make_client(shared_broker.url, f"display-{i}", transport="lean", site=site)
        assert bus.wait_connected(5)
        thread = bus._mqtt._thread
        # two: its socket and its wake-up eventfd (paho takes three, select() fails past descriptor 1023, and the
        # simulated province runs 124 hubs and their devices in one test process)
        assert fd_count() == before + 2, os.listdir("/proc/self/fd")
        bus.close()
        assert not thread.is_alive()
        assert fd_count() == before, f"cycle {i}: {os.listdir('/proc/self/fd')}"
    # closed from one of its own handlers (on the network thread, which cannot wait for itself to end)
    bus = make_client(shared_broker.url, "display-8", transport="lean", site=site)
    bus.subscribe(f"{bus.topics.root}/bye", lambda _t, _p: bus.close())
    assert bus.wait_connected(5)
    thread = bus._mqtt._thread
    bus.publish_json(f"{bus.topics.root}/bye", {})
    assert wait_for(lambda: not thread.is_alive()), "the network thread ends after the handler returns"
    assert fd_count() == before, "nor when closed from a handler"
    # and a client that never reached a broker (nothing listens on the port)
    caplog.set_level(logging.DEBUG, logger="mqtt_bus")
    bus = make_client(f"mqtt://127.0.0.1:{free_port()}", "display-9", transport="lean", site=site,
                      reconnect_delay=(0.05, 0.1))
    assert wait_for(lambda: caplog.text.count("cannot connect to") >= 3), "a few failed attempts"
    thread = bus._mqtt._thread
    bus.close()
    assert not thread.is_alive()
    assert fd_count() == before, os.listdir("/proc/self/fd")


def test_a_handler_that_raises_does_not_stop_the_loop(shared_broker, site, peer, caplog):
    topic = f"{site}/t"
    sub, pub = peer(shared_broker, f"{site}-sub"), peer(shared_broker, f"{site}-pub")
    sub.subscribe(topic)
    record = sub.client.on_message

    def on_message(client: LeanClient, userdata: object, message: Message) -> None:
        record(client, userdata, message)
        if message.payload == b"boom":
            raise RuntimeError("handler bug")

    sub.client.on_message = on_message
    assert pub.wait(lambda: pub.connects == 1)
    pub.client.publish(topic, b"boom", qos=1)
    pub.client.publish(topic, b"next", qos=0)
    pub.client.publish(topic, b"last", qos=1)
    assert sub.wait(lambda: sub.payloads(topic) == [b"boom", b"next", b"last"]), sub.payloads(topic)
    assert "handler bug" in caplog.text
    assert sub.client._thread is not None and sub.client._thread.is_alive()
    assert (sub.connects, sub.disconnects) == (1, 0), "the failure did not cost the connection"
