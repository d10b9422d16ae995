"""``qms doctor``: a technician's checklist of this board as its services see it, each problem with its fix.

It reads the board's settings like every verb (``$QMS_ENV_FILE`` or /etc/qms/qms.env, see
``qms.context``), prints what it checks (env file, config, data dir, broker without password, roles),
then one ✓ / ! / ✗ line per check, Vietnamese first with English. It logs in to the broker as
``monitor-technician`` (password in ``$QMS_SECRETS_DIR/monitor-technician``), never as a service: with
``use_username_as_clientid`` that would disconnect the service. Per role it checks the service's login
file (0600, owned by the service user), and it compares this board's clock with the hub's (``clock``
request). Every check is wrapped: an unexpected exception is a ✗ line, never a traceback. The exit code
is 1 when any check failed (warnings don't count), so scripts can use it.
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import textwrap
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from mqtt_bus.contract import HUB_CLIENT_ID, ErrorCode, FaultCode, Role

if TYPE_CHECKING:
    from qms.context import AppContext

MIN_FREE_BYTES = 200 * 1024 * 1024
MIN_YEAR = 2024
MONITOR_ID = "monitor-technician"
SERVICE_USER = "qms"
SERVICE_ROLES = frozenset({Role.HUB, Role.KIOSK, Role.DISPLAY, Role.COUNTER, Role.RATING})
MAX_CLOCK_OFFSET_S = 60.0
WIDTH = 80
START_HUB = "start the hub: `sudo systemctl start qms-hub` (or run `qms hub`); its log: `journalctl -u qms-hub`"
Runner = Callable[[list[str]], subprocess.CompletedProcess]


@dataclass(frozen=True)
class Check:
    """One line of the checklist: ``ok`` False is a failure; ``warning`` marks an ok with a caveat."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False

    @property
    def mark(self) -> str:
        """✓, ! or ✗."""
        return "✗" if not self.ok else "!" if self.warning else "✓"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``status`` ok / warning / fail."""
        status = "fail" if not self.ok else "warning" if self.warning else "ok"
        return {**asdict(self), "status": status}


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)


# ------------------------------------------------------------------------------------ the checks
def check_config(ctx: AppContext) -> Check:
    """The site config loads and validates."""
    from qms.config import ConfigError

    try:
        cfg = ctx.config
        site = ctx.site
    except ConfigError as exc:
        return Check("config", False, f"{ctx.config_path}: {len(exc.problems)} problem(s): "
                     + "; ".join(str(p) for p in exc.problems[:3]),
                     f"edit {ctx.config_path} (each problem names its line), then `qms config check`")
    return Check("config", True, f"{ctx.config_path}: {site.name} ({site.site}), {len(cfg.services)} services, "
                 f"{len(cfg.counters)} counters")


def check_data_dir(data_dir: Path, min_free: int = MIN_FREE_BYTES) -> Check:
    """The data dir is writable (or can be created) and has room."""
    existing = next(p for p in [data_dir, *data_dir.parents] if p.exists())
    if not os.access(existing, os.W_OK):
        return Check("data dir", False, f"{existing} is not writable by this user",
                     f"sudo chown -R $USER {existing}  (the services use /var/lib/qms, owned by user qms)")
    free = shutil.disk_usage(existing).free
    detail = f"{data_dir}: {free / 2**20:,.0f} MB free"
    if free < min_free:
        return Check("data dir", False, detail + f" (less than {min_free / 2**20:.0f} MB)",
                     "free some space: old logs (`sudo journalctl --vacuum-size=100M`), backups, tickets/ PNGs; "
                     "or use a bigger SD card")
    if existing != data_dir:
        return Check("data dir", True, detail + "; not created yet (the first start creates it)", warning=True)
    return Check("data dir", True, detail)


def check_store(store_path: Path) -> Check:
    """The store is the one this board had (``store.id``), opens, passes ``PRAGMA integrity_check`` and has a
    schema this program knows. Reads only: a damaged file is left as it is."""
    from hub.schema import SCHEMA_VERSION
    from hub.store_guard import StoreFault, check_file, check_header, corrupt, foreign, restore_hint
    from qms.backup import BackupError, identity_of, inspect

    data_dir = store_path.parent
    try:
        marker = check_file(store_path, data_dir)
        if not store_path.exists():
            return Check("store", True, f"no store yet at {store_path}: the hub creates it on its first start",
                         warning=True)
        if store_path.stat().st_size == 0:
            return Check("store", True, f"{store_path} is empty and this board never had a store: the hub "
                                        "starts a new one (if it had one, restore it now)", warning=True)
        check_header(store_path, data_dir)
        try:
            info = inspect(store_path)
        except BackupError as exc:
            raise corrupt(store_path, data_dir, exc) from None
        found = identity_of(store_path)
        if found is not None and marker is not None and (why := foreign(found, marker, store_path)):
            raise StoreFault(FaultCode.STORE_FOREIGN, why, restore_hint(data_dir))
    except StoreFault as fault:
        return Check("store", False, f"{fault.problem} [{fault.code}]", fault.fix)
    detail = f"{store_path}: {info.tickets} tickets, schema v{info.schema}, integrity ok"
    if info.schema < SCHEMA_VERSION:
        return Check("store", True, detail + f" (v{SCHEMA_VERSION} after the next start)", warning=True)
    return Check("store", True, detail)


def resolve_broker(option: str, data_dir: Path) -> str:
    """The URL to connect to (``embedded`` resolved through the data dir); raises BrokerNotFound/ValueError."""
    from mqtt_bus.url import parse_broker_url
    from qms.broker import resolve_url

    url = resolve_url(option, data_dir)
    parse_broker_url(url)
    return url


@dataclass(frozen=True)
class Login:
    """How doctor talks to the broker: ``url`` (may hold a password: never print it) and as whom.

    ``client_id`` None: doctor does not log in (no monitor login on this board, or the URL names a
    service's own login, which would disconnect that service); ``why`` then says why and how to fix.
    """

    url: str
    client_id: str | None
    why: str = ""
    fix: str = ""


def add_monitor_fix(secrets_dir: Path | None) -> str:
    """How to give this board the technician's broker login."""
    where = secrets_dir or Path("/etc/qms/secrets")
    return (f"thêm đăng nhập kỹ thuật / add the monitor login: `sudo qms setup broker` with id {MONITOR_ID} "
            f"(password from /etc/qms/credentials.json on the hub board), which writes {where / MONITOR_ID} "
            "(0600, owner qms)")


def monitor_login(ctx: AppContext) -> Login:
    """The login doctor uses: the URL's own user if it is not a service's, else ``monitor-technician``.

    Raises BrokerNotFound / ValueError (bad URL, unreadable secret) for :func:`check_broker` to report.
    """
    from hub.authz import role_of
    from mqtt_bus.url import parse_broker_url

    resolve_broker(ctx.broker_url, ctx.data_dir)  # a bad URL or a missing embedded broker raises here
    url = ctx.login_url(MONITOR_ID)
    address = parse_broker_url(url)
    if address.username is None:
        if ctx.secrets_dir is None:  # no board layout (a laptop, a test): try without a login
            return Login(url, MONITOR_ID)
        return Login(url, None, f"no monitor login in {ctx.secrets_dir / MONITOR_ID}: the login was not checked",
                     add_monitor_fix(ctx.secrets_dir))
    if address.username != MONITOR_ID and role_of(address.username)[0] in SERVICE_ROLES:
        return Login(url, None, f"the broker URL logs in as {address.username!r}, a service's own login: "
                     "not used (it would disconnect that service); the login was not checked",
                     "remove the user and password from QMS_BROKER (each service reads its own login from "
                     "$QMS_SECRETS_DIR); " + add_monitor_fix(ctx.secrets_dir))
    return Login(url, address.username)


def _monitor_client(url: str, site: str, client_id: str = MONITOR_ID) -> Any:
    from mqtt_bus.client import BusClient

    return BusClient(url, site, client_id, Role.MONITOR, reconnect_delay=(0.2, 0.5))


def check_broker(ctx: AppContext, site: str, timeout: float = 2.0) -> tuple[Check, Login | None]:
    """The broker is reachable and accepts doctor's own login (never a service's); also returns that login."""
    from mqtt_bus.url import parse_broker_url
    from qms.broker import BrokerNotFound

    fix_url = "set QMS_BROKER in the board's env file (or --broker) to mqtt://HUB-IP:1883"
    try:
        login = monitor_login(ctx)
    except BrokerNotFound:
        return Check("broker", False, f"'embedded' broker, but none is running for {ctx.data_dir}",
                     f"{START_HUB} (the hub starts the embedded mosquitto); or {fix_url}"), None
    except ValueError as exc:
        return Check("broker", False, str(exc), fix_url), None
    login_address = parse_broker_url(login.url)
    address = replace(login_address, username=None, password=None)  # shown: who logs in is said apart
    try:
        socket.create_connection((address.host, address.port), timeout=timeout).close()
    except OSError as exc:
        if ctx.broker_url == "embedded":
            return Check("broker", False, f"the embedded broker recorded at {address} is not running ({exc})",
                         START_HUB), None
        return Check("broker", False, f"không tới được / cannot reach {address} ({exc})",
                     "start mosquitto on that machine (`sudo systemctl start mosquitto`; its log: "
                     "`journalctl -u mosquitto`); check the address, the network cable and the firewall "
                     "(port 1883)"), None
    if login.client_id is None:
        return Check("broker", True, f"{address} accepts connections; {login.why}", login.fix, warning=True), login
    client = _monitor_client(login.url, site, login.client_id).start()
    try:
        connected = client.wait_connected(timeout)
    finally:
        client.close(timeout=1.0)
    who = f"as {login.client_id}" if login_address.username else "without a login"
    if not connected:
        return Check("broker", False, f"{address} is reachable but refused the MQTT connection {who}",
                     f"check the password in {ctx.secrets_dir / login.client_id if ctx.secrets_dir else 'the URL'} "
                     "against /etc/qms/credentials.json on the hub board (`sudo qms credentials` rewrites the "
                     "broker's password file; then `sudo systemctl restart mosquitto`)"), None
    return Check("broker", True, f"{address}: connected {who}"), login


def check_hub(url: str, site: str, timeout: float = 2.0, client_id: str = MONITOR_ID) -> Check:
    """The hub's retained ``status/hub`` says online."""
    got = threading.Event()
    seen: dict[str, Any] = {}

    def on_status(topic: str, payload: dict) -> None:
        seen.update(payload)
        got.set()

    client = _monitor_client(url, site, client_id)
    client.subscribe(client.topics.status(HUB_CLIENT_ID), on_status)
    client.start()
    try:
        got.wait(timeout)
    finally:
        client.close(timeout=1.0)
    if not seen:
        return Check("hub", False, f"no hub has announced itself for site {site!r} on this broker", START_HUB)
    if not seen.get("online"):
        return Check("hub", False, f"the hub is offline (last seen {seen.get('ts', '?')})", START_HUB)
    return Check("hub", True, f"online since {seen.get('ts', '?')}")


def check_province(url: str, site: str, bridge: Path, timeout: float = 2.0, client_id: str = MONITOR_ID) -> Check:
    """The bridge to the province (its drop-in exists): mosquitto's retained link notification says up."""
    address = next((ln.split()[1] for ln in bridge.read_text(encoding="utf-8", errors="replace").splitlines()
                    if ln.startswith("address ")), "?")
    got = threading.Event()
    seen: list[bytes] = []

    def on_link(topic: str, payload: bytes) -> None:
        seen.append(payload)
        got.set()

    client = _monitor_client(url, site, client_id)
    client.subscribe_raw(f"{client.topics.root}/link/province", on_link)
    client.start()
    try:
        got.wait(timeout)
    finally:
        client.close(timeout=1.0)
    waiting = "events wait in this board's mosquitto (up to 10,000) and leave when the link is back"
    if not seen:
        return Check("province", True, f"the bridge to {address} has not reported ({bridge})",
                     "restart mosquitto to load it: `sudo systemctl restart mosquitto`", warning=True)
    if seen[-1].strip() != b"1":
        return Check("province", False, f"mất kết nối tới tỉnh / the link to {address} is down; {waiting}",
                     f"check the network to {address} and the site's password in {bridge} "
                     "(`journalctl -u mosquitto | grep -i province`)")
    return Check("province", True, f"linked to {address}")


CLOCK_FIX = ("kiểm tra đồng bộ giờ / check time sync on this board: `chronyc sources` (the hub board is the center's time source); "
             "check the hub board's time too (`date`, `chronyc tracking` there); then restart the services")


def offset_words(offset_s: float) -> tuple[str, str]:
    """A board's clock offset from the hub's in (Vietnamese, English), the one wording doctor and the web use.

    ``("nhanh 5.0 phút", "5.0 min ahead of")`` / ``("chậm 0.2 giây", "0.2 s behind")`` /
    ``("khớp giờ", "in step with")``; the English is followed by "the hub".
    """
    size = abs(offset_s)
    if size < 0.05:
        return "khớp giờ", "in step with"
    minutes = size >= 120
    vi = f"{size / 60:.1f} phút" if minutes else f"{size:.1f} giây"
    en = f"{size / 60:.1f} min" if minutes else f"{size:.1f} s"
    ahead = offset_s > 0
    return f"{'nhanh' if ahead else 'chậm'} {vi}", f"{en} {'ahead of' if ahead else 'behind'}"


def check_hub_clock(url: str, site: str, timeout: float = 2.0, client_id: str = MONITOR_ID,
                    max_offset_s: float = MAX_CLOCK_OFFSET_S, clock: Callable[[], datetime] | None = None) -> Check:
    """This board's clock against the hub's (``clock`` request): ✗ beyond ``max_offset_s``."""
    from mqtt_bus.client import RequestTimeout

    clock = clock or (lambda: datetime.now(UTC))
    client = _monitor_client(url, site, client_id).start()
    try:
        if not client.wait_connected(timeout):
            return _skipped("hub clock", "the broker did not accept doctor's connection")
        before = clock()
        response = client.request("clock", {}, timeout=timeout, retries=0)
        after = clock()
    except RequestTimeout:
        return Check("hub clock", False, f"the hub did not answer a `clock` request within {timeout:g} s", START_HUB)
    finally:
        client.close(timeout=1.0)
    if not response.get("ok"):
        error = response.get("error") or {}
        if error.get("code") == ErrorCode.UNKNOWN_ACTION:
            return Check("hub clock", True, "the hub's version cannot tell its time", "update qms on the hub board",
                         warning=True)
        return Check("hub clock", False, f"the hub refused the `clock` request: {error.get('message')}",
                     "give doctor the monitor login: " + add_monitor_fix(None))
    hub_now = datetime.fromisoformat(response["result"]["now"])
    offset = ((before + (after - before) / 2) - hub_now).total_seconds()
    detail = f"lệch / offset: this board is {offset_words(offset)[1]} the hub ({hub_now:%Y-%m-%d %H:%M:%S %z})"
    if abs(offset) > max_offset_s:
        return Check("hub clock", False, detail + f"; more than {max_offset_s:g} s", CLOCK_FIX)
    return Check("hub clock", True, detail)


def _port_problem(path: str) -> Check | None:
    if not os.path.exists(path):
        return Check("printer", False, f"port {path} does not exist",
                     "plug the printer in and switch it on; `qms ports` lists the ports (use its "
                     "/dev/serial/by-id/... name, which survives reboots)")
    if not os.access(path, os.R_OK | os.W_OK):
        group = grp.getgrgid(os.stat(path).st_gid).gr_name
        return Check("printer", False, f"no permission to use {path} (group {group})",
                     f"sudo usermod -aG {group} $USER, then log out and in again (services: User=qms in group "
                     f"{group})")
    return None


PRINTER_FIXES = {
    "paper_out": "load a new paper roll",
    "paper_low": "have a new paper roll ready",
    "offline": "check the printer's power and cable, and the baudrate in the printer URL (`qms printer test`)",
    "error": "open and close the cover, clear any paper jam, then switch the printer off and on",
}


def check_printer(url: str) -> Check:
    """The printer URL parses, its port exists and is ours to use, and the printer answers."""
    from devices.printer.tools import printer_status
    from devices.printer.url import parse_printer_url

    try:
        spec = parse_printer_url(url)
    except ValueError as exc:
        return Check("printer", False, str(exc), "correct the printer URL (`printer.url` in the config, or --printer)")
    if spec.scheme == "none":
        return Check("printer", True, "none:// — no printer on this device (tickets on screen only)")
    if spec.scheme == "serial" or (spec.scheme == "file" and spec.path.startswith("/dev/")):
        problem = _port_problem(spec.path)
        if problem:
            return problem
    status = printer_status(url)
    state, detail = status.get("state", "offline"), status.get("detail", "")
    text = f"{spec.scheme}://{spec.where}: {state}" + (f" ({detail})" if detail else "")
    if state == "ok":
        return Check("printer", True, text)
    return Check("printer", state == "paper_low", text, PRINTER_FIXES.get(state, PRINTER_FIXES["error"]),
                 warning=state == "paper_low")


def check_audio(run: Runner = _run) -> Check:
    """``aplay -l`` lists a sound card (the hall display speaks the calls)."""
    if not shutil.which("aplay") and run is _run:
        return Check("audio", False, "aplay is not installed: announcements silent", "sudo apt install alsa-utils")
    try:
        proc = run(["aplay", "-l"])
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("audio", False, f"`aplay -l` failed ({exc}): announcements silent", "sudo apt install alsa-utils")
    cards = [line for line in proc.stdout.splitlines() if line.startswith("card ")]
    if proc.returncode != 0 or not cards:
        return Check("audio", False, "no audio device: announcements silent",
                     "on Pi 5 use HDMI audio (it has no headphone jack): connect the screen or amplifier by HDMI "
                     "and check `aplay -l`; or plug in a USB sound card")
    return Check("audio", True, cards[0] + (f" (+{len(cards) - 1} more)" if len(cards) > 1 else ""))


def check_clock(now: datetime | None = None, run: Runner = _run) -> Check:
    """The system clock is plausible and, where timedatectl tells, synchronised by NTP."""
    now = now or datetime.now(UTC)
    if now.year < MIN_YEAR:
        return Check("clock", False, f"the system clock says {now:%Y-%m-%d %H:%M} UTC",
                     "connect to the internet and `sudo timedatectl set-ntp true`, or set it: "
                     "`sudo timedatectl set-time 'YYYY-MM-DD HH:MM'`; on a Pi 5 fit the RTC battery")
    synced: str | None = None
    if shutil.which("timedatectl") or run is not _run:
        try:
            proc = run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
            synced = proc.stdout.strip() if proc.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            synced = None
    detail = f"{now:%Y-%m-%d %H:%M} UTC"
    if synced == "no":
        return Check("clock", True, detail + ", not synchronised by NTP (ticket times may drift)",
                     "`sudo timedatectl set-ntp true` and check internet access", warning=True)
    return Check("clock", True, detail + (", NTP synchronised" if synced == "yes" else ""))


def check_timezone(name: str, now: datetime | None = None) -> Check:
    """The config's time zone is known to this system."""
    try:
        tz = ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return Check("time zone", False, f"{name!r} is not in this system's time zone database",
                     "sudo apt install tzdata (or pip install tzdata)")
    local = (now or datetime.now(UTC)).astimezone(tz)
    return Check("time zone", True, f"{name}: local time {local:%Y-%m-%d %H:%M} (UTC{local:%z})")


# ------------------------------------------------------------------------------- board settings
@dataclass(frozen=True)
class Board:
    """What the board's env file says beyond the context: where it is and which services run here."""

    env_file: Path | None = None
    env_note: str = ""
    roles: tuple[str, ...] = ()
    service_user: str = SERVICE_USER

    @classmethod
    def from_environment(cls) -> Board:
        """The board as ``qms`` verbs see it (``$QMS_ENV_FILE`` or /etc/qms/qms.env, then the environment)."""
        from qms.context import SYSTEM_ENV_FILE, board_env_file, board_settings

        path = board_env_file()
        note = ("" if path else "(không có / none: QMS_ENV_FILE is empty)" if "QMS_ENV_FILE" in os.environ
                else f"(không có / none: {SYSTEM_ENV_FILE} does not exist; defaults used)")
        roles = os.environ.get("QMS_ROLES") or board_settings().get("QMS_ROLES", "")
        return cls(path, note, tuple(roles.split()))

    def runs(self, role: str) -> bool:
        """True when this board runs ``role`` (or the roles are not known: check everything)."""
        return not self.roles or any(r == role or r.startswith(role + "@") for r in self.roles)


def service_ids(roles: tuple[str, ...]) -> list[str]:
    """The broker client id of each service of ``roles`` (``counter@3`` → ``counter-3``)."""
    ids = {Role.HUB: HUB_CLIENT_ID, Role.KIOSK: "kiosk-1", Role.DISPLAY: "display-1"}
    out = []
    for role in roles:
        kind, _, ident = role.partition("@")
        out.append(ids.get(kind, f"{kind}-{ident}" if ident else kind))
    return out


def _expected_owner(user: str) -> tuple[int, str]:
    try:
        return pwd.getpwnam(user).pw_uid, user
    except KeyError:  # a development machine: the files belong to whoever runs the services
        uid = os.geteuid()
        return uid, pwd.getpwuid(uid).pw_name


def check_env_file(board: Board) -> Check:
    """The board's env file exists and is not readable by others."""
    if board.env_file is None:
        return Check("env file", True, board.env_note, "run the installer (`sudo deploy/install-pi.sh`) or "
                     "`sudo qms setup`", warning=True)
    try:
        mode = board.env_file.stat().st_mode & 0o777
    except FileNotFoundError:
        return Check("env file", False, f"{board.env_file} does not exist",
                     "`sudo qms setup` writes it (or run the installer)")
    if mode & 0o007:
        return Check("env file", False, f"{board.env_file} is readable by every user (mode {mode:04o})",
                     f"sudo chown root:qms {board.env_file} && sudo chmod 640 {board.env_file}")
    return Check("env file", True, f"{board.env_file} (mode {mode:04o})")


def check_login_file(secrets_dir: Path | None, client_id: str, user: str = SERVICE_USER) -> Check:
    """``<secrets dir>/<client id>`` exists, is not empty, is 0600 and belongs to the service user."""
    name = f"login {client_id}"
    if secrets_dir is None:
        return Check(name, False, "QMS_SECRETS_DIR is not set: the services cannot find their broker logins",
                     "add QMS_SECRETS_DIR=/etc/qms/secrets to the env file (`sudo qms setup broker`)")
    path = secrets_dir / client_id
    try:
        info = path.stat()
    except FileNotFoundError:
        return Check(name, False, f"thiếu / missing {path}: the {client_id} service cannot log in to the broker",
                     f"`sudo qms setup broker` with id {client_id} (its password: /etc/qms/credentials.json "
                     "on the hub board)")
    except PermissionError:
        return Check(name, False, f"cannot look into {secrets_dir} as this user",
                     "run doctor as the service user: `sudo -u qms qms doctor`")
    uid, owner = _expected_owner(user)
    mode = info.st_mode & 0o777
    if mode & 0o077:
        return Check(name, False, f"{path} is readable by others (mode {mode:04o})", f"sudo chmod 600 {path}")
    if info.st_uid != uid:
        return Check(name, False, f"{path} belongs to uid {info.st_uid}, not to {owner}",
                     f"sudo chown {owner} {path}")
    if info.st_size == 0:
        return Check(name, False, f"{path} is empty", f"`sudo qms setup broker` with id {client_id}")
    return Check(name, True, f"{path} (0600, {owner})")


def check_secrets_dir(secrets_dir: Path) -> Check:
    """The secrets dir is closed to others (0700)."""
    try:
        mode = secrets_dir.stat().st_mode & 0o777
    except FileNotFoundError:
        return Check("secrets dir", False, f"{secrets_dir} does not exist", "`sudo qms setup broker` creates it")
    if mode & 0o077:
        return Check("secrets dir", False, f"{secrets_dir} is open to others (mode {mode:04o})",
                     f"sudo chmod 700 {secrets_dir}")
    return Check("secrets dir", True, f"{secrets_dir} (mode {mode:04o})")


# ---------------------------------------------------------------------------------------- runner
CHECKS = ("config", "env file", "secrets dir", "logins", "data dir", "store", "broker", "hub", "hub clock",
          "province", "printer", "audio", "clock", "time zone")
LABELS = {
    "config": "cấu hình / config", "env file": "tệp cài đặt / env file", "secrets dir": "thư mục mật khẩu / secrets",
    "data dir": "thư mục dữ liệu / data dir", "store": "kho dữ liệu / store",
    "broker": "máy chủ tin nhắn (broker) / broker", "hub": "máy chủ hàng đợi (hub) / hub",
    "hub clock": "giờ so với hub / clock vs hub", "province": "cầu nối tới tỉnh / province link", "printer": "máy in / printer", "audio": "âm thanh / audio",
    "clock": "đồng hồ / clock", "time zone": "múi giờ / time zone",
}


def label(name: str) -> str:
    """Vietnamese first, then English: ``máy in / printer``; a login line: ``đăng nhập / login hub``."""
    if name.startswith("login "):
        return "đăng nhập / " + name
    return LABELS.get(name, name)


def _skipped(name: str, why: str) -> Check:
    return Check(name, True, f"not checked: {why}", warning=True)


def guarded(name: str, make: Callable[[], Check]) -> Check:
    """Run one check; an unexpected exception becomes a ✗ line naming it, never a traceback."""
    try:
        return make()
    except Exception as exc:
        return Check(name, False, f"the check itself failed: {type(exc).__name__}: {exc}",
                     "report it with the output of `qms doctor --json`")


def _url_names_user(ctx: AppContext) -> bool:
    """True when the broker URL carries its own login (a laptop, a test): the secret files are not used."""
    from mqtt_bus.url import parse_broker_url

    try:
        url = ctx.broker_url
        return url != "embedded" and parse_broker_url(url).username is not None
    except Exception:
        return False


def collect(ctx: AppContext, timeout: float = 2.0, skip: frozenset[str] = frozenset(),
            board: Board | None = None) -> list[Check]:
    """Run every check not in ``skip`` that this board's roles need, in :data:`CHECKS` order."""
    board = board or Board()
    results: list[Check] = []

    def step(name: str, make: Callable[[], Check]) -> Check | None:
        if name in skip:
            return None
        check = guarded(name, make)
        results.append(check)
        return check

    config = guarded("config", lambda: check_config(ctx))
    site = ctx.site.site if config.ok else None
    no_config = "the config did not load"
    step("config", lambda: config)
    if board.env_file or board.roles:
        step("env file", lambda: check_env_file(board))
    uses_secrets = bool(board.roles) and not _url_names_user(ctx)
    if uses_secrets and ctx.secrets_dir is not None:
        step("secrets dir", lambda: check_secrets_dir(ctx.secrets_dir))
    if uses_secrets and "logins" not in skip:
        for client_id in service_ids(board.roles):
            results.append(guarded(f"login {client_id}",
                                   lambda c=client_id: check_login_file(ctx.secrets_dir, c, board.service_user)))
    step("data dir", lambda: check_data_dir(ctx.data_dir))
    if board.runs(Role.HUB):
        step("store", lambda: check_store(ctx.store_path))
    login: list[Login | None] = [None]

    def broker() -> Check:
        check, login[0] = check_broker(ctx, site or "doctor", timeout)
        return check

    if site or ctx.broker_option:
        broker_check = step("broker", broker)
    else:
        broker_check = step("broker", lambda: _skipped("broker", no_config))
    usable = login[0] if login[0] and login[0].client_id else None
    why_not = (no_config if not site else "no broker to ask" if broker_check is None or not broker_check.ok
               else "doctor has no login of its own")
    step("hub", lambda: check_hub(usable.url, site, timeout, usable.client_id) if site and usable
         else _skipped("hub", why_not))
    step("hub clock", lambda: check_hub_clock(usable.url, site, timeout, usable.client_id) if site and usable
         else _skipped("hub clock", why_not))
    if board.roles and board.runs(Role.HUB) and site and usable:
        from qms.setup_province import drop_in_path

        if drop_in_path().exists():
            step("province", lambda: check_province(usable.url, site, drop_in_path(), timeout, usable.client_id))
    if board.runs(Role.KIOSK):
        step("printer", lambda: check_printer(ctx.printer_url) if config.ok or ctx.printer_option
             else _skipped("printer", no_config))
    if board.runs(Role.DISPLAY):
        step("audio", check_audio)
    step("clock", check_clock)
    step("time zone", lambda: check_timezone(ctx.config.site.timezone) if config.ok
         else _skipped("time zone", no_config))
    return results


def header(ctx: AppContext, board: Board) -> dict[str, str]:
    """What doctor checks: env file, config, data dir, broker (password hidden), roles."""
    from mqtt_bus.url import parse_broker_url

    try:
        broker = ctx.broker_url
        broker = broker if broker == "embedded" else parse_broker_url(broker).url()
    except Exception:
        broker = "(see the broker check)"
    return {"env file": str(board.env_file) if board.env_file else board.env_note,
            "config": str(ctx.config_path), "data dir": str(ctx.data_dir), "broker": broker,
            "secrets dir": str(ctx.secrets_dir) if ctx.secrets_dir else "(not set)",
            "roles": " ".join(board.roles) or "(không rõ / not set: every check runs)"}


HEADER_LABELS = {"env file": "tệp cài đặt / env file", "config": "cấu hình / config",
                 "data dir": "dữ liệu / data dir", "broker": "máy chủ tin nhắn / broker", "secrets dir": "mật khẩu / secrets",
                 "roles": "vai trò / roles"}


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=False) or [indent]


