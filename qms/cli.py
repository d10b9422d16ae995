"""The ``qms`` command: one entry point for every service and tool (ARCHITECTURE.md §3)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qms.stop_signals import catch_stop_signals

if TYPE_CHECKING:
    from qms.context import AppContext

Handler = Callable[["AppContext", argparse.Namespace], int]
HUB_VERB = "hub"

APPS = (  # verb, module with run(ctx, ns), help
    ("kiosk", "kiosk.main", "the citizen kiosk (touchscreen, ticket printer)"),
    ("display", "queue_display.main", "the hall display with voice announcements"),
    ("counter-pad", "counter.main", "a staff counter pad (touch screen or USB keypad)"),
    ("rating", "counter.rating", "a satisfaction rating screen facing the citizen"),
)

TOOLS = (  # verb, module with add_arguments(parser) and run(ctx, ns), help
    ("credentials", "qms.credentials", "generate broker logins, the mosquitto password file and ACL"),
    ("setup", "qms.setup_wizard", "guided set-up of this board: roles, printer (finds the baud rate), hub"),
    ("doctor", "qms.doctor", "check this device and say how to fix each problem"),
    ("report", "qms.report", "figures per day, hour, service, counter, officer, procedure; xlsx, CSV, PNG charts"),
    ("clock", "qms.clock_cli", "is the board's clock trusted for issuing; `qms clock trust` confirms it"),
    ("web", "web.cli", "the web app on the LAN: config pages, versions, device health; `qms web user add` for logins"),
    ("province", "qms.province.cli", "a province: bridge a center to the provincial broker; ingest into PostgreSQL"),
)

COUNTER_ACTIONS = {
    "next": "call_next", "recall": "recall", "complete": "complete", "no-show": "no_show",
    "pause": "pause", "resume": "resume", "transfer": "transfer", "call": "call_ticket", "sign-in": "sign_in",
}


class CliError(Exception):
    """A failure the user can fix; printed as one line, exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def print_json(value: Any) -> None:
    """JSON on stdout, Vietnamese kept readable."""
    print(json.dumps(value, ensure_ascii=False, indent=2))


