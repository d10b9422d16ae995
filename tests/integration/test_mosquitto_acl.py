"""Generated ACL + password file enforced by a real mosquitto; the shipped config files."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest

from hub.server import Hub
from hub.store import Store
from mqtt_bus import acl as acl_mod
from mqtt_bus.acl import render_acl, write_password_file
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker
from mqtt_bus.client import BusClient
from mqtt_bus.contract import HUB_CLIENT_ID, ErrorCode, EventType, Role
from mqtt_bus.topics import Topics
from tests.factories import local, make_site
from tests.install.site_broker import site_broker
from tests.integration.hub_helpers import Inbox, subscriptions_active, wait_for

SITE = "xa-demo"
T = Topics(SITE)
DEVICES = [(HUB_CLIENT_ID, Role.HUB), ("counter-3", Role.COUNTER), ("counter-4", Role.COUNTER), ("kiosk-1", Role.KIOSK),
           ("display-1", Role.DISPLAY)]
PASSWORDS = {cid: f"pw-{cid}-Đ" for cid, _ in DEVICES}
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "mosquitto"


@pytest.fixture
def secured(tmp_path):
    acl = tmp_path / "acl"
    acl.write_text(render_acl(SITE, DEVICES))
    passwd = write_password_file(tmp_path / "passwd", PASSWORDS)
    try:
        b = EmbeddedBroker(tmp_path / "mosquitto", password_file=passwd, acl_file=acl).start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    yield b
    b.stop()


@pytest.fixture
def login(secured, make_client):
    """``login(client_id, role)`` -> connected BusClient using its own credentials."""

    def make(client_id: str, role: str, password: str | None = None) -> BusClient:
        pw = PASSWORDS[client_id] if password is None else password
        url = f"mqtt://{client_id}:{pw}@127.0.0.1:{secured.port}".replace("Đ", "%C4%90")
        c = make_client(url, client_id, role, site=SITE)
        assert c.wait_connected(3), secured.log_tail()
        return c

    return make


def test_counter_may_publish_only_its_own_request_topic(login):
    hub = login(HUB_CLIENT_ID, Role.HUB)
    seen = Inbox()
    hub.subscribe(T.requests_all, seen)
    counter = login("counter-3", "counter")
    subscriptions_active(hub)
    counter.publish_json(T.request("counter-4"), {"id": "forged", "action": "call_next", "args": {}})
    counter.publish_json(T.request("counter-3"), {"id": "mine", "action": "call_next", "args": {}})
    seen.wait_for(lambda t, p: p["id"] == "mine")
    # same client, same QoS: the forged one would have arrived first
    assert [p["id"] for _, p in seen.items] == ["mine"]


def test_counter_rpc_through_acl(login):
    hub = login(HUB_CLIENT_ID, Role.HUB)

    def answer(topic: str, payload: dict) -> None:
        hub.publish_json(T.response(T.parse(topic).id), {"id": payload["id"], "ok": True, "result": {}})

    hub.subscribe(T.requests_all, answer)
    subscriptions_active(hub)
    assert login("counter-3", "counter").request("call_next", {"counter": "c3"}, timeout=2)["ok"]


def test_counter_cannot_read_another_counters_responses(login):
    hub = login(HUB_CLIENT_ID, Role.HUB)
    counter = login("counter-3", Role.COUNTER)
    got = Inbox()
    counter.subscribe(T.response("counter-4"), got)
    counter.subscribe(T.response("counter-3"), got)
    subscriptions_active(counter)
    hub.publish_json(T.response("counter-4"), {"id": "theirs", "ok": True, "result": {}})
    hub.publish_json(T.response("counter-3"), {"id": "mine", "ok": True, "result": {}})
    got.wait_for(lambda t, p: p["id"] == "mine")
    assert [p["id"] for _, p in got.items] == ["mine"]


def test_display_only_reads_and_asks_its_own_requests(login):
    hub = login(HUB_CLIENT_ID, Role.HUB)
    everything = Inbox()
    hub.subscribe(T.all, everything)
    display = login("display-1", Role.DISPLAY)
    shown = Inbox()
    display.subscribe(T.events_all, shown)
    subscriptions_active(hub)
    subscriptions_active(display)
    display.publish_json(T.request("display-1"), {"id": "d1", "action": "events_since", "args": {"after": 0}})
    display.publish_json(T.request("counter-3"), {"id": "d2", "action": "call_next", "args": {}})
    display.publish_json(T.state_counter("c1"), {"counter": "c1", "status": "closed"})
    display.publish_json(T.event(EventType.TICKET_CALLED), {"seq": 999})
    display.publish_json(T.status("display-1"), {"online": True, "role": Role.DISPLAY, "ts": "sentinel"})
    everything.wait_for(lambda t, p: p.get("ts") == "sentinel")
    forbidden = [(t, p) for t, p in everything.items if "/request/" in t or "/state/" in t or "/event/" in t]
    assert forbidden == [(T.request("display-1"), {"id": "d1", "action": "events_since", "args": {"after": 0}})]
    hub.publish_json(T.event(EventType.TICKET_CALLED), {"seq": 1})
    shown.wait_for(lambda t, p: p["seq"] == 1)
    assert [p["seq"] for _, p in shown.items] == [1]


def test_display_may_fetch_events_but_not_call(login, tmp_path):
    """Through the ACL and the real hub: ``events_since`` is answered, ``call_next`` is ``forbidden``."""
    store = Store(tmp_path / "queue.sqlite3", replace(make_site(), site=SITE))
    assert store.run("issue_ticket", {"service": "tu-phap"}, now=local(2026, 11, 23, 9, 0)).ok
    hub_client = login(HUB_CLIENT_ID, Role.HUB)
    hub = Hub(store, hub_client, poll_interval=0.05).start()
    try:
        display = login("display-1", Role.DISPLAY)
        fetched = display.request("events_since", {"after": 0}, timeout=3)
        assert fetched["ok"], fetched
        assert [e["type"] for e in fetched["result"]["events"]] == [EventType.TICKET_ISSUED]
        assert fetched["result"]["last_seq"] == 1 and fetched["result"]["more"] is False
        refused = display.request("call_next", {"counter": "1"}, timeout=3)
        assert refused["ok"] is False and refused["error"]["code"] == ErrorCode.FORBIDDEN, refused
        assert store.last_seq() == 1
    finally:
        hub.stop()
        store.close()


def test_wrong_password_and_anonymous_are_refused(secured, make_client, caplog):
    caplog.set_level(logging.WARNING, logger="mqtt_bus.client")
    bad = make_client(f"mqtt://counter-3:wrong@127.0.0.1:{secured.port}", "counter-3", "counter", site=SITE)
    anon = make_client(secured.url, "nobody", "display", site=SITE)
    # each is refused on every attempt: wait until both have been refused (at least) once
    assert wait_for(lambda: "refused counter-3" in caplog.text and "refused nobody" in caplog.text), caplog.text
    assert not bad.is_connected and not anon.is_connected


def test_write_password_file_hashes(tmp_path):
    path = write_password_file(tmp_path / "sub" / "passwd", {"hub": "s3cret"})
    text = path.read_text()
    assert text.startswith("hub:$") and "s3cret" not in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["passwd"]
    with pytest.raises(ValueError, match="':'"):
        write_password_file(tmp_path / "x", {"a:b": "pw"})


def test_write_password_file_without_tool(monkeypatch, tmp_path):
    monkeypatch.setattr(acl_mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(acl_mod.os, "access", lambda path, mode: False)
    with pytest.raises(RuntimeError, match="apt-get install mosquitto"):
        write_password_file(tmp_path / "passwd", {"hub": "pw"})


def test_render_acl_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown role"):
        render_acl(SITE, [("x", "admin")])
    with pytest.raises(ValueError, match="twice"):
        render_acl(SITE, [("x", Role.HUB), ("x", Role.DISPLAY)])
    with pytest.raises(ValueError, match="must not contain"):
        render_acl(SITE, [("a/b", Role.HUB)])


def _rules(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_shipped_example_acl_matches_render_acl():
    example = [(HUB_CLIENT_ID, Role.HUB), ("kiosk-1", Role.KIOSK), ("counter-1", Role.COUNTER), ("counter-2", Role.COUNTER),
               ("counter-3", Role.COUNTER), ("display-1", Role.DISPLAY), ("tech", Role.MONITOR)]
    assert _rules((CONFIG_DIR / "acl").read_text()) == _rules(render_acl(SITE, example))


def test_shipped_drop_in_composes_with_debians_default(tmp_path):
    """Debian's mosquitto.conf + our conf.d/qms.conf, paths moved into a temp dir: starts, no warnings."""
    text = (CONFIG_DIR / "qms.conf").read_text()
    for needed in ("max_queued_messages", "password_file /etc/mosquitto/qms/", "acl_file /etc/mosquitto/qms/",
                   "allow_anonymous false", "use_username_as_clientid true"):
        assert needed in text
    for debians in ("pid_file", "persistence ", "persistence_location", "log_dest", "include_dir", "user "):
        assert not re.search(rf"^{debians}", text, flags=re.M), f"Debian's file sets {debians.strip()}: set twice"
    write_password_file(tmp_path / "passwd", PASSWORDS)
    (tmp_path / "acl").write_text(render_acl(SITE, DEVICES))
    b = site_broker(tmp_path / "root", tmp_path / "passwd", tmp_path / "acl")
    try:
        b.start()
        hub = BusClient(f"mqtt://{HUB_CLIENT_ID}:{PASSWORDS[HUB_CLIENT_ID]}@127.0.0.1:{b.port}".replace("Đ", "%C4%90"), SITE, HUB_CLIENT_ID, Role.HUB)
        try:
            assert hub.start().wait_connected(3), b.log_tail()
        finally:
            hub.close()
        logs = b.log_path.read_text() + b.stderr_path.read_text()
        complaints = [ln for ln in logs.splitlines() if ("Warning" in ln or "Note" in ln) and "root" not in ln]
        assert not complaints
    except BrokerUnavailable as exc:
        if "not installed" in str(exc):
            pytest.skip(str(exc))
        raise
    finally:
        b.stop()


def test_only_the_hub_publishes_the_config_catalogue_and_every_device_reads_it(login):
    """Live config (docs/protocol.md): a device cannot forge the catalogue; kiosk, pad and display read it."""
    hub = login(HUB_CLIENT_ID, Role.HUB)
    readers = {cid: login(cid, role) for cid, role in DEVICES if cid != HUB_CLIENT_ID}
    seen = {cid: Inbox() for cid in readers}
    for cid, client in readers.items():
        client.subscribe(T.config, seen[cid])
        subscriptions_active(client)
    for cid, client in readers.items():
        client.publish_json(T.config, {"sha256": f"forged-by-{cid}"}, retain=True)
    hub.publish_json(T.config, {"sha256": "from-the-hub"}, retain=True)
    for cid in readers:
        seen[cid].wait_for(lambda t, p: p["sha256"] == "from-the-hub")
        assert [p["sha256"] for _, p in seen[cid].items] == ["from-the-hub"], cid
    late = login("kiosk-1", Role.KIOSK)  # a device starting later gets the retained one
    again = Inbox()
    late.subscribe(T.config, again)
    again.wait_for(lambda t, p: p["sha256"] == "from-the-hub")
