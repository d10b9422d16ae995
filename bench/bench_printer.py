"""Bytes per ticket for each print mode, and the time they take on a serial line.

    python bench/bench_printer.py

Serial time = bytes x 10 bits (8N1) / baud rate; the printer's own print speed is not counted.
"glyphs kept, next ticket": keep=N, the same ticket again while the printer holds its letters.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import figure  # bench/figures.py (this script's folder is on sys.path)

from devices.printer.layout import ticket_ops
from devices.printer.render import render_bytes, render_job
from devices.printer.sample import reference_ticket
from devices.printer.url import parse_printer_url

BAUDS = (9600, 19200, 115200)
MODES = {
    "hybrid": "",
    "hybrid, density=half": "&density=half",
    "glyphs (ESC &)": "&mode=glyphs",
    "glyphs kept, next ticket": "&mode=glyphs&keep=20",
    "text (TCVN-3)": "&mode=text&encoding=tcvn3&codepage=30",
    "full raster": "&mode=raster",
}
PAPERS = {"80 mm": "profile=TM-T20II", "58 mm": "profile=POS-5890&qr=native"}
GOAL_BYTES = 2048  # issue 15: a Vietnamese ticket in at most 2 KB (2 s at 9600 baud)
IN_TABLE = ("hybrid", "hybrid, density=half", "glyphs (ESC &)", "glyphs kept, next ticket", "text (TCVN-3)")


def tickets() -> dict[str, object]:
    full = reference_ticket()
    return {
        "reference (vi)": full,
        "short (vi): no priority, documents, QR": replace(full, priority_label=None, documents=(), qr_data=None),
        "reference (en)": replace(full, lang="en", center_name="Da Huoai Public Administration Center",
                                  service_name="Civil status", procedure_name="Birth registration",
                                  counters="Counter 2", priority_label="Priority: elderly",
                                  documents=("Birth certificate", "Parent's ID card"), footer="Thank you!"),
    }


def main() -> None:
    header = f"{'ticket':40} {'paper':6} {'mode':25} {'bytes':>7} " + " ".join(f"{b:>8}" for b in BAUDS)
    print(header + "   (seconds on the wire)")
    print("-" * len(header))
    for name, ticket in tickets().items():
        for paper, popts in PAPERS.items():
            for mode, mopts in MODES.items():
                cfg = parse_printer_url(f"dummy://?{popts}{mopts}").render
                held = None
                if cfg.keep_glyphs:  # the printer already holds the letters of the same ticket
                    held = dict(render_job("first", ticket_ops(ticket), cfg).held or ())
                t0 = time.perf_counter()
                data = render_job("next", ticket_ops(ticket), cfg, held).data if held is not None \
                    else render_bytes(ticket_ops(ticket), cfg)
                ms = (time.perf_counter() - t0) * 1000
                secs = " ".join(f"{len(data) * 10 / b:8.2f}" for b in BAUDS)
                print(f"{name:40} {paper:6} {mode:25} {len(data):7d} {secs}   render {ms:.0f} ms")
                if name == "reference (vi)" and paper == "80 mm" and mode in IN_TABLE:
                    size = f"{len(data):,} B ({len(data) * 10 / 9600:.1f} s at 9600 baud)"
                    if mode.startswith("glyphs"):
                        figure("printer", f"reference Vietnamese ticket, 80 mm, {mode}", size,
                               f"≤ {GOAL_BYTES:,} B", len(data) <= GOAL_BYTES)
                    else:
                        figure("printer", f"reference Vietnamese ticket, 80 mm, {mode}", size)
        print()


if __name__ == "__main__":
    main()
