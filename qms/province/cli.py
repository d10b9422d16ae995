"""``qms province bridge-config | broker-config | ingest | report`` (docs/province.md)."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .configs import (
    INGEST_USER,
    BridgeSettings,
    ProvinceBrokerSettings,
    render_bridge_conf,
    render_province_acl,
    render_province_conf,
    site_login,
)

if TYPE_CHECKING:
    from qms.context import AppContext

DSN_ENV = "QMS_PROVINCE_DSN"
BROKER_ENV = "QMS_PROVINCE_BROKER"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms province``."""
    sub = parser.add_subparsers(dest="province_cmd", metavar="bridge-config|broker-config|ingest|report",
                                required=True)
    b = sub.add_parser("bridge-config", help="the center's mosquitto drop-in that bridges it to the province")
    b.add_argument("--site", help="this center's site id (default: the site config's site.id)")
    b.add_argument("--province-host", required=True, metavar="HOST", help="the provincial broker's address")
    b.add_argument("--province-port", type=int, default=8883, metavar="PORT", help="its port (default 8883)")
    b.add_argument("--password-file", metavar="FILE",
                   help="the site's password at the province (a file made by broker-config: secrets/site-SITE)")
    b.add_argument("--cafile", metavar="PEM", help="the provincial broker's CA certificate: the bridge uses TLS")
    b.add_argument("--restart-timeout", default="2,30", metavar="FIRST,MAX",
                   help="seconds before reconnecting a lost link, first and longest (default 2,30)")
    b.add_argument("--out", metavar="FILE", help="write here (mode 0640) instead of standard output, e.g. "
                   "/etc/mosquitto/conf.d/qms-province.conf")

    k = sub.add_parser("broker-config", help="the provincial mosquitto's config, ACL and password file")
    k.add_argument("--site", action="append", default=[], metavar="SITE", help="a site id (repeat)")
    k.add_argument("--sites", metavar="FILE", help="a file with one site id a line (# comments)")
    k.add_argument("--out", required=True, metavar="DIR",
                   help="writes province.conf, acl, passwd and secrets/<login> (kept when run again)")
    k.add_argument("--port", type=int, default=8883)
    k.add_argument("--bind", default="", metavar="ADDRESS", help="listen on this address only")
    k.add_argument("--install-dir", default="/etc/mosquitto/province", metavar="DIR",
                   help="where acl and passwd are installed (paths written into province.conf)")
    k.add_argument("--certfile", metavar="PEM", help="the broker's TLS certificate (with --keyfile)")
    k.add_argument("--keyfile", metavar="PEM")
    k.add_argument("--cafile", metavar="PEM", help="CA to verify client certificates (optional)")
    k.add_argument("--ingest-user", action="append", default=[], metavar="NAME",
                   help=f"login(s) of the ingesters (default {INGEST_USER})")

    i = sub.add_parser("ingest", help="write every event of every site into PostgreSQL (long-running)")
    i.add_argument("--province-broker", default=os.environ.get(BROKER_ENV), metavar="URL",
                   help=f"mqtt[s]://user@host:port of the provincial broker (env {BROKER_ENV})")
    i.add_argument("--password-file", metavar="FILE", help="the ingester's broker password")
    i.add_argument("--dsn", default=os.environ.get(DSN_ENV), help=f"PostgreSQL conninfo (env {DSN_ENV})")
    i.add_argument("--client-id", default="ingest-1", help="unique per ingester (default ingest-1)")
    i.add_argument("--cafile", metavar="PEM", help="CA certificate of the provincial broker (TLS)")
    i.add_argument("--batch", type=int, default=2000, help="largest batch, one transaction (default 2000)")

    from .report import add_arguments as report_arguments

    report_arguments(sub.add_parser("report", help="`qms report` of one center or of the whole province, "
                                    "from PostgreSQL"), os.environ.get(DSN_ENV))


