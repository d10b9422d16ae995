"""The kiosk process loads only what it uses (issue 15: kiosk memory).

A fresh interpreter starts the kiosk as ``qms kiosk`` does (``kiosk.main``: lean imports, Kivy
prepared, fonts), builds it against a broker that is not there and a virtual printer, draws its first
screen in an offscreen window, and prints the modules whose code has run (``sys.modules`` without the
stand-ins of :func:`kiosk.lean.defer_imports`). An import added anywhere on that path (a module-level
``import hub...`` in a kiosk module, a view that pulls in the counter pad, numpy back through Pillow)
makes it fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEVER = {"numpy", "hub", "counter", "queue_display", "pytest", "sqlite3",  # pytest: the harness's; sqlite3: the store's
         "platformdirs",  # only for a default data dir; a service's is always set
         "queue_core.engine", "statistics"}  # the queue's rules and estimates run in the hub
CONFIG_STACK = {"ruamel", "pydantic", "pydantic_core",  # a warm config cache: its plain copy (no YAML, no models)
                "hashlib", "_hashlib",  # OpenSSL: for the admin PIN (qms.digest hashes the config file) or pydantic
                "importlib.metadata", "email"}  # pydantic's plugins; the version is a constant (mqtt_bus.version)
UNTIL_USED = {"qrcode",  # python-escpos draws a QR code with it for qr=image printers only (this one: native)
              "ssl", "_ssl"}  # marked absent: the broker URL is plain mqtt://
PROFILES_PARSER = {"yaml"}  # python-escpos parses its profiles with PyYAML only when their pickle is stale

KIOSK = """
import json, sys
from pathlib import Path
import kiosk.main  # the entry point of `qms kiosk`: what it imports at module level counts
from kiosk.lean import DeferredModule, start_lean
from qms.config.cache import CACHE_DIR
start_lean(Path(sys.argv[2]) / CACHE_DIR, "mqtt://127.0.0.1:9")  # kiosk.main.run() does this first
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
loaded = {m for m, mod in sys.modules.items() if mod is not None and not isinstance(mod, DeferredModule)}
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
    assert {"kiosk", "kivy", "escpos", "pydantic", "barcode"} <= first  # the check sees a real kiosk
    assert not (NEVER | UNTIL_USED) & first
    assert first >= PROFILES_PARSER  # no profile pickle yet: the deferred PyYAML ran when escpos needed it
    profiles = list((tmp_path / "data" / "cache" / "escpos").glob("*.capabilities.pickle"))
    assert len(profiles) == 1  # python-escpos parsed its printer profiles once, into the data dir's cache
    parsed = profiles[0].stat().st_mtime_ns
    again = kiosk_modules(always_open_config, tmp_path / "data", tmp_path / "paper")
    assert not (NEVER | CONFIG_STACK | UNTIL_USED | PROFILES_PARSER) & again
    assert profiles[0].stat().st_mtime_ns == parsed  # the second start read them back



def run_python(code: str, *args: str) -> list:
    """Run ``code`` in a fresh interpreter; the JSON list it prints last."""
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env={**os.environ, "QMS_ENV_FILE": ""},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


QR_PRINT = """
import hashlib, json, sys
from kiosk.lean import defer_imports, deferred
defer_imports(("qrcode",))
import escpos.printer  # its "import qrcode" binds the stand-in
import qrcode
imported = deferred("qrcode")
from devices.printer.layout import ticket_ops
from devices.printer.render import render_bytes
from devices.printer.sample import reference_ticket
from devices.printer.url import parse_printer_url
render_bytes(ticket_ops(reference_ticket()), parse_printer_url(sys.argv[1] + "&qr=native").render)
after_native = deferred("qrcode")
data = render_bytes(ticket_ops(reference_ticket()), parse_printer_url(sys.argv[1] + "&qr=image").render)
print("\\n" + json.dumps([imported, after_native, deferred("qrcode"), hashlib.sha256(data).hexdigest(),
                          qrcode.constants.ERROR_CORRECT_M]))
"""


def test_a_deferred_qrcode_runs_when_a_qr_image_is_printed_and_prints_the_same_bytes():
    from devices.printer.layout import ticket_ops
    from devices.printer.render import render_bytes
    from devices.printer.sample import reference_ticket
    from devices.printer.url import parse_printer_url

    url = "dummy://?profile=TM-T20II"
    imported, after_native, after_image, digest, level = run_python(QR_PRINT, url)
    assert (imported, after_native, after_image) == (True, True, False)  # a native QR code needs no qrcode
    expected = render_bytes(ticket_ops(reference_ticket()), parse_printer_url(url + "&qr=image").render)
    assert b"\x1d(k" not in expected  # no native QR: the code is an image
    assert digest == hashlib.sha256(expected).hexdigest()  # the same bytes as a process that loaded qrcode
    assert level == 0  # qrcode.constants.ERROR_CORRECT_M: its submodule imported as usual


THREADS = """
import json, threading
from kiosk.lean import defer_imports, deferred
defer_imports(("json.tool",))
import json.tool as tool
first = deferred("json.tool")
seen = []
start = threading.Barrier(8)
def use():
    start.wait()
    seen.append(tool.main)  # eight threads at once: one runs the code, the others wait for it
workers = [threading.Thread(target=use) for _ in range(8)]
for w in workers: w.start()
for w in workers: w.join()
print("\\n" + json.dumps([first, deferred("json.tool"), len(seen), len({id(f) for f in seen})]))
"""


def test_a_deferred_module_runs_once_when_threads_use_it_at_once():
    first, after, uses, functions = run_python(THREADS)
    assert (first, after) == (True, False)
    assert uses == 8 and functions == 1  # no thread saw it half run, its code ran once


TLS = """
import json, sys
from kiosk.lean import start_lean
start_lean(__import__("pathlib").Path(sys.argv[2]), sys.argv[1])
try:
    import ssl
    ok = hasattr(ssl, "create_default_context")
except ImportError:
    ok = False
print("\\n" + json.dumps([ok]))
"""


def test_ssl_is_there_for_a_tls_broker_only(tmp_path):
    assert run_python(TLS, "mqtts://hub.local", str(tmp_path)) == [True]
    assert run_python(TLS, "mqtt://hub.local", str(tmp_path)) == [False]
