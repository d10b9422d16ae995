"""``qms credentials``: one broker login per device, the mosquitto password file and ACL, from the config.

Devices come from the site config: the hub, ``kiosk-1``, ``display-1``, a pad ``counter-ID`` and a
rating tablet ``rating-ID`` per counter, and ``monitor-technician``; ``--extra ID:ROLE`` adds more
(a second kiosk, another display). Passwords are generated once and kept in ``credentials.json``
(mode 0600) so running the command again keeps every board's login.

Passwords are shown only where a person reads them: ``--logins FILE`` writes ``client-id password``
lines to a 0600 file (what ``deploy/install-pi.sh --logins`` reads on the other boards), and the
terminal shows them only when stdout is a terminal, so they never reach a service's journal.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

from mqtt_bus.acl import ROLES, render_acl, write_password_file
from mqtt_bus.contract import HUB_CLIENT_ID, Role
from qms.config import SiteConfig


def site_devices(cfg: SiteConfig, extra: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """``(client_id, acl role)`` of every device of the site."""
    devices = [(HUB_CLIENT_ID, Role.HUB), ("kiosk-1", Role.KIOSK), ("display-1", Role.DISPLAY),
               ("monitor-technician", Role.MONITOR)]
    for counter in cfg.counters:
        devices += [(f"counter-{counter.id}", Role.COUNTER), (f"rating-{counter.id}", Role.COUNTER)]
    known = {d for d, _ in devices}
    devices += [(d, r) for d, r in extra if d not in known]
    return devices


def load_or_create_passwords(path: Path, devices: list[tuple[str, str]]) -> dict[str, str]:
    """Existing passwords kept, missing ones generated; written back with mode 0600."""
    passwords: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for device, _ in devices:
        passwords.setdefault(device, secrets.token_urlsafe(18))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(passwords, indent=2) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return passwords


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms credentials``."""
    parser.add_argument("--out", default="/etc/mosquitto/qms", help="folder for the acl and passwd files")
    parser.add_argument("--secrets", help="credentials.json (default: <data-dir>/credentials.json)")
    parser.add_argument("--extra", action="append", default=[], metavar="ID:ROLE",
                        help="another device, e.g. kiosk-2:kiosk or display-2:display")
    parser.add_argument("--hub-host", default="HUB-IP", help="address of the hub board, for the printed URLs")
    parser.add_argument("--logins", metavar="FILE",
                        help="also write 'client-id password' lines (mode 0600) for the other boards' install")


def write_logins(path: Path, passwords: dict[str, str], devices: list[tuple[str, str]]) -> None:
    """``client-id password`` lines, mode 0600 from the start (never readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.writelines(f"{device} {passwords[device]}\n" for device, _ in devices)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def run(ctx: object, ns: argparse.Namespace) -> int:
    """Write the ACL and password file; print each device's broker URL."""
    from qms.context import AppContext

    assert isinstance(ctx, AppContext)
    extra = []
    for item in ns.extra:
        device, sep, role = item.partition(":")
        if not sep or role not in ROLES:
            raise ValueError(f"--extra {item!r}: use ID:ROLE with ROLE one of kiosk, display, counter, monitor")
        extra.append((device, role))
    devices = site_devices(ctx.config, extra)
    passwords = load_or_create_passwords(Path(ns.secrets or ctx.data_dir / "credentials.json"), devices)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "acl").write_text(render_acl(ctx.site.site, devices), encoding="utf-8")
    write_password_file(out / "passwd", {d: passwords[d] for d, _ in devices})
    print(f"wrote {out / 'acl'} and {out / 'passwd'} for {len(devices)} devices; restart mosquitto to apply")
    if ns.logins:
        write_logins(Path(ns.logins), passwords, devices)
        print(f"logins (client-id password) for the other boards' install: {ns.logins} (mode 0600)")
    show = sys.stdout.isatty()
    for device, role in devices:
        secret = passwords[device] if show else "***"
        print(f"  {device:<20} {role:<8} QMS_BROKER=mqtt://{device}:{secret}@{ns.hub_host}:1883")
    if not show:
        print("passwords hidden (not a terminal): see --logins FILE or run this command in a terminal")
    return 0
