"""The Raspberry Pi install: shell scripts pass shellcheck, systemd units pass systemd-analyze verify."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / "deploy" / "install-pi.sh", ROOT / "scripts" / "setup", ROOT / "scripts" / "test",
           ROOT / "scripts" / "demo", ROOT / ".ci" / "run"]
UNITS = sorted((ROOT / "config" / "systemd").glob("qms-*.service")) + sorted(
    (ROOT / "config" / "systemd").glob("qms-*.timer"))
SERVICES = ("qms-hub.service", "qms-kiosk.service", "qms-display.service", "qms-counter@.service")


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"!!! {tool} is not installed: scripts/setup installs it (apt-get install {tool})")
    return path


def test_shell_scripts_pass_shellcheck():
    out = subprocess.run([need("shellcheck"), "--severity=info", *map(str, SCRIPTS)], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout


def test_units_pass_systemd_analyze_verify(tmp_path):
    tool = need("systemd-analyze")
    assert {u.name for u in UNITS} == {*SERVICES, "qms-web.service", "qms-backup.service", "qms-backup.timer",
                                       "qms-report.service", "qms-report.timer"}
    checked = []
    for unit in UNITS:
        text = unit.read_text()
        # verify checks that the program and user exist: point them at ones this machine has
        text = (text.replace("/opt/qms/.venv/bin/qms", shutil.which("true") or "/bin/true")
                .replace("User=qms", "User=root").replace("Group=qms", "Group=root")
                .replace("EnvironmentFile=/etc/qms/qms.env", "EnvironmentFile=-/etc/qms/qms.env"))
        name = unit.name.replace("@.service", "@3.service")
        (tmp_path / unit.name).write_text(text)
        if name != unit.name:
            (tmp_path / name).write_text(text)
        checked.append(str(tmp_path / name))
    out = subprocess.run([tool, "verify", *checked], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "qms-" not in out.stderr, out.stderr  # no warnings about our units


def test_kiosk_units_run_on_kmsdrm_with_device_groups():
    for name in ("qms-kiosk.service", "qms-display.service"):
        text = (ROOT / "config" / "systemd" / name).read_text()
        assert "SDL_VIDEODRIVER=kmsdrm" in text
        assert "SupplementaryGroups=video render input" in text


def unit_settings(name: str) -> dict[str, list[str]]:
    """``Key=value`` lines of a shipped unit, every value of each key."""
    settings: dict[str, list[str]] = {}
    for line in (ROOT / "config" / "systemd" / name).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@pytest.mark.parametrize("name", SERVICES)
def test_long_running_units_restart_watchdog_and_hardening(name):
    unit = unit_settings(name)
    assert unit["Restart"] == ["always"] and unit["User"] == ["qms"]
    assert unit["Type"] == ["notify"] and unit["WatchdogSec"] == ["30"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == ["/var/lib/qms"] and unit["PrivateTmp"] == ["yes"]
    assert "PrivateDevices" not in unit, "the apps need /dev/dri, input, sound and the printer port"


def test_hub_waits_for_time_sync_and_pad_is_fullscreen():
    hub = unit_settings("qms-hub.service")
    assert "time-sync.target" in hub["After"][0] and "time-sync.target" in hub["Wants"][0]
    assert "mosquitto.service" in hub["After"][0]
    assert unit_settings("qms-counter@.service")["ExecStart"][0].endswith("--counter %i --fullscreen")


def test_backup_timer_runs_exactly_the_auto_backup():
    service = unit_settings("qms-backup.service")
    assert service["ExecStart"] == ["/opt/qms/.venv/bin/qms backup --auto"]
    assert service["Type"] == ["oneshot"] and service["User"] == ["qms"]
    timer = unit_settings("qms-backup.timer")
    assert timer["Persistent"] == ["true"] and timer["OnCalendar"]


def test_report_timer_writes_last_month_on_the_first():
    service = unit_settings("qms-report.service")
    assert service["ExecStart"] == ["/opt/qms/.venv/bin/qms report --monthly"]
    assert service["Type"] == ["oneshot"] and service["User"] == ["qms"]
    assert service["ReadWritePaths"] == ["/var/lib/qms"] and service["ProtectSystem"] == ["strict"]
    timer = unit_settings("qms-report.timer")
    assert timer["Persistent"] == ["true"] and timer["OnCalendar"] == ["*-*-01 06:00:00"]
    script = (ROOT / "deploy" / "install-pi.sh").read_text()
    assert "wanted+=(qms-web.service qms-backup.timer qms-report.timer)" in script  # the hub board only


def test_the_web_unit_may_write_only_the_data_dir_where_the_config_lives():
    web = unit_settings("qms-web.service")
    assert web["ExecStart"] == ["/opt/qms/.venv/bin/qms web"] and web["User"] == ["qms"]
    assert web["ProtectSystem"] == ["strict"] and web["ReadWritePaths"] == ["/var/lib/qms"]
    script = (ROOT / "deploy" / "install-pi.sh").read_text()
    assert 'ln -sfn "$DATA/config/site.yaml" "$ETC/site.yaml"' in script
