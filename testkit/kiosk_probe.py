"""A real kiosk process for tests, watched from outside: ``python -m testkit.kiosk_probe CONFIG BROKER OUT SERVICE``.

It builds the kiosk exactly as ``qms kiosk`` does (``kiosk.app.build_kiosk`` + ``KioskApp``, offscreen),
walks a citizen to ``SERVICE``'s procedure screen, and then, each time the buttons on the screen change,
saves a screenshot ``OUT/kiosk-probe-N.png`` and prints one JSON line
``{"t": unix time, "screen", "labels": [...], "png"}`` (so a test can see a live config change arrive). ``t`` is taken when the new buttons are on the screen,
before the screenshot is written (writing a PNG is the probe's own work, not the kiosk's).

:class:`KioskProbe` runs it as a child process and hands its lines over (tests and ``bench/bench_live_apply.py``).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class KioskProbe:
    """This module as a child process; its JSON lines (one per redraw) in a queue."""

    def __init__(self, config: Path, broker_url: str, out: Path, service: str) -> None:
        (out / "kivy").mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "QMS_HEADLESS": "1", "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
               "KIVY_HOME": str(out / "kivy"), "QMS_DATA_DIR": str(out / "kiosk-data")}  # virtual:// prints there
        self.printed = out / "kiosk-data" / "tickets"
        self.proc = subprocess.Popen([sys.executable, "-m", "testkit.kiosk_probe", str(config), broker_url,
                                      str(out), service], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def wait(self, check: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any] | None:
        """The first redraw that passes ``check`` within ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if check(line):
                return line
        return None

    def stop(self) -> str:
        """Stop the process; its standard error."""
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        return self.proc.stderr.read() if self.proc.stderr else ""


def main(argv: list[str]) -> int:
    config, broker_url, out, service = argv
    from ui_kit.boot import prepare

    prepare(kiosk=False, size=(1280, 720))
    from ui_kit.fonts import register_fonts

    register_fonts()
    from kivy.clock import Clock

    from kiosk.app import KioskApp, build_kiosk
    from kiosk.ui.widgets import Tile
    from qms.context import AppContext

    ctx = AppContext(config_path=Path(config), data_dir=Path(out) / "kiosk-data")
    kiosk = build_kiosk(ctx, broker_url, client_id="kiosk-1", voice=False, idle_timeout_s=600)
    app = KioskApp(kiosk, kiosk_mode=False)
    vm = kiosk.vm
    shown: list[object] = [None]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)

    def tick(_dt: float) -> None:
        if not vm.connected:
            return
        step = {"welcome": vm.take_number, "priority": lambda: vm.choose_priority("normal"),
                "field": lambda: vm.choose_service(service)}.get(vm.screen)
        if step is not None:
            step()
            return  # the screen is rebuilt before the next frame: look at it next time
        root = app.root
        if root is None or root.builds == shown[0]:
            return
        shown[0] = root.builds
        labels = [w.label.text for w in root.walk(restrict=True) if isinstance(w, Tile)]
        shown_at = time.time()
        png = folder / f"kiosk-probe-{root.builds}.png"
        root.export_to_png(str(png))
        print(json.dumps({"t": shown_at, "screen": vm.screen, "labels": labels, "png": str(png)},
                         ensure_ascii=False), flush=True)

    Clock.schedule_interval(tick, 0.05)
    try:
        app.run()
    finally:
        kiosk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
