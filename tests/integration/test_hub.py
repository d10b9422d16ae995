"""The hub on a real mosquitto: every action, idempotent retries, retained state, bursts, bad input."""

from __future__ import annotations

import json
import threading

import pytest

from mqtt_bus.client import BusClient
from mqtt_bus.contract import ErrorCode, Role
from tests.integration.hub_helpers import SITE, Watcher, comparable_state, wait_for


@pytest.fixture
def client(broker, make_client) -> BusClient:
    c = make_client(broker.url, "counter-2", Role.COUNTER, site=SITE)
    assert c.wait_connected(5)
    return c


@pytest.fixture
def monitor(broker, make_client) -> BusClient:
    """A technician's tool: may act for any counter."""
    c = make_client(broker.url, "monitor-test", Role.MONITOR, site=SITE)
    assert c.wait_connected(5)
    return c


def ok(response: dict) -> dict:
    assert response["ok"] is True, response
    return response["result"]


def test_every_action_of_the_contract(hub, client):
    t1 = ok(client.request("issue_ticket", {"service": "tu-phap", "priority": "elderly",
                                            "procedure": "khai-sinh", "lang": "vi"}))["ticket"]
    assert t1["number"] == "A001" and t1["priority"] == "elderly" and t1["procedure"] == "khai-sinh"
    t2 = ok(client.request("issue_ticket", {"service": "tu-phap"}))["ticket"]
    ok(client.request("issue_ticket", {"service": "tu-phap"}))
    assert ok(client.request("call_next", {"counter": "2"}))["ticket"]["id"] == t1["id"]
    assert ok(client.request("recall", {"counter": "2"}))["ticket"]["call_count"] == 2
    done = ok(client.request("complete", {"counter": "2"}))["ticket"]
    assert done["status"] == "done"
    rated = ok(client.request("rate", {"ticket": t1["id"], "score": 5}))["ticket"]
    assert rated["rating"] == 5
    assert ok(client.request("call_ticket", {"counter": "2", "number": "A003"}))["ticket"]["number"] == "A003"
    assert ok(client.request("no_show", {"counter": "2"}))["ticket"]["status"] == "no_show"
    ok(client.request("call_next", {"counter": "2"}))
    moved = ok(client.request("transfer", {"counter": "2", "service": "chung-thuc"}))["ticket"]
    assert moved["id"] == t2["id"] and moved["service"] == "chung-thuc" and moved["status"] == "waiting"
    assert ok(client.request("pause", {"counter": "2"}))["counter"]["status"] == "paused"
    refused = client.request("call_next", {"counter": "2"})
    assert refused["ok"] is False and refused["error"]["code"] == ErrorCode.COUNTER_PAUSED
    assert ok(client.request("resume", {"counter": "2"}))["counter"]["status"] == "open"
    forbidden = client.request("call_next", {"counter": "6"})  # pad 2 may act only for counter 2
    assert forbidden["ok"] is False and forbidden["error"]["code"] == ErrorCode.FORBIDDEN
    snap = ok(client.request("snapshot", {}))
    assert set(snap) == {"site", "services", "counters"} and snap["site"] == SITE
    assert {s["service"] for s in snap["services"]} >= {"tu-phap", "chung-thuc"}


def test_same_request_id_twice_calls_one_citizen(hub, monitor):
    for _ in range(3):
        ok(monitor.request("issue_ticket", {"service": "chung-thuc"}))
    first = monitor.request("call_next", {"counter": "3"}, request_id="pad3-0001")
    again = monitor.request("call_next", {"counter": "3"}, request_id="pad3-0001")
    assert again == first
    waiting = [t.number for t in hub.store.tickets("status = 'waiting'")]
    assert waiting == ["B002", "B003"]


def test_nobody_waiting_gives_null(hub, client):
    assert ok(client.request("call_next", {"counter": "2"})) == {"ticket": None}


def test_late_display_sees_retained_state_at_once(hub, monitor, broker, make_client):
    for i in range(20):
        ok(monitor.request("issue_ticket", {"service": ("tu-phap", "chung-thuc")[i % 2]}))
    for i in range(20):
        ok(monitor.request("call_next", {"counter": str(1 + i % 6)}))
    assert wait_for(lambda: hub.published_seq == hub.store.last_seq()), (hub.published_seq, hub.store.last_seq())
    expected = comparable_state(hub.store.snapshot())
    hub.stop()  # "at once": the broker's retained messages alone give the state; nobody asks the hub
    display = make_client(broker.url, "display-1", "display", site=SITE, start=False)
    watcher = Watcher(display)
    display.start()
    assert wait_for(lambda: comparable_state(watcher.state()) == expected, timeout=3), (
        comparable_state(watcher.state()), expected)


def test_burst_of_1000_issues_from_5_clients_arrives_in_order(hub, broker, make_client):
    display = make_client(broker.url, "display-9", Role.DISPLAY, site=SITE, start=False)
    watcher = Watcher(display)
    display.start()
    assert display.wait_connected(5)
    # monitors: this tests order under load; kiosks are rate-limited (tests/integration/test_fairness.py)
    kiosks = [make_client(broker.url, f"monitor-{i}", Role.MONITOR, site=SITE) for i in range(5)]
    errors: list[BaseException] = []

    def burst(c: BusClient) -> None:
        try:
            for i in range(200):  # numbers go to 999 per service: two services
                ok(c.request("issue_ticket", {"service": ("tu-phap", "chung-thuc")[i % 2]}, timeout=5))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=burst, args=(k,)) for k in kiosks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert wait_for(lambda: len(watcher.seqs()) >= 1000, timeout=15)
    seqs = watcher.seqs()
    assert seqs == list(range(1, 1001)), "events must arrive in seq order without gaps"
    for prefix in "AB":
        numbers = sorted(int(t.number[1:]) for t in hub.store.tickets() if t.number[0] == prefix)
        assert numbers == list(range(1, 501))
    assert wait_for(lambda: comparable_state(watcher.state()) == comparable_state(hub.store.snapshot()), 3)