def run_on_store(ctx: AppContext, action: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one action on the store; a refusal becomes a ``CliError`` with the core's message."""
    with ctx.open_store() as store:
        reply = store.run(action, args)
    if not reply.ok:
        error = reply.response["error"]
        raise CliError(f"{error['message']} [{error['code']}]")
    return reply.response["result"]


# ---------------------------------------------------------------------------------------- verbs
def cmd_config_check(ctx: AppContext, ns: argparse.Namespace) -> int:
    cfg = ctx.config
    site = ctx.site
    procedures = sum(len(s.procedures) for s in cfg.services)
    print(f"✓ {ctx.config_path}: {site.name} ({site.site})")
    print(f"  {len(site.services)} services, {procedures} procedures, {len(site.counters)} counters, "
          f"policy {site.policy.kind}, time zone {cfg.site.timezone}")
    return 0


def cmd_ticket_issue(ctx: AppContext, ns: argparse.Namespace) -> int:
    if ns.any_time:
        ctx.overrides["ignore_hours"] = True
    args: dict[str, Any] = {"service": ns.service, "priority": ns.priority}
    if ns.procedure:
        args["procedure"] = ns.procedure
    print_json(run_on_store(ctx, "issue_ticket", args)["ticket"])
    return 0


def cmd_ticket_rate(ctx: AppContext, ns: argparse.Namespace) -> int:
    print_json(run_on_store(ctx, "rate", {"ticket": ns.ticket, "score": ns.score})["ticket"])
    return 0


def cmd_counter(ctx: AppContext, ns: argparse.Namespace) -> int:
    action = COUNTER_ACTIONS[ns.action]
    args: dict[str, Any] = {"counter": ns.counter}
    extra = {"transfer": "service", "call": "number", "sign-in": "officer"}.get(ns.action)
    if extra:
        if ns.argument is None:
            raise CliError(f"'qms counter {ns.counter} {ns.action}' needs a {extra.upper()}", code=2)
        args[extra] = ns.argument
    elif ns.argument is not None:
        raise CliError(f"'qms counter {ns.counter} {ns.action}' takes no argument", code=2)
    result = run_on_store(ctx, action, args)
    print_json(result.get("ticket") if "ticket" in result else result["counter"])
    return 0


def cmd_status(ctx: AppContext, ns: argparse.Namespace) -> int:
    with ctx.open_store() as store:
        snap = store.snapshot()
    print_json({k: snap[k] for k in ("site", "services", "counters")})
    return 0


def cmd_printer_test(ctx: AppContext, ns: argparse.Namespace) -> int:
    from devices.printer.tools import print_test_page

    print_json(print_test_page(ctx.printer_url))
    return 0


def cmd_printer_status(ctx: AppContext, ns: argparse.Namespace) -> int:
    from devices.printer.tools import printer_status

    status = printer_status(ctx.printer_url)
    print_json(status)
    return 0 if status["state"] in ("ok", "paper_low") else 1


def cmd_ports(ctx: AppContext, ns: argparse.Namespace) -> int:
    from devices.printer.tools import list_ports

    ports = list_ports()
    print_json(ports)
    if not ports:
        print("qms: no serial or USB printer port found; check the cable and `dmesg | tail`", file=sys.stderr)
    return 0


def cmd_hub(ctx: AppContext, ns: argparse.Namespace) -> int:
    from qms.hub_service import run_hub
    from qms.logs import setup_logging

    setup_logging(ctx.data_dir, "hub")
    return run_hub(ctx, ns.stop_event if ns.stop_event is not None else catch_stop_signals())


def cmd_app(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Run one of the Kivy apps (kiosk, display, counter pad, rating): ``<package>.main.run(ctx, ns)``."""
    from qms.logs import setup_logging

    setup_logging(ctx.data_dir, ns.app_role)
    return importlib.import_module(ns.app_module).run(ctx, ns)


def cmd_tool(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Run a technician's tool: ``<module>.run(ctx, ns)``."""
    return importlib.import_module(ns.tool_module).run(ctx, ns)


def cmd_backup(ctx: AppContext, ns: argparse.Namespace) -> int:
    from qms.backup import run_backup

    return run_backup(ctx, ns)


def cmd_restore(ctx: AppContext, ns: argparse.Namespace) -> int:
    from qms.backup import run_restore

    return run_restore(ctx, ns)


def cmd_demo(ctx: AppContext, ns: argparse.Namespace) -> int:
    from qms.demo import run_demo

    return run_demo(ctx, ns)


# --------------------------------------------------------------------------------------- parser
COMMON_OPTIONS = (  # the options every verb takes, each with one value
    ("--config", "site config file (env QMS_CONFIG; default: the commune center)"),
    ("--data-dir", "where the store and logs live (env QMS_DATA_DIR)"),
    ("--broker", "mqtt://[user:pass@]host:port or 'embedded' (env QMS_BROKER)"),
    ("--printer", "this device's printer URL, e.g. serial:///dev/ttyUSB0?baudrate=9600 (env QMS_PRINTER)"),
)


def verb_of(argv: Sequence[str]) -> str | None:
    """The verb of a command line, read before the parser is built (building it imports every tool):
    the first word that is neither an option nor the value of one of ``COMMON_OPTIONS``."""
    words = iter(argv)
    takes_value = {name for name, _ in COMMON_OPTIONS}
    for word in words:
        if word in takes_value:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(verb: str | None) -> argparse.ArgumentParser:
    """The argument parser with every verb; the options of the apps and tools (whose modules must be
    imported to add them) only for ``verb`` (see :func:`verb_of`), so ``qms --help`` and ``qms ticket
    issue`` do not import the reports, the set-up wizard or the apps' option modules."""
    def options(default: Any) -> argparse.ArgumentParser:
        """The options every verb takes; after the verb they must not reset values given before it."""
        p = argparse.ArgumentParser(add_help=False)
        for name, help_ in COMMON_OPTIONS:
            p.add_argument(name, default=default, help=help_)
        return p

    top, common = options(None), options(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="qms", description="Queue-numbering appliance for commune centers.",
                                     parents=[top])
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def add(sub: Any, name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, parents=[common])
        p.set_defaults(handler=handler)
        return p

    config = verbs.add_parser("config", help="check the site config").add_subparsers(dest="sub", required=True)
    add(config, "check", cmd_config_check, "validate the site config and print a summary")

    ticket = verbs.add_parser("ticket", help="issue or rate a ticket").add_subparsers(dest="sub", required=True)
    issue = add(ticket, "issue", cmd_ticket_issue, "issue a ticket for SERVICE and print it as JSON")
    issue.add_argument("service", metavar="SERVICE")
    issue.add_argument("--priority", default="normal", metavar="KIND", help="normal, elderly, disabled, ...")
    issue.add_argument("--procedure", metavar="ID", help="the procedure the citizen chose")
    issue.add_argument("--any-time", action="store_true", help="issue even outside opening hours")
    rate = add(ticket, "rate", cmd_ticket_rate, "record a satisfaction rating (1..5) for a served ticket")
    rate.add_argument("ticket", metavar="TICKET_ID")
    rate.add_argument("score", type=int, choices=range(1, 6), metavar="SCORE")

    counter = add(verbs, "counter", cmd_counter, "act at a counter and print the ticket (or null) as JSON")
    counter.add_argument("counter", metavar="ID")
    counter.add_argument("action", choices=list(COUNTER_ACTIONS))
    counter.add_argument("argument", nargs="?", metavar="SERVICE|NUMBER|NAME",
                         help="transfer SERVICE, call NUMBER, sign-in NAME")

    printer = verbs.add_parser("printer", help="test the ticket printer").add_subparsers(dest="sub", required=True)
    add(printer, "test", cmd_printer_test, "print the test page: one Vietnamese line in every mode")
    add(printer, "status", cmd_printer_status, "query paper and online state (no reply = offline)")
    add(verbs, "ports", cmd_ports, "list serial/USB ports with their stable by-id names")
    add(verbs, HUB_VERB, cmd_hub, "serve the queue over MQTT (answers requests, publishes events and state)")
    for name, module, help_ in APPS:
        app = add(verbs, name, cmd_app, help_)
        app.set_defaults(app_module=module, app_role=name)
        if name == verb:
            importlib.import_module(module.split(".", 1)[0] + ".cli_args").add_arguments(app, name)
    for name, module, help_ in TOOLS:
        tool = add(verbs, name, cmd_tool, help_)
        tool.set_defaults(tool_module=module)
        if name == verb:
            importlib.import_module(module).add_arguments(tool)
    backup = add(verbs, "backup", cmd_backup, "copy the store safely, even while the hub runs")
    restore = add(verbs, "restore", cmd_restore, "put a backup back (stop the hub first)")
    if verb in ("backup", "restore"):
        importlib.import_module("qms.backup").add_backup_arguments(backup)
        importlib.import_module("qms.backup").add_restore_arguments(restore)
    add(verbs, "status", cmd_status, "print every service and counter state as JSON")
    demo = add(verbs, "demo", cmd_demo, "run the whole appliance on this machine for a first look")
    demo.add_argument("--walkthrough", action="store_true", help="only a scripted CLI walk-through, no windows")
    demo.add_argument("--fresh", action="store_true", help="start from an empty demo store")
    demo.add_argument("--duration", type=float, default=0, metavar="S", help="stop by itself after S seconds")
    return parser


def _error(module: str, name: str) -> type[BaseException]:
    """An exception class for an ``except`` clause, imported only when an exception reaches that clause: a
    device's process (kiosk, display) has no store and never loads sqlite3 or the hub (issue 15: memory)."""
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qms`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # first thing, before the imports below: a stop that reaches the hub while it starts exits 0
    verb = verb_of(argv)
    stop = catch_stop_signals() if verb == HUB_VERB else None
    ns = build_parser(verb).parse_args(argv)  # `--help` and usage errors exit here, before the imports below
    ns.stop_event = stop
    from devices.printer.errors import PrinterUnavailable
    from mqtt_bus.broker import BrokerUnavailable
    from qms.broker import BrokerNotFound
    from qms.config.errors import ConfigError
    from qms.context import AppContext

    try:
        ctx = AppContext.resolve(ns.config, ns.data_dir, ns.broker, ns.printer)
    except ValueError as err:  # the board's env file cannot be read: one line, no traceback
        print(f"qms: {err}", file=sys.stderr)
        return 2
    try:
        return ns.handler(ctx, ns)
    except ConfigError as err:
        print(f"qms: the config file {ctx.config_path} has problems:\n{err}", file=sys.stderr)
        return 3
    except CliError as err:
        print(f"qms: {err}", file=sys.stderr)
        return err.code
    except _error("hub.store_guard", "StoreFault") as err:  # missing, empty, damaged or foreign: names the fix
        print(f"qms: {err.message} [{err.code}]", file=sys.stderr)
        return 7
    except _error("sqlite3", "OperationalError") as err:  # disk full, read-only, locked for too long
        print(f"qms: the store {ctx.store_path} cannot be used: {err}; check free space (`df -h "
              f"{ctx.data_dir}`) and permissions, then try again", file=sys.stderr)
        return 6
    except _error("sqlite3", "DatabaseError") as err:  # damaged after it opened: same line as at open
        from hub.store_guard import corrupt, is_damage

        if not is_damage(err):
            raise  # a bug (e.g. an IntegrityError): its traceback is the report
        fault = corrupt(ctx.store_path, ctx.data_dir, err)
        print(f"qms: {fault.message} [{fault.code}]", file=sys.stderr)
        return 7
    except PrinterUnavailable as err:
        print(f"qms: printer {ctx.printer_url}: {err}", file=sys.stderr)
        return 5
    except ValueError as err:  # a bad URL or option value: the message says what is wrong
        print(f"qms: {err}", file=sys.stderr)
        return 2
    except (BrokerUnavailable, BrokerNotFound) as err:
        print(f"qms: {err}", file=sys.stderr)
        return 4
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
