"""``qms demo``: the whole appliance on one machine for a newcomer's first look.

A private mosquitto, the hub, and (when there is a screen) the kiosk (portrait), the hall display
and a counter pad as separate windows side by side, with a virtual printer that saves each ticket
as a PNG. The terminal shows only what a person needs (the windows, what to click, where tickets
go); every log goes to ``<data dir>/logs/``. Without a screen, or with ``--walkthrough``, a
scripted morning at the center runs through the hub over MQTT and prints what the devices
exchange. Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from mqtt_bus.client import BusClient
from mqtt_bus.contract import Role
from qms.broker import start_embedded
from qms.context import AppContext
from qms.stop_signals import catch_stop_signals
from ui_kit.boot import headless_requested

Runner = Callable[[str, dict[str, Any]], dict[str, Any]]

WINDOWS = (  # (module that must exist, qms verb and options)
    ("kiosk.main", ["kiosk", "--windowed", "--any-time"]),
    ("queue_display.main", ["display", "--windowed"]),
    ("counter.main", ["counter-pad", "--counter", "1", "--windowed"]),
)


WINDOW_EXTRA = {"kiosk.main": ["--portrait"]}  # the kiosk stands upright in a center: show it that way
PLACES = {"kiosk.main": (0, 0), "queue_display.main": (740, 0), "counter.main": (740, 760)}
"""Where each window opens (left, top), so they sit side by side instead of on top of each other."""
GUIDE = (  # (module, what the window is, what to do there)
    ("kiosk.main", "Kiosk (left, upright)", "tap a service, then a procedure: a ticket is printed"),
    ("queue_display.main", "Hall display (right)", "shows the number called and the counter"),
    ("counter.main", "Counter pad, counter 1 (below it)", "sign in, then \"Gọi tiếp\" calls the next citizen"),
)


def qms_command() -> str:
    """How to run ``qms`` from here: ``.venv/bin/qms`` in a checkout, else the full path."""
    exe = Path(sys.executable).parent / "qms"
    if not exe.exists():
        return shutil.which("qms") or "qms"
    try:
        return str(exe.relative_to(Path.cwd()))
    except ValueError:
        return str(exe)


def _log_to_files(data_dir: Path) -> None:
    """This process's logs (hub, broker) go to ``<data_dir>/logs/demo.log`` only, not the terminal."""
    from qms.logs import setup_logging

    setup_logging(data_dir, "demo")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:
            root.removeHandler(handler)


def _say(text: str) -> None:
    print(f"\n\033[1m▶ {text}\033[0m", flush=True)


def _show(reply: dict[str, Any]) -> dict[str, Any]:
    if not reply.get("ok"):
        print(f"  refused: {reply['error']['message']} [{reply['error']['code']}]")
        return {}
    result = reply["result"]
    ticket = result.get("ticket")
    if ticket:
        est = "not yet (no officer signed in)" if ticket["est_wait_s"] is None else f"{ticket['est_wait_s']} s"
        print(f"  {ticket['number']:>5}  {ticket['service']:<14} {ticket['status']:<8} "
              f"counter={ticket['counter'] or '-'}  ahead={ticket['ahead']}  est_wait={est}")
    elif "counter" in result:
        print(f"  counter {result['counter']['counter']}: {result['counter']['status']}")
    else:
        print("  nobody waiting")
    return result


def run_walkthrough(ctx: AppContext, run: Runner) -> None:
    """Drive the queue through a morning at the center and print what happens."""
    cfg = ctx.config
    first, second = cfg.services[1].id, cfg.services[2].id
    counter = next(c.id for c in cfg.counters if first in c.services)
    _say(f"{ctx.site.name}: citizens take numbers at the kiosk")
    for _ in range(3):
        _show(run("issue_ticket", {"service": first}))
    _show(run("issue_ticket", {"service": first, "priority": "elderly"}))
    _show(run("issue_ticket", {"service": second}))
    officer = next((c.officers[0] for c in cfg.counters if c.id == counter and c.officers), "Cán bộ")
    _say(f"{officer} signs in at counter {counter}: now the waits can be estimated")
    _show(run("sign_in", {"counter": counter, "officer": officer}))
    _show(run("issue_ticket", {"service": first}))
    _say(f"Counter {counter} calls the next citizen (policy: {ctx.site.policy.kind}: a waiting priority "
         "citizen first)")
    _show(run("call_next", {"counter": counter}))
    _say("Next: nobody comes; recall, then mark as no-show")
    _show(run("call_next", {"counter": counter}))
    _show(run("recall", {"counter": counter}))
    _show(run("no_show", {"counter": counter}))
    _say("Next citizen, served, then rates the service 5/5 (Rất hài lòng)")
    called = _show(run("call_next", {"counter": counter}))["ticket"]
    _show(run("complete", {"counter": counter}))
    _show(run("rate", {"ticket": called["id"], "score": 5}))
    _say(f"The next citizen needs another service: transfer to {second}")
    _show(run("call_next", {"counter": counter}))
    _show(run("transfer", {"counter": counter, "service": second}))
    _say("What the hall display sees (retained state):")
    snap = run("snapshot", {})["result"]
    for s in snap["services"]:
        if s["waiting"] or s["last_called"]:
            print(f"  {s['name']:<40} waiting={s['waiting']}  last called={s['last_called']}")
    busy = [c for c in snap["counters"] if c["ticket"]]
    print("  " + json.dumps(busy[0] if busy else snap["counters"][0], ensure_ascii=False)[:300] + " …")


