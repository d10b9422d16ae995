"""``qms demo``: the appliance on one machine for a newcomer's first look.

For now a scripted walk-through on a private demo store: tickets issued at the kiosk, called at
the counters, transferred, rated — printed as the JSON the devices exchange.
"""

from __future__ import annotations

import argparse
import json
import shutil
from typing import Any

from qms.context import AppContext


def _say(text: str) -> None:
    print(f"\n\033[1m▶ {text}\033[0m")


def _show(reply: dict[str, Any]) -> dict[str, Any]:
    if not reply.get("ok"):
        print(f"  refused: {reply['error']['message']} [{reply['error']['code']}]")
        return {}
    result = reply["result"]
    ticket = result.get("ticket")
    if ticket:
        print(f"  {ticket['number']:>5}  {ticket['service']:<14} {ticket['status']:<8} "
              f"counter={ticket['counter'] or '-'}  ahead={ticket['ahead']}  est_wait={ticket['est_wait_s']} s")
    elif "counter" in result:
        print(f"  counter {result['counter']['counter']}: {result['counter']['status']}")
    else:
        print("  nobody waiting")
    return result


def run_walkthrough(ctx: AppContext) -> int:
    """Drive the queue through a morning at the center and print what happens."""
    store = ctx.open_store()
    cfg = ctx.config
    first, second = cfg.services[1].id, cfg.services[2].id
    counter = next(c.id for c in cfg.counters if first in c.services)
    _say(f"{ctx.site.name}: citizens take numbers at the kiosk")
    tickets = [_show(store.run("issue_ticket", {"service": first}).response)["ticket"] for _ in range(3)]
    _show(store.run("issue_ticket", {"service": first, "priority": "elderly"}).response)
    _show(store.run("issue_ticket", {"service": second}).response)
    _say(f"Counter {counter} calls the next citizen (priority policy: {ctx.site.policy.kind})")
    _show(store.run("call_next", {"counter": counter}).response)
    _say("Nobody comes: recall, then mark as no-show")
    _show(store.run("recall", {"counter": counter}).response)
    _show(store.run("no_show", {"counter": counter}).response)
    _say("Next citizen, served, then rates the service 5/5")
    called = _show(store.run("call_next", {"counter": counter}).response)["ticket"]
    _show(store.run("complete", {"counter": counter}).response)
    _show(store.run("rate", {"ticket": called["id"], "score": 5}).response)
    _say(f"The next citizen needs another service: transfer to {second}")
    _show(store.run("call_next", {"counter": counter}).response)
    _show(store.run("transfer", {"counter": counter, "service": second}).response)
    _say("What the hall display sees (retained state):")
    snap = store.snapshot()
    for s in snap["services"]:
        if s["waiting"] or s["last_called"]:
            print(f"  {s['name']:<40} waiting={s['waiting']}  last called={s['last_called']}")
    _say(f"Events in the store's outbox: {snap['seq']} (site-wide seq); the first one:")
    print(json.dumps(store.events_after(0, 1)[0], ensure_ascii=False, indent=2))
    store.close()
    print(f"\nDemo store: {ctx.store_path}\nTry: qms --data-dir {ctx.data_dir} status"
          f"\n     qms --data-dir {ctx.data_dir} counter {counter} next\n     ({len(tickets)} tickets above)")
    return 0


def run_demo(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Entry of ``qms demo``."""
    ctx.overrides["ignore_hours"] = True
    if ns.data_dir is None and ctx.data_dir.name != "demo":
        ctx.data_dir = ctx.data_dir / "demo"
    if ns.fresh and ctx.data_dir.exists():
        shutil.rmtree(ctx.data_dir)
    return run_walkthrough(ctx)
