"""``qms demo`` for a newcomer: a short terminal guide, every log in the data dir, a hint that works."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOISE = re.compile(r"Traceback|CRITICAL|ALSA|kivy:|Error", re.IGNORECASE)


def run_demo(data_dir: Path, env: dict[str, str], *args: str, timeout: float = 90) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "qms.cli", "--data-dir", str(data_dir), "demo", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return (done.stdout + done.stderr).splitlines()


def hinted_status(lines: list[str]) -> dict:
    """Run the ``… status`` command the last line names, as a newcomer would paste it."""
    match = re.search(r": (\S*qms --data-dir \S+ status)$", lines[-1])
    assert match, lines[-1]
    done = subprocess.run(shlex.split(match.group(1)), cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_windowed_demo_prints_a_short_guide_and_keeps_the_logs_in_the_data_dir(tmp_path):
    env = {**os.environ, "DISPLAY": os.environ.get("DISPLAY", ":99"), "SDL_VIDEODRIVER": "offscreen",
           "SDL_AUDIODRIVER": "dummy"}
    env.pop("QMS_HEADLESS", None)
    data = tmp_path / "demo"
    lines = run_demo(data, env, "--fresh", "--duration", "20")
    text = "\n".join(lines)
    assert len(lines) <= 20, text
    assert not NOISE.search(text), text
    for window in ("Kiosk", "Hall display", "Counter pad"):
        assert window in text
    assert "Gọi tiếp" in text and "--fresh" in text
    assert f"Tickets (PNG)   {data / 'tickets'}" in text and f"Logs            {data / 'logs'}" in text
    # the windows ran (their logs say so) and their terminal noise went to files, not to the newcomer
    assert "first screen drawn" in (data / "logs" / "kiosk.log").read_text(encoding="utf-8")
    assert "--portrait" not in text and "720x1280" not in text
    outs = "".join((data / "logs" / f"{verb}.out").read_text(encoding="utf-8", errors="replace")
                   for verb in ("kiosk", "display", "counter-pad"))
    assert "kivy" in outs.lower()
    assert {c["counter"] for c in hinted_status(lines)["counters"]} >= {"1", "2"}


def test_the_walkthrough_without_a_screen_is_short_and_clean(tmp_path):
    env = {**os.environ, "QMS_HEADLESS": "1"}
    lines = run_demo(tmp_path / "demo", env, "--fresh")
    text = "\n".join(lines)
    assert len(lines) <= 45, text
    assert not re.search(r"Traceback|CRITICAL", text), text
    snap = hinted_status(lines)
    assert any(s["issued_today"] for s in snap["services"])
