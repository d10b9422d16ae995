"""``qms doctor``: a technician's checklist of this device, each problem with its fix.

Every check is a small function returning a :class:`Check`; :func:`collect` runs them in order
(later checks are skipped when what they need failed) and :func:`run` prints ✓ / ! / ✗ lines.
The exit code is 1 when any check failed (warnings don't count), so scripts can use it.
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from qms.context import AppContext

MIN_FREE_BYTES = 200 * 1024 * 1024
MIN_YEAR = 2024
HUB_ID = "hub"
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
            raise StoreFault("store_foreign", why, restore_hint(data_dir))
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


def _monitor_client(url: str, site: str) -> Any:
    from mqtt_bus.client import BusClient
    from mqtt_bus.url import parse_broker_url

    address = parse_broker_url(url)
    return BusClient(address, site, address.username or "doctor", "monitor", reconnect_delay=(0.2, 0.5))


def check_broker(option: str, data_dir: Path, site: str, timeout: float = 2.0) -> Check:
    """The broker is reachable and accepts our connection (user name and password)."""
    from mqtt_bus.url import parse_broker_url
    from qms.broker import BrokerNotFound

    fix_url = "set `broker:` in the config (or --broker / $QMS_BROKER) to mqtt://[user:password@]HOST:1883"
    try:
        url = resolve_broker(option, data_dir)
    except BrokerNotFound:
        return Check("broker", False, f"'embedded' broker, but none is running for {data_dir}",
                     f"{START_HUB} (the hub starts the embedded mosquitto); or {fix_url}")
    except ValueError as exc:
        return Check("broker", False, str(exc), fix_url)
    address = parse_broker_url(url)
    try:
        socket.create_connection((address.host, address.port), timeout=timeout).close()
    except OSError as exc:
        if option == "embedded":
            return Check("broker", False, f"the embedded broker recorded at {url} is not running ({exc})", START_HUB)
        return Check("broker", False, f"cannot reach {address} ({exc})",
                     "start mosquitto on that machine (`sudo systemctl start mosquitto`); check the address, "
                     "the network cable and the firewall (port 1883)")
    client = _monitor_client(url, site).start()
    try:
        connected = client.wait_connected(timeout)
    finally:
        client.close(timeout=1.0)
    if not connected:
        return Check("broker", False, f"{address} is reachable but refused the MQTT connection",
                     "check the user name and password in the broker URL against the broker's password file "
                     "(`python -m mqtt_bus.acl`), and that the ACL lists this user")
    return Check("broker", True, f"{address}: connected as {client.client_id}")


def check_hub(url: str, site: str, timeout: float = 2.0) -> Check:
    """The hub's retained ``status/hub`` says online."""
    got = threading.Event()
    seen: dict[str, Any] = {}

    def on_status(topic: str, payload: dict) -> None:
        seen.update(payload)
        got.set()

    client = _monitor_client(url, site)
    client.subscribe(client.topics.status(HUB_ID), on_status)
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


# ---------------------------------------------------------------------------------------- runner
CHECKS = ("config", "data dir", "store", "broker", "hub", "printer", "audio", "clock", "time zone")


def _skipped(name: str, why: str) -> Check:
    return Check(name, True, f"not checked: {why}", warning=True)


def collect(ctx: AppContext, timeout: float = 2.0, skip: frozenset[str] = frozenset()) -> list[Check]:
    """Run every check not in ``skip``, in :data:`CHECKS` order."""
    results: dict[str, Check] = {}

    def step(name: str, make: Callable[[], Check]) -> None:
        if name not in skip:
            results[name] = make()

    config = check_config(ctx)
    site = ctx.site.site if config.ok else None
    no_config = "the config did not load"
    step("config", lambda: config)
    step("data dir", lambda: check_data_dir(ctx.data_dir))
    step("store", lambda: check_store(ctx.store_path))
    step("broker", lambda: check_broker(ctx.broker_url, ctx.data_dir, site, timeout) if site
         else check_broker(ctx.broker_option, ctx.data_dir, "doctor", timeout) if ctx.broker_option
         else _skipped("broker", no_config))
    broker = results.get("broker")
    step("hub", lambda: _hub(ctx, site, timeout) if site and (broker is None or broker.ok)
         else _skipped("hub", no_config if not site else "no broker to ask"))
    step("printer", lambda: check_printer(ctx.printer_url) if config.ok or ctx.printer_option
         else _skipped("printer", no_config))
    step("audio", check_audio)
    step("clock", check_clock)
    step("time zone", lambda: check_timezone(ctx.config.site.timezone) if config.ok
         else _skipped("time zone", no_config))
    return list(results.values())


def _hub(ctx: AppContext, site: str, timeout: float) -> Check:
    try:
        url = resolve_broker(ctx.broker_url, ctx.data_dir)
    except (RuntimeError, ValueError) as exc:
        return _skipped("hub", f"no broker to ask ({exc})")
    return check_hub(url, site, timeout)


def render(checks: list[Check]) -> str:
    """The checklist as text: one line per check, the fix under each failure or warning."""
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for c in checks:
        lines.append(f"{c.mark} {c.name:<{width}}  {c.detail}")
        if c.fix and (not c.ok or c.warning):
            lines.append(f"  {'':<{width}}  → {c.fix}")
    failed = sum(not c.ok for c in checks)
    lines += ["", "all good" if not failed else f"{failed} problem(s) to fix"]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms doctor``."""
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--timeout", type=float, default=2.0, metavar="S",
                        help="seconds to wait for the broker and the hub (default 2)")
    parser.add_argument("--skip", default="", metavar="NAMES",
                        help=f"comma-separated checks this device does not need, of: {', '.join(CHECKS)}")


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Print the checklist; exit code 1 when something must be fixed."""
    skip = frozenset(s.strip() for s in ns.skip.split(",") if s.strip())
    unknown = skip - set(CHECKS)
    if unknown:
        raise ValueError(f"--skip: unknown check(s) {', '.join(sorted(unknown))}; checks: {', '.join(CHECKS)}")
    checks = collect(ctx, ns.timeout, skip)
    ok = all(c.ok for c in checks)
    if ns.json:
        print(json.dumps({"ok": ok, "checks": [c.as_dict() for c in checks]}, ensure_ascii=False, indent=2))
    else:
        print(render(checks), end="")
    return 0 if ok else 1
