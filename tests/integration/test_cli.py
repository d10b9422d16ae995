"""The ``qms`` command as a user runs it: a real process on a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def qms(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qms.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_issue_call_status_through_environment_options(tmp_path, always_open_config):
    env = {"QMS_CONFIG": str(always_open_config), "QMS_DATA_DIR": str(tmp_path / "data")}
    issued = qms("ticket", "issue", "tu-phap", "--priority", "elderly", env=env)
    assert issued.returncode == 0, issued.stderr
    ticket = json.loads(issued.stdout)
    assert ticket["number"] == "A001" and ticket["priority"] == "elderly" and ticket["status"] == "waiting"
    assert {"id", "number", "service", "priority", "status", "issued_at", "called_at", "counter", "ahead",
            "est_wait_s"} <= set(ticket)
    called = json.loads(qms("counter", "2", "next", env=env).stdout)
    assert called["id"] == ticket["id"] and called["counter"] == "2"
    assert json.loads(qms("counter", "2", "complete", env=env).stdout)["status"] == "done"
    assert qms("counter", "2", "next", env=env).stdout.strip() == "null"
    status = json.loads(qms("status", env=env).stdout)
    assert status["site"] == "xa-da-huoai" and set(status) == {"site", "services", "counters"}
    svc = next(s for s in status["services"] if s["service"] == "tu-phap")
    assert svc["last_called"] == "A001" and svc["waiting"] == 0
    paused = json.loads(qms("counter", "3", "pause", env=env).stdout)
    assert paused["status"] == "paused" and paused["counter"] == "3"
    assert (tmp_path / "data" / "queue.sqlite3").exists()


def test_flags_override_environment(tmp_path, always_open_config):
    env = {"QMS_CONFIG": "/nonexistent.yaml", "QMS_DATA_DIR": str(tmp_path / "env")}
    out = qms("--config", str(always_open_config), "--data-dir", str(tmp_path / "flag"),
              "ticket", "issue", "chung-thuc", env=env)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "flag" / "queue.sqlite3").exists() and not (tmp_path / "env").exists()


def test_unknown_service_and_counter_name_the_valid_choices(tmp_path, always_open_config):
    env = {"QMS_CONFIG": str(always_open_config), "QMS_DATA_DIR": str(tmp_path)}
    bad = qms("ticket", "issue", "khai-sinh-xyz", env=env)
    assert bad.returncode != 0 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "unknown service 'khai-sinh-xyz'" in bad.stderr and "tu-phap" in bad.stderr
    bad = qms("counter", "42", "next", env=env)
    assert bad.returncode != 0 and "valid counters: 1, 2, 3, 4, 5, 6" in bad.stderr


def test_transfer_needs_a_service(tmp_path, always_open_config):
    env = {"QMS_CONFIG": str(always_open_config), "QMS_DATA_DIR": str(tmp_path)}
    out = qms("counter", "1", "transfer", env=env)
    assert out.returncode == 2 and "needs a SERVICE" in out.stderr


def test_bad_config_exits_nonzero_with_key_and_line(tmp_path, always_open_config):
    text = always_open_config.read_text(encoding="utf-8").replace("prefix: B", "prefix: A", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    out = qms("--config", str(bad), "config", "check")
    assert out.returncode == 3
    assert "prefix" in out.stderr and "line" in out.stderr


def test_config_check_on_default(tmp_path):
    out = qms("config", "check", env={"QMS_CONFIG": ""})
    assert out.returncode == 0 and "Đạ Huoai" in out.stdout


def test_demo_walkthrough_runs_through_broker_and_hub(tmp_path):
    out = qms("--data-dir", str(tmp_path / "demo"), "demo", "--walkthrough", "--fresh")
    assert out.returncode == 0, out.stderr
    assert f"data in {tmp_path / 'demo'}" in out.stdout  # the broker's port is in logs/demo.log, not here
    assert "A001" in out.stdout and "no_show" in out.stdout and "qms demo: stopped" in out.stdout
    status = json.loads(qms("--data-dir", str(tmp_path / "demo"), "status").stdout)
    assert sum(s["issued_today"] for s in status["services"]) == 6


def test_printer_test_page_on_virtual_printer_and_status_of_missing_port(tmp_path):
    out = qms("--printer", f"virtual://{tmp_path}", "printer", "test")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"]["state"] == "ok"
    assert list(tmp_path.glob("*.png")), "the virtual printer saves a PNG preview"
    missing = qms("--printer", "serial:///dev/ttyQMS-missing?baudrate=9600", "printer", "status")
    assert missing.returncode == 1 and json.loads(missing.stdout)["state"] == "offline"
    bad = qms("--printer", "bogus://x", "printer", "status")
    assert bad.returncode == 2 and "serial://" in bad.stderr
