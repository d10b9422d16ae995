"""Broker logins and ACL generated from the site config, on a real mosquitto with the hub behind it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from mqtt_bus.broker import EmbeddedBroker
from mqtt_bus.client import BusClient
from mqtt_bus.contract import HUB_CLIENT_ID, ErrorCode, EventType, Role
from mqtt_bus.topics import Topics
from qms.context import AppContext
from qms.hub_service import start_hub
from tests.install.site_broker import site_broker
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
    hub = start_hub(ctx, f"mqtt://{HUB_CLIENT_ID}:{passwords[HUB_CLIENT_ID]}@127.0.0.1:{broker.port}", poll_interval=0.05)
    clients: list[BusClient] = []

    def login(device: str, password: str | None = None) -> BusClient:
        role = device.split("-")[0]
        url = f"mqtt://{device}:{password or passwords[device]}@127.0.0.1:{broker.port}"
        client = BusClient(url, SITE, device, Role.COUNTER if role == Role.RATING else role).start()
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
    assert refused["error"]["code"] == ErrorCode.FORBIDDEN
    assert display.request("events_since", {"after": 0})["result"]["last_seq"] == hub.store.last_seq()
    # pad 1's packets reach the broker in order: once its next request is answered, "sneaky" had its turn
    assert pad1.request("snapshot", {})["ok"]
    assert hub.handled == 5
    assert hub.store.ticket(ticket["id"]).status.value == "called"
    # pad 2 is a real pad but may not act for counter 1
    refused = pad2.request("complete", {"counter": "1"})
    assert refused["error"]["code"] == ErrorCode.FORBIDDEN


def test_wrong_password_is_refused(secured):
    _, login = secured
    intruder = login("counter-3", password="guess")
    assert not intruder.wait_connected(1.5)


# -- the installed broker: a device login cannot take over the hub, and no password leaks ---------

@pytest.fixture
def board(tmp_path, always_open_config):
    """A hub board in a temp dir: qms credentials, the installed mosquitto config, secrets, qms.env."""
    etc = tmp_path / "etc"
    out = subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(always_open_config), "--data-dir",
                          str(tmp_path / "data"), "credentials", "--out", str(tmp_path / "mq"),
                          "--secrets", str(etc / "credentials.json"), "--logins", str(etc / "logins.txt")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    passwords = json.loads((etc / "credentials.json").read_text())
    assert not any(pw in out.stdout for pw in passwords.values()), "passwords printed to a non-terminal"
    broker = site_broker(tmp_path / "mosquitto", tmp_path / "mq" / "passwd", tmp_path / "mq" / "acl").start()
    secrets = etc / "secrets"
    secrets.mkdir(mode=0o700)
    for device in (HUB_CLIENT_ID, "kiosk-1", "counter-1", "monitor-technician"):
        fd = os.open(secrets / device, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, passwords[device].encode() + b"\n")
        os.close(fd)
    env_file = etc / "qms.env"
    env_file.write_text(f"QMS_ROLES='hub'\nQMS_CONFIG={always_open_config}\nQMS_DATA_DIR={tmp_path / 'data'}\n"
                        f"QMS_BROKER=mqtt://127.0.0.1:{broker.port}\nQMS_SECRETS_DIR={secrets}\n")
    env_file.chmod(0o640)
    yield SimpleNamespace(tmp=tmp_path, env_file=env_file, broker=broker, passwords=passwords,
                          url=lambda device: f"mqtt://{device}:{passwords[device]}@127.0.0.1:{broker.port}")
    broker.stop()


STOP_TIMEOUT = 30  # the machine is shared: a loaded disk makes the store's last commit slow


@contextlib.contextmanager
def hub_process(board: SimpleNamespace) -> Iterator[SimpleNamespace]:
    """``qms hub`` as the unit runs it (the board's env file), with a systemd notify socket."""
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(board.tmp / "notify.sock"))
    notify.settimeout(20)
    stderr = board.tmp / "hub.stderr"
    env = {**os.environ, "QMS_ENV_FILE": str(board.env_file), "NOTIFY_SOCKET": str(board.tmp / "notify.sock"),
           "WATCHDOG_USEC": "1000000", "PYTHONFAULTHANDLER": "1"}
    with open(stderr, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "qms.cli", "hub"], cwd=ROOT, env=env, stdout=err, stderr=err)
    try:
        yield SimpleNamespace(proc=proc, notify=notify, stderr=stderr)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler: every thread's stack to stderr
            proc.wait(timeout=5)
            print(f"qms hub did not stop on SIGTERM within {STOP_TIMEOUT} s; its output:\n{stderr.read_text()}")
            raise
        finally:
            proc.kill() if proc.poll() is None else None
            notify.close()


