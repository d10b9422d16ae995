"""scripts/build_icons.py: every committed pictogram is drawn by it, and it runs as a script."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageChops

from ui_kit.paths import assets_dir

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_icons.py"


def _load():
    spec = importlib.util.spec_from_file_location("build_icons", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_builds_the_committed_icons(tmp_path):
    files = _load().build(tmp_path)
    committed = sorted(p.name for p in (assets_dir() / "icons").glob("*.png"))
    assert sorted(p.name for p in files) == committed
    for name in ("ticket.png", "elderly.png"):
        new, old = Image.open(tmp_path / name), Image.open(assets_dir() / "icons" / name)
        assert new.size == old.size
        assert ImageChops.difference(new.convert("RGBA"), old.convert("RGBA")).getbbox() is None


def test_runs_as_a_script_from_anywhere(tmp_path):
    out, sheet = tmp_path / "icons", tmp_path / "sheet.png"
    done = subprocess.run([sys.executable, str(SCRIPT), str(sheet), "--out", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert (out / "ticket.png").exists() and Image.open(sheet).width == 8 * 150
