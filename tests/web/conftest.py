"""Web app fixtures: the commune center's config in the test's folder, a manager and a technician."""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import testkit.sites
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker
from mqtt_bus.client import BusClient
from mqtt_bus.clock_probe import ClockProbe
from mqtt_bus.contract import Role
from qms.config import yaml_rt
from qms.context import AppContext
from qms.hub_service import start_hub
from web.app import WebSettings, create_app

MANAGER = ("lan", "mat-khau-quan-ly")
TECHNICIAN = ("kythuat", "mat-khau-ky-thuat")


@pytest.fixture
def settings(tmp_path, always_open_config) -> WebSettings:
    """Settings over a copy of the shipped config; no broker (the devices page says so)."""
    return WebSettings(config_path=always_open_config, data_dir=tmp_path / "data")


@pytest.fixture
def app(settings):
    """The app with one manager and one technician."""
    app = create_app(settings)
    accounts = app.extensions["qms_accounts"]
    accounts.add(MANAGER[0], "manager", MANAGER[1])
    accounts.add(TECHNICIAN[0], "technician", TECHNICIAN[1])
    return app


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no csrf field on the page"
    return found.group(1)


def tokens_of(html: str) -> dict[str, str]:
    """The hidden fields an edit form posts back: its CSRF token and the file's fingerprint."""
    found = re.search(r'name="base" value="([^"]+)"', html)
    assert found, "no base field on the page"
    return {"csrf": csrf_of(html), "base": found.group(1)}


@pytest.fixture
def login(app) -> Callable[..., object]:
    """``login(MANAGER)`` -> a test client logged in as that account."""
    def make(who: tuple[str, str]):
        client = app.test_client()
        r = client.post("/login", data={"username": who[0], "password": who[1]})
        assert r.status_code == 302, r.data
        return client
    return make


def post_form(client, url: str, data: dict) -> object:
    """GET the form at ``url`` for its CSRF token, then POST ``data`` to it."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**data, **tokens_of(page.get_data(as_text=True))})


def config_text(settings: WebSettings) -> str:
    """The config file as it is now."""
    return Path(settings.config_path).read_text(encoding="utf-8")


@pytest.fixture
def broker(tmp_path) -> Iterator[EmbeddedBroker]:
    """A private mosquitto on a free loopback port."""
    try:
        b = EmbeddedBroker(tmp_path / "mosquitto").start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield b
    finally:
        b.stop()


KIOSK_AHEAD_S = 95  # kiosk-1's clock runs this far ahead of the hub's in the boards fixture


@pytest.fixture
def boards(broker, tmp_path) -> Iterator[str]:
    """A site with a real hub (online), an online kiosk out of paper whose clock is 95 s ahead, a display that
    went away and a silent one; the two online boards measured their clocks against the hub's (ClockProbe)."""
    site = f"t-{uuid.uuid4().hex[:8]}"
    config = testkit.sites.always_open_config(tmp_path / "hub")
    doc = yaml_rt().load(config.read_text(encoding="utf-8"))
    doc["site"]["id"] = site
    with open(config, "w", encoding="utf-8") as f:
        yaml_rt().dump(doc, f)
    hub = start_hub(AppContext(config_path=config, data_dir=tmp_path / "hub" / "data"), broker.url)
    kiosk = BusClient(broker.url, site, "kiosk-1", Role.KIOSK)
    kiosk.set_status_extra({"audio": "hw:0,0 (USB Audio)"})
    kiosk.start()
    display = BusClient(broker.url, site, "display-1", Role.DISPLAY).start()
    silent = BusClient(broker.url, site, "display-2", Role.DISPLAY)  # its status as docs/protocol.md says
    silent.set_status_extra({"audio": {"state": "no_device", "detail": "no sound card: plug in the USB speaker"}})
    silent.start()
    for c in (hub.bus, kiosk, display, silent):
        assert c.wait_connected(5)
    ahead = ClockProbe(kiosk, clock=lambda: datetime.now(UTC) + timedelta(seconds=KIOSK_AHEAD_S)).check_once()
    assert ahead is not None and abs(ahead - KIOSK_AHEAD_S) < 2
    assert ClockProbe(silent).check_once() is not None
    kiosk.publish_json(kiosk.topics.state_device("kiosk-1"), {
        "kind": "printer", "state": "paper_out", "detail": "no paper", "ts": "2026-12-01T09:00:00+07:00"},
        retain=True).wait_for_publish(5)
    display.close(timeout=2)  # a clean stop publishes online: false
    try:
        yield site
    finally:
        for c in (kiosk, silent):
            c.close(timeout=1)
        hub.stop()
        if hub.store is not None:
            hub.store.close()


def set_site_id(settings: WebSettings, site: str) -> None:
    """Point the config at ``site`` (the web app reads the site id from it)."""
    doc = yaml_rt().load(settings.config_path.read_text(encoding="utf-8"))
    doc["site"]["id"] = site
    with open(settings.config_path, "w", encoding="utf-8") as f:
        yaml_rt().dump(doc, f)


CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def served(app) -> Iterator[str]:
    """The app on a free loopback port, as `qms web` serves it; yields its base URL."""
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.port}"
    finally:
        srv.shutdown()
        thread.join(5)


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where the screenshots go: $QMS_SHOTS (e.g. docs/screens) when set, else the test's folder."""
    folder = Path(os.environ["QMS_SHOTS"]) if os.environ.get("QMS_SHOTS") else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Debian Chromium (Playwright, no browser download)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()
