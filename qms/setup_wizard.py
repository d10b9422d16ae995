"""``qms setup``: a guided set-up for a technician who is not a programmer.

Steps (each can be run alone: ``qms setup roles|printer|broker``; ``qms setup`` runs all):

- roles: which services this board runs and their ids (``QMS_ROLES``);
- printer: pick the port, find the baud rate by status queries (or, for printers that never answer,
  a short test line at each rate that the technician confirms), print the test page and choose the
  printing mode that reads right (``QMS_PRINTER``);
- broker: the hub's address and this device's login, tested by connecting (``QMS_BROKER``).

Answers go to the board's env file (``/etc/qms/qms.env``; comments kept), then the services restart.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from devices.printer.errors import PrinterUnavailable
from devices.printer.tools import list_ports, print_test_page, printer_status, test_page_choices
from devices.printer.url import parse_printer_url
from qms.envfile import read_env, update_env

BAUD_RATES = (9600, 19200, 38400, 57600, 115200)
ROLE_HELP = "hub, kiosk, display, counter@ID (several separated by spaces)"


class Prompter:
    """Questions on a terminal (or any pair of text streams, for tests)."""

    def __init__(self, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
        self.inp, self.out = inp, out

    def say(self, text: str = "") -> None:
        """Print a line."""
        print(text, file=self.out, flush=True)

    def ask(self, question: str, default: str = "") -> str:
        """A free answer (Enter keeps the default)."""
        suffix = f" [{default}]" if default else ""
        print(f"{question}{suffix}: ", end="", file=self.out, flush=True)
        line = self.inp.readline()
        if not line:
            raise EOFError("no more answers")
        return line.strip() or default

    def yes(self, question: str, default: bool = True) -> bool:
        """A yes/no answer."""
        answer = self.ask(f"{question} (y/n)", "y" if default else "n").lower()
        return answer.startswith(("y", "c"))  # yes / có

    def choose(self, question: str, options: Sequence[str], default: int = 1) -> int:
        """Pick a numbered option; returns its index (0-based)."""
        for i, option in enumerate(options, start=1):
            self.say(f"  {i}. {option}")
        while True:
            answer = self.ask(question, str(default))
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1
            self.say(f"  please type a number from 1 to {len(options)}")


# ------------------------------------------------------------------------------------------ steps
def step_roles(p: Prompter, env: dict[str, str]) -> dict[str, str]:
    """Which services run on this board."""
    p.say("\n== Roles of this board ==")
    while True:
        roles = p.ask(f"Roles ({ROLE_HELP})", env.get("QMS_ROLES", "kiosk")).split()
        bad = [r for r in roles if r not in ("hub", "kiosk", "display") and not
               (r.startswith("counter@") and len(r) > len("counter@"))]
        if roles and not bad:
            return {"QMS_ROLES": " ".join(roles)}
        p.say(f"  not a role: {' '.join(bad) or '(empty)'}; use {ROLE_HELP}")


def find_baud(port: str, p: Prompter, status: Callable[[str], dict[str, str]] = printer_status) -> int | None:
    """The baud rate at which the printer answers a status query; None when it never answers."""
    for baud in BAUD_RATES:
        p.say(f"  trying {baud} baud ...")
        try:
            state = status(f"serial://{port}?baudrate={baud}&timeout=0.3")["state"]
        except (PrinterUnavailable, ValueError, OSError) as exc:
            p.say(f"  cannot open {port}: {exc}")
            return None
        if state != "offline":
            p.say(f"  the printer answered at {baud} baud (state: {state})")
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
            p.say(f"  cannot print at {baud}: {exc}")
            continue
        if p.yes(f"Did the printer print a clean line 'QMS {baud} baud 0123456789'?", default=False):
            return baud
    return None


def step_printer(p: Prompter, env: dict[str, str]) -> dict[str, str]:
    """Port, baud rate and printing mode of this board's printer."""
    p.say("\n== Ticket printer ==")
    ports = list_ports()
    options = [f"{(port['by_id'] or [port['device']])[0]}  ({port['description']})" for port in ports]
    options += ["another port (type its path)", "no printer on this board"]
    pick = p.choose("Which port is the printer on", options)
    if pick == len(options) - 1:
        return {"QMS_PRINTER": "none://"}
    if pick == len(options) - 2:
        port = p.ask("Port path, e.g. /dev/serial/by-id/usb-...")
    else:
        port = (ports[pick]["by_id"] or [ports[pick]["device"]])[0]
    if port.startswith("/dev/usb/lp"):
        base = f"file://{port}"
    else:
        baud = find_baud(port, p)
        if baud is None:
            p.say("  no status answer at any speed; printing a short line at each speed instead")
            baud = confirm_baud_by_printing(port, p)
            if baud is None:
                raise SystemExit("setup: the printer did not print at any speed: check cable, power and paper")
            base = f"serial://{port}?baudrate={baud}&status=none"
        else:
            base = f"serial://{port}?baudrate={baud}"
    result = print_test_page(base)
    p.say(f"  test page sent ({result['bytes']} bytes). Look at it: which sample reads correctly?")
    spec = parse_printer_url(base)
    choices = test_page_choices(spec)
    index = p.choose("Sample number", [f"[{label}] {opts}" for label, opts in choices])
    options = choices[index][1]
    url = f"{base}{'&' if '?' in base else '?'}{options}"
    parse_printer_url(url)  # validated before it is written
    return {"QMS_PRINTER": url}


