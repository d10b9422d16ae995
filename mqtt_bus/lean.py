"""A lean MQTT 3.1.1 client with the part of paho's ``Client`` interface that ``BusClient`` uses; the hub's.

Why: the hub sends bursts. In a rush of 50 ``call_next`` it reads and writes ~500 packets (the requests,
the answers, the events, the states and an acknowledgement for each). paho spends ~30 µs of Python and
one to three system calls on each (a ``recv`` for the type byte, for the length, for the body; a ``send``
a packet; a wake-up byte through a socket pair for every publish from another thread): its network
thread took 16 of the hub's 57 ms of CPU per rush (bench/bench_hub.py). This client reads what the
socket holds in one ``recv`` and splits every packet out of it, writes everything queued in one
``send``, and a publish from another thread wakes the network thread only when nothing was queued.

It does: a clean session with user name, password and last will; reconnecting with a back-off; keepalive
pings (a silent broker is dropped); QoS 0 and 1 publishes (a QoS 1 message is kept until the broker
acknowledges it and sent again after a reconnect, also one made while offline); subscribing; and
acknowledging the QoS 1 messages it receives. Not: TLS (``BusClient`` keeps paho for ``mqtts://``), QoS 2,
MQTT 5, a limit on messages in flight.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mqtt_bus.packets import (
    CONNACK,
    CONNACK_REFUSALS,
    DISCONNECT_PACKET,
    PINGREQ_PACKET,
    PINGRESP,
    PUBACK,
    PUBLISH,
    SUBACK,
    UNSUBACK,
    connect_packet,
    parse_publish,
    puback_packet,
    publish_packet,
    split_packets,
    subscribe_packet,
    unsubscribe_packet,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0  # the TCP connection and the broker's CONNACK, each
NO_CONN = 4  # paho's MQTT_ERR_NO_CONN: the ``rc`` of a message made while offline


@dataclass(frozen=True)
class Reason:
    """The outcome of a connection (paho's ``ReasonCode``, as far as ``BusClient`` reads it)."""

    code: int
    text: str = ""

    @property
    def is_failure(self) -> bool:
        return self.code != 0

    def __str__(self) -> str:
        return self.text or ("Success" if self.code == 0 else CONNACK_REFUSALS.get(self.code, f"code {self.code}"))


@dataclass(frozen=True)
class Message:
    """A message received (paho's ``MQTTMessage``: ``topic``, ``payload``, ``qos``, ``retain``)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


class MessageInfo:
    """A message sent (paho's ``MQTTMessageInfo``): published once the broker acknowledged it (QoS 1) or
    it was written to the socket (QoS 0)."""

    def __init__(self, mid: int, rc: int = 0) -> None:
        self.mid, self.rc = mid, rc
        self._done = threading.Event()

    def is_published(self) -> bool:
        return self._done.is_set()

    def wait_for_publish(self, timeout: float | None = None) -> None:
        self._done.wait(timeout)

    def _set_published(self) -> None:
        self._done.set()


Callback = Callable[..., None] | None


class LeanClient:
    """One MQTT connection served by a network thread of its own (``loop_start``); thread-safe publishes."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.on_pre_connect: Callback = None  # (client, userdata), before each connection: a fresh will
        self.on_connect: Callback = None  # (client, userdata, flags, reason, properties), on the CONNACK
        self.on_connect_fail: Callback = None  # (client, userdata): the broker could not be reached
        self.on_disconnect: Callback = None  # (client, userdata, flags, reason, properties)
        self.on_message: Callback = None  # (client, userdata, message), on the network thread
        self.suppress_exceptions = True  # (paho's; callbacks' exceptions are always logged, never raised)
        self._host, self._port, self._keepalive = "", 0, 60
        self._username: str | None = None
        self._password: str | None = None
        self._will: tuple[str, bytes, int, bool] | None = None
        self._delays = (1.0, 120.0)
        self._lock = threading.Lock()
        self._out: list[bytes] = []  # packets to write, in order (to the network thread: under the lock)
        self._inflight: dict[int, tuple[bytes, MessageInfo]] = {}  # QoS 1 messages until their PUBACK
        self._next_mid = 0
        self._online = False  # CONNACK accepted on the current connection
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._disconnect = threading.Event()
        self._waker = -1  # an eventfd that wakes the network thread (closed by it as it ends)
        self._thread: threading.Thread | None = None

    # -- set-up (paho's names) -----------------------------------------------------------------
    def username_pw_set(self, username: str | None, password: str | None = None) -> None:
        self._username, self._password = username, password

    def will_set(self, topic: str, payload: bytes | str, qos: int = 0, retain: bool = False) -> None:
        self._will = (topic, payload.encode("utf-8") if isinstance(payload, str) else payload, qos, retain)

    def reconnect_delay_set(self, min_delay: float = 1, max_delay: float = 120) -> None:
        self._delays = (min_delay, max_delay)

    def max_inflight_messages_set(self, inflight: int) -> None:
        """Accepted for paho's sake: this client never holds messages back."""

    def enable_logger(self, logger: logging.Logger | None = None) -> None:
        """Accepted for paho's sake: this client logs to ``mqtt_bus.lean``."""

    def connect_async(self, host: str, port: int = 1883, keepalive: int = 60) -> None:
        self._host, self._port, self._keepalive = host, port, keepalive

    def loop_start(self) -> None:
        """Connect (and keep connecting) on a network thread of its own."""
        self._waker = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{self.client_id}", daemon=True)
        self._thread.start()

    def disconnect(self) -> None:
        """Send what is queued, then DISCONNECT (no last will) and stop connecting."""
        self._disconnect.set()
        with self._lock:
            self._wake()

    def loop_stop(self) -> None:
        """Stop the network thread and wait for it to end (not when called from it: it ends after the callback)."""
        self._stop.set()
        with self._lock:
            self._wake()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        thread.join(CONNECT_TIMEOUT_S + 5)

    def socket(self) -> socket.socket | None:
        return self._sock

    # -- messages --------------------------------------------------------------------------------
    def publish(self, topic: str, payload: bytes | str | None = None, qos: int = 0,
                retain: bool = False) -> MessageInfo:
        """Queue a message; QoS 1 is kept (and sent again after a reconnect) until the broker acknowledges it."""
        data = b"" if payload is None else payload.encode("utf-8") if isinstance(payload, str) else payload
        topic_bytes = topic.encode("utf-8")
        with self._lock:
            if qos:
                mid = self._new_mid()
                info = MessageInfo(mid, 0 if self._online else NO_CONN)
                pkt = publish_packet(topic_bytes, data, 1, retain, mid)
                self._inflight[mid] = (pkt, info)
            elif self._online:  # QoS 0: published once queued (nothing acknowledges it)
                info, pkt = MessageInfo(0), publish_packet(topic_bytes, data, 0, retain)
                info._set_published()
            else:
                return MessageInfo(0, NO_CONN)  # (paho's answer too: a QoS 0 message is not kept)
            if self._online:
                self._queue(pkt)
        return info

    def subscribe(self, topic: str | list[tuple[str, int]], qos: int = 0) -> tuple[int, int | None]:
        filters = [(topic, qos)] if isinstance(topic, str) else list(topic)
        return self._request(lambda mid: subscribe_packet(mid, filters))

    def unsubscribe(self, topic: str | list[str]) -> tuple[int, int | None]:
        filters = [topic] if isinstance(topic, str) else list(topic)
        return self._request(lambda mid: unsubscribe_packet(mid, filters))

    def _request(self, build: Callable[[int], bytes]) -> tuple[int, int | None]:
        """Queue the packet ``build(packet id)`` makes, when connected: (0, its id), else (NO_CONN, None), as paho."""
        with self._lock:
            if not self._online:
                return NO_CONN, None
            mid = self._new_mid()
            self._queue(build(mid))
        return 0, mid

    def _new_mid(self) -> int:
        """A packet id not in flight (under the lock)."""
        while True:
            self._next_mid = self._next_mid % 65535 + 1
            if self._next_mid not in self._inflight:
                return self._next_mid

    def _queue(self, pkt: bytes) -> None:
        """Add ``pkt`` to what the network thread writes next (under the lock); wake it if it may be asleep."""
        asleep = not self._out and threading.current_thread() is not self._thread
        self._out.append(pkt)
        if asleep:
            self._wake()

    def _wake(self) -> None:
        """(Under the lock: the network thread closes the eventfd under it.)"""
        if self._waker >= 0:
            with contextlib.suppress(BlockingIOError):  # (only at a count of 2**64 - 2: it is read at once)
                os.eventfd_write(self._waker, 1)

    # -- the network thread ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._connect_until_stopped()
        finally:
            with self._lock:
                waker, self._waker = self._waker, -1
            os.close(waker)

    def _connect_until_stopped(self) -> None:
        delay = self._delays[0]
        while not (self._stop.is_set() or self._disconnect.is_set()):
            try:
                sock = self._open()
            except OSError as exc:
                log.debug("%s: cannot connect to %s:%s: %s", self.client_id, self._host, self._port, exc)
                self._call(self.on_connect_fail)
            else:
                if self._serve(sock):
                    delay = self._delays[0]
            if self._stop.wait(delay) or self._disconnect.is_set():
                break
            delay = min(delay * 2, self._delays[1])

    def _open(self) -> socket.socket:
        self._call(self.on_pre_connect)
        sock = socket.create_connection((self._host, self._port), timeout=CONNECT_TIMEOUT_S)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.sendall(connect_packet(self.client_id, self._keepalive, self._username, self._password, self._will))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    def _serve(self, sock: socket.socket) -> bool:
        """Serve one connection until it ends; True if the broker accepted it."""
        self._sock = sock
        selector = selectors.PollSelector()  # (poll(2): no file of its own, as epoll would take)
        selector.register(sock, selectors.EVENT_READ)
        selector.register(self._waker, selectors.EVENT_READ)
        inbox, outbox = bytearray(), bytearray()
        accepted, reason = False, Reason(0)
        opened = last_in = last_out = time.monotonic()
        ping_sent: float | None = None
        try:
            while True:
                if not accepted:
                    deadline: float | None = opened + CONNECT_TIMEOUT_S
                elif self._keepalive:
                    deadline = (min(last_in, last_out) if ping_sent is None else ping_sent) + self._keepalive
                else:
                    deadline = None
                timeout = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                for key, mask in selector.select(timeout):
                    if key.fileobj is sock and mask & selectors.EVENT_READ:
                        data = sock.recv(1 << 16)
                        if not data:
                            raise ConnectionError("the broker closed the connection")
                        inbox += data
                        last_in, ping_sent = time.monotonic(), None
                        for first, body in split_packets(inbox):
                            accepted = self._handle(first, body, accepted)
                    elif key.fileobj is not sock:
                        with contextlib.suppress(BlockingIOError):
                            os.eventfd_read(self._waker)
                with self._lock:
                    chunks, self._out = self._out, []
                if chunks:
                    outbox += b"".join(chunks)
                if self._disconnect.is_set() or self._stop.is_set():
                    outbox += DISCONNECT_PACKET
                    sock.setblocking(True)
                    sock.settimeout(2.0)
                    sock.sendall(outbox)
                    reason = Reason(0, "disconnected")
                    return accepted
                now = time.monotonic()
                if not accepted and now - opened >= CONNECT_TIMEOUT_S:
                    raise TimeoutError(f"no CONNACK within {CONNECT_TIMEOUT_S:.0f} s")
                if accepted and self._keepalive:
                    if ping_sent is not None and now - ping_sent >= self._keepalive:
                        raise TimeoutError(f"no answer from the broker for {self._keepalive} s")
                    if ping_sent is None and now - min(last_in, last_out) >= self._keepalive:
                        outbox += PINGREQ_PACKET
                        ping_sent = now
                if outbox:
                    self._write(sock, selector, outbox)
                    last_out = now
        except (OSError, ConnectionError, TimeoutError, ValueError) as exc:
            reason = Reason(1, str(exc) or type(exc).__name__)
            return accepted
        finally:
            with self._lock:
                self._online = False
                self._out = []
            self._sock = None
            selector.close()
            with contextlib.suppress(OSError):
                sock.close()
            if accepted:
                self._call(self.on_disconnect, None, reason, None)

    def _write(self, sock: socket.socket, selector: selectors.BaseSelector, outbox: bytearray) -> None:
        """Write as much of ``outbox`` as the socket takes; wait for it to drain when it takes only part."""
        while outbox:
            try:
                sent = sock.send(outbox)
            except BlockingIOError:
                sent = 0
            del outbox[:sent]
            if outbox:  # the socket's buffer is full: the broker reads slower than we write
                selector.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
                return
        selector.modify(sock, selectors.EVENT_READ)

    def _handle(self, first: int, body: bytes, accepted: bool) -> bool:
        """Handle one packet from the broker; whether the connection is accepted (CONNACK) after it."""
        kind = first >> 4
        if kind == PUBLISH:
            topic, payload, qos, retain, mid = parse_publish(first, body)
            self._call(self.on_message, Message(topic, payload, qos, retain))
            if qos:
                with self._lock:
                    self._out.append(puback_packet(mid))
        elif kind == PUBACK:
            with self._lock:
                sent = self._inflight.pop(int.from_bytes(body[:2], "big"), None)
            if sent is not None:
                sent[1]._set_published()
        elif kind == CONNACK:
            code = body[1] if len(body) > 1 else 255
            if code:
                self._call(self.on_connect, {}, Reason(code), None)
                raise ConnectionError(f"the broker refused the connection: {Reason(code)}")
            with self._lock:  # first the QoS 1 messages still unacknowledged, in order; then what on_connect adds
                self._online = True
                self._out = [bytes((pkt[0] | 0x08,)) + pkt[1:] for pkt, _ in self._inflight.values()]
                for _, info in self._inflight.values():
                    info.rc = 0
            self._call(self.on_connect, {"session present": bool(body[0] & 1)}, Reason(0), None)
            return True
        elif kind in (PINGRESP, SUBACK, UNSUBACK):  # nothing to do
            pass
        else:
            log.debug("%s: packet type %d ignored", self.client_id, kind)
        return accepted

    def _call(self, callback: Callback, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(self, None, *args)
        except Exception:
            log.exception("%s: callback %r failed", self.client_id, callback)