def render(checks: list[Check], head: dict[str, str] | None = None) -> str:
    """The checklist as text (80 columns): a header, one line per check, the fix under each ✗ or !."""
    lines: list[str] = []
    if head:
        lines.append("qms doctor — kiểm tra thiết bị / board check")
        width = max(len(HEADER_LABELS[k]) for k in head)
        for key, value in head.items():
            lines += _wrap(f"{HEADER_LABELS[key] + ':':<{width + 1}} {value}", "  ")
        lines.append("")
    for c in checks:
        lines += _wrap(f"{c.mark} {label(c.name)}: {c.detail}", "")
        if c.fix and (not c.ok or c.warning):
            lines += _wrap(f"→ {c.fix}", "    ")
    failed = sum(not c.ok for c in checks)
    lines += ["", "✓ tất cả đều tốt / all good" if not failed
              else f"✗ {failed} lỗi cần sửa / {failed} problem(s) to fix"]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms doctor``."""
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--timeout", type=float, default=2.0, metavar="S",
                        help="seconds to wait for the broker and the hub (default 2)")
    parser.add_argument("--skip", default="", metavar="NAMES",
                        help=f"comma-separated checks this device does not need, of: {', '.join(CHECKS)}")


def run(ctx: AppContext, ns: argparse.Namespace, board: Board | None = None) -> int:
    """Print the checklist; exit code 1 when something must be fixed."""
    skip = frozenset(s.strip() for s in ns.skip.split(",") if s.strip())
    unknown = skip - set(CHECKS)
    if unknown:
        raise ValueError(f"--skip: unknown check(s) {', '.join(sorted(unknown))}; checks: {', '.join(CHECKS)}")
    board = board or Board.from_environment()
    checks = collect(ctx, ns.timeout, skip, board)
    ok = all(c.ok for c in checks)
    head = header(ctx, board)
    if ns.json:
        print(json.dumps({"ok": ok, "board": head, "checks": [c.as_dict() for c in checks]},
                         ensure_ascii=False, indent=2))
    else:
        print(render(checks, head), end="")
    return 0 if ok else 1
