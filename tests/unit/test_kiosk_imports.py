"""The kiosk process loads only what it uses (issue 15: kiosk memory).

A fresh interpreter starts the kiosk as ``qms kiosk`` does (``kiosk.main``: lean imports, Kivy
prepared, fonts), builds it against a broker that is not there and a virtual printer, draws its first
screen in an offscreen window, and prints its ``sys.modules``. An import added anywhere on that path
(a module-level ``import hub...`` in a kiosk module, a view that pulls in the counter pad, numpy back
through Pillow) makes it fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEVER = {"numpy", "hub", "counter", "queue_display", "pytest", "sqlite3",  # pytest: the harness's; sqlite3: the store's
         "platformdirs",  # only for a default data dir; a service's is always set
         "queue_core.engine", "statistics"}  # the queue's rules and estimates run in the hub
CONFIG_STACK = {"ruamel"}  # a warm config cache skips the YAML parser

KIOSK = """
import json, sys
from pathlib import Path
import kiosk.main  # the entry point of `qms kiosk`: what it imports at module level counts
from kiosk.lean import reuse_printer_profiles, skip_unused_imports
skip_unused_imports()  # kiosk.main.run() does this first
from qms.config.cache import CACHE_DIR
reuse_printer_profiles(Path(sys.argv[2]) / CACHE_DIR)
from ui_kit.boot import prepare
prepare(size=(540, 960))
from ui_kit.fonts import register_fonts
register_fonts()
from kivy.base import EventLoop
from kivy.core.window import Window
from kiosk.app import build_kiosk
from qms.context import AppContext
ctx = AppContext(config_path=Path(sys.argv[1]), data_dir=Path(sys.argv[2]), printer_option="virtual://" + sys.argv[3])
kiosk = build_kiosk(ctx, "mqtt://127.0.0.1:9", client_id="kiosk-imports", voice=False)
root = kiosk.root()
Window.add_widget(root)
EventLoop.ensure_window()
for _ in range(5):
    EventLoop.idle()
assert kiosk.vm.screen == "welcome", kiosk.vm.screen
kiosk.close()
loaded = {m for m, mod in sys.modules.items() if mod is not None}
print("\\n" + json.dumps(sorted(loaded | {m.split(".")[0] for m in loaded})))
"""


def kiosk_modules(config: Path, data: Path, paper: Path) -> set[str]:
    """Every module the kiosk loaded by its first screen, and their top-level packages."""
    env = {**os.environ, "QMS_ENV_FILE": "", "QMS_HEADLESS": "1", "KIVY_NO_CONSOLELOG": "1"}
    done = subprocess.run([sys.executable, "-c", KIOSK, str(config), str(data), str(paper)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_kiosk_at_its_first_screen_loads_no_hub_counter_display_or_numpy(always_open_config, tmp_path):
    first = kiosk_modules(always_open_config, tmp_path / "data", tmp_path / "paper")
    assert {"kiosk", "kivy", "escpos", "pydantic"} <= first  # the check sees a real kiosk
    assert not NEVER & first
    profiles = list((tmp_path / "data" / "cache" / "escpos").glob("*.capabilities.pickle"))
    assert len(profiles) == 1  # python-escpos parsed its printer profiles once, into the data dir's cache
    parsed = profiles[0].stat().st_mtime_ns
    again = kiosk_modules(always_open_config, tmp_path / "data", tmp_path / "paper")
    assert not (NEVER | CONFIG_STACK) & again
    assert profiles[0].stat().st_mtime_ns == parsed  # the second start read them back
