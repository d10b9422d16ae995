"""The hall's voice at the morning rush (issue 20), timed by the real length of every WAV:

    python bench/bench_voice.py [--pack DIR]

The real :class:`~devices.voice.announcer.Announcer` renders every announcement from the Vietnamese
voice pack (built with espeak-ng) and plays it through the ``file:`` backend; a virtual clock moves on
by each WAV's duration, so ten minutes of calls take seconds. Figures: time from the ``ticket_called``
event to the start of the call's own words (after any chime), and stale calls spoken (a call whose
counter had already called someone else, completed, paused or marked a no-show before its words began).

Cases: 6 counters calling at the same instant (goal p95 <= 15 s); 12 calls per minute for 10 minutes on
6 counters, every sixth a recall (goal: backlog bounded, max <= 30 s); a burst of 20 calls in 10 s on
12 counters. Settings: digits mode, said twice (the defaults). ``today`` = the fifo policy with the
1.8 s chime as before issue 20; ``smart`` = the default policy with the 0.8 s chime.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from figures import figure  # bench/figures.py (this script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devices.voice.announcer import Announcer  # noqa: E402
from devices.voice.build import build_pack  # noqa: E402
from devices.voice.chime import OLD, chime_frames  # noqa: E402
from devices.voice.pack import MANIFEST, VoicePack, load_pack  # noqa: E402
from devices.voice.player import FileSinkBackend  # noqa: E402
from devices.voice.tts import espeak_binary  # noqa: E402
from devices.voice.wavio import FORMAT, duration_s, wav_bytes  # noqa: E402
from mqtt_bus.contract import EventType  # noqa: E402
from testkit.stats import percentile  # noqa: E402

CALLS = (EventType.TICKET_CALLED, EventType.TICKET_RECALLED)


class Clock:
    """Virtual seconds."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class TimedSink(FileSinkBackend):
    """The ``file:`` backend; playing takes the WAV's real duration on the virtual clock."""

    def __init__(self, folder: Path, clock: Clock) -> None:
        super().__init__(folder)
        self.clock = clock
        self.seconds = 0.0

    def play(self, wav: bytes, label: str) -> None:
        super().play(wav, label)
        d = duration_s(wav)
        self.clock.t += d
        self.seconds += d


def event(seq: int, kind: str, number: str, counter: str, count: int = 1) -> dict[str, Any]:
    return {"seq": seq, "ts": "2026-11-23T07:30:00+07:00", "type": kind, "counter": counter,
            "ticket": {"id": f"t-{number}", "number": number, "status": "called", "call_count": count}}


def scenario(kind: str) -> list[tuple[float, dict[str, Any]]]:
    """``(time, event)`` in order; a counter's next call is preceded by the completion of its ticket."""
    out: list[tuple[float, dict[str, Any]]] = []
    current: dict[str, tuple[str, int]] = {}
    seq = 0

    def add(t: float, counter: str, recall: bool = False) -> None:
        nonlocal seq
        if recall and counter in current:
            number, count = current[counter]
            current[counter] = (number, count + 1)
            seq += 1
            out.append((t, event(seq, EventType.TICKET_RECALLED, number, counter, count + 1)))
            return
        if counter in current:
            seq += 1
            out.append((t, event(seq, EventType.TICKET_COMPLETED, current[counter][0], counter)))
        number = f"{'ABCDEFGHKLMN'[int(counter) - 1]}{seq + 1:03d}"
        current[counter] = (number, 1)
        seq += 1
        out.append((t, event(seq, EventType.TICKET_CALLED, number, counter)))

    if kind == "6 at once":
        for i in range(6):
            add(0.0, str(i + 1))
    elif kind == "12/min, 10 min":
        for i in range(120):
            add(5.0 * i, str(i % 6 + 1), recall=i % 6 == 5 and i >= 6)
    elif kind == "burst of 20":
        for i in range(20):
            add(0.5 * i, str(i % 12 + 1))
    else:
        raise ValueError(kind)
    return out


