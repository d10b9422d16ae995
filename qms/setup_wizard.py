"""``qms setup``: a guided set-up for a technician who is not a programmer.

Steps (each can be run alone: ``qms setup roles|printer|broker``; ``qms setup`` runs all):

- roles: which services this board runs and their ids (``QMS_ROLES``);
- printer: pick the port, find the baud rate by status queries (or, for printers that never answer,
  a short test line at each rate that the technician confirms), print the test page and choose the
  printing mode that reads right (``QMS_PRINTER``);
- broker: the hub's address and this device's login, tested by connecting (``QMS_BROKER`` without the
  login; the password, typed hidden, goes only to ``$QMS_SECRETS_DIR/<client id>``, mode 0600);
- province (hub boards; optional): bridge this center's mosquitto to the provincial broker
  (:mod:`qms.setup_province`).

Answers go to the board's env file (``$QMS_ENV_FILE`` or ``/etc/qms/qms.env``; comments kept) only at
the end, so Ctrl-C / Ctrl-D at any prompt saves nothing; then the services restart. A broker that could
not be verified is saved only when the technician says so (types ``luu`` or passes ``--save-unverified``).
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from devices.printer.errors import PrinterUnavailable
from devices.printer.tools import list_ports, print_test_page, printer_status, test_page_choices
from devices.printer.url import parse_printer_url
from mqtt_bus.contract import HUB_CLIENT_ID, Role
from qms.envfile import read_env, update_env
from qms.setup_prompt import Answers, NotSaved, Prompter

BAUD_RATES = (9600, 19200, 38400, 57600, 115200)
ROLE_HELP = "hub, kiosk, display, counter@ID (several separated by spaces)"
CANCELLED = "đã hủy, không lưu gì / cancelled, nothing saved"
DEFAULT_SECRETS_DIR = "/etc/qms/secrets"
SERVICE_USER = "qms"
SAVE_WORDS = ("luu", "lưu")


# ------------------------------------------------------------------------------------------ steps
def step_roles(p: Prompter, env: dict[str, str]) -> dict[str, str]:
    """Which services run on this board."""
    p.say("\n== Vai trò của thiết bị này / Roles of this board ==")
    while True:
        roles = p.ask(f"Vai trò / Roles ({ROLE_HELP})", env.get("QMS_ROLES", Role.KIOSK)).split()
        bad = [r for r in roles if r not in (Role.HUB, Role.KIOSK, Role.DISPLAY) and not
               (r.startswith("counter@") and len(r) > len("counter@"))]
        if roles and not bad:
            return {"QMS_ROLES": " ".join(roles)}
        p.say(f"  không phải vai trò / not a role: {' '.join(bad) or '(empty)'}; use {ROLE_HELP}")


def find_baud(port: str, p: Prompter, status: Callable[[str], dict[str, str]] = printer_status) -> int | None:
    """The baud rate at which the printer answers a status query; None when it never answers."""
    for baud in BAUD_RATES:
        p.say(f"  thử / trying {baud} baud ...")
        try:
            state = status(f"serial://{port}?baudrate={baud}&timeout=0.3")["state"]
        except (PrinterUnavailable, ValueError, OSError) as exc:
            p.say(f"  không mở được / cannot open {port}: {exc}")
            return None
        if state != "offline":
            p.say(f"  máy in đã trả lời / the printer answered at {baud} baud (state: {state})")
            return baud
    return None


def confirm_baud_by_printing(port: str, p: Prompter) -> int | None:
    """For printers that never answer status: a short line at each rate; the technician says which is clean."""
    from devices.printer.service import PrinterService

    for baud in BAUD_RATES:
        url = f"serial://{port}?baudrate={baud}&status=none"
        try:
            with PrinterService(url) as service:
                service.open()
                service.printer.text(f"QMS {baud} baud 0123456789\n\n\n")
        except (PrinterUnavailable, OSError) as exc:
            p.say(f"  không in được / cannot print at {baud}: {exc}")
            continue
        if p.yes(f"Máy in có in rõ dòng / Did the printer print a clean line 'QMS {baud} baud 0123456789'?",
                 default=False):
            return baud
    return None


def step_printer(p: Prompter, env: dict[str, str]) -> dict[str, str]:
    """Port, baud rate and printing mode of this board's printer."""
    p.say("\n== Máy in phiếu / Ticket printer ==")
    ports = list_ports()
    options = [f"{(port['by_id'] or [port['device']])[0]}  ({port['description']})" for port in ports]
    options += ["cổng khác / another port (type its path)", "không có máy in / no printer on this board"]
    pick = p.choose("Máy in cắm ở cổng nào / Which port is the printer on", options)
    if pick == len(options) - 1:
        return {"QMS_PRINTER": "none://"}
    if pick == len(options) - 2:
        port = p.ask("Đường dẫn cổng / Port path, e.g. /dev/serial/by-id/usb-...")
    else:
        port = (ports[pick]["by_id"] or [ports[pick]["device"]])[0]
    if port.startswith("/dev/usb/lp"):
        base = f"file://{port}"
    else:
        baud = find_baud(port, p)
        if baud is None:
            p.say("  không tốc độ nào trả lời / no status answer at any speed; printing a short line at each speed instead")
            baud = confirm_baud_by_printing(port, p)
            if baud is None:
                raise NotSaved("setup: không lưu gì / nothing saved: the printer did not print at any speed: check cable, "
                               "power and paper")
            base = f"serial://{port}?baudrate={baud}&status=none"
        else:
            base = f"serial://{port}?baudrate={baud}"
    result = print_test_page(base)
    p.say(f"  đã gửi trang in thử / test page sent ({result['bytes']} bytes). "
          "Mẫu nào đọc đúng? / Which sample reads correctly?")
    spec = parse_printer_url(base)
    choices = test_page_choices(spec)
    index = p.choose("Số mẫu / Sample number", [f"[{label}] {opts}" for label, opts in choices])
    options = choices[index][1]
    url = f"{base}{'&' if '?' in base else '?'}{options}"
    parse_printer_url(url)  # validated before it is written
    return {"QMS_PRINTER": url}