def test_hostile_payloads_never_stop_the_hub_nor_change_the_store(hub, client, broker):
    ok(client.request("issue_ticket", {"service": "tu-phap"}))
    before = (hub.store.last_seq(), [t.id for t in hub.store.tickets()])
    answers: list[dict] = []
    client.subscribe(client.topics.response("counter-2"), lambda t, p: answers.append(p))
    payloads = [
        b"", b"{", b"null", b"[]", b"42", b'"x"', b"\xff\xfe", b"{" * 5000, b"x" * 70000,
        json.dumps({"action": "call_next"}).encode(),
        json.dumps({"id": 5, "action": "call_next"}).encode(),
        json.dumps({"id": "a", "action": 7}).encode(),
        json.dumps({"id": "b", "action": "explode", "args": {}}).encode(),
        json.dumps({"id": "c", "action": "call_next", "args": []}).encode(),
        json.dumps({"id": "d", "action": "call_next", "args": {"counter": "99"}}).encode(),
        json.dumps({"id": "e", "action": "issue_ticket", "args": {"service": "nope"}}).encode(),
        json.dumps({"id": "f", "action": "issue_ticket", "args": {"service": None}}).encode(),
        json.dumps({"id": "g", "action": "rate", "args": {"ticket": "x", "score": 1e309}}).encode(),
        json.dumps({"id": "h" * 300, "action": "snapshot"}).encode(),
    ]
    topic = client.topics.request("counter-2")
    for payload in payloads:  # within the pad's burst allowance: each one is answered
        client._mqtt.publish(topic, payload, qos=1)
    assert wait_for(lambda: hub.handled >= 1 + len(payloads), timeout=20)
    for i in range(1000):  # then a flood: dropped, with a rate_limited answer now and then
        client._mqtt.publish(topic, payloads[i % len(payloads)], qos=1)
    assert wait_for(lambda: any(not a["ok"] and a["error"]["code"] == ErrorCode.RATE_LIMITED for a in answers), timeout=20)
    assert all(a["ok"] is False for a in answers if a.get("id") != "snapshot")
    codes = {a["error"]["code"] for a in answers if not a["ok"]}
    assert {ErrorCode.BAD_JSON, ErrorCode.BAD_REQUEST, ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.UNKNOWN_ACTION, ErrorCode.FORBIDDEN,
            ErrorCode.UNKNOWN_SERVICE} <= codes
    assert (hub.store.last_seq(), [t.id for t in hub.store.tickets()]) == before
    assert ok(client.request("issue_ticket", {"service": "tu-phap"}))["ticket"]["number"] == "A002"


def test_devices_may_only_do_their_job(hub, broker, make_client):
    kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
    display = make_client(broker.url, "display-1", Role.DISPLAY, site=SITE)
    stranger = make_client(broker.url, "laptop", Role.COUNTER, site=SITE)
    assert ok(kiosk.request("issue_ticket", {"service": "tu-phap"}))["ticket"]["number"] == "A001"
    for c, action, args in [(kiosk, "call_next", {"counter": "1"}), (display, "issue_ticket", {"service": "tu-phap"}),
                            (stranger, "snapshot", {})]:
        refused = c.request(action, args)
        assert refused["ok"] is False and refused["error"]["code"] == ErrorCode.FORBIDDEN, refused
    assert ok(display.request("snapshot", {}))["site"] == SITE
    assert len(hub.store.tickets()) == 1


def test_requests_waiting_together_run_in_one_transaction_each_answered_once(hub, broker, make_client):
    """A rush: while the store is busy, 12 devices' requests queue; they then commit together."""
    monitors = [make_client(broker.url, f"monitor-rush{i}", Role.MONITOR, site=SITE) for i in range(12)]
    for m in monitors:
        assert m.wait_connected(5)
    ok(monitors[0].request("issue_ticket", {"service": "tu-phap"}, request_id="first"))
    answers: dict[str, list[dict]] = {}
    lock = threading.Lock()

    def keep(name: str):
        def callback(response) -> None:
            with lock:
                answers.setdefault(name, []).append(response)
        return callback

    with hub.store._lock:  # the worker is busy on the store: everything below waits in the hub's queue
        monitors[0].request_async("issue_ticket", {"service": "tu-phap"}, keep("retry"), request_id="first")
        monitors[1].request_async("issue_ticket", {"service": "nope"}, keep("refused"))
        for i, m in enumerate(monitors[2:], start=2):
            m.request_async("issue_ticket", {"service": "tu-phap"}, keep(f"issue{i}"))
        assert wait_for(lambda: hub._requests.pending() >= 11 or hub.batched > 0)
    assert wait_for(lambda: len(answers) == 12)
    assert all(len(a) == 1 for a in answers.values())
    assert hub.batched >= 10
    assert answers["retry"][0]["result"] == ok(monitors[0].request("issue_ticket", {"service": "tu-phap"},
                                                                    request_id="first"))
    assert answers["refused"][0]["error"]["code"] == ErrorCode.UNKNOWN_SERVICE
    numbers = sorted(answers[f"issue{i}"][0]["result"]["ticket"]["number"] for i in range(2, 12))
    assert numbers == [f"A{n:03d}" for n in range(2, 12)]
    assert [e["seq"] for e in hub.store.events_after(0)] == list(range(1, 12))
