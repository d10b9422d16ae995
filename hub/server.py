"""The hub: answers requests from MQTT through the store, drains the outbox, keeps retained state true.

Threads: the MQTT network thread only queues incoming requests, each client in its own bounded
queue behind its own rate limit (``hub/fairness.py``); one worker runs them on the store, one client
after another, and answers (the requests already waiting run in one store transaction, answered
after its commit: a rush of pads costs one fsync, not one each); one publisher drains the outbox (events in ``seq`` order, at least
once) and republishes the retained state the events touched. The publisher also polls, so commands
run by the CLI on the same store reach every display.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mqtt_bus.client import BusClient
from mqtt_bus.contract import ErrorCode, Role
from queue_core import QueueError, SiteDef
from queue_core.actions import READ_ONLY_ACTIONS, check_action, events_since_args

from .authz import refusal, role_of
from .fairness import DropLog, FairQueue, IssueLimit, Limits, Queued, rate_limited
from .reload import ConfigSource, SiteUpdate, removed, with_retired
from .retention import DaySummaries, Pruner
from .store import Reply, Store
from .store_guard import StoreFault, corrupt, is_damage

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 16 * 1024
PUBLISHED_SEQ_KEY = "published_seq"
SWITCH_INTERVAL_S = 0.0005
"""How long a thread may keep the GIL while another waits (Python's default: 5 ms). The worker releases
it around every SQLite call; with 5 ms it waited up to that long behind the publisher each time. A
process-wide setting: the hub's process sets it (``qms.hub_service.run_hub``), the class does not."""
PRINTER_TEST = "printer_test"
"""A hub action (not the queue's): ``{"kiosk": "kiosk-1"}`` from a monitor; the hub sends the kiosk the command
``printer_test`` on ``command/{kiosk}`` (docs/protocol.md) and the kiosk prints its test page."""
RETIRED_CHECK_S = 10.0  # how often the worker looks whether a retired service's last ticket was served
MAX_BATCH = 32  # requests already waiting that the worker runs in one store transaction (one fsync)
STORE_RETRY_S = 3.0  # how often a hub without a usable store tries to open it again
PUBLISHER_TURN_S = 0.02
"""How long the worker, after a batch of several requests (a rush), leaves the store to the publisher to read
what it committed (unless the publisher is busy sending, away from the store). Without this turn the worker
took the store's lock again for the next batch at once, and the publisher read a batch's events and state only
after the next batch committed (a rush of 50 pads: each batch's state one batch late). After a lone request
the next batch is short: waiting then only delayed the answers of a flood's other clients (test_flood)."""


def encodable(text: str) -> bool:
    """True unless ``text`` holds lone surrogates (valid JSON, but no UTF-8 answer could carry it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def request_id_of(raw: bytes) -> Any:
    """The ``id`` of a raw request, or None when it has no readable one (for cheap refusals)."""
    try:
        request = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_PAYLOAD_BYTES else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    rid = request.get("id") if isinstance(request, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 128 and encodable(rid) else None


@dataclass(frozen=True)
class Command:
    """A request read and checked, ready for the store."""

    client_id: str
    request_id: str
    action: str
    args: Any

    @property
    def store_id(self) -> str:
        """The id the store keeps its answer under (request ids are unique per client)."""
        return f"{self.client_id}/{self.request_id}"


def error_response(request_id: Any, code: str, message: str) -> dict[str, Any]:
    """An ``ok: false`` response."""
    return {"id": request_id, "ok": False, "error": {"code": code, "message": message}}


def internal_error(request_id: Any) -> dict[str, Any]:
    """The answer to a request the hub failed on (a bug): the details are in its log."""
    return error_response(request_id, ErrorCode.INTERNAL_ERROR, "the hub failed; see its log (qms doctor)")


class Hub:
    """Serve one site's queue over MQTT."""

    def __init__(self, store: Store | None, bus: BusClient, poll_interval: float = 0.25, batch: int = 200,
                 check_clients: bool = True, reopen: Callable[[], Store] | None = None,
                 fault: StoreFault | None = None, limits: Limits | None = None, retention_days: int = 30,
                 request_retention_days: int = 3, config_source: ConfigSource | None = None,
                 catalogue: dict[str, Any] | None = None,
                 former_names: Callable[[], Mapping[str, str]] | None = None,
                 summaries: DaySummaries | None = None) -> None:
        """``former_names``: the names earlier config versions gave services (``qms.config.history``), so a
        removed service whose tickets are still called keeps its name after a restart; ``summaries``: the
        report's day summaries the pruning thread keeps (``qms.report_sql.DAY_SUMMARIES``)."""
        self.store: Store | None = store
        self.reopen = reopen  # opens the store again while ``fault`` is set
        self.fault = fault if store is None else None
        self.check_clients = check_clients
        self.bus = bus
        self.topics = bus.topics
        self.poll_interval = poll_interval
        self.batch = batch
        self.limits = limits or Limits()
        self._requests = FairQueue(self.limits.rate_for, self.limits.per_client_queue)
        self.drops = DropLog(self._requests)
        self.issue_limit = IssueLimit(self.limits.issue_per_minute)
        self.pruner = Pruner(lambda: self.store, lambda: self.published_seq, retention_days, request_retention_days,
                             summaries=summaries)
        self._wake = threading.Event()
        self._republish_all = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.published_seq = int(store.get_meta(PUBLISHED_SEQ_KEY) or 0) if store is not None else 0
        self.handled = 0
        self.batched = 0  # requests committed together with others (a rush)
        self._committed_seq = 0  # the newest event seq this hub's worker committed
        self._read_seq = self.published_seq  # the newest event seq the publisher has read (events and state)
        self._read_cond = threading.Condition()
        self._sending = False  # the publisher is sending what it read, or backing off: not reading the store
        self._next_reopen = 0.0
        self.config_source = config_source  # a new config file, polled by the hub-config thread
        self.catalogue = catalogue  # the retained ``config`` payload (qms/catalogue.py)
        self.site: SiteDef | None = store.site if store is not None else None  # the config's site, without retired services
        self.retired: frozenset[str] = frozenset()
        self.former_names = former_names
        self.reloads = 0
        self._pending: SiteUpdate | None = None
        self._next_retired_check = 0.0
        self._publish_config = threading.Event()
        if store is not None:
            self._retire(store)
        if self.fault is not None:
            bus.set_status_extra({"fault": self.fault.as_dict()})

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Hub:
        """Subscribe to requests and start the worker and publisher threads."""
        self.bus.on_connection_change = self._connection_changed
        self.bus.subscribe_raw(self.topics.requests_all, self._enqueue)
        threads = [("hub-worker", self._work), ("hub-publisher", self._publish_loop),
                   ("hub-pruner", lambda: self.pruner.run(self._stop))]
        if self.config_source is not None:
            threads.append(("hub-config", self._watch_config))
        for name, target in threads:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.bus.start()
        return self

    def stop(self) -> None:
        """Stop the threads (pending requests are dropped; clients retry with the same id)."""
        self._stop.set()
        self._wake.set()
        self._requests.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.drops.maybe_log(force=True)
        self.bus.on_connection_change = None  # closing is not losing the broker
        self.bus.close()

    def alive(self) -> bool:
        """True while every hub thread runs (a service stops telling its watchdog when one died)."""
        return all(thread.is_alive() for thread in self._threads)

    def _connection_changed(self, connected: bool) -> None:
        if connected:
            log.info("hub connected to the broker; republishing all retained state")
            self._republish_all.set()
            self._publish_config.set()
            self._wake.set()
        else:
            log.warning("hub lost the broker; requests wait until it is back")

    # ------------------------------------------------------------------ requests
    def _enqueue(self, topic: str, raw: bytes) -> None:
        """On the network thread: read the client id off the topic and queue (or drop) the request; nothing more."""
        try:
            kind, client_id = self.topics.parse(topic)
        except ValueError:
            log.warning("request on unexpected topic %s dropped", topic)
            return
        if kind == "request":
            self._requests.offer(client_id, raw)

    def _work(self) -> None:
        while not self._stop.is_set():
            self._apply_pending()  # between two batches: no request sees half a config
            self._drop_served_retired()
            item = self._requests.take(timeout=min(self.poll_interval, 0.1))
            if item is None:
                continue
            items = [item]
            while len(items) < MAX_BATCH and (more := self._requests.take(timeout=0)) is not None:
                items.append(more)  # whatever else is already waiting: one transaction for them all
            self._serve(items)
            if len(items) > 1:
                self._publisher_turn()

    def _publisher_turn(self) -> None:
        """Wait (``PUBLISHER_TURN_S`` at most) until the publisher has read the events just committed, unless
        it is busy sending (then it reads them when done, after the next batch; a flood must not stall the
        worker behind the broker's acknowledgements)."""
        if self.fault is not None or not self.bus.is_connected:
            return
        with self._read_cond:
            self._read_cond.wait_for(lambda: self._read_seq >= self._committed_seq or self._sending
                                     or self._stop.is_set(), PUBLISHER_TURN_S)

    def _set_sending(self, sending: bool) -> None:
        with self._read_cond:
            self._sending = sending
            self._read_cond.notify_all()

    def _serve(self, items: list[Queued]) -> None:
        """Answer ``items`` in order; the commands among them run in one store transaction.

        A command joins the open batch unless it reads the store outside a command (read-only actions,
        an issue limit reached) or its client already has one in it; those run after the batch is
        committed and answered, as they would have one at a time.
        """
        batch: list[Command] = []
        for item in items:
            try:
                if item.refuse_wait_s is not None:
                    self._respond(item.client_id, rate_limited(request_id_of(item.raw), item.refuse_wait_s,
                                                               f"too many requests from {item.client_id} "
                                                               "(security.request_rate)"))
                    continue
                checked = self._check(item.client_id, item.raw)
                if isinstance(checked, dict):
                    self._respond(item.client_id, checked)
                elif self._batchable(checked) and all(c.client_id != checked.client_id for c in batch):
                    batch.append(checked)
                else:
                    self._answer_batch(batch)
                    batch = []
                    self._respond(checked.client_id, self._execute(checked))
            except Exception:
                log.exception("request from %s failed unexpectedly", item.client_id)
        self._answer_batch(batch)

    def _respond(self, client_id: str, response: dict[str, Any]) -> None:
        """Answer one request (the publisher was woken when its events were committed: ``_replied``)."""
        self.handled += 1
        self.bus.publish_json(self.topics.response(client_id), response)

    def _batchable(self, command: Command) -> bool:
        """True for a store command that needs nothing read before it runs."""
        if command.action in READ_ONLY_ACTIONS or self.store is None or self.fault is not None:
            return False
        return not (command.action == "issue_ticket" and self._issue_limited(command.client_id)
                    and self.issue_limit.wait_s(command.client_id) > 0)

    def _answer_batch(self, batch: list[Command]) -> None:
        """Run ``batch`` in one transaction, then answer each command (none before the commit)."""
        store = self.store
        results: list[Reply | Exception] | None = None
        if len(batch) > 1 and store is not None and self.fault is None:
            try:
                results = store.run_batch([(c.action, c.args, c.store_id) for c in batch])
                self.batched += len(batch)
            except Exception as exc:  # nothing of the batch was stored: each runs alone, as it always did
                log.warning("a batch of %d requests failed (%s); running them one by one", len(batch), exc)
        for i, command in enumerate(batch):
            try:
                result = None if results is None else results[i]
                if result is None:
                    response = self._execute(command)
                elif isinstance(result, Exception):
                    log.error("action %s from %s failed", command.action, command.client_id, exc_info=result)
                    response = internal_error(command.request_id)
                else:
                    response = self._replied(command, result)
                self._respond(command.client_id, response)
            except Exception:
                log.exception("request from %s failed unexpectedly", command.client_id)

    def answer(self, client_id: str, raw: bytes) -> dict[str, Any]:
        """The response to one raw request payload from ``client_id``."""
        checked = self._check(client_id, raw)
        return checked if isinstance(checked, dict) else self._execute(checked)

    def _check(self, client_id: str, raw: bytes) -> dict[str, Any] | Command:
        """The request read and checked without the store: its refusal, or the command to run."""
        if len(raw) > MAX_PAYLOAD_BYTES:
            log.warning("oversized request (%d bytes) from %s refused", len(raw), client_id)
            return error_response(None, ErrorCode.PAYLOAD_TOO_LARGE,
                                  f"request is {len(raw)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
        try:
            request = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
            log.warning("malformed JSON request from %s refused: %s", client_id, type(exc).__name__)
            return error_response(None, ErrorCode.BAD_JSON, f"request is not UTF-8 JSON: {exc}")
        if not isinstance(request, dict):
            return error_response(None, ErrorCode.BAD_REQUEST, "request must be a JSON object")
        request_id = request.get("id")
        if not isinstance(request_id, str) or not 0 < len(request_id) <= 128 or not encodable(request_id):
            return error_response(None, ErrorCode.BAD_REQUEST, "request needs an 'id': a string of 1..128 characters")
        action = request.get("action")
        if not isinstance(action, str):
            return error_response(request_id, ErrorCode.BAD_REQUEST, "request needs an 'action' string")
        args = request.get("args", {})
        if action == PRINTER_TEST:
            return self._printer_test(client_id, request_id, args)
        try:
            check_action(action)
        except QueueError as err:
            return {"id": request_id, "ok": False, "error": err.as_dict()}
        if (action == "issue_ticket" and isinstance(args, dict) and isinstance(args.get("service"), str)
                and args["service"] in self.retired):
            return error_response(request_id, ErrorCode.UNKNOWN_SERVICE,
                                  f"service {args['service']!r} was removed from the config; its waiting "
                                  "citizens are still called, new tickets are not given")
        why_not = refusal(client_id, action, args) if self.check_clients else None
        if why_not:
            log.warning("refused %s from %s: %s", action, client_id, why_not)
            return error_response(request_id, ErrorCode.FORBIDDEN, why_not)
        return Command(client_id, request_id, action, args)

    def _printer_test(self, client_id: str, request_id: str, args: Any) -> dict[str, Any]:
        """Forward ``printer_test`` to the kiosk (technicians' tools only); the kiosk's printer state tells the result."""
        if self.check_clients and role_of(client_id)[0] not in (Role.HUB, Role.MONITOR):
            return error_response(request_id, ErrorCode.FORBIDDEN, f"{client_id} may not {PRINTER_TEST}; "
                                  "only the technician's tools (monitor-*) may")
        kiosk = args.get("kiosk") if isinstance(args, dict) else None
        try:
            if not isinstance(kiosk, str) or role_of(kiosk)[0] != Role.KIOSK or not encodable(kiosk):
                raise ValueError(kiosk)
            topic = self.topics.command(kiosk)
        except ValueError:
            return error_response(request_id, ErrorCode.BAD_REQUEST, f"{PRINTER_TEST} needs 'kiosk': a kiosk id "
                                  "such as kiosk-1")
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.bus.publish_json(topic, {"command": PRINTER_TEST, "id": request_id,
                                                           "by": client_id, "ts": now})
        log.info("%s asked %s to print a test page", client_id, kiosk)
        return {"id": request_id, "ok": True, "result": {"kiosk": kiosk, "sent": True}}

    @staticmethod
    def _issue_limited(client_id: str) -> bool:
        """True for the devices whose tickets count against ``security.issue_per_minute``."""
        return role_of(client_id)[0] not in (Role.HUB, Role.MONITOR)

    def _execute(self, command: Command) -> dict[str, Any]:
        """The response to one checked command, run alone on the store."""
        client_id, request_id, action, args = command.client_id, command.request_id, command.action, command.args
        store = self.store
        if store is None or self.fault is not None:
            fault = self.fault or StoreFault(ErrorCode.STORE_FAULT, "the hub has no store", "see its log (qms doctor)")
            log.error("refused %s from %s: store fault %s", action, client_id, fault.code)
            return error_response(request_id, ErrorCode.STORE_FAULT, fault.message)
        if action == "issue_ticket" and self._issue_limited(client_id):
            wait = self.issue_limit.wait_s(client_id)
            if wait > 0:
                first = store.recorded_response(command.store_id)
                if first is not None:  # a retry of a ticket already given: the first answer, as always
                    return {**first, "id": request_id}
                log.info("issue limit: refused a ticket to %s for %.0f s", client_id, wait)
                return rate_limited(request_id, wait, f"{client_id} has issued {self.limits.issue_per_minute} tickets "
                                    "in the last minute (security.issue_per_minute)")
        if action == "snapshot":
            snap = store.snapshot()
            return {"id": request_id, "ok": True,
                    "result": {k: snap[k] for k in ("site", "services", "counters")}}
        if action == "clock":  # read-only: lets `qms doctor` on any board measure its clock offset
            now = store.clock().astimezone(store.site.tz)
            return {"id": request_id, "ok": True, "result": {"now": now.isoformat()}}
        if action == "events_since":
            return self.events_since(request_id, args, store)
        try:
            reply = store.run(action, args, request_id=command.store_id)
        except QueueError as err:  # pragma: no cover - the store turns these into replies
            return {"id": request_id, "ok": False, "error": err.as_dict()}
        except sqlite3.OperationalError as exc:  # disk full, read-only: not a bug, tell the device
            log.error("store unavailable for %s from %s: %s", action, client_id, exc)
            return error_response(request_id, ErrorCode.STORE_UNAVAILABLE,
                                  f"the hub cannot write its store ({exc}); tell the technician (qms doctor)")
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                log.exception("action %s from %s failed", action, client_id)
                return internal_error(request_id)
            fault = corrupt(store.path, store.path.parent, exc)  # damaged under the running hub: say so
            self._set_fault(fault)
            return error_response(request_id, ErrorCode.STORE_FAULT, fault.message)
        except Exception:
            log.exception("action %s from %s failed", action, client_id)
            return internal_error(request_id)
        return self._replied(command, reply)

    def _replied(self, command: Command, reply: Reply) -> dict[str, Any]:
        """The response carrying ``reply``; counts a new ticket against the issue limit."""
        if command.action == "issue_ticket" and reply.ok and not reply.replayed:
            self.issue_limit.record(command.client_id)
        if reply.events:  # committed: the publisher sends them (while the answers go out)
            self._committed_seq = max(self._committed_seq, reply.events[-1]["seq"])
            self._wake.set()
        if not reply.ok:
            log.info("refused %s from %s: %s", command.action, command.client_id, reply.response["error"]["message"])
        return {**reply.response, "id": command.request_id}

    # ------------------------------------------------------------------ store faults
    def _set_fault(self, fault: StoreFault) -> None:
        """Stop serving from the store: every request gets ``store_fault`` and the status says why.

        The damaged store is closed, so that ``qms restore`` may replace it under this hub.
        """
        log.error("store fault %s: %s", fault.code, fault.message)
        self.fault = fault
        old, self.store = self.store, None
        if old is not None:
            old.close()  # waits for a command in progress (the store's lock)
        self.bus.set_status_extra({"fault": fault.as_dict()})

    def _try_reopen(self) -> None:
        """Every ``STORE_RETRY_S``: open the store again; when it is good, clear the fault and republish all."""
        now = time.monotonic()
        if self.reopen is None or now < self._next_reopen:
            return
        self._next_reopen = now + STORE_RETRY_S
        try:
            store = self.reopen()
        except StoreFault as fault:
            if fault.message != (self.fault and self.fault.message):
                self._set_fault(fault)
            return
        except sqlite3.Error as exc:
            log.warning("store still unusable: %s", exc)
            return
        if self.site is None:  # the hub started without a store: the config it started with
            self.site = store.site
        self._retire(store)  # the config it has now (reloaded since it started?), removed services retired
        self.store = store
        self.published_seq = int(store.get_meta(PUBLISHED_SEQ_KEY) or 0)
        with self._read_cond:  # another file (restored): its seqs, not the old one's
            self._committed_seq = self._read_seq = self.published_seq
        self.fault = None
        self.bus.set_status_extra({})
        log.info("store %s is good again; serving and republishing all retained state", store.path)
        self._republish_all.set()
        self._wake.set()
    def events_since(self, request_id: str, args: Any, store: Store) -> dict[str, Any]:
        """Answer ``events_since``: committed events after ``after`` from the outbox, oldest first."""
        try:
            after, limit = events_since_args(args)
            events = store.events_after(after, limit + 1)
            last_seq = store.last_seq()  # read after the events: never older than them
        except QueueError as err:
            return {"id": request_id, "ok": False, "error": err.as_dict()}
        except sqlite3.Error as exc:
            log.error("store unavailable for events_since: %s", exc)
            return error_response(request_id, ErrorCode.STORE_UNAVAILABLE,
                                  f"the hub cannot read its store ({exc}); tell the technician (qms doctor)")
        return {"id": request_id, "ok": True,
                "result": {"events": events[:limit], "last_seq": last_seq, "more": len(events) > limit}}

    # ------------------------------------------------------------------ publishing
    def _publish_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            self.drops.maybe_log()
            if not self.bus.is_connected:
                continue
            if self._publish_config.is_set():
                self._publish_config.clear()
                self.publish_config()
            if self.fault is not None or self.store is None:
                self._try_reopen()
                continue
            try:
                if self._republish_all.is_set():
                    self._republish_all.clear()
                    self.publish_state()
                while self.drain_once():
                    pass
            except sqlite3.OperationalError:
                log.exception("publishing failed; will retry")
                self._back_off()
            except sqlite3.DatabaseError as exc:
                store = self.store
                if store is not None and is_damage(exc):  # damaged under the running hub
                    self._set_fault(corrupt(store.path, store.path.parent, exc))
                else:
                    log.exception("publishing failed; will retry")
                    self._back_off()
            except Exception:
                log.exception("publishing failed; will retry")
                self._back_off()

    def _back_off(self) -> None:
        """A second's pause after a failure (the worker does not wait for the publisher meanwhile)."""
        self._set_sending(True)
        try:
            self._stop.wait(1.0)
        finally:
            self._set_sending(False)

    def drain_once(self) -> bool:
        """Publish the next batch of outbox events, then the state they touched; True if any."""
        store = self.store
        assert store is not None, "drain_once runs only while the store is good"
        stored = store.stored_events_after(self.published_seq, self.batch)
        events = [event for event, _ in stored]
        if not events:
            self._mark_read(self._committed_seq)  # nothing committed is left unread
            return False
        counters: set[str] = set()
        services: set[str] = set()
        for event in events:
            if event.get("counter"):
                counters.add(event["counter"])
            ticket = event.get("ticket") or {}
            if ticket.get("service"):
                services.add(ticket["service"])
            if event.get("from_service"):
                services.add(event["from_service"])
        site = store.site
        for counter in counters & set(site.counters):
            services.update(site.counters[counter].services)  # idle counters change wait estimates
        snap = store.snapshot(counters, services)  # read before publishing: the worker may go on meanwhile
        self._mark_read(events[-1]["seq"], sending=True)
        try:
            last = None
            for event, text in stored:  # published as stored: no second encoding
                last = self.bus.publish_text(self.topics.event(event["type"]), text)
            self._publish_snapshot(snap)
            if last is not None:
                last.wait_for_publish(timeout=5)
                if not last.is_published():
                    raise RuntimeError("broker did not acknowledge events; they will be sent again")
        finally:
            self._set_sending(False)
        self.published_seq = events[-1]["seq"]
        store.set_meta(PUBLISHED_SEQ_KEY, str(self.published_seq), durable=False)  # at least once: a hint
        return True

    def _mark_read(self, seq: int, sending: bool = False) -> None:
        """The publisher has read the events up to ``seq`` and the state after them: the worker may go on."""
        with self._read_cond:
            self._sending = sending
            if seq > self._read_seq:
                self._read_seq = seq
            self._read_cond.notify_all()

    def publish_state(self, counters: set[str] | None = None, services: set[str] | None = None) -> None:
        """Publish retained state (all of it when no ids are given)."""
        assert self.store is not None, "publish_state runs only while the store is good"
        self._publish_snapshot(self.store.snapshot(counters, services))

    def _publish_snapshot(self, snap: dict[str, Any]) -> None:
        """Publish the retained state payloads of a ``Store.snapshot``."""
        for payload in snap["counters"]:
            self.bus.publish_json(self.topics.state_counter(payload["counter"]), payload, retain=True)
        for payload in snap["services"]:
            self.bus.publish_json(self.topics.state_service(payload["service"]), payload, retain=True)

    # ------------------------------------------------------------------ live config (hub/reload.py)
    def _watch_config(self) -> None:
        """Poll the config source; hand a new valid config to the worker (which applies it between requests)."""
        while not self._stop.wait(self.poll_interval):
            try:
                update = self.config_source() if self.config_source is not None else None
            except Exception:
                log.exception("reading the config failed; the hub keeps the one it has")
                continue
            if update is not None:
                self._pending = update

    def _apply_pending(self) -> None:
        """On the worker, between two batches: swap in a new config and republish what it changed."""
        update, self._pending = self._pending, None
        if update is None:
            return
        old_site = self.store.site if self.store is not None else self.site
        self.site, self.catalogue = update.site, update.catalogue
        self.reloads += 1
        store = self.store
        if store is not None and self.fault is None:
            try:
                self._retire(store, old_site)
            except sqlite3.Error:
                log.exception("the new config is not applied to the store yet; it will be when the store is back")
        if old_site is not None:
            for sid in removed(old_site.services, store.site.services if store is not None else update.site.services):
                self.bus.clear_retained(self.topics.state_service(sid))
            for cid in removed(old_site.counters, update.site.counters):
                self.bus.clear_retained(self.topics.state_counter(cid))
        log.info("config reloaded (%s…): %d services, %d counters%s", str(update.catalogue.get("sha256"))[:12],
                 len(update.site.services), len(update.site.counters),
                 f"; retired, still called: {', '.join(sorted(self.retired))}" if self.retired else "")
        self._republish_all.set()
        self._publish_config.set()
        self._wake.set()

    def _drop_served_retired(self) -> None:
        """Every ``RETIRED_CHECK_S`` while services are retired: drop those whose last ticket was served."""
        store, now = self.store, time.monotonic()
        if not self.retired or store is None or self.fault is not None or now < self._next_retired_check:
            return
        self._next_retired_check = now + RETIRED_CHECK_S
        before = self.retired
        try:
            self._retire(store, store.site)
        except sqlite3.Error:
            log.exception("cannot check the retired services; will try again")
            return
        for sid in sorted(before - self.retired):
            log.info("retired service %s has no open ticket left: no longer called", sid)
            self.bus.clear_retained(self.topics.state_service(sid))

    def _retire(self, store: Store, old_site: SiteDef | None = None) -> None:
        """Give ``store`` the config's site plus the removed services that still have open tickets."""
        if self.site is None:
            self.site = store.site
        open_services = store.open_services()
        old = old_site or store.site
        names: Mapping[str, str] = {}
        if self.former_names is not None and any(s not in self.site.services and s not in old.services
                                                 for s in open_services):
            try:
                names = self.former_names()
            except Exception:  # names only: the service is still retired, by its id
                log.exception("the former names of removed services could not be read")
        site, self.retired = with_retired(self.site, old, open_services, names)
        if store.site != site:
            store.set_site(site)

    def publish_config(self) -> None:
        """The retained ``config`` catalogue devices redraw from (docs/protocol.md)."""
        if self.catalogue is not None:
            self.bus.publish_json(self.topics.config, self.catalogue, retain=True)
