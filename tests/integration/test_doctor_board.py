"""``qms doctor`` as a technician runs it on a board: the board's env file, a real mosquitto with the
project's password file + ACL (login = client id) and a real ``qms hub`` process logging in with its
own secret file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mqtt_bus.acl import render_acl, write_password_file
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker
from mqtt_bus.client import BusClient
from mqtt_bus.contract import HUB_CLIENT_ID, Role
from qms import doctor
from qms.context import AppContext
from tests.integration.hub_helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
LOGINS = {HUB_CLIENT_ID: Role.HUB, "monitor-technician": Role.MONITOR, "kiosk-1": Role.KIOSK}
PASSWORDS = {cid: f"pw-{cid}-s3cret" for cid in LOGINS}


@dataclass
class Board:
    """One board's files (env file, secrets dir, data dir), its broker and its hub process."""

    root: Path
    env_file: Path
    secrets: Path
    broker: EmbeddedBroker
    site: str
    hub: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {**os.environ, "QMS_ENV_FILE": str(self.env_file)}

    def doctor(self, *args: str, faketime: str | None = None) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "qms.cli", "doctor", "--timeout", "3", *args]
        if faketime:
            cmd = ["faketime", "-f", faketime, *cmd]
        return subprocess.run(cmd, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=60)


def flat(text: str) -> str:
    """The output with its 80-column line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def board(tmp_path, always_open_config) -> Iterator[Board]:
    site = AppContext(always_open_config, tmp_path).site.site
    acl = tmp_path / "acl"
    acl.write_text(render_acl(site, list(LOGINS.items())), encoding="utf-8")
    try:
        passwd = write_password_file(tmp_path / "passwd", PASSWORDS)
        broker = EmbeddedBroker(tmp_path / "mosquitto", password_file=passwd, acl_file=acl,
                                extra_config=["use_username_as_clientid true"]).start()
    except (BrokerUnavailable, RuntimeError) as exc:
        pytest.skip(f"no mosquitto: {exc}")
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    for cid, password in PASSWORDS.items():
        path = secrets / cid
        path.write_text(password + "\n", encoding="utf-8")
        path.chmod(0o600)
    env_file = tmp_path / "qms.env"
    env_file.write_text(f"QMS_ROLES=hub\nQMS_CONFIG={always_open_config}\nQMS_DATA_DIR={tmp_path / 'data'}\n"
                        f"QMS_BROKER=mqtt://127.0.0.1:{broker.port}\nQMS_SECRETS_DIR={secrets}\n", encoding="utf-8")
    env_file.chmod(0o640)
    b = Board(tmp_path, env_file, secrets, broker, site)
    try:
        yield b
    finally:
        if b.hub is not None and b.hub.poll() is None:
            b.hub.send_signal(signal.SIGTERM)
            b.hub.wait(timeout=10)
        broker.stop()


def start_hub(board: Board) -> None:
    """``qms hub`` exactly as its unit runs it (only the env file), then wait for its retained online status."""
    log = open(board.root / "hub.out", "w")  # noqa: SIM115 - closed with the process
    board.hub = subprocess.Popen([sys.executable, "-m", "qms.cli", "hub"], cwd=ROOT, env=board.env(),
                                 stdout=log, stderr=subprocess.STDOUT)
    online: list[bool] = []
    watcher = BusClient(f"mqtt://monitor-technician:{PASSWORDS['monitor-technician']}@127.0.0.1:{board.broker.port}",
                        board.site, "monitor-technician", Role.MONITOR)
    watcher.subscribe(watcher.topics.status(HUB_CLIENT_ID), lambda t, p: online.append(bool(p.get("online"))))
    watcher.start()
    try:
        assert wait_for(lambda: online[-1:] == [True], timeout=20), (board.root / "hub.out").read_text()
    finally:
        watcher.close(timeout=1)


def takeovers(board: Board, client_id: str) -> list[str]:
    """mosquitto's log lines saying it kicked ``client_id`` off for a newcomer with the same id."""
    log = board.broker.log_path.read_text(errors="replace")
    return [line for line in log.splitlines() if "already connected" in line and f" {client_id} " in line]


