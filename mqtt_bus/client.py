"""``BusClient``: the one MQTT client every QMS device uses (paho-mqtt 2.x, MQTT 3.1.1).

- boots before the broker and keeps reconnecting (``connect_async`` + ``loop_start``);
- announces presence: retained ``status/{client_id}`` online on every connect, retained offline
  as last will and on :meth:`BusClient.close`;
- (re)subscribes in ``on_connect``; handlers get ``(topic, payload_dict)``; malformed payloads
  and failing handlers are logged and never stop the network thread;
- request/response RPC over ``request/{client_id}`` / ``response/{client_id}`` with retries that
  reuse the same request id (the hub answers a repeated id with its first answer).

The hub's and the kiosk's clients (``transport="lean"``) speak MQTT through ``mqtt_bus.lean`` instead of paho:
the same behaviour at a fraction of the CPU per message (the hub sends bursts) and without paho's imports
(the kiosk: ~1 MB of memory). paho is imported only by a client that uses it (``mqtts://`` always does).

Handlers and callbacks run on the network thread: keep them short, and hand results to a
UI with ``Clock.schedule_once``. Never call the blocking :meth:`BusClient.request` from a handler.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from .contract import encode_payload
from .lean import LeanClient, MessageInfo
from .topics import Topics, topic_matches, validate_id
from .url import BrokerAddress, parse_broker_url
from .version import VERSION

log = logging.getLogger(__name__)

Handler = Callable[[str, dict], None]
RawHandler = Callable[[str, bytes], None]
ResponseCallback = Callable[[Any], None]  # gets the response dict or an exception
if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

    PublishInfo = mqtt.MQTTMessageInfo | MessageInfo  # ``wait_for_publish(timeout)``, ``is_published()``, ``rc``


class _QuietPaho(logging.Filter):
    """Drop paho's harmless "Client is not connected" error logged after a clean disconnect."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Client is not connected")


_paho_log = logging.getLogger(__name__ + ".paho")
_paho_log.addFilter(_QuietPaho())


def _vietnam_tz() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Ho_Chi_Minh")
    except Exception:  # no tz database: Vietnam has no DST, a fixed offset is exact
        return timezone(timedelta(hours=7), "ICT")


_DEFAULT_TZ = _vietnam_tz()


def package_version() -> str:
    """This software's version (:mod:`mqtt_bus.version`)."""
    return VERSION


def default_clock() -> datetime:
    """Now, in Asia/Ho_Chi_Minh."""
    return datetime.now(_DEFAULT_TZ)


def new_request_id() -> str:
    """A unique request id (uuid4 hex)."""
    return uuid.uuid4().hex


class RequestTimeout(TimeoutError):
    """No response arrived for a request after all attempts."""

    def __init__(self, action: str, request_id: str, attempts: int, timeout: float) -> None:
        self.action, self.request_id, self.attempts, self.timeout = action, request_id, attempts, timeout
        super().__init__(
            f"no answer to {action!r} (request {request_id}) after {attempts} attempt(s) of {timeout:g} s: "
            "the hub is not answering; check that the hub runs and the broker is reachable (run `qms doctor`)"
        )


class BusClosed(RuntimeError):
    """The client was closed (before or while waiting for a response)."""


def decode_payload(topic: str, raw: bytes) -> dict | None:
    """JSON object from *raw*, or None (logged) when it is empty, not UTF-8 JSON or not an object."""
    if not raw:
        log.debug("empty payload on %s dropped (cleared retained message)", topic)
        return None
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        log.warning("malformed JSON on %s dropped (%s): %.80r", topic, exc, raw)
        return None
    if not isinstance(obj, dict):
        log.warning("non-object JSON payload on %s dropped: %.80r", topic, raw)
        return None
    return obj


@dataclass(frozen=True)
class _Sub:
    handler: Callable[[str, Any], None]
    qos: int
    raw: bool  # True: handler gets the payload bytes undecoded


