"""Integration fixtures: a REAL mosquitto (EmbeddedBroker) on a free loopback port, never 1883."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from hub.server import Hub
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker
from mqtt_bus.client import BusClient
from mqtt_bus.contract import Role
from qms.context import AppContext
from qms.hub_service import start_hub


def _start(data_dir, **kwargs) -> EmbeddedBroker:
    try:
        return EmbeddedBroker(data_dir, **kwargs).start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def broker(tmp_path) -> Iterator[EmbeddedBroker]:
    """A private mosquitto for one test (may be restarted or killed by the test)."""
    b = _start(tmp_path / "mosquitto")
    try:
        yield b
    finally:
        b.stop()
        assert not b.is_running()


@pytest.fixture(scope="session")
def shared_broker(tmp_path_factory) -> Iterator[EmbeddedBroker]:
    """One mosquitto for the session: don't restart it; use a unique ``site`` per test."""
    b = _start(tmp_path_factory.mktemp("shared-mosquitto"))
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def site() -> str:
    """A site name of its own, so retained messages of other tests don't leak in."""
    return f"t-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_client(site) -> Iterator[Callable[..., BusClient]]:
    """``make_client(url, client_id, role="display", **kw)`` -> started BusClient, closed at teardown."""
    clients: list[BusClient] = []

    def make(url: str, client_id: str, role: str = Role.DISPLAY, *, start: bool = True, **kw) -> BusClient:
        kw.setdefault("site", site)
        c = BusClient(url, kw.pop("site"), client_id, role, **kw)
        clients.append(c)
        return c.start() if start else c

    yield make
    for c in clients:
        c.close(timeout=1.0)


@pytest.fixture
def ctx(tmp_path, always_open_config) -> AppContext:
    """The default commune center (always open) with its data in the test's folder."""
    return AppContext(config_path=always_open_config, data_dir=tmp_path / "data")


@pytest.fixture
def hub(ctx, broker) -> Iterator[Hub]:
    """A running hub on the test's broker, polling its outbox quickly."""
    h = start_hub(ctx, broker.url, poll_interval=0.05)
    assert h.bus.wait_connected(5)
    yield h
    h.stop()
    h.store.close()
