"""Broker logins and ACL generated from the site config, on a real mosquitto with the hub behind it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.run import start_hub
from mqtt_bus.broker import EmbeddedBroker
from mqtt_bus.client import BusClient
from qms.context import AppContext
from tests.integration.hub_helpers import SITE, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def secured(tmp_path, always_open_config):
    out = subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(always_open_config), "--data-dir",
                          str(tmp_path / "data"), "credentials", "--out", str(tmp_path / "mq")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    passwords = json.loads((tmp_path / "data" / "credentials.json").read_text())
    broker = EmbeddedBroker(tmp_path / "broker", password_file=tmp_path / "mq" / "passwd",
                            acl_file=tmp_path / "mq" / "acl").start()
    ctx = AppContext(config_path=always_open_config, data_dir=tmp_path / "data")
    hub = start_hub(ctx, f"mqtt://hub:{passwords['hub']}@127.0.0.1:{broker.port}", poll_interval=0.05)
    clients: list[BusClient] = []

    def login(device: str, password: str | None = None) -> BusClient:
        role = device.split("-")[0]
        url = f"mqtt://{device}:{password or passwords[device]}@127.0.0.1:{broker.port}"
        client = BusClient(url, SITE, device, "counter" if role == "rating" else role).start()
        clients.append(client)
        return client

    yield hub, login
    for c in clients:
        c.close(timeout=1)
    hub.stop()
    hub.store.close()
    broker.stop()


def test_each_device_does_its_job_and_nothing_else(secured):
    hub, login = secured
    kiosk, pad1, pad2, display = login("kiosk-1"), login("counter-1"), login("counter-2"), login("display-1")
    assert all(c.wait_connected(5) for c in (kiosk, pad1, pad2, display))
    seen: list[dict] = []
    display.subscribe(display.topics.state_counters_all, lambda t, p: seen.append(p))

    ticket = kiosk.request("issue_ticket", {"service": "huong-dan"})["result"]["ticket"]
    called = pad1.request("call_next", {"counter": "1"})["result"]["ticket"]
    assert called["id"] == ticket["id"]
    assert wait_for(lambda: any(p["counter"] == "1" and p["ticket"] for p in seen), 3), "display reads state"

    # counter-1 cannot publish on counter-2's request topic: the broker drops it, nothing happens
    pad1.publish_json(pad1.topics.request("counter-2"),
                      {"id": "sneaky", "action": "complete", "args": {"counter": "1"}})
    # a display may ask only read-only actions (events_since, snapshot): the hub refuses the rest
    refused = display.request("call_next", {"counter": "1"})
    assert refused["error"]["code"] == "forbidden"
    assert display.request("events_since", {"after": 0})["result"]["last_seq"] == hub.store.last_seq()
    time.sleep(0.5)
    assert hub.handled == 4
    assert hub.store.ticket(ticket["id"]).status.value == "called"
    # pad 2 is a real pad but may not act for counter 1
    refused = pad2.request("complete", {"counter": "1"})
    assert refused["error"]["code"] == "forbidden"


def test_wrong_password_is_refused(secured):
    _, login = secured
    intruder = login("counter-3", password="guess")
    assert not intruder.wait_connected(1.5)
