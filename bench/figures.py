"""The figures table of ``bash bench/run``: every bench states its headline figures with their goals here.

A bench calls :func:`figure` for each of them: the line is printed, and when ``$QMS_BENCH_FIGURES``
names a file (``bench/run`` sets it) it is also appended there as JSON. At the end ``bench/run`` runs
``python bench/figures.py FILE``, which prints them as one Markdown table, in the order of
:data:`ORDER` (the README's Figures table is that output, pasted as it is).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ORDER = ("store", "hub", "flood", "load", "retention", "report", "startup", "printer", "kiosk", "live apply", "display", "voice",
         "province")
"""Table order: by bench (the issue's targets follow the order of the system: store, hub, printer, kiosk)."""


def figure(bench: str, what: str, value: str, goal: str = "", met: bool | None = None) -> None:
    """State one figure of ``bench`` (``met``: None when there is no goal)."""
    verdict = "" if met is None else ("met" if met else "**not met**")
    print(f"  figure: {what}: {value}" + (f" (goal {goal}: {verdict})" if goal else ""), flush=True)
    path = os.environ.get("QMS_BENCH_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"bench": bench, "what": what, "value": value, "goal": goal, "verdict": verdict},
                                 ensure_ascii=False) + "\n")


def table(rows: list[dict[str, str]]) -> str:
    """The figures as a Markdown table, by bench in :data:`ORDER`, each bench's figures as stated."""
    rank = {name: i for i, name in enumerate(ORDER)}
    rows = sorted(rows, key=lambda r: rank.get(r["bench"], len(ORDER)))  # stable: a bench keeps its order
    lines = ["| bench | what | figure | goal | |", "|---|---|---|---|---|"]
    lines += [f"| {r['bench']} | {r['what']} | {r['value']} | {r['goal']} | {r['verdict']} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[1])
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
