"""``qms display`` as a real process (offscreen): it speaks a call, announces itself, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from mqtt_bus.contract import Role
from tests.integration.hub_helpers import SITE, wait_for
from tests.voice_fakes import make_tone_pack, spoken_numbers

ROOT = Path(__file__).resolve().parents[2]


def display_process(tmp_path, config: Path, broker_url: str, *options: str) -> subprocess.Popen:
    env = {**os.environ, "QMS_HEADLESS": "1", "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy"}
    return subprocess.Popen(
        [sys.executable, "-m", "qms.cli", "--config", str(config), "--data-dir", str(tmp_path / "display-data"),
         "--broker", broker_url, "display", "--windowed", *options],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_display_process_speaks_and_stops_cleanly(tmp_path, always_open_config, broker, hub, make_client):
    pack = make_tone_pack(tmp_path / "pack")
    wav = tmp_path / "spoken"
    proc = display_process(tmp_path, always_open_config, broker.url, "--audio", f"file:{wav}",
                           "--voice", str(pack.directory), "--led", "fake://", "--client-id", "display-hall")
    try:
        status: dict[str, bool] = {}
        watcher = make_client(broker.url, "monitor-1", Role.MONITOR, site=SITE)
        watcher.subscribe(watcher.topics.status("display-hall"), lambda _t, p: status.update(online=p["online"]))
        assert wait_for(lambda: status.get("online") is True, 15), "the display announces itself online"
        pad = make_client(broker.url, "counter-2", Role.COUNTER, site=SITE)
        assert pad.request("issue_ticket", {"service": "tu-phap"}, timeout=3)["ok"]
        assert pad.request("call_next", {"counter": "2"}, timeout=3)["result"]["ticket"]["number"] == "A001"
        assert wait_for(lambda: any(wav.glob("*_A001_counter2.wav")), 10), "the call was spoken"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert wait_for(lambda: status.get("online") is False, 3), "offline status on the way out"
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr = proc.communicate(timeout=10)[1]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "hall display stopped" in stderr
    assert spoken_numbers(sorted(wav.glob("*.wav"))) == ["A001"], "spoken once (chime, call, repetition)"


def test_bad_led_option_is_one_line_and_exit_code_2(tmp_path, always_open_config, broker):
    proc = display_process(tmp_path, always_open_config, broker.url, "--no-voice", "--led", "serial:///dev/x?baud=1")
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert stderr.strip().splitlines()[-1].startswith("qms: unknown LED URL option(s) baud")