def _spawn_windows(ctx: AppContext, broker_url: str) -> list[tuple[str, subprocess.Popen[bytes]]]:
    """Start the windows; each one's terminal output (Kivy, ALSA, SDL) goes to ``logs/<verb>.out``."""
    common = [sys.executable, "-m", "qms.cli", "--config", str(ctx.config_path), "--data-dir", str(ctx.data_dir),
              "--broker", broker_url, "--printer", f"virtual://{ctx.data_dir / 'tickets'}"]
    logs = ctx.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    children = []
    for module, verb in WINDOWS:
        if importlib.util.find_spec(module) is None:
            continue
        left, top = PLACES.get(module, (0, 0))
        env = {**os.environ, "KCFG_GRAPHICS_POSITION": "custom", "KCFG_GRAPHICS_LEFT": str(left),
               "KCFG_GRAPHICS_TOP": str(top)}
        out: IO[bytes]
        with open(logs / f"{verb[0]}.out", "wb") as out:  # the child keeps its own copy of the descriptor
            child = subprocess.Popen([*common, *verb, *WINDOW_EXTRA.get(module, [])], start_new_session=True,
                                     env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        children.append((module, child))
    return children


def _print_guide(ctx: AppContext, started: list[str]) -> None:
    print("\nThe windows:")
    for module, name, what in GUIDE:
        if module in started:
            print(f"  {name:<34} {what}")
    print(f"\nTickets (PNG)   {ctx.data_dir / 'tickets'}")
    print(f"Logs            {ctx.data_dir / 'logs'}")
    print("\nPress Ctrl-C to stop. Start again from an empty queue: bash scripts/demo --fresh")


def run_demo(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Entry of ``qms demo``."""
    from qms.hub_service import start_hub

    ctx.overrides["ignore_hours"] = True  # the demo works at any hour
    if ns.data_dir is None and ctx.data_dir.name != "demo":
        ctx.data_dir = ctx.data_dir / "demo"
    if ns.fresh and ctx.data_dir.exists():
        shutil.rmtree(ctx.data_dir)
    ctx.data_dir.mkdir(parents=True, exist_ok=True)
    _log_to_files(ctx.data_dir)
    stop = catch_stop_signals()
    broker = start_embedded(ctx.data_dir)
    hub = start_hub(ctx, broker.url)
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    qms = f"{qms_command()} --data-dir {ctx.data_dir}"
    try:
        print(f"qms demo: {ctx.site.name}, data in {ctx.data_dir}")
        logging.getLogger(__name__).info("demo: mosquitto on %s, hub serving site %s, store %s", broker.url,
                                         ctx.site.site, ctx.store_path)
        if ns.walkthrough or headless_requested():
            if not ns.walkthrough:
                print("qms demo: no screen here, so a scripted walk-through instead of windows "
                      "(run under a desktop or `xvfb-run` to see the screens)")
            with BusClient(broker.url, ctx.site.site, "monitor-demo", Role.COUNTER) as bus:
                bus.wait_connected(5)
                run_walkthrough(ctx, lambda action, args: bus.request(action, args, timeout=5))
            print(f"\nTickets, events and state live in {ctx.store_path}.")
            return 0
        children = _spawn_windows(ctx, broker.url)
        _print_guide(ctx, [module for module, _ in children])
        while not stop.wait(0.5):
            if ns.duration and ns.duration > 0:
                ns.duration -= 0.5
                if ns.duration <= 0:
                    break
            if children and all(c.poll() is not None for _, c in children):
                break
        return 0
    finally:
        for _, child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for _, child in children:
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
        hub.stop()
        hub.store.close()
        broker.stop()
        print(f"qms demo: stopped. The queue as the hub left it: {qms} status")
