"""``qms clock``: is the board's clock trusted for issuing, and ``qms clock trust`` to confirm it."""

from __future__ import annotations

import argparse
from datetime import datetime

from hub.clock import kernel_clock_synced
from qms.context import AppContext


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``qms clock [status|trust]``."""
    parser.add_argument("action", nargs="?", choices=("status", "trust"), default="status",
                        help="status (default): board time, newest event, whether issuing is allowed; "
                             "trust: confirm the board's clock is right (after checking `date`)")


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Print the status (exit 1 while issuing is paused) or record the technician's confirmation."""
    tz = ctx.site.tz

    def show(when: datetime) -> str:
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")

    with ctx.open_store() as store:
        if ns.action == "trust":
            ref = store.trust_clock()
            print(f"clock trusted: {show(ref.wall)} is now the store's reference; issuing is allowed")
            return 0
        wall, ref, verdict = store.clock(), store.clock_ref(), store.clock_verdict()
    assert verdict is not None  # ctx.open_store always judges the clock
    print(f"board time:   {show(wall)}")
    print(f"newest event: {show(ref.wall) if ref else 'none yet'}")
    print(f"NTP synced:   {'yes' if kernel_clock_synced() else 'no (the kernel has not been told the time is right)'}")
    if verdict.trusted:
        print("issuing:      allowed")
        return 0
    print(f"issuing:      PAUSED (clock_untrusted): {verdict.reason}; wait for the time to sync, or check "
          "`date` and run `qms clock trust`")
    return 1
