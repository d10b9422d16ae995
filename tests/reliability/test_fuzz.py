"""Hostile and broken requests: the hub answers every one, keeps serving, and changes nothing for a refusal.

Payloads come from hypothesis: random bytes, random JSON (wrong types, huge and unicode strings,
nested junk, NaN, huge integers), and request-shaped objects with valid-looking actions and bad
arguments, from random client ids. Two paths:

- pure: ``Hub.answer(client_id, raw)`` on a store (fast, many cases);
- live: the bytes published on ``request/{client_id}`` to a hub process through mosquitto; every one
  must be answered on ``response/{client_id}``, and a valid request afterwards still works.

A refused request must leave the store as it was: triggers on the queue tables count every row written,
and ``last_seq`` and the tickets are compared too. An accepted one may change only what its device's
role allows (a kiosk issues tickets, a counter pad acts for its own counter, a display changes nothing).

``QMS_FUZZ_EXAMPLES`` sets the number of cases per path (800 by default, 100000 for the full size).
"""

from __future__ import annotations

import json
import math
import queue
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from hub.authz import role_of
from hub.server import Hub
from hub.store import Store
from mqtt_bus.client import BusClient, encode_payload
from mqtt_bus.contract import HUB_CLIENT_ID, ErrorCode, EventType, Role
from qms.context import AppContext
from qms.hub_service import hub_limits
from queue_core.actions import ARG_SPECS
from tests.reliability.helpers import env_int
from tests.reliability.hub_forkserver import HubForkServer

EXAMPLES = env_int("QMS_FUZZ_EXAMPLES", 800)
QUEUE_TABLES = ("tickets", "counters", "service_days", "service_times", "outbox")
ERROR_CODES = {
    ErrorCode.BAD_JSON, ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.BAD_REQUEST, ErrorCode.UNKNOWN_ACTION, ErrorCode.UNKNOWN_SERVICE, ErrorCode.UNKNOWN_COUNTER,
    ErrorCode.UNKNOWN_PRIORITY, ErrorCode.UNKNOWN_PROCEDURE, ErrorCode.UNKNOWN_TICKET, ErrorCode.SERVICE_CLOSED, ErrorCode.QUOTA_REACHED,
    ErrorCode.RANGE_EXHAUSTED, ErrorCode.COUNTER_PAUSED, ErrorCode.COUNTER_CLOSED, ErrorCode.NO_CURRENT_TICKET, ErrorCode.SAME_SERVICE, ErrorCode.INVALID_SCORE,
    ErrorCode.NOT_RATEABLE, ErrorCode.ALREADY_RATED, ErrorCode.FORBIDDEN, ErrorCode.NOT_UNDOABLE, ErrorCode.SAME_COUNTER,
    ErrorCode.COUNTER_NOT_SERVING, ErrorCode.INVALID_DOSSIER,
}  # never internal_error: that is a bug
ACTIONS = [*ARG_SPECS, "snapshot"]
ARG_NAMES = sorted({name for required, optional in ARG_SPECS.values() for name in (*required, *optional)})
CLIENTS = ["kiosk-1", "kiosk-7", "counter-1", "counter-2", "counter-6", "counter-99", "display-1", "rating-2",
           "monitor-fuzz", HUB_CLIENT_ID, "stranger", "kiosk-", "counter-2-x"]
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

# -------------------------------------------------------------------- payload strategies

# Lone surrogates (JSON "\ud800") and nesting deeper than Python's recursion limit have their own tests
# at the end (bugs once, fixed); the strategies leave them out to spend their cases elsewhere.
no_surrogates = st.characters(blacklist_categories=("Cs",))
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(no_surrogates, max_size=40))
junk = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.text(no_surrogates, max_size=10), kids, max_size=4), max_leaves=12)


def plausible_values(site_values: list[str]) -> st.SearchStrategy[Any]:
    """Argument values that are often valid, sometimes nearly so, sometimes junk."""
    return st.one_of(st.sampled_from(site_values), st.integers(-3, 9), st.text(no_surrogates, max_size=12),
                     st.text(no_surrogates, min_size=190, max_size=260), junk)


