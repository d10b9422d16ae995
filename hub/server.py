"""The hub: answers requests from MQTT through the store, drains the outbox, keeps retained state true.

Threads: the MQTT network thread only queues incoming requests; one worker runs them on the store
in arrival order and answers; one publisher drains the outbox (events in ``seq`` order, at least
once) and republishes the retained state the events touched. The publisher also polls, so commands
run by the CLI on the same store reach every display.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import sqlite3
import threading
from typing import Any

from mqtt_bus.client import BusClient
from queue_core import QueueError
from queue_core.actions import check_action, events_since_args

from .authz import refusal
from .store import Store

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 16 * 1024
PUBLISHED_SEQ_KEY = "published_seq"


def encodable(text: str) -> bool:
    """True unless ``text`` holds lone surrogates (valid JSON, but no UTF-8 answer could carry it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def error_response(request_id: Any, code: str, message: str) -> dict[str, Any]:
    """An ``ok: false`` response."""
    return {"id": request_id, "ok": False, "error": {"code": code, "message": message}}


class Hub:
    """Serve one site's queue over MQTT."""

    def __init__(self, store: Store, bus: BusClient, poll_interval: float = 0.25, batch: int = 200,
                 check_clients: bool = True) -> None:
        self.store = store
        self.check_clients = check_clients
        self.bus = bus
        self.topics = bus.topics
        self.poll_interval = poll_interval
        self.batch = batch
        self._requests: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=10_000)
        self._wake = threading.Event()
        self._republish_all = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.published_seq = int(store.get_meta(PUBLISHED_SEQ_KEY) or 0)
        self.handled = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Hub:
        """Subscribe to requests and start the worker and publisher threads."""
        self.bus.on_connection_change = self._connection_changed
        self.bus.subscribe_raw(self.topics.requests_all, self._enqueue)
        for name, target in (("hub-worker", self._work), ("hub-publisher", self._publish_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.bus.start()
        return self

    def stop(self) -> None:
        """Stop the threads (pending requests are dropped; clients retry with the same id)."""
        self._stop.set()
        self._wake.set()
        with contextlib.suppress(queue.Full):
            self._requests.put_nowait(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self.bus.on_connection_change = None  # closing is not losing the broker
        self.bus.close()

    def _connection_changed(self, connected: bool) -> None:
        if connected:
            log.info("hub connected to the broker; republishing all retained state")
            self._republish_all.set()
            self._wake.set()
        else:
            log.warning("hub lost the broker; requests wait until it is back")

    # ------------------------------------------------------------------ requests
    def _enqueue(self, topic: str, raw: bytes) -> None:
        try:
            self._requests.put_nowait((topic, raw))
        except queue.Full:
            log.error("request queue full; dropped a request on %s (the client will retry)", topic)

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self._requests.get()
            if item is None:
                return
            topic, raw = item
            try:
                self._handle(topic, raw)
            except Exception:
                log.exception("request on %s failed unexpectedly", topic)

    def _handle(self, topic: str, raw: bytes) -> None:
        try:
            kind, client_id = self.topics.parse(topic)
        except ValueError:
            log.warning("request on unexpected topic %s dropped", topic)
            return
        if kind != "request":
            return
        reply_to = self.topics.response(client_id)
        response = self.answer(client_id, raw)
        self.handled += 1
        self.bus.publish_json(reply_to, response)
        self._wake.set()

    def answer(self, client_id: str, raw: bytes) -> dict[str, Any]:
        """The response to one raw request payload from ``client_id``."""
        if len(raw) > MAX_PAYLOAD_BYTES:
            log.warning("oversized request (%d bytes) from %s refused", len(raw), client_id)
            return error_response(None, "payload_too_large",
                                  f"request is {len(raw)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
        try:
            request = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
            log.warning("malformed JSON request from %s refused: %s", client_id, type(exc).__name__)
            return error_response(None, "bad_json", f"request is not UTF-8 JSON: {exc}")
        if not isinstance(request, dict):
            return error_response(None, "bad_request", "request must be a JSON object")
        request_id = request.get("id")
        if not isinstance(request_id, str) or not 0 < len(request_id) <= 128 or not encodable(request_id):
            return error_response(None, "bad_request", "request needs an 'id': a string of 1..128 characters")
        action = request.get("action")
        if not isinstance(action, str):
            return error_response(request_id, "bad_request", "request needs an 'action' string")
        args = request.get("args", {})
        try:
            check_action(action)
        except QueueError as err:
            return {"id": request_id, "ok": False, "error": err.as_dict()}
        why_not = refusal(client_id, action, args) if self.check_clients else None
        if why_not:
            log.warning("refused %s from %s: %s", action, client_id, why_not)
            return error_response(request_id, "forbidden", why_not)
        if action == "snapshot":
            snap = self.store.snapshot()
            return {"id": request_id, "ok": True,
                    "result": {k: snap[k] for k in ("site", "services", "counters")}}
        if action == "events_since":
            return self.events_since(request_id, args)
        try:
            reply = self.store.run(action, args, request_id=f"{client_id}/{request_id}")
        except QueueError as err:  # pragma: no cover - the store turns these into replies
            return {"id": request_id, "ok": False, "error": err.as_dict()}
        except sqlite3.OperationalError as exc:  # disk full, read-only: not a bug, tell the device
            log.error("store unavailable for %s from %s: %s", action, client_id, exc)
            return error_response(request_id, "store_unavailable",
                                  f"the hub cannot write its store ({exc}); tell the technician (qms doctor)")
        except Exception:
            log.exception("action %s from %s failed", action, client_id)
            return error_response(request_id, "internal_error", "the hub failed; see its log (qms doctor)")
        if not reply.ok:
            log.info("refused %s from %s: %s", action, client_id, reply.response["error"]["message"])
        return {**reply.response, "id": request_id}

    def events_since(self, request_id: str, args: Any) -> dict[str, Any]:
        """Answer ``events_since``: committed events after ``after`` from the outbox, oldest first."""
        try:
            after, limit = events_since_args(args)
            events = self.store.events_after(after, limit + 1)
            last_seq = self.store.last_seq()  # read after the events: never older than them
        except QueueError as err:
            return {"id": request_id, "ok": False, "error": err.as_dict()}
        except sqlite3.Error as exc:
            log.error("store unavailable for events_since: %s", exc)
            return error_response(request_id, "store_unavailable",
                                  f"the hub cannot read its store ({exc}); tell the technician (qms doctor)")
        return {"id": request_id, "ok": True,
                "result": {"events": events[:limit], "last_seq": last_seq, "more": len(events) > limit}}

    # ------------------------------------------------------------------ publishing
    def _publish_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            if not self.bus.is_connected:
                continue
            try:
                if self._republish_all.is_set():
                    self._republish_all.clear()
                    self.publish_state()
                while self.drain_once():
                    pass
            except Exception:
                log.exception("publishing failed; will retry")
                self._stop.wait(1.0)

    def drain_once(self) -> bool:
        """Publish the next batch of outbox events, then the state they touched; True if any."""
        events = self.store.events_after(self.published_seq, self.batch)
        if not events:
            return False
        last = None
        counters: set[str] = set()
        services: set[str] = set()
        for event in events:
            last = self.bus.publish_json(self.topics.event(event["type"]), event)
            if event.get("counter"):
                counters.add(event["counter"])
            ticket = event.get("ticket") or {}
            if ticket.get("service"):
                services.add(ticket["service"])
            if event.get("from_service"):
                services.add(event["from_service"])
        site = self.store.site
        for counter in counters & set(site.counters):
            services.update(site.counters[counter].services)  # idle counters change wait estimates
        self.publish_state(counters, services)
        if last is not None:
            last.wait_for_publish(timeout=5)
            if not last.is_published():
                raise RuntimeError("broker did not acknowledge events; they will be sent again")
        self.published_seq = events[-1]["seq"]
        self.store.set_meta(PUBLISHED_SEQ_KEY, str(self.published_seq))
        return True

    def publish_state(self, counters: set[str] | None = None, services: set[str] | None = None) -> None:
        """Publish retained state (all of it when no ids are given)."""
        snap = self.store.snapshot(counters, services)
        for payload in snap["counters"]:
            self.bus.publish_json(self.topics.state_counter(payload["counter"]), payload, retain=True)
        for payload in snap["services"]:
            self.bus.publish_json(self.topics.state_service(payload["service"]), payload, retain=True)
