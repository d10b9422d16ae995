"""The devices page's buttons: a printer test page and a reprint on a chosen kiosk, as requests through a
real hub (``start_hub``, real SQLite) on a real mosquitto; technician only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mqtt_bus.client import BusClient
from mqtt_bus.contract import EventType, Role
from qms.context import AppContext
from qms.hub_service import start_hub
from tests.integration.hub_helpers import wait_for
from web.health import hub_request

from .conftest import MANAGER, TECHNICIAN, csrf_of

SITE = "xa-da-huoai"


@pytest.fixture
def hub(settings, broker) -> Iterator[Any]:
    h = start_hub(AppContext(config_path=settings.config_path, data_dir=settings.data_dir), broker.url)
    assert h.bus.wait_connected(5)
    yield h
    h.stop()
    h.store.close()


@pytest.fixture
def kiosk(broker) -> Iterator[tuple[BusClient, list[tuple[str, dict[str, Any]]]]]:
    """kiosk-1 on the bus, recording the hub's commands to it and the reprints meant for it."""
    seen: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    client = BusClient(broker.url, SITE, "kiosk-1", Role.KIOSK)

    def keep(topic: str, payload: dict[str, Any]) -> None:
        with lock:
            seen.append((topic.rsplit("/", 2)[-2], payload))

    client.subscribe(client.topics.command("kiosk-1"), keep)
    client.subscribe(client.topics.event(EventType.REPRINT_REQUESTED), keep)
    client.start()
    assert client.wait_connected(5)
    yield client, seen
    client.close(timeout=1)


def press(client, url: str, data: dict[str, str] | None = None) -> str:
    page = client.get("/devices")
    r = client.post(url, data={**(data or {}), "csrf": csrf_of(page.get_data(as_text=True))})
    assert r.status_code == 302, r.status_code
    return client.get("/devices").get_data(as_text=True)


def test_technician_prints_a_test_page_and_reprints_a_number_on_a_chosen_kiosk(
        settings, login, broker, hub, kiosk):
    settings.device_request = lambda action, args: hub_request(broker.url, SITE, action, args)
    settings.health = None
    bus, seen = kiosk
    assert bus.request("issue_ticket", {"service": "tu-phap"})["result"]["ticket"]["number"] == "A001"
    tech = login(TECHNICIAN)

    page = press(tech, "/devices/kiosk-1/test-page")
    assert "Test page sent to kiosk-1" in page
    assert wait_for(lambda: any(kind == "command" for kind, _ in seen), 3)
    command = next(p for kind, p in seen if kind == "command")
    assert command["command"] == "printer_test" and command["by"] == "monitor-web"

    page = press(tech, "/devices/kiosk-1/reprint", {"number": "a001"})
    assert "Reprint of A001 sent to kiosk-1" in page
    assert wait_for(lambda: any(kind == "event" for kind, _ in seen), 3)
    event = next(p for kind, p in seen if kind == "event")
    assert event["kiosk"] == "kiosk-1" and event["ticket"]["number"] == "A001"

    page = press(tech, "/devices/kiosk-1/reprint", {"number": "Z999"})
    assert "Not sent (unknown_ticket)" in page


def test_manager_is_refused_and_devices_may_not_ask_for_a_test_page(settings, login, broker, hub, kiosk):
    sent: list[str] = []
    settings.device_request = lambda action, args: sent.append(action) or {"ok": True}
    manager = login(MANAGER)
    token = csrf_of(manager.get("/").get_data(as_text=True))
    assert manager.post("/devices/kiosk-1/test-page", data={"csrf": token}).status_code == 403
    assert sent == []
    bus, _seen = kiosk
    refused = bus.request("printer_test", {"kiosk": "kiosk-1"})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    bad = hub_request(broker.url, SITE, "printer_test", {"kiosk": "display-1"})
    assert bad["ok"] is False and bad["error"]["code"] == "bad_request"
