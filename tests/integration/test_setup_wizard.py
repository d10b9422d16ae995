"""``qms setup`` end to end: it must discover the baud rate of a fake printer on a pseudo-terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devices.printer.fake import FakePrinter
from devices.printer.tools import list_ports
from qms.envfile import read_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def printer_19200(tmp_path):
    fake = FakePrinter(tmp_path / "ttyPRINTER", baudrate=19200).plug()
    yield fake
    fake.unplug()


def setup(env_file: Path, step: str, answers: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qms.cli", "setup", step, "--env-file", str(env_file),
                           "--no-restart"], cwd=ROOT, input="\n".join(answers) + "\n", capture_output=True,
                          text=True, timeout=120)


def test_printer_step_finds_the_baud_rate_and_keeps_comments(tmp_path, printer_19200):
    env_file = tmp_path / "qms.env"
    env_file.write_text("# this board\nQMS_ROLES=kiosk\nQMS_PRINTER=virtual:///tmp/x\n", encoding="utf-8")
    other_port = str(len(list_ports()) + 1)  # the option after the listed ports: type a path
    out = setup(env_file, "printer", [other_port, str(printer_19200.link), "1"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "answered at 19200 baud" in out.stdout
    assert "trying 9600 baud" in out.stdout  # it really tried the slower rate first
    assert printer_19200.wait_for(b"QMS PRINTER TEST"), "the test page reached the printer at the right speed"
    env = read_env(env_file)
    assert env["QMS_PRINTER"] == f"serial://{printer_19200.link}?baudrate=19200&mode=hybrid"
    assert env["QMS_ROLES"] == "kiosk"
    assert env_file.read_text(encoding="utf-8").startswith("# this board\n")


def test_roles_step_refuses_unknown_roles_then_saves(tmp_path):
    env_file = tmp_path / "qms.env"
    out = setup(env_file, "roles", ["kiosk printer", "kiosk counter@3"])
    assert out.returncode == 0, out.stderr
    assert "not a role: printer" in out.stdout
    assert read_env(env_file)["QMS_ROLES"] == "kiosk counter@3"


def test_broker_step_tests_the_connection(tmp_path, broker):
    from mqtt_bus.broker import free_port

    env_file = tmp_path / "qms.env"
    address = broker.url.removeprefix("mqtt://")
    nobody = f"127.0.0.1:{free_port()}"
    out = setup(env_file, "broker", [nobody, "counter-3", "", "y", address, "counter-3", ""])
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("could not connect") == 1 and "connected ✓" in out.stdout
    assert read_env(env_file)["QMS_BROKER"] == f"mqtt://{address}"