def default_login_id(env: dict[str, str]) -> str:
    """The client id of the first service of ``QMS_ROLES`` (``counter@3`` → ``counter-3``), else kiosk-1."""
    first = (env.get("QMS_ROLES", "").split() or [Role.KIOSK])[0]
    kind, _, ident = first.partition("@")
    return {Role.HUB: HUB_CLIENT_ID, Role.KIOSK: "kiosk-1", Role.DISPLAY: "display-1"}.get(kind, f"{kind}-{ident}")


def _default_host(env: dict[str, str]) -> str:
    from mqtt_bus.url import parse_broker_url

    try:
        address = parse_broker_url(env.get("QMS_BROKER", ""))
    except ValueError:
        return "127.0.0.1"
    return address.host if address.port == 1883 else f"{address.host}:{address.port}"


def secrets_dir_of(env: dict[str, str]) -> Path:
    """Where this board keeps its broker passwords."""
    return Path(env.get("QMS_SECRETS_DIR") or DEFAULT_SECRETS_DIR)


def step_broker(p: Prompter, env: dict[str, str], answers: Answers,
                connect: Callable[[str, str], str | None] | None = None, save_unverified: bool = False) -> None:
    """The hub's address and this device's login, tested by connecting; the password kept apart."""
    from mqtt_bus.topics import validate_id
    from mqtt_bus.url import parse_broker_url

    p.say("\n== Kết nối tới máy chủ hàng đợi (broker MQTT) / Connection to the hub (MQTT broker) ==")
    connect = connect or login_problem
    secrets_dir = secrets_dir_of(env)
    client_id = default_login_id(env)
    while True:
        host = p.ask("Địa chỉ máy chủ / Hub address (IP or name; add :PORT if not 1883)", _default_host(env))
        client_id = p.ask("Tên đăng nhập của thiết bị / This device's login id (e.g. kiosk-1, counter-3, "
                          "display-1)", client_id)
        try:
            validate_id(client_id, "login id")
            address = parse_broker_url(f"mqtt://{host if ':' in host else host + ':1883'}")
        except ValueError as exc:
            p.say(f"  ✗ {exc}")
            continue
        saved = secrets_dir / client_id
        keep = " Enter = giữ mật khẩu đã lưu / keep the saved one" if saved.exists() else " Enter = none"
        password = p.secret(f"Mật khẩu (không hiện khi gõ) / Password (hidden as you type; from "
                            f"/etc/qms/credentials.json on the hub).{keep}")
        if not password and saved.exists():
            password = saved.read_text(encoding="utf-8").strip()
        url = replace(address, username=client_id, password=password).url(hide_password=False) if password \
            else address.url()
        p.say(f"  đang kết nối / connecting to {address} as {client_id} ...")
        problem = connect(url, client_id)
        if problem is None:
            p.say("  ✓ đã kết nối / connected")
            break
        p.say(f"  ✗ không kết nối được / could not connect: {problem}")
        if p.yes("Thử lại? / Try again?"):
            continue
        if save_unverified or p.ask(f"Lưu khi chưa kiểm tra được? Gõ '{SAVE_WORDS[0]}' để lưu, Enter để không lưu "
                                    f"/ Save it unverified? Type '{SAVE_WORDS[0]}' to save, Enter not to",
                                    "").strip().lower() in SAVE_WORDS:
            answers.notes.append(f"  ! đã lưu khi CHƯA KIỂM TRA / saved UNVERIFIED: QMS_BROKER={address} "
                                 f"(login {client_id}); check it with `qms doctor` once the hub is reachable")
            break
        raise NotSaved("setup: không lưu gì / nothing saved: the broker could not be verified; run `qms setup "
                       "broker` again when the hub is reachable (or add --save-unverified)")
    answers.env.update({"QMS_BROKER": address.url(), "QMS_SECRETS_DIR": str(secrets_dir)})
    if password:
        answers.secrets[client_id] = password


