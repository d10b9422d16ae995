"""qms.sdnotify: the datagrams systemd expects, and nothing without systemd."""

from __future__ import annotations

import os
import socket

import pytest

from qms import sdnotify


@pytest.fixture
def manager(tmp_path):
    """A datagram socket standing in for systemd's notify socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(5)
    yield sock
    sock.close()


def test_ready_and_watchdog_reach_the_socket(manager, monkeypatch, tmp_path):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    assert sdnotify.ready() and sdnotify.watchdog()
    assert [manager.recv(64), manager.recv(64)] == [b"READY=1", b"WATCHDOG=1"]


def test_abstract_socket_address():
    name = f"qms-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(64) == b"READY=1"


def test_without_systemd_nothing_happens(monkeypatch, tmp_path):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not sdnotify.ready()
    assert sdnotify.start_kivy_watchdog() is None
    # a socket that went away is logged, never raised
    assert not sdnotify.notify("WATCHDOG=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")})


def test_ping_interval_is_half_the_watchdog():
    assert sdnotify.ping_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert sdnotify.ping_interval({}) == sdnotify.DEFAULT_PING_S
    assert sdnotify.ping_interval({"WATCHDOG_USEC": "junk"}) == sdnotify.DEFAULT_PING_S


def test_a_manager_that_does_not_read_never_blocks_the_service(manager, monkeypatch, tmp_path):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    sent = [sdnotify.watchdog() for _ in range(5000)]  # far more than the socket's queue holds
    assert sent[0] and not sent[-1]
    assert manager.recv(64) == b"WATCHDOG=1"