def step_broker(p: Prompter, env: dict[str, str], connect: Callable[[str], bool] | None = None) -> dict[str, str]:
    """The hub's address and this device's login, tested by connecting."""
    from mqtt_bus.url import parse_broker_url

    p.say("\n== Connection to the hub (MQTT broker) ==")
    connect = connect or _can_connect
    while True:
        host = p.ask("Hub address (IP or name; add :PORT if not 1883)", "127.0.0.1")
        user = p.ask("This device's id (e.g. kiosk-1, counter-3, display-1)", "kiosk-1")
        password = p.ask("Its password (from `qms credentials` on the hub; empty = none)")
        login = f"{user}:{password}@" if password else ""
        url = f"mqtt://{login}{host if ':' in host else host + ':1883'}"
        try:
            parse_broker_url(url)
        except ValueError as exc:
            p.say(f"  {exc}")
            continue
        if connect(url):
            p.say("  connected ✓")
            return {"QMS_BROKER": url}
        p.say("  could not connect: check the address, that the hub board is on, and the password")
        if not p.yes("Try again?"):
            return {"QMS_BROKER": url}


def _can_connect(url: str) -> bool:
    from mqtt_bus.client import BusClient

    client = BusClient(url, "setup", "monitor-setup", "monitor").start()
    try:
        return client.wait_connected(5)
    finally:
        client.close(timeout=1)


STEPS = {"roles": step_roles, "printer": step_printer, "broker": step_broker}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms setup``."""
    parser.add_argument("step", nargs="?", choices=[*STEPS, "all"], default="all", help="run one step only")
    parser.add_argument("--env-file", default="/etc/qms/qms.env", help="this board's settings file")
    parser.add_argument("--no-restart", action="store_true", help="do not restart the qms services")


def run(ctx: object, ns: argparse.Namespace, prompter: Prompter | None = None) -> int:
    """Run the chosen steps, write the env file, restart the services."""
    p = prompter or Prompter()
    path = Path(ns.env_file)
    env = read_env(path)
    names = list(STEPS) if ns.step == "all" else [ns.step]
    for name in names:
        updates = STEPS[name](p, env)
        update_env(path, updates)
        env.update(updates)
        p.say(f"  saved to {path}: " + ", ".join(f"{k}={v}" for k, v in updates.items()))
    if not ns.no_restart and shutil.which("systemctl") and Path("/run/systemd/system").exists():
        subprocess.run(["systemctl", "restart", "qms-*"], check=False)
        p.say("  services restarted")
    p.say("Done. Check everything with: qms doctor")
    return 0
