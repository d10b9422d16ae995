"""The Kivy apps as real processes (offscreen) tell systemd READY=1, then ping WATCHDOG=1 from the UI clock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker

ROOT = Path(__file__).resolve().parents[2]
APPS = {
    "kiosk": ["kiosk", "--windowed", "--no-voice"],
    "display": ["display", "--windowed", "--no-voice"],
    "counter-pad": ["counter-pad", "--counter", "1", "--windowed"],
}


@pytest.mark.parametrize("app", sorted(APPS))
def test_app_notifies_ready_then_pings_the_watchdog(app, tmp_path, always_open_config):
    try:
        broker = EmbeddedBroker(tmp_path / "mosquitto").start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(60)
    env = {**os.environ, "QMS_HEADLESS": "1", "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
           "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "400000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qms.cli", "--config", str(always_open_config), "--data-dir", str(tmp_path / "data"),
         "--broker", broker.url, "--printer", f"virtual://{tmp_path / 'tickets'}", *APPS[app]],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        messages = [notify.recv(64) for _ in range(3)]
        assert messages == [b"READY=1", b"WATCHDOG=1", b"WATCHDOG=1"], messages
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr = proc.communicate(timeout=10)[1]
        notify.close()
        broker.stop()
    assert "Traceback" not in stderr, stderr[-3000:]
