"""``qms province ingest``: every event of every site, from the provincial broker into PostgreSQL, once.

- subscribes ``$share/{group}/qms/v1/+/event/#`` (MQTT v5 shared subscription: two ingesters share the
  stream for fail-over) with a persistent session, and acknowledges each message only after the batch
  holding it is committed: a crash loses nothing, a replay changes nothing (``ON CONFLICT DO NOTHING``);
- reads each site's retained state (its ``seq`` is the newest event the center has) and its bridge's
  link notification, to notice events that never arrived;
- per site, a hole in the stored seqs (or the state ahead of them) that lasts one check is asked back from
  the site's hub with ``events_since`` on ``request/display-province``, carried in by the bridge;
- malformed messages are logged, counted and kept in ``province_rejects``: they never stop the ingester.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqtt_bus.url import parse_broker_url
from qms.config.history import site_name

from . import INGEST_CLIENT, db
from .configs import LINK_TOPIC

log = logging.getLogger(__name__)

PAGE = 200  # events_since's largest page
RECEIVE_MAX = 10_000  # unacknowledged messages the broker may send us (several batches in flight)


@dataclass
class IngestSettings:
    """How the ingester connects and batches."""

    broker_url: str
    dsn: str
    client_id: str = "ingest-1"
    group: str = "ingest"
    batch_max: int = 2000
    batch_wait_s: float = 0.02
    check_interval_s: float = 0.25
    gap_wait_s: float = 0.5  # a hole between stored seqs lasting this long is asked back
    announced_wait_s: float = 2.0  # the state ahead of the stored events this long: asked back too
    resend_timeout_s: float = 5.0
    session_expiry_s: int = 7 * 24 * 3600
    cafile: str | None = None


@dataclass
class SiteProgress:
    """What the ingester knows of one site."""

    contiguous: int = 0  # every seq up to this one is stored
    announced: int = 0  # the newest seq the site's state (or an events_since answer) says exists
    hole_seen: tuple[int, float] | None = None  # (contiguous, monotonic time) when a hole was first noticed
    link_up: bool = False  # the bridge just came up: ask once for anything it may have lost
    asked: tuple[str, float] | None = None  # (request id, monotonic time) of the events_since in flight
    dirty: bool = True  # look at the database: is there a hole?
    saved: bool = False  # contiguous and announced are stored in province_sites


@dataclass
class Stats:
    """Counters, logged every ten seconds."""

    received: int = 0
    malformed: int = 0
    resend_requests: int = 0
    batches: int = 0
    last_log: float = field(default_factory=time.monotonic)


def site_catalogue(raw: bytes) -> str:
    """The catalogue (as JSON text) of a retained ``config`` payload (docs/protocol.md); ValueError when it
    does not name the center."""
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    catalogue = payload.get("catalogue") if isinstance(payload, dict) else None
    if site_name(catalogue) is None:
        raise ValueError("a config catalogue without catalogue.site.name.vi")
    return json.dumps(catalogue, ensure_ascii=False).replace("\\u0000", "")


class Ingester:
    """The MQTT → PostgreSQL loop: ``Ingester(settings).run(stop_event)``."""

    def __init__(self, settings: IngestSettings) -> None:
        self.s = settings
        self.stats = Stats()
        self.sites: dict[str, SiteProgress] = {}
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self.connected = threading.Event()
        addr = parse_broker_url(settings.broker_url)
        self.addr = addr
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id, protocol=mqtt.MQTTv5,
                        manual_ack=True)
        if addr.username:
            c.username_pw_set(addr.username, addr.password)
        if addr.tls or settings.cafile:
            c.tls_set(ca_certs=settings.cafile)
        c.reconnect_delay_set(0.2, 5)
        c.max_inflight_messages_set(100)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self.client = c

    # ------------------------------------------------------------------ MQTT (network thread)
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("provincial broker refused the ingester: %s", reason)
            return
        subs = [(f"$share/{self.s.group}/qms/v1/+/event/#", 1), ("qms/v1/+/state/#", 1), ("qms/v1/+/config", 1),
                (f"qms/v1/+/{LINK_TOPIC}", 1), (f"qms/v1/+/response/{INGEST_CLIENT}", 1)]
        client.subscribe([(t, mqtt.SubscribeOptions(qos=q)) for t, q in subs])
        log.info("connected to %s as %s (session present: %s)", self.addr, self.s.client_id,
                 getattr(flags, "session_present", "?"))
        self.connected.set()

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reasons: Any, props: Any) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("the provincial broker refused subscriptions: %s (check its ACL)", ", ".join(refused))
        else:
            log.info("subscribed: ready")

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("lost the provincial broker (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put(msg)

    # ------------------------------------------------------------------ main loop (writer thread)
    def run(self, stop: threading.Event | None = None) -> int:
        """Run until *stop* is set; 0 on a clean stop."""
        import psycopg

        stop = stop or threading.Event()
        conn = self._connect_db(psycopg, stop)
        if conn is None:
            return 0
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.s.session_expiry_s
        props.ReceiveMaximum = RECEIVE_MAX
        self.client.connect_async(self.addr.host, self.addr.port, keepalive=30, clean_start=False,
                                  properties=props)
        self.client.loop_start()
        next_check = time.monotonic()
        try:
            while not stop.is_set():
                batch = self._take_batch()
                if batch:
                    conn = self._handle(batch, conn, psycopg, stop)
                    if conn is None:
                        break
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + self.s.check_interval_s
                    conn = self._guarded(lambda c: self._check_gaps(c), conn, psycopg, stop)
                    if conn is None:
                        break
                self._maybe_log()
        finally:
            self._stop.set()
            self.client.disconnect()
            self.client.loop_stop()
            if conn is not None:
                conn.close()
            self._log_stats()
        return 0

    def _connect_db(self, psycopg: Any, stop: threading.Event) -> Any:
        """A connection with the schema in place, retrying every 2 s until *stop*."""
        while not stop.is_set():
            try:
                conn = psycopg.connect(self.s.dsn, autocommit=True)
                db.create_schema(conn)
                for site, (contiguous, announced) in db.load_progress(conn).items():
                    p = self.sites.setdefault(site, SiteProgress())
                    p.contiguous, p.announced = max(p.contiguous, contiguous), max(p.announced, announced)
                return conn
            except psycopg.OperationalError as exc:
                log.error("PostgreSQL unavailable (%s); retrying in 2 s", str(exc).strip())
                stop.wait(2.0)
        return None

    def _guarded(self, work: Any, conn: Any, psycopg: Any, stop: threading.Event) -> Any:
        """Run ``work(conn)``; on a lost database, reconnect and run it again. The connection to use next."""
        while not stop.is_set():
            try:
                work(conn)
                return conn
            except psycopg.OperationalError as exc:
                log.error("PostgreSQL failed (%s); reconnecting", str(exc).strip())
                with contextlib.suppress(Exception):
                    conn.close()
                conn = self._connect_db(psycopg, stop)
                if conn is None:
                    return None
        return None

    def _take_batch(self) -> list[mqtt.MQTTMessage]:
        try:
            first = self._inbox.get(timeout=0.1)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.s.batch_wait_s
        while len(batch) < self.s.batch_max:
            try:
                batch.append(self._inbox.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _handle(self, batch: list[mqtt.MQTTMessage], conn: Any, psycopg: Any, stop: threading.Event) -> Any:
        """Sort a batch, write it in one transaction, then acknowledge its messages."""
        events: list[db.Event] = []
        rejects: list[tuple[str, str, str]] = []
        links: list[tuple[str, bool]] = []
        catalogues: list[tuple[str, str]] = []
        lags: dict[str, float] = {}
        now = datetime.now(UTC)
        for msg in batch:
            try:
                self._sort(msg, events, links, lags, now, catalogues)
            except ValueError as exc:
                self.stats.malformed += 1
                text = msg.payload.decode("utf-8", "replace")
                log.warning("malformed message on %s: %s (payload %.200s)", msg.topic, exc, text)
                rejects.append((msg.topic, str(exc), text))

        def write(c: Any) -> None:
            try:
                if events:
                    db.write_batch(c, events, lags)
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:  # an event PostgreSQL refuses (e.g. \u0000 in jsonb): one by one
                log.warning("batch refused (%s); writing its %d events one by one", str(exc).strip(), len(events))
                for e in events:
                    try:
                        db.write_batch(c, [e], lags)
                    except psycopg.OperationalError:
                        raise
                    except psycopg.Error as one:
                        self.stats.malformed += 1
                        rejects.append((f"qms/v1/{e.site}/event/{e.type}", f"refused by PostgreSQL: {one}".strip(),
                                        e.raw or json.dumps(e.payload, ensure_ascii=False)))
            db.write_rejects(c, rejects)
            db.set_catalogues(c, catalogues)
            for site, up in links:
                db.set_link(c, site, up)

        conn = self._guarded(write, conn, psycopg, stop)
        if conn is None:
            return None
        self.stats.batches += 1
        self.stats.received += len(events)
        for msg in batch:
            if msg.qos > 0:
                self.client.ack(msg.mid, msg.qos)
        self._advance(events)
        return conn

    def _advance(self, events: list[db.Event]) -> None:
        """Move each site's contiguous seq over the events just stored; a site left with a hole is checked."""
        by_site: dict[str, list[int]] = {}
        for e in events:
            by_site.setdefault(e.site, []).append(e.seq)
        for site, seqs in by_site.items():
            p = self.sites.setdefault(site, SiteProgress())
            for seq in sorted(seqs):
                if seq == p.contiguous + 1:
                    p.contiguous = seq
                elif seq > p.contiguous + 1:
                    p.dirty = True  # a hole (or another ingester's share): the database tells
                    break
            p.saved = False

    def _sort(self, msg: mqtt.MQTTMessage, events: list[db.Event], links: list[tuple[str, bool]],
              lags: dict[str, float], now: datetime, catalogues: list[tuple[str, str]]) -> None:
        """Put one message where it belongs; ValueError when it is malformed."""
        levels = msg.topic.split("/")
        if len(levels) == 4 and levels[:2] == ["qms", "v1"] and levels[3] == "config":
            if msg.payload:  # an empty payload clears the retained catalogue: the name stays
                catalogues.append((levels[2], site_catalogue(msg.payload)))
            return
        if len(levels) < 5 or levels[0] != "qms" or levels[1] != "v1":
            raise ValueError("not a qms/v1 topic")
        site, kind = levels[2], levels[3]
        rest = "/".join(levels[3:])
        if rest == LINK_TOPIC:
            up = msg.payload.strip() == b"1"
            links.append((site, up))
            p = self.sites.setdefault(site, SiteProgress())
            p.dirty, p.link_up = True, up
            return
        try:
            payload = json.loads(msg.payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if kind == "state" and not msg.payload:
                return  # a cleared retained message
            raise ValueError(f"not JSON: {exc}") from None
        if kind == "event":
            event = db.parse_event(site, payload, msg.payload.decode("utf-8"))
            if len(levels) != 5 or levels[4] != event.type:
                raise ValueError(f"topic says {'/'.join(levels[4:])!r} but 'type' is {event.type!r}")
            events.append(event)
            lags[site] = (now - event.ts).total_seconds()
        elif kind == "state":
            seq = payload.get("seq") if isinstance(payload, dict) else None
            if isinstance(seq, int) and not isinstance(seq, bool):
                p = self.sites.setdefault(site, SiteProgress())
                if seq > p.announced:
                    p.announced, p.saved = seq, False
        elif kind == "response":
            events.extend(self._answer(site, payload))
        else:
            raise ValueError(f"unexpected topic kind {kind!r}")

    def _answer(self, site: str, payload: Any) -> list[db.Event]:
        """The events of an ``events_since`` answer; asks for the next page when there is more."""
        p = self.sites.setdefault(site, SiteProgress())
        if not isinstance(payload, dict) or p.asked is None or payload.get("id") != p.asked[0]:
            return []  # another ingester's answer, or a late one: its events come again if still missing
        p.asked = None
        if not payload.get("ok"):
            log.error("site %s refused events_since: %s", site, payload.get("error"))
            return []
        result = payload.get("result") or {}
        out: list[db.Event] = []
        for raw in result.get("events") or []:
            try:
                out.append(db.parse_event(site, raw))
            except ValueError as exc:
                self.stats.malformed += 1
                log.warning("malformed event from site %s's events_since: %s", site, exc)
        last = result.get("last_seq")
        if isinstance(last, int) and last > p.announced:
            p.announced = last
        if out and out[0].seq > p.contiguous + 1:  # pruned by the center's retention: gone for good
            log.warning("site %s: events %d..%d are gone from its outbox (retention)", site, p.contiguous + 1,
                        out[0].seq - 1)
            p.contiguous = out[0].seq - 1
        if result.get("more") and out:
            self._ask(site, out[-1].seq)
        p.dirty = True
        return out

    def _ask(self, site: str, after: int) -> None:
        rid = uuid.uuid4().hex
        p = self.sites.setdefault(site, SiteProgress())
        p.asked = (rid, time.monotonic())
        self.stats.resend_requests += 1
        body = {"id": rid, "action": "events_since", "args": {"after": after, "limit": PAGE}}
        self.client.publish(f"qms/v1/{site}/request/{INGEST_CLIENT}", json.dumps(body), qos=1)
        log.info("site %s: asking its hub to resend events after seq %d", site, after)

    def _check_gaps(self, conn: Any) -> None:
        """Find each suspect site's contiguous seq in the database; ask a site to resend a hole that lasts."""
        now = time.monotonic()
        progress: list[tuple[str, int, int, bool]] = []
        for site, p in self.sites.items():
            if p.asked and now - p.asked[1] > self.s.resend_timeout_s:
                log.warning("site %s did not answer events_since in %.0f s", site, self.s.resend_timeout_s)
                p.asked, p.dirty = None, True
            behind = p.announced > p.contiguous
            if p.dirty or p.link_up or p.hole_seen is not None or behind:
                p.dirty = False
                contiguous, nxt = db.contiguous_after(conn, site, p.contiguous)
                p.saved = p.saved and contiguous == p.contiguous
                p.contiguous = contiguous
                ask = False
                if p.link_up:  # the bridge came (back) up: anything lost on the way is asked back once
                    ask, p.link_up = True, False
                elif nxt is None and p.announced <= contiguous:
                    p.hole_seen = None
                elif p.hole_seen is None or p.hole_seen[0] != contiguous:
                    p.hole_seen = (contiguous, now)  # ask if it is still there a moment later
                else:
                    wait = self.s.gap_wait_s if nxt is not None else self.s.announced_wait_s
                    ask = now - p.hole_seen[1] >= wait
                if ask and p.asked is None and self.connected.is_set():
                    self._ask(site, contiguous)
                    p.hole_seen = (contiguous, now)
                    progress.append((site, contiguous, p.announced, True))
                    p.saved = True
                    continue
                p.link_up = p.link_up or ask  # not connected, or an answer is awaited: later
            if not p.saved:
                progress.append((site, p.contiguous, p.announced, False))
                p.saved = True
        db.set_sites_progress(conn, progress)

    def _maybe_log(self) -> None:
        if time.monotonic() - self.stats.last_log >= 10:
            self._log_stats()

    def _log_stats(self) -> None:
        s = self.stats
        s.last_log = time.monotonic()
        log.info("ingest: %d events in %d batches, %d malformed, %d resend requests, %d sites",
                 s.received, s.batches, s.malformed, s.resend_requests, len(self.sites))


def run_ingest(settings: IngestSettings, stop: threading.Event) -> int:
    """Run the ingester until *stop* is set."""
    return Ingester(settings).run(stop)
