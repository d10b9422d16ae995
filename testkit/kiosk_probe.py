"""A real kiosk process for tests, watched from outside: ``python -m testkit.kiosk_probe CONFIG BROKER OUT SERVICE``.

It builds the kiosk exactly as ``qms kiosk`` does (``kiosk.app.build_kiosk`` + ``KioskApp``, offscreen),
walks a citizen to ``SERVICE``'s procedure screen, and then, each time the buttons on the screen change,
saves a screenshot ``OUT/kiosk-probe-N.png`` and prints one JSON line
``{"t": unix time, "screen", "labels": [...], "png"}`` (so a test can see a live config change arrive).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


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
        png = folder / f"kiosk-probe-{root.builds}.png"
        root.export_to_png(str(png))
        print(json.dumps({"t": time.time(), "screen": vm.screen, "labels": labels, "png": str(png)},
                         ensure_ascii=False), flush=True)

    Clock.schedule_interval(tick, 0.05)
    try:
        app.run()
    finally:
        kiosk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
