"""``qms doctor`` against a broken setup and a good one (real mosquitto, a real hub, a virtual printer)."""

from __future__ import annotations

import argparse
import json
import subprocess
from datetime import UTC, datetime

import pytest

from mqtt_bus.acl import write_password_file
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker, free_port
from qms import doctor
from qms.broker import URL_FILE
from qms.context import AppContext
from qms.hub_service import start_hub
from tests.integration.hub_helpers import wait_for

BAD_CONFIG = "site: {id: 'Bad Id', name: x}\nservices: []\ncounters: []\n"


def ns(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    doctor.add_arguments(parser)
    return parser.parse_args(argv)


def by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


def fake_run(stdout: str, returncode: int = 0):
    return lambda cmd: subprocess.CompletedProcess(cmd, returncode, stdout, "")


# ------------------------------------------------------------------------------------ broken setup
def test_broken_setup_lists_every_problem_with_its_fix(tmp_path, capsys):
    config = tmp_path / "site.yaml"
    config.write_text(BAD_CONFIG, encoding="utf-8")
    ctx = AppContext(config, tmp_path / "data", broker_option=f"mqtt://127.0.0.1:{free_port()}",
                     printer_option="serial:///dev/ttyNOPE0?baudrate=9600")
    checks = by_name(doctor.collect(ctx, timeout=0.5, skip=frozenset({"audio"})))
    assert not checks["config"].ok and "site.id" in checks["config"].detail and "qms config check" in checks["config"].fix
    assert not checks["broker"].ok and "cannot reach mqtt://127.0.0.1" in checks["broker"].detail  # --broker given
    assert checks["hub"].warning and "config did not load" in checks["hub"].detail
    assert not checks["printer"].ok and "/dev/ttyNOPE0 does not exist" in checks["printer"].detail
    assert "qms ports" in checks["printer"].fix
    assert checks["store"].warning and checks["store"].ok  # no store yet: created on first start

    rc = doctor.run(ctx, ns("--skip", "audio", "--timeout", "0.5"), doctor.Board())
    out = capsys.readouterr().out
    assert rc == 1
    assert "✗ cấu hình / config" in out and "✗ máy in / printer" in out and "→ plug the printer in" in out
    assert "✗ máy chủ tin nhắn (broker) / broker" in out and out.rstrip().endswith("3 problem(s) to fix")


def broker_check(tmp_path, option: str, timeout: float = 0.5) -> doctor.Check:
    return doctor.check_broker(AppContext(tmp_path / "site.yaml", tmp_path, broker_option=option), "site-x",
                               timeout)[0]


def test_unreachable_broker_and_missing_embedded_broker(tmp_path):
    port = free_port()
    check = broker_check(tmp_path, f"mqtt://127.0.0.1:{port}")
    assert not check.ok and f"127.0.0.1:{port}" in check.detail and "systemctl start mosquitto" in check.fix
    check = broker_check(tmp_path, "embedded")
    assert not check.ok and "none is running" in check.detail and "qms hub" in check.fix
    (tmp_path / URL_FILE).write_text(f"mqtt://127.0.0.1:{port}\n")  # left by a hub that died
    check = broker_check(tmp_path, "embedded")
    assert not check.ok and "not running" in check.detail and "qms-hub" in check.fix
    check = broker_check(tmp_path, "mqtt//nowhere")
    assert not check.ok and "bad broker URL" in check.detail


def test_wrong_broker_password_is_told_apart_from_an_unreachable_broker(tmp_path):
    try:
        passwd = write_password_file(tmp_path / "passwd", {"doctor": "right", "hub": "hubpw"})
        broker = EmbeddedBroker(tmp_path / "mosquitto", password_file=passwd).start()
    except (BrokerUnavailable, RuntimeError, FileNotFoundError) as exc:
        pytest.skip(f"no mosquitto_passwd/mosquitto: {exc}")
    try:
        url = broker.url.replace("mqtt://", "mqtt://doctor:{}@")
        bad = broker_check(tmp_path, url.format("wrong"), timeout=1.0)
        assert not bad.ok and "refused the MQTT connection" in bad.detail and "password" in bad.fix
        assert "wrong" not in bad.detail  # passwords never printed
        good = broker_check(tmp_path, url.format("right"), timeout=2.0)
        assert good.ok and "connected as doctor" in good.detail and "right" not in good.detail
    finally:
        broker.stop()


def test_printer_problems(tmp_path, monkeypatch):
    bad = doctor.check_printer("serial://dev/ttyUSB0")
    assert not bad.ok and "three slashes" in bad.detail and "printer.url" in bad.fix
    assert doctor.check_printer("none://").ok
    virtual = tmp_path / "tickets"
    virtual.mkdir()
    (virtual / "STATE").write_text("paper_out")
    out = doctor.check_printer(f"virtual://{virtual}")
    assert not out.ok and "paper_out" in out.detail and "paper roll" in out.fix
    (virtual / "STATE").write_text("paper_low")
    low = doctor.check_printer(f"virtual://{virtual}")
    assert low.ok and low.warning and low.mark == "!"
    port = tmp_path / "ttyFAKE"
    port.write_bytes(b"")
    monkeypatch.setattr(doctor.os, "access", lambda path, mode: False)
    denied = doctor.check_printer(f"serial://{port}")
    assert not denied.ok and "no permission" in denied.detail and "usermod -aG" in denied.fix


def test_store_data_dir_audio_clock_and_time_zone_checks(tmp_path):
    store = tmp_path / "queue.sqlite3"
    store.write_bytes(b"SQLite format 3\0" + b"\x13" * 4000)
    damaged = doctor.check_store(store)
    assert not damaged.ok and "qms restore" in damaged.fix
    full = doctor.check_data_dir(tmp_path, min_free=1 << 60)
    assert not full.ok and "free some space" in full.fix
    assert doctor.check_data_dir(tmp_path).ok

    cards = "**** List of PLAYBACK Hardware Devices ****\ncard 0: vc4hdmi0 [vc4-hdmi-0], device 0: MAI PCM\n"
    assert doctor.check_audio(fake_run(cards)).detail.startswith("card 0: vc4hdmi0")
    silent = doctor.check_audio(fake_run("", returncode=1))
    assert not silent.ok and silent.detail == "no audio device: announcements silent"
    assert "on Pi 5 use HDMI audio" in silent.fix

    assert not doctor.check_clock(datetime(1970, 1, 1, tzinfo=UTC), fake_run("yes\n")).ok
    drift = doctor.check_clock(datetime(2025, 3, 1, tzinfo=UTC), fake_run("no\n"))
    assert drift.ok and drift.warning and "set-ntp true" in drift.fix
    assert "NTP synchronised" in doctor.check_clock(datetime(2025, 3, 1, tzinfo=UTC), fake_run("yes\n")).detail
    assert not doctor.check_timezone("Asia/Nowhere").ok
    assert "UTC+0700" in doctor.check_timezone("Asia/Ho_Chi_Minh").detail


def test_unknown_skip_name_is_refused(tmp_path, always_open_config):
    with pytest.raises(ValueError, match="unknown check"):
        doctor.run(AppContext(always_open_config, tmp_path), ns("--skip", "printr"))


# --------------------------------------------------------------------------------------- good setup
def test_good_setup_is_all_green_then_a_stopped_hub_is_reported(tmp_path, always_open_config, broker, capsys):
    ctx = AppContext(always_open_config, tmp_path / "data", broker_option=broker.url,
                     printer_option=f"virtual://{tmp_path / 'tickets'}")
    hub = start_hub(ctx, broker.url)
    try:
        assert wait_for(lambda: hub.bus.is_connected, timeout=5)
        checks = doctor.collect(ctx, timeout=2.0, skip=frozenset({"audio"}))
        no_board = {"audio", "env file", "secrets dir", "logins", "province"}  # no env file, no roles, no bridge
        assert [c.name for c in checks] == [n for n in doctor.CHECKS if n not in no_board]
        assert all(c.ok for c in checks), doctor.render(checks)
        named = by_name(checks)
        assert "integrity ok" in named["store"].detail and named["hub"].detail.startswith("online since")
        assert "virtual printer" in named["printer"].detail
        assert doctor.run(ctx, ns("--skip", "audio", "--json"), doctor.Board()) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["ok"] is True and {c["status"] for c in report["checks"]} <= {"ok", "warning"}
    finally:
        hub.stop()
        hub.store.close()
    offline = doctor.check_hub(broker.url, ctx.site.site, timeout=2.0)
    assert not offline.ok and "offline" in offline.detail and "systemctl start qms-hub" in offline.fix
