"""bench/figures.py: the figures every bench states become one table, in bench order, with their goals."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_figures", ROOT / "bench" / "figures.py")
assert spec and spec.loader
figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figures)


def test_figures_are_collected_and_tabled_in_bench_order(tmp_path, monkeypatch, capsys):
    store = tmp_path / "figures.jsonl"
    monkeypatch.setenv("QMS_BENCH_FIGURES", str(store))
    figures.figure("kiosk", "RSS at the first screen", "172 MB", "≤ 150 MB", False)
    figures.figure("store", "tickets per second", "540/s", "≥ 500/s", True)
    figures.figure("store", "latency median / p99", "1.9 ms / 4.7 ms")
    assert "RSS at the first screen: 172 MB (goal ≤ 150 MB: **not met**)" in capsys.readouterr().out
    rows = [json.loads(line) for line in store.read_text(encoding="utf-8").splitlines()]
    assert figures.table(rows).splitlines() == [
        "| bench | what | figure | goal | |",
        "|---|---|---|---|---|",
        "| store | tickets per second | 540/s | ≥ 500/s | met |",
        "| store | latency median / p99 | 1.9 ms / 4.7 ms |  |  |",
        "| kiosk | RSS at the first screen | 172 MB | ≤ 150 MB | **not met** |",
    ]
