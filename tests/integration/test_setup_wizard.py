"""``qms setup`` end to end: it must discover the baud rate of a fake printer on a pseudo-terminal."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devices.printer.tools import list_ports
from mqtt_bus.contract import Role
from qms.envfile import read_env
from tests.fake_printer import FakePrinter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def printer_19200(tmp_path):
    fake = FakePrinter(tmp_path / "ttyPRINTER", baudrate=19200).plug()
    yield fake
    fake.unplug()


def setup(env_file: Path, step: str, answers: list[str], *options: str,
          stdin_eof: bool = False) -> subprocess.CompletedProcess:
    """``qms setup STEP`` answering from a pipe; ``stdin_eof``: the input ends right after the answers (Ctrl-D)."""
    text = "".join(a + "\n" for a in answers) if stdin_eof else "\n".join(answers) + "\n"
    return subprocess.run([sys.executable, "-m", "qms.cli", "setup", step, "--env-file", str(env_file),
                           "--no-restart", *options], cwd=ROOT, input=text, capture_output=True,
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
    assert env_file.stat().st_mode & 0o777 == 0o640  # a new env file is not every user's business
    assert "re-run the installer" in out.stdout and "deploy/install-pi.sh" in out.stdout


CANCELLED = "đã hủy, không lưu gì / cancelled, nothing saved"
PASSWORD = "Mật-khẩu/kiosk@1%x"  # URL-unsafe characters on purpose


@pytest.fixture
def secured(tmp_path):
    """A mosquitto that knows only the login kiosk-1."""
    from mqtt_bus.acl import render_acl, write_password_file
    from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker

    acl = tmp_path / "acl"
    acl.write_text(render_acl("xa-demo", [("kiosk-1", Role.KIOSK)]), encoding="utf-8")
    try:
        passwd = write_password_file(tmp_path / "passwd", {"kiosk-1": PASSWORD})
        broker = EmbeddedBroker(tmp_path / "mosquitto", password_file=passwd, acl_file=acl,
                                extra_config=["use_username_as_clientid true"]).start()
    except (BrokerUnavailable, RuntimeError) as exc:
        pytest.skip(f"no mosquitto: {exc}")
    yield broker
    broker.stop()


def board_env(tmp_path: Path) -> Path:
    env_file = tmp_path / "qms.env"
    env_file.write_text(f"# this board\nQMS_ROLES=kiosk\nQMS_SECRETS_DIR={tmp_path / 'secrets'}\n", encoding="utf-8")
    return env_file


def test_broker_step_keeps_the_password_only_in_its_secret_file(tmp_path, secured):
    from mqtt_bus.broker import free_port

    env_file = board_env(tmp_path)
    address = f"127.0.0.1:{secured.port}"
    nobody = f"127.0.0.1:{free_port()}"
    out = setup(env_file, "broker", [nobody, "", PASSWORD, "c", address, "", PASSWORD])
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("không kết nối được / could not connect") == 1
    assert "cannot reach" in out.stdout and "✓ đã kết nối / connected" in out.stdout
    secret = tmp_path / "secrets" / "kiosk-1"
    assert f"password saved in {secret} (0600)" in out.stdout
    assert secret.read_text(encoding="utf-8") == PASSWORD + "\n"
    assert secret.stat().st_mode & 0o777 == 0o600 and secret.parent.stat().st_mode & 0o777 == 0o700
    env = read_env(env_file)
    assert env["QMS_BROKER"] == f"mqtt://{address}" and env["QMS_ROLES"] == "kiosk"
    for where in (out.stdout, out.stderr, env_file.read_text(encoding="utf-8")):
        assert PASSWORD not in where and "Mật-khẩu" not in where
    assert env_file.stat().st_mode & 0o777 == 0o644  # an existing file keeps its mode


def test_a_refused_login_is_not_saved_unless_the_technician_says_so(tmp_path, secured):
    env_file = board_env(tmp_path)
    before = env_file.read_text(encoding="utf-8")
    address = f"127.0.0.1:{secured.port}"
    out = setup(env_file, "broker", [address, "kiosk-1", "wrong", "k", ""])
    assert out.returncode == 1 and "login refused" in out.stdout
    assert out.stderr.startswith("setup: không lưu gì / nothing saved: the broker could not be verified")
    assert env_file.read_text(encoding="utf-8") == before and not (tmp_path / "secrets").exists()

    out = setup(env_file, "broker", [address, "kiosk-1", "wrong", "k", "luu"])
    assert out.returncode == 0, out.stderr
    assert f"saved UNVERIFIED: QMS_BROKER=mqtt://{address}" in out.stdout
    assert read_env(env_file)["QMS_BROKER"] == f"mqtt://{address}" and "wrong" not in out.stdout


def test_save_unverified_flag_saves_and_says_so(tmp_path):
    from mqtt_bus.broker import free_port

    env_file = board_env(tmp_path)
    nobody = f"127.0.0.1:{free_port()}"
    out = setup(env_file, "broker", [nobody, "kiosk-1", "pw", "k"], "--save-unverified")
    assert out.returncode == 0, out.stderr
    assert "saved UNVERIFIED" in out.stdout and read_env(env_file)["QMS_BROKER"] == f"mqtt://{nobody}"


def test_ctrl_d_at_any_prompt_saves_nothing_and_prints_one_line(tmp_path):
    env_file = board_env(tmp_path)
    before = env_file.read_text(encoding="utf-8")
    # the input ends at: the roles question; the printer port (roles answered); the password
    for step, answers in (("all", []), ("all", ["kiosk counter@3"]), ("broker", ["127.0.0.1", "kiosk-1"])):
        out = setup(env_file, step, answers, stdin_eof=True)
        assert out.returncode == 1, out.stdout + out.stderr
        assert out.stderr == CANCELLED + "\n" and "Traceback" not in out.stdout
        assert env_file.read_text(encoding="utf-8") == before and not (tmp_path / "secrets").exists()


def ctrl_c_as_on_a_terminal() -> None:
    """In the child: SIGINT back to its default, as on a technician's terminal.

    A test run started in the background (``bash .ci/run &``) inherits SIGINT ignored, and Python then never
    raises KeyboardInterrupt, so the Ctrl-C tests would hang instead of testing the wizard.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_at_a_prompt_exits_130_without_a_traceback(tmp_path):
    env_file = board_env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "qms.cli", "setup", "roles", "--env-file", str(env_file),
                             "--no-restart"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_on_a_terminal)
    try:
        prompt = ""
        while "Roles" not in prompt:  # the question is on screen: the wizard is waiting for an answer
            char = proc.stdout.read(1)
            assert char, proc.stderr.read()
            prompt += char
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert proc.stderr.read() == CANCELLED + "\n"
    finally:
        proc.kill()
        proc.wait()
    assert read_env(env_file)["QMS_ROLES"] == "kiosk"