def login_problem(url: str, client_id: str, timeout: float = 5.0, cafile: str | None = None) -> str | None:
    """None when the broker accepts this login; otherwise what went wrong, in one line.

    A bare MQTT connect (no retained status published), so a service's status is not touched.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from mqtt_bus.url import parse_broker_url

    address = parse_broker_url(url)
    try:
        socket.create_connection((address.host, address.port), timeout=timeout).close()
    except OSError as exc:
        return (f"không tới được / cannot reach {address.host}:{address.port} ({exc.strerror or exc}): check the "
                "address, that the hub board is on, the network cable and the firewall")
    answered = threading.Event()
    result: list[object] = []

    def on_connect(client: object, userdata: object, flags: object, reason: object, props: object) -> None:
        result.append(reason)
        answered.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    client.on_connect = on_connect
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set(ca_certs=cafile)
    client.connect_async(address.host, address.port, 10)
    client.loop_start()
    try:
        answered.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    if not result:
        return f"no MQTT answer from {address.host}:{address.port} within {timeout:g} s"
    reason = result[0]
    if getattr(reason, "is_failure", False):
        return (f"đăng nhập bị từ chối / login refused ({reason}): check the id and password against "
                "/etc/qms/credentials.json on the hub board")
    return None


STEPS = ("roles", "printer", "broker", "province")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms setup``."""
    parser.add_argument("step", nargs="?", choices=[*STEPS, "all"], default="all", help="run one step only")
    parser.add_argument("--env-file", default=None,
                        help="this board's settings file (default: $QMS_ENV_FILE, else /etc/qms/qms.env)")
    parser.add_argument("--save-unverified", action="store_true",
                        help="save the broker even when the connection test fails (said so when saved)")
    parser.add_argument("--no-restart", action="store_true", help="do not restart the qms services")


def env_file_path(option: str | None) -> Path:
    """``--env-file``, else ``$QMS_ENV_FILE`` (when set and not empty), else /etc/qms/qms.env."""
    from qms.context import SYSTEM_ENV_FILE

    return Path(option or os.environ.get("QMS_ENV_FILE") or SYSTEM_ENV_FILE)


def _writable(path: Path) -> bool:
    """True when ``path`` can be replaced (its folder, or the nearest existing parent, is writable)."""
    if path.exists() and not os.access(path, os.W_OK):
        return False
    folder = next(p for p in [path.parent, *path.parent.parents] if p.exists())
    return os.access(folder, os.W_OK)


def cannot_write(path: Path, detail: str = "") -> str:
    """One line naming the file and ``sudo``."""
    return (f"setup: không ghi được / cannot write {path}{f' ({detail})' if detail else ''}: "
            f"chạy lại với / run again with sudo: `sudo qms setup ...`")


