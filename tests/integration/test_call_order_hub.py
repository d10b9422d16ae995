"""Issue 18/14 on the real hub and broker: preferred service first, the starvation guard, honest estimates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.server import Hub
from mqtt_bus.client import BusClient
from mqtt_bus.contract import Role
from qms.context import AppContext
from qms.hub_service import start_hub
from tests.integration.hub_helpers import SITE, Watcher, wait_for


def ok(response: dict) -> dict:
    assert response["ok"] is True, response
    return response["result"]


def start(config: Path, data_dir: Path, broker_url: str) -> Hub:
    hub = start_hub(AppContext(config_path=config, data_dir=data_dir), broker_url, poll_interval=0.05)
    assert hub.bus.wait_connected(5)
    return hub


@pytest.fixture
def guard_hub(tmp_path, always_open_config, broker) -> Iterator[Hub]:
    """The commune center with a starvation guard of 1.2 s instead of 20 min."""
    text = always_open_config.read_text(encoding="utf-8")
    assert "preferred_max_wait_min: 20 " in text
    always_open_config.write_text(text.replace("preferred_max_wait_min: 20 ", "preferred_max_wait_min: 0.02 "),
                                  encoding="utf-8")
    hub = start(always_open_config, tmp_path / "data", broker.url)
    yield hub
    hub.stop()
    hub.store.close()


@pytest.fixture
def pad1(broker, make_client) -> BusClient:
    c = make_client(broker.url, "counter-1", Role.COUNTER, site=SITE)
    assert c.wait_connected(5)
    return c


def test_counter_1_calls_guidance_before_an_earlier_justice_ticket(hub, pad1, broker, make_client):
    """config/commune.yaml: counter 1 serves huong-dan, tra-ket-qua, tu-phap — first = preferred."""
    display = make_client(broker.url, "display-1", Role.DISPLAY, site=SITE, start=False)
    watcher = Watcher(display)
    display.start()
    assert display.wait_connected(5)
    a1 = ok(pad1.request("issue_ticket", {"service": "tu-phap"}))["ticket"]
    g1 = ok(pad1.request("issue_ticket", {"service": "huong-dan"}))["ticket"]
    assert (a1["number"], g1["number"]) == ("A001", "G001")
    # nobody signed in and no call yet: nothing to estimate from
    assert a1["est_wait_s"] is None and g1["est_wait_s"] is None
    assert wait_for(lambda: watcher.state()["counters"].get("1", {}).get("staffed") is False)
    assert wait_for(lambda: "est_wait_s" in (svc := watcher.state()["services"].get("tu-phap", {})) and svc["est_wait_s"] is None)
    ok(pad1.request("sign_in", {"counter": "1", "officer": "Nguyễn Thị Lan"}))
    assert wait_for(lambda: watcher.state()["counters"].get("1", {}).get("staffed") is True)
    assert ok(pad1.request("call_next", {"counter": "1"}))["ticket"]["id"] == g1["id"]
    assert ok(pad1.request("call_next", {"counter": "1"}))["ticket"]["id"] == a1["id"]


def test_the_guard_lets_an_old_ticket_of_another_service_go_first(guard_hub, pad1):
    a1 = ok(pad1.request("issue_ticket", {"service": "tu-phap"}))["ticket"]
    ok(pad1.request("issue_ticket", {"service": "huong-dan"}))
    time.sleep(1.3)  # A001 has now waited longer than the guard's 0.02 min
    ok(pad1.request("issue_ticket", {"service": "huong-dan"}))
    assert ok(pad1.request("call_next", {"counter": "1"}))["ticket"]["id"] == a1["id"]