@pytest.fixture
def unwritable(tmp_path):
    """An env file this process cannot replace: immutable for root (chattr +i), in a read-only folder otherwise."""
    folder = tmp_path / "etc-qms"
    folder.mkdir()
    target = folder / "qms.env"
    target.write_text("QMS_ROLES=kiosk\n", encoding="utf-8")
    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(target)]).returncode != 0:
            pytest.skip("chattr +i not supported here")
        undo = ["chattr", "-i", str(target)]
    else:
        folder.chmod(0o555)
        target.chmod(0o444)
        undo = ["chmod", "755", str(folder)]
    yield target
    subprocess.run(undo, check=True)


def test_an_unwritable_env_file_is_one_line_naming_it_and_sudo(unwritable):
    out = setup(unwritable, "roles", ["hub"])
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and str(unwritable) in out.stderr and "sudo qms setup" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""  # refused before asking anything
    assert read_env(unwritable)["QMS_ROLES"] == "kiosk"


class Terminal:
    """``qms setup`` on a real pseudo-terminal (its controlling tty), as a technician types at it."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        import fcntl
        import termios

        self.master, slave = os.openpty()
        self.proc = subprocess.Popen([sys.executable, "-m", "qms.cli", "setup", *args], cwd=ROOT, env=env,
                                     stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                     preexec_fn=lambda: (fcntl.ioctl(0, termios.TIOCSCTTY, 0), ctrl_c_as_on_a_terminal()))
        os.close(slave)
        self.screen = b""

    def expect(self, text: str, timeout: float = 30) -> None:
        """Read the screen until ``text`` shows (or the program ends)."""
        import select
        import time

        deadline = time.monotonic() + timeout
        while text.encode() not in self.screen:
            ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"timed out waiting for {text!r}; screen:\n{self.screen.decode(errors='replace')}"
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the program ended
                chunk = b""
            assert chunk, f"the program ended before {text!r}; screen:\n{self.screen.decode(errors='replace')}"
            self.screen += chunk

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> int:
        try:
            code = self.proc.wait(timeout=30)
        finally:
            self.proc.kill()
            os.close(self.master)
        return code


def test_on_a_terminal_the_password_is_not_echoed(tmp_path, secured):
    env_file = board_env(tmp_path)
    term = Terminal("broker", "--no-restart", env={**os.environ, "QMS_ENV_FILE": str(env_file)})
    try:
        term.expect("Hub address")
        term.type(f"127.0.0.1:{secured.port}")
        term.expect("login id")
        term.type("kiosk-1")
        term.expect("Password")
        term.type(PASSWORD)
        term.expect("qms doctor")
    finally:
        code = term.close()
    screen = term.screen.decode(errors="replace")
    assert code == 0, screen
    assert f"127.0.0.1:{secured.port}" in screen and "kiosk-1" in screen  # answers are echoed as typed ...
    assert PASSWORD not in screen and "Mật-khẩu" not in screen  # ... the password is not
    assert "✓ đã kết nối / connected" in screen
    assert (tmp_path / "secrets" / "kiosk-1").read_text(encoding="utf-8") == PASSWORD + "\n"
    assert read_env(env_file)["QMS_BROKER"] == f"mqtt://127.0.0.1:{secured.port}"  # QMS_ENV_FILE chose the file


def test_ctrl_c_at_the_hidden_password_prompt(tmp_path):
    env_file = board_env(tmp_path)
    term = Terminal("broker", "--env-file", str(env_file), "--no-restart")
    try:
        term.expect("Hub address")
        term.type("127.0.0.1")
        term.expect("login id")
        term.type("kiosk-1")
        term.expect("Password")
        os.write(term.master, b"\x03")  # Ctrl-C typed at the terminal
        term.expect(CANCELLED)
    finally:
        code = term.close()
    assert code == 130 and "Traceback" not in term.screen.decode(errors="replace")
    assert not (tmp_path / "secrets").exists() and "QMS_BROKER" not in read_env(env_file)