def test_healthy_board_is_all_green_and_names_what_it_checked(board):
    start_hub(board)
    out = board.doctor()
    text = flat(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr == ""
    assert f"tệp cài đặt / env file: {board.env_file}" in text
    assert f"cấu hình / config: {board.root / 'site.yaml'}" in text
    assert f"dữ liệu / data dir: {board.root / 'data'}" in text
    assert f"máy chủ tin nhắn / broker: mqtt://127.0.0.1:{board.broker.port}" in text and "vai trò / roles: hub" in text
    assert f"✓ máy chủ tin nhắn (broker) / broker: mqtt://127.0.0.1:{board.broker.port}: connected as " \
           "monitor-technician" in text, out.stdout
    assert f"✓ đăng nhập / login hub: {board.secrets / 'hub'} (0600" in text
    assert "✓ máy chủ hàng đợi (hub) / hub: online since" in text
    assert "✓ giờ so với hub / clock vs hub: lệch / offset: this board is" in text
    assert "✗" not in text and text.endswith("✓ tất cả đều tốt / all good")
    long_lines = [line for line in out.stdout.splitlines() if len(line) > 80 and " " in line.strip()]
    assert long_lines == [], "only a single long path may pass 80 columns"
    assert not any(pw in out.stdout for pw in PASSWORDS.values())
    report = json.loads(board.doctor("--json").stdout)
    assert report["ok"] is True and report["board"]["env file"] == str(board.env_file)
    assert report["board"]["roles"] == "hub" and "login hub" in [c["name"] for c in report["checks"]]
    assert takeovers(board, HUB_CLIENT_ID) == []  # doctor never logged in as the hub
    assert board.hub.poll() is None


def test_clock_offset_against_the_hub_is_reported(board):
    if not shutil.which("faketime"):
        pytest.skip("faketime not installed (apt-get install faketime)")
    start_hub(board)
    out = board.doctor(faketime="+5m")
    text = flat(out.stdout)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "✗ giờ so với hub / clock vs hub: lệch / offset: this board is 5.0 min ahead of the hub" in text
    assert "chronyc sources" in text and "✗ 1 lỗi cần sửa / 1 problem(s) to fix" in text


def test_loose_secret_and_env_file_are_named_with_their_fix(board):
    (board.secrets / HUB_CLIENT_ID).chmod(0o644)
    board.env_file.chmod(0o644)
    out = board.doctor("--skip", "hub,hub clock")
    text = flat(out.stdout)
    assert out.returncode == 1
    assert f"✗ đăng nhập / login hub: {board.secrets / 'hub'} is readable by others (mode 0644)" in text
    assert f"→ sudo chmod 600 {board.secrets / 'hub'}" in text
    assert f"✗ tệp cài đặt / env file: {board.env_file} is readable by every user (mode 0644)" in text
    (board.secrets / HUB_CLIENT_ID).unlink()
    text = flat(board.doctor("--skip", "hub,hub clock").stdout)
    assert f"✗ đăng nhập / login hub: thiếu / missing {board.secrets / 'hub'}" in text


def test_stopped_broker_is_named_and_fails(board):
    board.broker.stop()
    out = board.doctor()
    text = flat(out.stdout)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"✗ máy chủ tin nhắn (broker) / broker: không tới được / cannot reach " \
           f"mqtt://127.0.0.1:{board.broker.port}" in text
    assert "systemctl start mosquitto" in text
    assert "! máy chủ hàng đợi (hub) / hub: not checked: no broker to ask" in text


def test_without_a_monitor_login_only_tcp_is_checked_and_the_fix_is_told(board):
    (board.secrets / "monitor-technician").unlink()
    out = board.doctor()
    text = flat(out.stdout)
    assert out.returncode == 0, out.stdout
    assert f"! máy chủ tin nhắn (broker) / broker: mqtt://127.0.0.1:{board.broker.port} accepts connections; " \
           f"no monitor login in {board.secrets / 'monitor-technician'}: the login was not checked" in text
    assert "qms setup broker" in text and "not checked: doctor has no login of its own" in text


def test_a_service_login_in_the_url_is_not_used(board, tmp_path):
    url = f"mqtt://{HUB_CLIENT_ID}:{PASSWORDS[HUB_CLIENT_ID]}@127.0.0.1:{board.broker.port}"
    ctx = AppContext(tmp_path / "site.yaml", tmp_path / "data", broker_option=url)
    check, login = doctor.check_broker(ctx, board.site, timeout=2)
    assert check.ok and check.warning and "'hub', a service's own login: not used" in check.detail
    assert login is not None and login.client_id is None


def test_an_unexpected_failure_becomes_a_line_not_a_traceback():
    def broken() -> doctor.Check:
        raise KeyError("boom")

    check = doctor.guarded("printer", broken)
    assert not check.ok and "KeyError" in check.detail and "boom" in check.detail


def test_a_login_file_of_another_owner_is_named_with_the_chown(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    path = secrets / "kiosk-1"
    path.write_text("pw\n", encoding="utf-8")
    path.chmod(0o600)
    owner = "nobody" if os.geteuid() == 0 else "root"  # a user that does not own the file
    check = doctor.check_login_file(secrets, "kiosk-1", owner)
    assert not check.ok and f"not to {owner}" in check.detail and check.fix == f"sudo chown {owner} {path}"
    assert "not set" in doctor.check_login_file(None, "kiosk-1").detail


def test_roles_choose_the_checks_and_the_logins(tmp_path, always_open_config):
    ctx = AppContext(always_open_config, tmp_path / "data", broker_option="mqtt://127.0.0.1:1",
                     secrets_dir=tmp_path / "secrets")
    board = doctor.Board(tmp_path / "qms.env", roles=("kiosk", "counter@3"))
    names = [c.name for c in doctor.collect(ctx, timeout=0.3, board=board)]
    assert "login kiosk-1" in names and "login counter-3" in names and "login hub" not in names
    assert "printer" in names and "store" not in names and "audio" not in names