def _read_secret(path: str) -> str:
    text = Path(path).read_text(encoding="utf-8").strip()
    if not text:
        raise ValueError(f"{path} is empty")
    return text


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def bridge_config(ctx: AppContext, ns: argparse.Namespace) -> int:
    site = ns.site or ctx.config.site.id
    try:
        first, longest = (int(v) for v in ns.restart_timeout.split(","))
    except ValueError:
        raise ValueError(f"--restart-timeout {ns.restart_timeout!r}: give two whole seconds, e.g. 2,30") from None
    text = render_bridge_conf(BridgeSettings(
        site=site, host=ns.province_host, port=ns.province_port,
        password=_read_secret(ns.password_file) if ns.password_file else "", cafile=ns.cafile,
        restart_timeout=(first, longest)))
    if ns.out:
        _write(Path(ns.out), text, 0o640)
        print(f"wrote {ns.out}: site {site} → {ns.province_host}:{ns.province_port}"
              f"{' (TLS)' if ns.cafile else ' (no TLS: only on a private network)'}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def read_sites(ns: argparse.Namespace) -> list[str]:
    sites = list(ns.site)
    if ns.sites:
        for line in Path(ns.sites).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                sites.append(line)
    if not sites:
        raise ValueError("give the sites: --site SITE (repeat) or --sites FILE")
    return sites


def broker_config(ctx: AppContext, ns: argparse.Namespace) -> int:
    from mqtt_bus.acl import write_password_file

    sites = read_sites(ns)
    ingest_users = ns.ingest_user or [INGEST_USER]
    out = Path(ns.out)
    install = ns.install_dir.rstrip("/")
    conf = render_province_conf(ProvinceBrokerSettings(
        port=ns.port, bind=ns.bind, password_file=f"{install}/passwd", acl_file=f"{install}/acl",
        certfile=ns.certfile, keyfile=ns.keyfile, cafile=ns.cafile))
    acl = render_province_acl(sites, ingest_users)  # validates the site ids before anything is written
    passwords: dict[str, str] = {}
    for login in [*(site_login(s) for s in sites), *ingest_users]:
        secret = out / "secrets" / login
        if not secret.exists():
            _write(secret, secrets.token_urlsafe(24) + "\n", 0o600)
        passwords[login] = _read_secret(str(secret))
    _write(out / "province.conf", conf, 0o644)
    _write(out / "acl", acl, 0o640)
    write_password_file(out / "passwd", passwords)
    print(f"wrote {out}/province.conf, acl, passwd and secrets/ for {len(sites)} site(s) and "
          f"{len(ingest_users)} ingester login(s)", file=sys.stderr)
    return 0


def ingest(ctx: AppContext, ns: argparse.Namespace) -> int:
    from mqtt_bus.url import parse_broker_url
    from qms.logs import setup_logging
    from qms.stop_signals import catch_stop_signals

    from .ingest import IngestSettings, run_ingest

    if not ns.province_broker:
        raise ValueError(f"give --province-broker mqtt://ingest@HOST:PORT (or env {BROKER_ENV})")
    if not ns.dsn:
        raise ValueError(f"give --dsn 'host=... dbname=... user=...' (or env {DSN_ENV})")
    url = ns.province_broker
    if ns.password_file:
        addr = parse_broker_url(url)
        if not addr.username:
            raise ValueError("--password-file needs a user in --province-broker (mqtt://ingest@HOST:PORT)")
        scheme = "mqtts" if addr.tls else "mqtt"
        url = f"{scheme}://{addr.username}:{_read_secret(ns.password_file)}@{addr.host}:{addr.port}"
    stop = catch_stop_signals()
    setup_logging(None, "province-ingest")
    return run_ingest(IngestSettings(broker_url=url, dsn=ns.dsn, client_id=ns.client_id, cafile=ns.cafile,
                                     batch_max=ns.batch), stop)


def report(ctx: AppContext, ns: argparse.Namespace) -> int:
    from .report import run as run_report

    return run_report(ns)


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Dispatch ``qms province SUB``."""
    return {"bridge-config": bridge_config, "broker-config": broker_config, "ingest": ingest,
            "report": report}[ns.province_cmd](ctx, ns)