def run(pack: VoicePack, policy: str, kind: str, out_dir: Path) -> dict[str, Any]:
    clock = Clock()
    sink = TimedSink(out_dir, clock)
    ann = Announcer(pack, sink, mode="digits", repeat=2, policy=policy, clock=clock)
    ann.probe()
    timeline = scenario(kind)
    moved: dict[str, list[float]] = {}
    arrival: dict[int, tuple[float, str]] = {}
    i = 0
    while True:
        while i < len(timeline) and timeline[i][0] <= clock.t:
            t, e = timeline[i]
            i += 1
            moved.setdefault(e["counter"], []).append(t)
            if e["type"] in CALLS:
                arrival[e["seq"]] = (t, e["counter"])
                ann.announce(e)
            else:
                ann.observe(e)
        if ann.step():
            continue
        if i >= len(timeline):
            break
        clock.t = timeline[i][0]
    waits = [ann.started[s] - t for s, (t, _c) in arrival.items() if s in ann.started]
    stale = sum(1 for s, (t, c) in arrival.items() if s in ann.started
                and any(t < m < ann.started[s] for m in moved[c]))
    return {"case": kind, "policy": policy, "calls": len(arrival), "spoken": len(waits),
            "dropped": len(arrival) - len(waits), "p50": percentile(waits, 50), "p95": percentile(waits, 95),
            "max": max(waits), "stale": stale, "audio_s": sink.seconds}


def packs(arg: str | None, tmp: Path) -> tuple[VoicePack, VoicePack]:
    """The pack as built now, and the same clips with the old 1.8 s chime."""
    if arg:
        new = load_pack(arg)
    else:
        if espeak_binary() is None:
            print("bench_voice: skipped: espeak-ng is needed to build the Vietnamese pack (apt install espeak-ng)")
            sys.exit(0)
        new = build_pack("vi", tmp / "vi")
    old_dir = tmp / "vi-old-chime"
    shutil.copytree(new.directory, old_dir)
    (old_dir / "old-chime.wav").write_bytes(wav_bytes(FORMAT, chime_frames(**OLD)))  # type: ignore[arg-type]
    manifest = json.loads((old_dir / MANIFEST).read_text(encoding="utf-8"))
    manifest["clips"] = {**manifest["clips"], "chime": "old-chime.wav"}
    (old_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return new, load_pack(old_dir)


def rows(new: VoicePack, old: VoicePack, tmp: Path) -> Iterator[dict[str, Any]]:
    for n, kind in enumerate(("6 at once", "12/min, 10 min", "burst of 20")):
        for policy, pack, label in (("fifo", old, "today"), ("smart", new, "smart")):
            row = run(pack, policy, kind, tmp / f"out-{n}-{policy}")
            row["policy"] = label
            yield row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", help="a built pack folder (default: build assets/voice/vi into a temp folder)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a goal is not met")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as tmp_name:
        tmp = Path(tmp_name)
        new, old = packs(args.pack, tmp)
        print("event → start of the call's words (s), virtual time = real WAV durations; digits, said twice")
        print(f"{'case':<16} {'policy':<6} {'calls':>5} {'spoken':>6} {'dropped':>7} {'p50':>6} {'p95':>6} "
              f"{'max':>6} {'stale':>5} {'audio':>7}")
        ok = True
        for r in rows(new, old, tmp):
            print(f"{r['case']:<16} {r['policy']:<6} {r['calls']:>5} {r['spoken']:>6} {r['dropped']:>7} "
                  f"{r['p50']:>6.1f} {r['p95']:>6.1f} {r['max']:>6.1f} {r['stale']:>5} {r['audio_s']:>6.0f}s")
            if r["policy"] == "smart":
                ok &= r["stale"] == 0
                ok &= not (r["case"] == "6 at once" and r["p95"] > 15)
                ok &= not (r["case"].startswith("12/min") and r["max"] > 30)
                if r["case"] == "6 at once":
                    figure("voice", "6 counters at once: call → its words, p95", f"{r['p95']:.1f} s", "≤ 15 s",
                           r["p95"] <= 15)
                elif r["case"].startswith("12/min"):
                    figure("voice", "12 calls/min for 10 min: longest wait for the voice", f"{r['max']:.1f} s",
                           "≤ 30 s", r["max"] <= 30)
                figure("voice", f"{r['case']}: stale calls spoken", str(r["stale"]), "0", r["stale"] == 0)
        print("goals (smart): 6 at once p95 <= 15 s; 12/min max <= 30 s; no stale call:", "met" if ok else "NOT MET")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
