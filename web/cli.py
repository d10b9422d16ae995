"""``qms web``: serve the web app on the LAN; ``qms web user add|list|remove``: its accounts."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .accounts import ROLES, AccountError, Accounts
from .health import WEB_MONITOR_ID, Snapshot, read_retained

if TYPE_CHECKING:
    from qms.context import AppContext

DEFAULT_PORT = 8080
FALLBACK_MONITOR = "monitor-technician"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms web``."""
    parser.add_argument("--host", help="address to listen on (default: this board's LAN address, else 127.0.0.1); "
                        "only private (LAN) or loopback addresses are allowed")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    parser.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (see docs/web.md)")
    parser.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    parser.add_argument("--province", metavar="DSN", help="province mode: a read-only table of every center from "
                        "this PostgreSQL (filled by `qms province ingest`; docs/province.md)")
    sub = parser.add_subparsers(dest="web_cmd", metavar="user")
    user = sub.add_parser("user", help="manage the web app's accounts").add_subparsers(dest="user_cmd", required=True)
    add = user.add_parser("add", help="add an account (or set its password and role)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True, help="manager: content; technician: everything")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--site", help="province mode: a center's manager, who sees only this site's page "
                     "(without: a provincial account, every center)")
    user.add_parser("list", help="list the accounts")
    remove = user.add_parser("remove", help="remove an account")
    remove.add_argument("name")


def lan_address() -> str:
    """This board's address on its LAN (the interface of the default route), or 127.0.0.1."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the interface
            address = s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    return address if ipaddress.ip_address(address).is_private else "127.0.0.1"


def check_host(host: str) -> str:
    """``host`` if it is a loopback or private (LAN) address; ValueError otherwise."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"--host {host!r}: give an IP address of this board, e.g. 192.168.1.10") from None
    if address.is_unspecified:
        raise ValueError("--host 0.0.0.0 would also listen on a public interface; give the board's LAN address")
    if not (address.is_loopback or address.is_private):
        raise ValueError(f"--host {host}: not a LAN address; the web app listens on the LAN only")
    return host


def _monitor_id(ctx: AppContext) -> str:
    """The web app's monitor login, else the technician's when the board's secrets have no ``monitor-web``."""
    if ctx.secrets_dir is not None and not (ctx.secrets_dir / WEB_MONITOR_ID).exists():
        return FALLBACK_MONITOR
    return WEB_MONITOR_ID


def health_reader(ctx: AppContext) -> Snapshot:
    """The devices' retained status, read with the web app's monitor login (else the technician's)."""
    from qms.broker import BrokerNotFound
    from qms.config import load_config

    try:
        cfg = load_config(ctx.config_path)
        site, tz = cfg.site.id, ZoneInfo(cfg.site.timezone)
        client_id = _monitor_id(ctx)
        url = ctx.login_url(client_id)
    except (BrokerNotFound, ValueError, OSError) as exc:
        return Snapshot([], f"không đọc được máy chủ MQTT / cannot use the broker: {exc}")
    except Exception as exc:  # a broken config file: say so on the page
        return Snapshot([], f"không đọc được cấu hình / cannot read the config: {exc}")
    return read_retained(url, site, client_id, tz=tz)


def device_request(ctx: AppContext, action: str, args: dict[str, Any]) -> dict[str, Any]:
    """Send ``action`` to the hub with the web app's monitor login (a printer test page, a reprint)."""
    from qms.broker import BrokerNotFound
    from qms.config import load_config

    from .health import hub_request

    try:
        site = load_config(ctx.config_path).site.id
        client_id = _monitor_id(ctx)
        url = ctx.login_url(client_id)
    except (BrokerNotFound, ValueError, OSError) as exc:
        return {"ok": False, "error": {"code": "no_broker", "message": f"cannot use the broker: {exc}"}}
    return hub_request(url, site, action, args, client_id)


def _accounts(ctx: AppContext) -> Accounts:
    return Accounts(Path(ctx.data_dir) / "web" / "accounts.json")


def run_user(ctx: AppContext, ns: argparse.Namespace) -> int:
    """``qms web user add|list|remove``."""
    accounts = _accounts(ctx)
    try:
        if ns.user_cmd == "list":
            for a in accounts.list():
                print(f"{a.name}\t{a.role}\t{a.created}" + (f"\tsite={a.site}" if a.site else ""))
            return 0
        if ns.user_cmd == "remove":
            accounts.remove(ns.name)
            print(f"removed {ns.name}")
            return 0
        if ns.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"Mật khẩu cho / password for {ns.name}: ")
            if getpass.getpass("Nhập lại / again: ") != password:
                print("qms: the two passwords differ; nothing changed", file=sys.stderr)
                return 2
        account = accounts.add(ns.name, ns.role, password, ns.site)
    except AccountError as exc:
        print(f"qms: {exc}", file=sys.stderr)
        return 2
    print(f"{account.name}: {account.role}{f' of site {account.site}' if account.site else ''} ({accounts.path})")
    return 0


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Serve the web app until stopped."""
    if getattr(ns, "web_cmd", None) == "user":
        return run_user(ctx, ns)
    from werkzeug.serving import make_server

    from qms.logs import setup_logging

    from .app import WebSettings, create_app

    host = check_host(ns.host) if ns.host else lan_address()
    if bool(ns.tls_cert) != bool(ns.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    ctx.config  # noqa: B018 - a broken config stops here with the usual message
    setup_logging(ctx.data_dir, "web")
    settings = WebSettings(ctx.config_path, Path(ctx.data_dir), health=lambda: health_reader(ctx),
                           secure_cookies=bool(ns.tls_cert),
                           device_request=lambda action, args: device_request(ctx, action, args))
    if getattr(ns, "province", None):
        settings.mode, settings.extra["dsn"] = "province", ns.province
    app = create_app(settings)
    if not app.extensions["qms_accounts"].list():
        hint = ("--role manager (the province's; add --site SITE for a center's manager)" if settings.mode == "province"
                else "--role technician")
        print(f"qms: no web account yet; add one: qms web user add NAME {hint}", file=sys.stderr)
    ssl = (ns.tls_cert, ns.tls_key) if ns.tls_cert else None
    server = make_server(host, ns.port, app, threaded=True, ssl_context=ssl)
    print(f"qms web: {'https' if ssl else 'http'}://{host}:{server.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