@dataclass
class _Pending:
    action: str
    payload: dict
    done: threading.Event = field(default_factory=threading.Event)
    response: dict | None = None
    closed: bool = False
    # async only
    callback: ResponseCallback | None = None
    timeout: float = 5.0
    max_attempts: int = 1
    attempts: int = 0
    timer: threading.Timer | None = None


class BusClient:
    """MQTT client of one device (hub, kiosk, display, counter).

    ``BusClient("mqtt://127.0.0.1:1883", "xa-demo", "kiosk-1", "kiosk").start()``; also a
    context manager (``with BusClient(...) as bus:`` starts and closes).
    """

    def __init__(
        self,
        broker: BrokerAddress | str,
        site: str | Topics,
        client_id: str,
        role: str,
        *,
        keepalive: int = 15,
        on_connection_change: Callable[[bool], None] | None = None,
        clock: Callable[[], datetime] = default_clock,
        reconnect_delay: tuple[float, float] = (0.5, 2.0),
        ca_certs: str | None = None,
        max_inflight: int | None = None,
        session_id: str | None = None,
        transport: str = "paho",
    ) -> None:
        """``max_inflight``: QoS 1 messages sent before their acknowledgements (paho's default 20 when None,
        0 for no limit); a client that publishes bursts (the hub) lifts it, or the 21st message waits a round trip.
        ``session_id``: the MQTT client id the broker knows this session by (*client_id* when None); set it
        when several sites share one broker, so two ``hub`` clients do not take over each other's session.
        Topics always use *client_id*.
        ``transport``: ``"paho"``, or ``"lean"`` (``mqtt_bus.lean``, the hub's: less CPU a message; paho for
        ``mqtts://`` all the same)."""
        self.address = parse_broker_url(broker) if isinstance(broker, str) else broker
        self.topics = site if isinstance(site, Topics) else Topics(site)
        self.client_id = validate_id(client_id, "client_id")
        self.session_id = client_id if session_id is None else validate_id(session_id, "session_id")
        self.role = validate_id(role, "role")
        self.on_connection_change = on_connection_change
        self._clock = clock
        self._keepalive = keepalive
        self._lock = threading.RLock()
        self._connected = threading.Event()
        self._subs: dict[str, list[_Sub]] = {}
        self._pending: dict[str, _Pending] = {}
        self._started = self._closed = self._unreachable_warned = False
        self._reported = False  # last state given to on_connection_change
        self._rpc_used = False  # response/{id} is subscribed from the first request on
        self._status_extra: dict[str, Any] = {}  # fields added to the online status (e.g. the hub's fault)
        self._status_more: dict[str, Any] = {}  # fields merged in by update_status (e.g. the clock offset)
        self.status_topic = self.topics.status(client_id)
        self.request_topic = self.topics.request(client_id)
        self.response_topic = self.topics.response(client_id)

        if transport not in ("paho", "lean"):
            raise ValueError(f"transport must be 'paho' or 'lean', not {transport!r}")
        c: mqtt.Client | LeanClient
        if transport == "lean" and not self.address.tls:
            c = LeanClient(self.session_id)
        else:
            import paho.mqtt.client as mqtt
            from paho.mqtt.enums import CallbackAPIVersion

            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.session_id, protocol=mqtt.MQTTv311)
        c.suppress_exceptions = True
        if max_inflight is not None:
            c.max_inflight_messages_set(max_inflight)
        c.enable_logger(_paho_log)
        c.reconnect_delay_set(*reconnect_delay)  # type: ignore[arg-type]  # floats work
        if self.address.username is not None:
            c.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:  # (always paho)
            c.tls_set(ca_certs=ca_certs)  # type: ignore[union-attr]
        self._set_will(c)
        c.on_pre_connect = self._on_pre_connect
        c.on_connect = self._on_connect
        c.on_connect_fail = self._on_connect_fail
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self._mqtt = c

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> BusClient:
        """Connect in the background (works even if the broker is not up yet)."""
        with self._lock:
            if self._closed:
                raise BusClosed(f"BusClient {self.client_id} is closed")
            if self._started:
                return self
            self._started = True
        self._mqtt.connect_async(self.address.host, self.address.port, self._keepalive)
        self._mqtt.loop_start()
        return self

    def close(self, timeout: float = 2.0) -> None:
        """Publish retained offline status, disconnect and stop the network thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._pending.values())
            self._pending.clear()
        for p in pending:
            if p.timer:
                p.timer.cancel()
            p.closed = True
            p.done.set()
        if not self._started:
            return
        on_net_thread = self._on_network_thread()
        if self._connected.is_set():
            try:
                info = self.publish_json(self.status_topic, self._status(False), retain=True)
                if not on_net_thread:
                    info.wait_for_publish(timeout)
            except Exception as exc:  # broker gone meanwhile: the last will covers it
                log.info("offline status of %s not confirmed: %s", self.client_id, exc)
        self._mqtt.disconnect()
        self._mqtt.loop_stop()
        self._set_connected(False)

    def __enter__(self) -> BusClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Block until connected (True) or *timeout* seconds passed (False)."""
        return self._connected.wait(timeout)

    # -- pub/sub ---------------------------------------------------------------------------------
    def publish_json(self, topic: str, obj: dict, retain: bool = False, qos: int = 1) -> PublishInfo:
        """Publish *obj* as JSON; QoS 1 messages made while offline are sent on reconnect."""
        return self._mqtt.publish(topic, encode_payload(obj), qos=qos, retain=retain)

    def publish_text(self, topic: str, text: str, retain: bool = False, qos: int = 1) -> PublishInfo:
        """Publish a payload already encoded as JSON text (``mqtt_bus.contract.payload_text``), as UTF-8."""
        return self._mqtt.publish(topic, text.encode("utf-8"), qos=qos, retain=retain)

    def clear_retained(self, topic: str) -> PublishInfo:
        """Remove *topic*'s retained message (an empty retained payload; subscribers drop it)."""
        return self._mqtt.publish(topic, b"", qos=1, retain=True)

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1) -> None:
        """Call ``handler(topic, payload)`` for every JSON-object message matching *topic_filter*.

        The subscription is made now if connected and again on every reconnect.
        """
        self._add_sub(topic_filter, _Sub(handler, qos, raw=False))

    def subscribe_raw(self, topic_filter: str, handler: RawHandler, qos: int = 1) -> None:
        """Call ``handler(topic, payload_bytes)`` for every matching message, undecoded.

        For the hub, which must answer even a malformed request with ``ok: false``.
        """
        self._add_sub(topic_filter, _Sub(handler, qos, raw=True))

    def _add_sub(self, topic_filter: str, sub: _Sub) -> None:
        if not topic_filter:
            raise ValueError("topic filter must not be empty")
        with self._lock:
            self._subs.setdefault(topic_filter, []).append(sub)
        if self._connected.is_set():
            self._mqtt.subscribe(topic_filter, sub.qos)

    def unsubscribe(self, topic_filter: str, handler: Handler | RawHandler | None = None) -> None:
        """Remove *handler* (or all handlers, JSON and raw) of *topic_filter*."""
        with self._lock:
            entries = [e for e in self._subs.get(topic_filter, []) if handler is not None and e.handler != handler]
            if entries:
                self._subs[topic_filter] = entries
                return
            self._subs.pop(topic_filter, None)
        if self._connected.is_set() and not (self._rpc_used and topic_filter == self.response_topic):
            self._mqtt.unsubscribe(topic_filter)

    # -- request / response ----------------------------------------------------------------------
    def request(
        self,
        action: str,
        args: dict | None = None,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        request_id: str | None = None,
    ) -> dict:
        """Send a request to the hub and wait for its response dict (``ok`` true or false).

        Each of the ``1 + retries`` attempts republishes the SAME id and waits *timeout* seconds.
        Raises :class:`RequestTimeout` when nothing answers, :class:`BusClosed` if closed meanwhile.
        """
        if self._on_network_thread():
            raise RuntimeError("BusClient.request() blocks: from a handler use request_async()")
        rid, p = self._register(action, args, request_id)
        try:
            for _ in range(retries + 1):
                self._publish_request(rid, p)
                if p.done.wait(timeout):
                    if p.closed or p.response is None:
                        raise BusClosed(f"BusClient {self.client_id} closed while waiting for {action!r}")
                    return p.response
            raise RequestTimeout(action, rid, retries + 1, timeout)
        finally:
            with self._lock:
                if self._pending.get(rid) is p:
                    del self._pending[rid]

    def request_async(
        self,
        action: str,
        args: dict | None,
        callback: ResponseCallback,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        request_id: str | None = None,
    ) -> str:
        """Like :meth:`request` without blocking; returns the request id.

        ``callback(response_dict)`` runs on the network thread, or ``callback(RequestTimeout)`` on a
        timer thread. Not called when the client is closed first.
        """
        rid, p = self._register(action, args, request_id)
        p.callback, p.timeout, p.max_attempts = callback, timeout, retries + 1
        self._async_attempt(rid)
        return rid

    def _register(self, action: str, args: dict | None, request_id: str | None) -> tuple[str, _Pending]:
        rid = request_id or new_request_id()
        p = _Pending(action, {"id": rid, "action": action, "args": dict(args or {})})
        with self._lock:
            if self._closed:
                raise BusClosed(f"BusClient {self.client_id} is closed")
            if not self._started:
                raise RuntimeError("BusClient.start() must be called before request()")
            if rid in self._pending:
                raise ValueError(f"request id {rid!r} is already waiting for an answer")
            self._pending[rid] = p
            first_rpc, self._rpc_used = not self._rpc_used, True
        if first_rpc and self._connected.is_set():
            self._mqtt.subscribe(self.response_topic, 1)  # sent before the request: same connection
        return rid, p

    def _publish_request(self, rid: str, p: _Pending) -> None:
        info = self.publish_json(self.request_topic, p.payload)
        log.debug("request %s %s sent (rc=%s)", rid, p.action, info.rc)

    def _async_attempt(self, rid: str) -> None:
        exc: RequestTimeout | None = None
        with self._lock:
            p = self._pending.get(rid)
            if p is None:
                return
            if p.attempts >= p.max_attempts:
                del self._pending[rid]
                exc = RequestTimeout(p.action, rid, p.attempts, p.timeout)
            else:
                p.attempts += 1
                p.timer = threading.Timer(p.timeout, self._async_attempt, (rid,))
                p.timer.daemon = True
                p.timer.start()
        if exc is not None:
            self._call_guarded(p.callback, exc)
        else:
            self._publish_request(rid, p)

    def _handle_response(self, payload: dict) -> None:
        rid = payload.get("id")
        with self._lock:
            p = self._pending.pop(rid, None) if isinstance(rid, str) else None
        if p is None:
            log.debug("response %r matches no waiting request (late or duplicate)", rid)
            return
        if p.timer:
            p.timer.cancel()
        p.response = payload
        p.done.set()
        if p.callback is not None:
            self._call_guarded(p.callback, payload)

    # -- paho callbacks (each one guarded) -------------------------------------------------------
    def _status(self, online: bool) -> dict:
        extra = {**self._status_more, **self._status_extra} if online else {}
        return {"online": online, "role": self.role, "ts": self._clock().isoformat(timespec="seconds"),
                "version": package_version(), **extra}

    def set_status_extra(self, extra: dict[str, Any]) -> None:
        """Fields added to the retained online status from now on (republished at once when connected)."""
        self._status_extra = dict(extra)
        if self._connected.is_set():
            self.publish_json(self.status_topic, self._status(True), retain=True)

    def update_status(self, fields: dict[str, Any]) -> None:
        """Merge ``fields`` into the retained online status (kept apart from :meth:`set_status_extra`)."""
        with self._lock:
            self._status_more.update(fields)
        if self._connected.is_set():
            self.publish_json(self.status_topic, self._status(True), retain=True)

    def _set_will(self, c: mqtt.Client) -> None:
        c.will_set(self.status_topic, encode_payload(self._status(False)), qos=1, retain=True)

    def _on_pre_connect(self, client: mqtt.Client, userdata: object) -> None:
        try:
            self._set_will(client)  # fresh "ts" in the last will
        except Exception:
            log.exception("on_pre_connect failed")

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: Any, props: object) -> None:
        try:
            if reason.is_failure:
                log.warning("broker %s refused %s: %s (check user name/password and ACL)",
                            self.address, self.client_id, reason)
                return
            self._no_delay(client)
            with self._lock:  # set first: a subscribe() racing with us either is seen here or subscribes itself
                self._connected.set()
                filters = {f: max(sub.qos for sub in subs) for f, subs in self._subs.items() if subs}
            if self._rpc_used:
                filters.setdefault(self.response_topic, 1)
            if filters:
                client.subscribe(list(filters.items()))
            self.publish_json(self.status_topic, self._status(True), retain=True)
            log.info("%s connected to %s", self.client_id, self.address)
            self._unreachable_warned = False
            self._set_connected(True)
        except Exception:
            log.exception("on_connect failed")

    @staticmethod
    def _no_delay(client: mqtt.Client) -> None:
        """Send small packets at once: Nagle + delayed ACKs otherwise add ~40 ms per hop."""
        sock = client.socket()
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        try:
            level = logging.DEBUG if self._unreachable_warned else logging.WARNING
            self._unreachable_warned = True
            log.log(level, "%s cannot reach broker %s yet, retrying (is it running? try `qms doctor`)",
                    self.client_id, self.address)
        except Exception:
            log.exception("on_connect_fail failed")

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: Any, props: object) -> None:
        try:
            if self._connected.is_set() and not self._closed:
                log.warning("%s lost the broker %s (%s), reconnecting", self.client_id, self.address, reason)
            self._set_connected(False)
        except Exception:
            log.exception("on_disconnect failed")

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = msg.topic
            with self._lock:
                subs = [sub for f, fs in self._subs.items() if topic_matches(f, topic) for sub in fs]
            for sub in subs:
                if sub.raw:
                    self._call_handler(sub, topic, msg.payload)
            cooked = [sub for sub in subs if not sub.raw]
            if not cooked and topic != self.response_topic:
                return
            payload = decode_payload(topic, msg.payload)
            if payload is None:
                return
            if topic == self.response_topic:
                self._handle_response(payload)
            for sub in cooked:
                self._call_handler(sub, topic, payload)
        except Exception:
            log.exception("on_message failed")

    @staticmethod
    def _call_handler(sub: _Sub, topic: str, payload: object) -> None:
        try:
            sub.handler(topic, payload)
        except Exception:
            log.exception("handler %r failed on %s", sub.handler, topic)

    def _set_connected(self, connected: bool) -> None:
        with self._lock:
            (self._connected.set if connected else self._connected.clear)()
            if connected == self._reported:
                return
            self._reported = connected
        if self.on_connection_change is not None:
            self._call_guarded(self.on_connection_change, connected)

    def _on_network_thread(self) -> bool:
        return threading.current_thread() is getattr(self._mqtt, "_thread", None)

    @staticmethod
    def _call_guarded(fn: Callable[[Any], None] | None, arg: object) -> None:
        if fn is None:
            return
        try:
            fn(arg)
        except Exception:
            log.exception("callback %r failed", fn)