def requests(site_values: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Request-shaped objects: valid-looking actions with good, bad or missing arguments."""
    args = st.one_of(junk, st.dictionaries(st.sampled_from(ARG_NAMES) | st.text(no_surrogates, max_size=8),
                                           plausible_values(site_values), max_size=4))
    ids = st.one_of(st.text(no_surrogates, min_size=1, max_size=128), st.text(no_surrogates, max_size=300), junk)
    actions = st.one_of(st.sampled_from(ACTIONS), st.text(no_surrogates, max_size=20), junk)
    return st.fixed_dictionaries({}, optional={"id": ids, "action": actions, "args": args, "extra": junk})


def _dumps(obj: Any, ascii_only: bool) -> bytes:
    return json.dumps(obj, ensure_ascii=ascii_only).encode("utf-8")


SPECIAL = [
    b"", b" ", b"null", b"[]", b"\"id\"", b"{}", b"\xef\xbb\xbf{}", b"\xff\xfe\x00", b"{\"id\": NaN}",
    b"{\"id\": \"x\", \"action\": \"rate\", \"args\": {\"ticket\": \"t\", \"score\": Infinity}}",
    b"{\"id\": \"x\", \"action\": \"rate\", \"args\": {\"ticket\": \"t\", \"score\": 1e999}}",
    b"{\"id\": \"x\", \"action\": \"call_next\", \"args\": {\"counter\": 100000000000000000000000}}",
    b"{\"id\": \"x\", \"action\": \"issue_ticket\", \"args\": {\"service\": \"tu-phap\", \"service\": 1}}",
    b"{\"id\": \"x\", \"action\": \"issue_ticket\", \"args\": {\"service\": \"tu-phap\"}" + b" " * 17000 + b"}",
    b"{\"id\": \"" + b"x" * 16300 + b"\", \"action\": \"snapshot\"}",
    b"[" * 500 + b"]" * 500,  # nested, within Python's recursion limit
]


def payloads(site_values: list[str]) -> st.SearchStrategy[bytes]:
    """Every kind of payload a broken or hostile device might send."""
    shaped = requests(site_values)
    return st.one_of(
        shaped.map(lambda r: _dumps(r, ascii_only=False)),
        shaped.map(lambda r: _dumps(r, ascii_only=True)),
        junk.map(lambda j: _dumps(j, ascii_only=False)),
        st.binary(max_size=300),
        st.text(no_surrogates, max_size=300).map(lambda t: t.encode("utf-8")),
        st.sampled_from(SPECIAL),
    )


@st.composite
def nearly_valid(draw: st.DrawFn, site_values: list[str], counters: list[str]) -> tuple[str, bytes]:
    """A device's own kind of request with mostly good arguments (often accepted, sometimes not)."""
    action = draw(st.sampled_from(ACTIONS))
    required, optional = ARG_SPECS.get(action, ({}, {}))
    good = st.sampled_from(site_values)
    args = {name: draw(st.one_of(good, good, good, plausible_values(site_values))) for name in required}
    for name in optional:
        if draw(st.booleans()):
            args[name] = draw(plausible_values(site_values))
    if draw(st.integers(0, 5)) == 0:
        args[draw(st.text(no_surrogates, min_size=1, max_size=8))] = draw(junk)
    if "counter" in args and draw(st.booleans()):
        args["counter"] = draw(st.sampled_from(counters))
    if action == "issue_ticket":
        client = draw(st.sampled_from(["kiosk-1", "kiosk-2", "counter-1", "display-1"]))
    elif action == "rate":
        client = draw(st.sampled_from(["rating-2", "counter-2", "kiosk-1"]))
    else:
        own = args["counter"] if args.get("counter") in counters else draw(st.sampled_from(counters))
        client = draw(st.sampled_from([f"counter-{own}", f"counter-{own}", "counter-1", "monitor-fuzz",
                                       "kiosk-1", "display-1"]))
    request = {"id": draw(st.text(no_surrogates, min_size=1, max_size=128)), "action": action, "args": args}
    return client, _dumps(request, ascii_only=draw(st.booleans()))


def cases(site_values: list[str], counters: list[str], client_ids: st.SearchStrategy[str]
          ) -> st.SearchStrategy[tuple[str, bytes]]:
    """(client id, payload): anything from anyone, or a device's own kind of request."""
    return st.one_of(st.tuples(client_ids, payloads(site_values)), nearly_valid(site_values, counters))


def site_values(ctx: AppContext) -> list[str]:
    """Ids of this site that make arguments valid now and then."""
    return [*ctx.site.services, *ctx.site.counters, *ctx.site.priorities, "vi", "en", "A0001", "A0002", "B0001",
            "khai-sinh", "tu-phap-1", "20261123-tu-phap-1"]


# -------------------------------------------------------------------- what must hold


def watch_changes(db: Path) -> None:
    """Triggers that count every row written to the queue tables (in the writer's own transaction)."""
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS fuzz_changes (n INTEGER)")
        for table in QUEUE_TABLES:
            for op in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(f"CREATE TRIGGER IF NOT EXISTS fuzz_{table}_{op.lower()} AFTER {op} ON {table} "
                             "BEGIN INSERT INTO fuzz_changes VALUES (1); END")
    conn.close()


class Fingerprint:
    """Rows written, last seq, tickets: what a refused request must not change."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)

    def __call__(self) -> tuple[int, int, int]:
        writes = self.conn.execute("SELECT COUNT(*) FROM fuzz_changes").fetchone()[0]
        seq = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]
        tickets = self.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        return writes, seq, tickets

    def events_after(self, seq: int) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT payload FROM outbox WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def close(self) -> None:
        self.conn.close()


def request_id_of(raw: bytes) -> Any:
    """The id the hub should echo: the request's string id when it has a usable one, else None."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if len(raw) > 16 * 1024 or not isinstance(obj, dict):
        return None
    rid = obj.get("id")
    return rid if isinstance(rid, str) and 0 < len(rid) <= 128 else None


def check_answer(client_id: str, raw: bytes, response: dict[str, Any], before: tuple[int, int, int],
                 after: tuple[int, int, int], new_events: list[dict[str, Any]]) -> None:
    """The properties every answer must have."""
    encode_payload(response)  # the hub must be able to publish it (strict JSON, UTF-8)
    assert set(response) >= {"id", "ok"} and isinstance(response["ok"], bool), response
    assert response["id"] == request_id_of(raw) or (response["id"] is None and not response["ok"]), response
    if not response["ok"]:
        assert response["error"]["code"] in ERROR_CODES, f"{raw[:300]!r} -> {response}"
        assert isinstance(response["error"]["message"], str) and response["error"]["message"]
        assert after == before, f"a refused request changed the store: {raw[:300]!r} -> {response}"
        return
    role, ident = role_of(client_id)
    if role in (Role.DISPLAY, "unknown"):
        assert after == before, f"{client_id} ({role}) changed the store: {raw[:300]!r}"
        return
    for event in new_events:
        if event["type"] == EventType.TICKET_NO_SHOW and event.get("reason") == "expired":
            continue  # the first command of a new day closes yesterday's leftovers
        if role == Role.KIOSK:
            # a kiosk issues tickets, and its technician screen may ask for a reprint (hub/authz.py KIOSK)
            assert event["type"] in (EventType.TICKET_ISSUED, EventType.REPRINT_REQUESTED), \
                f"kiosk {client_id} caused {event['type']}"
        elif role == Role.RATING:
            assert event["type"] == EventType.RATING_RECORDED, f"rating tablet {client_id} caused {event['type']}"
        elif role == Role.COUNTER and event["type"] != EventType.RATING_RECORDED and event.get("counter") is not None:
            assert event["counter"] == ident, f"pad {client_id} acted for counter {event['counter']}"


@pytest.fixture
def fuzz_ctx(tmp_path, roomy_site) -> Iterator[AppContext]:
    """A store with a few tickets (one being served at counter 2), watched by change triggers."""
    ctx = AppContext(config_path=roomy_site, data_dir=tmp_path / "data")
    with ctx.open_store() as store:
        for service in ("tu-phap", "tu-phap", "chung-thuc", "huong-dan", "dat-dai"):
            assert store.run("issue_ticket", {"service": service}).ok
        assert store.run("call_next", {"counter": "2"}).ok
    watch_changes(ctx.store_path)
    yield ctx


# -------------------------------------------------------------------- the two paths


@pytest.mark.timeout(max(300, 60 + EXAMPLES // 100))  # about 3 ms a case here
def test_fuzz_hub_answer(fuzz_ctx):
    store = Store(fuzz_ctx.store_path, fuzz_ctx.site)
    hub = Hub(store, BusClient("mqtt://127.0.0.1:9", fuzz_ctx.site.site, HUB_CLIENT_ID, Role.HUB), limits=hub_limits(fuzz_ctx))  # never connected
    fingerprint = Fingerprint(fuzz_ctx.store_path)
    seen = {"ok": 0, "refused": 0}

    @SETTINGS
    @given(case=cases(site_values(fuzz_ctx), list(fuzz_ctx.site.counters),
                      st.sampled_from(CLIENTS) | st.text(no_surrogates, min_size=1, max_size=20)))
    # found in CI: the retired-service check hashed a list service (TypeError out of the hub)
    @example(case=("kiosk-1", b'{"id": "0", "action": "issue_ticket", "args": {"service": [], "0": null}}'))
    def one(case: tuple[str, bytes]) -> None:
        client_id, raw = case
        before = fingerprint()
        response = hub.answer(client_id, raw)
        after = fingerprint()
        check_answer(client_id, raw, response, before, after, fingerprint.events_after(before[1]))
        seen["ok" if response["ok"] else "refused"] += 1

    try:
        one()
        assert seen["refused"] > seen["ok"] > 0, seen  # both kinds were exercised
        print(f"\nHub.answer: {seen}")
        assert hub.answer("kiosk-1", b'{"id": "after", "action": "issue_ticket", "args": {"service": "tu-phap"}}')["ok"]
        assert store.integrity_check() == "ok"
    finally:
        fingerprint.close()
        store.close()


class RawClient:
    """A bare paho client: publishes any bytes on any request topic and collects the responses."""

    def __init__(self, url: str, site: str) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.prefix = f"qms/v1/{site}"
        self.responses: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="monitor-fuzzer")
        self.client.on_message = lambda c, u, msg: self.responses.put((msg.topic, msg.payload))
        self.client.connect(host, int(port))
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle delay per case
        self.client.subscribe(f"{self.prefix}/response/#", qos=1)
        self.client.loop_start()

    def ask(self, client_id: str, raw: bytes, timeout: float = 5.0) -> dict[str, Any]:
        """Publish ``raw`` as ``client_id``'s request; the hub's answer on ``response/{client_id}``."""
        while not self.responses.empty():
            self.responses.get_nowait()
        topic = f"{self.prefix}/response/{client_id}"
        self.client.publish(f"{self.prefix}/request/{client_id}", raw, qos=1).wait_for_publish(timeout)
        while True:
            try:
                got_topic, payload = self.responses.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no answer from the hub to {client_id}: {raw[:200]!r}") from None
            if got_topic == topic:
                return json.loads(payload)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


# mosquitto drops a client that publishes a topic with control characters or non-characters
topic_ids = st.text(st.characters(whitelist_categories=("L", "N", "P", "S", "Zs"), blacklist_characters="/+#"),
                    min_size=1, max_size=24)


@pytest.mark.timeout(max(300, 60 + EXAMPLES // 40))  # about 8 ms a case here
def test_fuzz_requests_through_the_broker(fuzz_ctx, broker, tmp_path):
    fingerprint = Fingerprint(fuzz_ctx.store_path)
    hubs = HubForkServer(fuzz_ctx.config_path, fuzz_ctx.data_dir, broker.url, tmp_path / "hub.log")
    raw_client: RawClient | None = None
    seen = {"ok": 0, "refused": 0}
    try:
        hubs.start()
        raw_client = RawClient(broker.url, fuzz_ctx.site.site)
        for _ in range(40):  # until the hub process has subscribed
            try:
                assert raw_client.ask("monitor-x", b'{"id": "1", "action": "snapshot"}', timeout=0.25)["ok"]
                break
            except AssertionError:
                continue
        fuzzer = raw_client

        @SETTINGS
        @given(case=cases(site_values(fuzz_ctx), list(fuzz_ctx.site.counters), st.sampled_from(CLIENTS) | topic_ids))
        def one(case: tuple[str, bytes]) -> None:
            client_id, raw = case
            before = fingerprint()
            response = fuzzer.ask(client_id, raw)
            after = fingerprint()
            check_answer(client_id, raw, response, before, after, fingerprint.events_after(before[1]))
            seen["ok" if response["ok"] else "refused"] += 1

        one()
        assert hubs.alive(), "the hub process died"
        assert seen["refused"] > seen["ok"] > 0, seen
        print(f"\nthrough mosquitto: {seen}")
        valid = raw_client.ask("kiosk-1", b'{"id": "after", "action": "issue_ticket", "args": {"service": "tu-phap"}}')
        assert valid["ok"], valid
        assert hubs.stop() == 0
    finally:
        if raw_client is not None:
            raw_client.close()
        hubs.close()
        fingerprint.close()


def test_nan_and_infinity_never_reach_an_answer(fuzz_ctx):
    """JSON NaN / Infinity (accepted by Python's parser) must not make an unpublishable answer."""
    with Store(fuzz_ctx.store_path, fuzz_ctx.site) as store:
        hub = Hub(store, BusClient("mqtt://127.0.0.1:9", fuzz_ctx.site.site, HUB_CLIENT_ID, Role.HUB), limits=hub_limits(fuzz_ctx))
        for raw in (b'{"id": "n", "action": "rate", "args": {"ticket": "x", "score": NaN}}',
                    b'{"id": "i", "action": "issue_ticket", "args": {"service": "tu-phap", "lang": Infinity}}'):
            response = hub.answer("monitor-x", raw)
            assert not response["ok"]
            assert not any(isinstance(v, float) and not math.isfinite(v) for v in response.values())
            encode_payload(response)


# -------------------------------------------------------------------- known bugs (docs/reliability.md)


def _answer_once(ctx: AppContext, raw: bytes, client_id: str = "monitor-x") -> dict[str, Any]:
    with Store(ctx.store_path, ctx.site) as store:
        hub = Hub(store, BusClient("mqtt://127.0.0.1:9", ctx.site.site, HUB_CLIENT_ID, Role.HUB), limits=hub_limits(ctx))
        response = hub.answer(client_id, raw)
    encode_payload(response)  # what the hub's publish does: it must not fail
    return response


def test_deeply_nested_json_is_answered(fuzz_ctx):
    response = _answer_once(fuzz_ctx, b"[" * 5000 + b"]" * 5000)  # 10 KB: under the size limit
    assert response["ok"] is False and response["error"]["code"] == ErrorCode.BAD_JSON


def test_request_id_with_a_lone_surrogate_is_answered(fuzz_ctx):
    response = _answer_once(fuzz_ctx, b'{"id": "\\ud800", "action": "snapshot"}')
    assert response["ok"] is False and response["error"]["code"] == ErrorCode.BAD_REQUEST


def test_argument_with_a_lone_surrogate_is_a_bad_request(fuzz_ctx):
    response = _answer_once(fuzz_ctx, b'{"id": "x", "action": "call_ticket", '
                                      b'"args": {"counter": "2", "number": "\\ud800"}}')
    assert response["ok"] is False and response["error"]["code"] == ErrorCode.BAD_REQUEST, response


def test_argument_name_with_a_lone_surrogate_is_a_bad_request(fuzz_ctx):
    response = _answer_once(fuzz_ctx, b'{"id": "x", "action": "issue_ticket", '
                                      b'"args": {"service": "tu-phap", "\\ud800": 1}}')
    assert response["ok"] is False and response["error"]["code"] == ErrorCode.BAD_REQUEST, response


@pytest.mark.parametrize("lang", ["\U0001f600" * 200, "fr", "VI", "v"], ids=["200-emoji", "fr", "VI", "v"])
def test_lang_outside_the_configured_languages_is_a_bad_request(fuzz_ctx, lang):
    raw = json.dumps({"id": "x", "action": "issue_ticket", "args": {"service": "tu-phap", "lang": lang}})
    response = _answer_once(fuzz_ctx, raw.encode())
    assert response["ok"] is False and response["error"]["code"] == ErrorCode.BAD_REQUEST, response
    assert "vi, en" in response["error"]["message"]
    valid = json.dumps({"id": "y", "action": "issue_ticket", "args": {"service": "tu-phap", "lang": "en"}})
    assert _answer_once(fuzz_ctx, valid.encode())["ok"]