def _service_owner() -> tuple[int, int] | None:
    """uid/gid of the service user when running as root and that user exists."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return None
    return user.pw_uid, user.pw_gid


def write_secret(secrets_dir: Path, client_id: str, password: str) -> Path:
    """``<dir>/<client id>`` holding only the password: file 0600, dir 0700, owned by the service user."""
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(secrets_dir, 0o700)
    path = secrets_dir / client_id
    tmp = secrets_dir / f".{client_id}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    owner = _service_owner()
    if owner:
        os.chown(tmp, *owner)
        os.chown(secrets_dir, *owner)
    os.replace(tmp, path)
    return path


def save(path: Path, answers: Answers, p: Prompter, restart: bool = True) -> None:
    """Write the secrets, then the env file; say what was saved (never a password)."""
    secrets_dir = Path(answers.env.get("QMS_SECRETS_DIR", DEFAULT_SECRETS_DIR))
    for client_id, password in answers.secrets.items():
        try:
            target = write_secret(secrets_dir, client_id, password)
        except OSError as exc:
            raise NotSaved(cannot_write(secrets_dir / client_id, exc.strerror or str(exc))) from None
        p.say(f"  đã lưu mật khẩu vào / password saved in {target} (0600)")
    try:
        update_env(path, answers.env)
    except OSError as exc:
        raise NotSaved(cannot_write(path, exc.strerror or str(exc))) from None
    p.say(f"  đã lưu vào / saved to {path}: " + ", ".join(f"{k}={v}" for k, v in answers.env.items()))
    if answers.files:
        from qms.setup_province import restart_mosquitto, write_drop_in

        for target, text in answers.files.items():
            try:
                write_drop_in(target, text)
            except OSError as exc:
                raise NotSaved(cannot_write(target, exc.strerror or str(exc))) from None
        answers.notes.append(restart_mosquitto() if restart else
                             "  mosquitto chưa khởi động lại / not restarted (--no-restart)")
    for note in answers.notes:
        p.say(note)


def ask_province(p: Prompter, env: dict[str, str], answers: Answers) -> None:
    """The province step (:mod:`qms.setup_province`), its login tested as the broker step's is."""
    from qms.setup_province import Declined, step_province

    try:
        step_province(p, env, answers, lambda url, login, cafile: login_problem(url, login, cafile=cafile))
    except Declined as exc:
        raise NotSaved(str(exc)) from None


def ask_all(p: Prompter, env: dict[str, str], names: list[str], save_unverified: bool) -> Answers:
    """Run the steps; nothing is written here."""
    answers = Answers()
    for name in names:
        if name == "roles":
            answers.env.update(step_roles(p, env))
            answers.notes.append("  QMS_ROLES: chạy lại trình cài đặt để bật đúng các dịch vụ / re-run the "
                                 "installer to enable these services: `sudo bash deploy/install-pi.sh`")
        elif name == "printer":
            answers.env.update(step_printer(p, env))
        elif name == "province":
            ask_province(p, {**env, **answers.env}, answers)
        else:
            step_broker(p, {**env, **answers.env}, answers, save_unverified=save_unverified)
    return answers


def run(ctx: object, ns: argparse.Namespace, prompter: Prompter | None = None) -> int:
    """Run the chosen steps, write the env file and secrets at the end, restart the services."""
    p = prompter or Prompter()
    path = env_file_path(ns.env_file)
    names = list(STEPS) if ns.step == "all" else [ns.step]
    try:
        if not _writable(path):
            print(cannot_write(path, "permission denied"), file=sys.stderr)
            return 1
        try:
            env = read_env(path)
        except OSError as exc:
            print(cannot_write(path, exc.strerror or str(exc)), file=sys.stderr)
            return 1
        secret_probe = secrets_dir_of(env) / "probe"
        if "broker" in names and not _writable(secret_probe):
            print(cannot_write(secret_probe.parent, "permission denied"), file=sys.stderr)
            return 1
        if ns.step == "all" and Role.HUB not in env.get("QMS_ROLES", "").split():
            names.remove("province")  # asked again below once the roles step makes this board the hub
        answers = ask_all(p, env, names, ns.save_unverified)
        if ns.step == "all" and "province" not in names and Role.HUB in answers.env.get("QMS_ROLES", "").split():
            ask_province(p, {**env, **answers.env}, answers)
        save(path, answers, p, restart=not ns.no_restart)
    except NotSaved as exc:
        p.say("")
        print(exc, file=sys.stderr)
        return 1
    except EOFError:
        p.say("")
        print(CANCELLED, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        p.say("")
        print(CANCELLED, file=sys.stderr)
        return 130
    if not ns.no_restart and shutil.which("systemctl") and Path("/run/systemd/system").exists():
        subprocess.run(["systemctl", "restart", "qms-*"], check=False)
        p.say("  đã khởi động lại dịch vụ / services restarted")
    p.say("Xong / Done. Kiểm tra tất cả / check everything: qms doctor")
    return 0
