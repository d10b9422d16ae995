"""Many MQTT 3.1.1 connections driven by one thread, for the benches' simulated pads and displays.

In a center each counter pad and hall display is a board of its own; on the bench machine they share the
hub's cores. paho (the devices' client, ``mqtt_bus.client.BusClient``) spends ~0.1 ms of Python and a
thread switch per message and client: 50 pads and 10 displays in two processes took 65 ms of CPU per
rush of 50 calls on this 2-core machine, more than the hub itself, so the bench measured its own clients.
A :class:`LightFleet` does the least a device must (connect, subscribe, QoS 1 publish, acknowledge each
QoS 1 message it receives) with no thread per connection; the caller decodes the payloads it keeps.

Not for the product: no reconnect, no keepalive pings (keepalive 0), no TLS, no QoS 2.
The packets' bytes are ``mqtt_bus.packets``'s (as the hub's lean client's).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mqtt_bus.packets import (
    CONNACK,
    DISCONNECT_PACKET,
    PUBACK,
    PUBLISH,
    SUBACK,
    connect_packet,
    parse_publish,
    puback_packet,
    publish_packet,
    split_packets,
    subscribe_packet,
)

OnMessage = Callable[["LightConn", str, bytes], None]
"""``on_message(conn, topic, payload)``, called on the fleet's thread as each PUBLISH arrives."""


@dataclass(eq=False)
class LightConn:
    """One client connection of a :class:`LightFleet`."""

    client_id: str
    sock: socket.socket
    on_message: OnMessage | None
    connected: bool = False
    subscribed: int = 0  # SUBACKs received
    unacked: set[int] = field(default_factory=set)  # packet ids of our QoS 1 PUBLISHes not yet acknowledged
    _next_id: int = 0
    _buffer: bytearray = field(default_factory=bytearray)

    def packet_id(self) -> int:
        self._next_id = self._next_id % 65535 + 1
        return self._next_id

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish at QoS 1 (the contract's QoS); the broker's PUBACK is read by the fleet's loop."""
        pid = self.packet_id()
        self.unacked.add(pid)
        self.send(publish_packet(topic.encode("utf-8"), payload, 1, retain, pid))

    def subscribe(self, topic_filter: str) -> None:
        """Subscribe at QoS 1 (wait for it with ``fleet.run_until(lambda: conn.subscribed >= n)``)."""
        self.send(subscribe_packet(self.packet_id(), [(topic_filter, 1)]))


class LightFleet:
    """Connections to one broker, served by whichever thread calls :meth:`run_until` (one at a time)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.selector = selectors.DefaultSelector()
        self.conns: list[LightConn] = []

    def connect(self, client_id: str, on_message: OnMessage | None = None, username: str | None = None,
                password: str | None = None, timeout: float = 5.0) -> LightConn:
        """Open a clean session and wait for the broker's CONNACK (a refusal raises ``ConnectionError``)."""
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn = LightConn(client_id, sock, on_message)
        self.selector.register(sock, selectors.EVENT_READ, conn)
        self.conns.append(conn)
        sock.setblocking(True)
        conn.send(connect_packet(client_id, 0, username, password))
        sock.setblocking(False)
        if not self.run_until(lambda: conn.connected, timeout):
            raise ConnectionError(f"{client_id}: no CONNACK from {self.host}:{self.port} within {timeout} s")
        return conn

    def run_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Read and handle packets until ``done()`` (True) or ``timeout`` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.poll(left)
        return True

    def poll(self, timeout: float) -> list[object]:
        """Handle whatever arrives within ``timeout`` seconds (at most one wait); the ``data`` of the other
        registered files that are readable (:meth:`register`), left to the caller."""
        others = []
        for key, _ in self.selector.select(timeout):
            if isinstance(key.data, LightConn):
                self._read(key.data)
            else:
                others.append(key.data)
        return others

    def register(self, fileobj: object, data: object) -> None:
        """Also wait on ``fileobj`` (e.g. stdin) in :meth:`poll`, which returns ``data`` when it is readable."""
        self.selector.register(fileobj, selectors.EVENT_READ, data)  # type: ignore[arg-type]

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(DISCONNECT_PACKET)  # a clean end, no last will
            self.selector.unregister(conn.sock)
            conn.sock.close()
        self.conns.clear()
        self.selector.close()  # (other registered files are the caller's to close)

    def _read(self, conn: LightConn) -> None:
        try:
            data = conn.sock.recv(1 << 16)
        except BlockingIOError:
            return
        if not data:
            raise ConnectionError(f"{conn.client_id}: the broker closed the connection")
        conn._buffer += data
        for first, body in split_packets(conn._buffer):
            self._handle(conn, first, body)

    @staticmethod
    def _handle(conn: LightConn, first: int, body: bytes) -> None:
        kind = first >> 4
        if kind == PUBLISH:
            topic, payload, qos, _retain, packet_id = parse_publish(first, body)
            if qos:  # QoS 1: acknowledge, as a device must
                conn.send(puback_packet(packet_id))
            if conn.on_message is not None:
                conn.on_message(conn, topic, payload)
        elif kind == PUBACK:
            conn.unacked.discard(int.from_bytes(body[:2], "big"))
        elif kind == CONNACK:
            if body[1] != 0:
                raise ConnectionError(f"{conn.client_id}: the broker refused the connection (return code {body[1]})")
            conn.connected = True
        elif kind == SUBACK:
            if body[2:3] == b"\x80":
                raise ConnectionError(f"{conn.client_id}: the broker refused a subscription")
            conn.subscribed += 1