def test_a_device_login_cannot_take_over_the_hub_session(board):
    t = Topics(SITE)
    with hub_process(board) as hub:
        assert hub.notify.recv(64) == b"READY=1"
        assert hub.notify.recv(64) == b"WATCHDOG=1"  # pinged at half of WATCHDOG_USEC while healthy
        monitor = BusClient(board.url("monitor-technician"), SITE, "monitor-technician", Role.MONITOR)
        seen: list[tuple[str, dict]] = []
        hub_online = threading.Event()

        def record(topic: str, payload: dict) -> None:
            seen.append((topic, payload))
            if topic == t.status(HUB_CLIENT_ID) and payload.get("online"):
                hub_online.set()

        monitor.subscribe(t.all, record)
        monitor.start()
        kiosk = None
        try:
            assert hub_online.wait(15), hub.stderr.read_text()
            for attempt in range(5):
                # kiosk-1's own password, presenting the hub's client id. The real kiosk-1 joins only
                # afterwards: the broker makes this login kiosk-1, so a running kiosk-1 would take its
                # session back (and cut the intruder off) before every forged message was sent.
                intruder = BusClient(board.url("kiosk-1"), SITE, HUB_CLIENT_ID, Role.HUB).start()
                assert intruder.wait_connected(5), f"attempt {attempt}: the broker let the login in"
                for topic in (t.state_counter("1"), t.event(EventType.TICKET_CALLED), t.response("counter-1"),
                              t.status(HUB_CLIENT_ID)):
                    intruder.publish_json(topic, {"forged": attempt, "online": False}).wait_for_publish(3)
                intruder.close()
            kiosk = BusClient(board.url("kiosk-1"), SITE, "kiosk-1", Role.KIOSK).start()
            assert kiosk.wait_connected(5)
            ticket = kiosk.request("issue_ticket", {"service": "huong-dan"}, timeout=10)["result"]["ticket"]
            assert wait_for(lambda: any(p.get("ticket", {}) and p["ticket"].get("id") == ticket["id"]
                                        for tp, p in seen if tp == t.event(EventType.TICKET_ISSUED)), 5)
        finally:
            if kiosk is not None:
                kiosk.close()
            monitor.close()
        assert not [p for _, p in seen if "forged" in p], "the intruder published on hub topics"
        assert not [p for tp, p in seen if tp == t.status(HUB_CLIENT_ID) and not p.get("online")], "the hub went offline"
        assert "lost the broker" not in hub.stderr.read_text()
        broker_log = board.broker.log_path.read_text()
        assert "Client hub already connected" not in broker_log
        assert not [ln for ln in broker_log.splitlines() if " hub " in f"{ln} " and "disconnect" in ln.lower()]
        hub.proc.terminate()
        assert hub.proc.wait(timeout=STOP_TIMEOUT) == 0


def test_no_password_in_logs_or_files_readable_by_others(board):
    with hub_process(board) as hub:
        assert hub.notify.recv(64) == b"READY=1"
        kiosk = BusClient(board.url("kiosk-1"), SITE, "kiosk-1", Role.KIOSK).start()
        try:
            assert kiosk.wait_connected(10)
            assert kiosk.request("issue_ticket", {"service": "huong-dan"}, timeout=10)["ok"]
        finally:
            kiosk.close()
        hub.proc.terminate()
        assert hub.proc.wait(timeout=STOP_TIMEOUT) == 0
    log_file = board.tmp / "data" / "logs" / "hub.log"
    logs = log_file.read_text() + hub.stderr.read_text()
    assert "hub connected to mqtt://hub:***@127.0.0.1" in logs
    leaked = [device for device, pw in board.passwords.items() if pw in logs]
    assert leaked == [], f"passwords of {leaked} in the hub's log"
    assert log_file.stat().st_mode & 0o777 == 0o640
    secret_files = [board.tmp / "etc" / "credentials.json", board.tmp / "etc" / "logins.txt",
                    *(board.tmp / "etc" / "secrets").iterdir(), board.tmp / "mq" / "passwd"]
    assert {oct(f.stat().st_mode & 0o777) for f in secret_files} == {"0o600"}
    assert (board.tmp / "etc" / "secrets").stat().st_mode & 0o777 == 0o700
    for path in board.tmp.rglob("*"):
        if path.is_file() and path.stat().st_mode & 0o004 and not path.is_socket():
            text = path.read_bytes().decode("utf-8", "replace")
            assert not [d for d, pw in board.passwords.items() if pw in text], f"{path} is readable by others"
