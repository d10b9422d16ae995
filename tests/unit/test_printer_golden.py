"""Golden bytes for the reference ticket. Regenerate on purpose with QMS_UPDATE_GOLDEN=1.

Image lines come from FreeType via Pillow: a Pillow/FreeType upgrade may move a few pixels.
Then look at the previews (docs/ticket-preview-*.png) and regenerate.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from devices.printer.layout import ticket_ops
from devices.printer.render import render_bytes
from devices.printer.sample import reference_ticket
from devices.printer.url import parse_printer_url

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = {
    "ticket-80mm-hybrid.bin": "dummy://?profile=TM-T20II",
    "ticket-58mm-hybrid.bin": "dummy://?profile=POS-5890&qr=native",
    "ticket-80mm-text-tcvn3.bin": "dummy://?profile=TM-T20II&mode=text&encoding=tcvn3",
    "ticket-80mm-glyphs.bin": "dummy://?profile=TM-T20II&mode=glyphs",
}


def _render(url: str) -> bytes:
    return render_bytes(ticket_ops(reference_ticket()), parse_printer_url(url).render)


@pytest.mark.parametrize(("name", "url"), CASES.items())
def test_golden_bytes(name, url):
    data = _render(url)
    path = GOLDEN / name
    if os.environ.get("QMS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} missing: run QMS_UPDATE_GOLDEN=1 pytest {__file__}"
    expected = path.read_bytes()
    if data != expected:
        at = next((i for i, (a, b) in enumerate(zip(data, expected, strict=False)) if a != b),
                  min(len(data), len(expected)))
        pytest.fail(f"{name}: {len(data)} bytes vs golden {len(expected)}, first difference at byte {at}; "
                    "if the change is intended, check the previews and rerun with QMS_UPDATE_GOLDEN=1")


def test_rendering_is_deterministic():
    assert _render(CASES["ticket-80mm-hybrid.bin"]) == _render(CASES["ticket-80mm-hybrid.bin"])


def test_hybrid_bytes_structure():
    data = _render(CASES["ticket-80mm-hybrid.bin"])
    assert data.startswith(b"\x1b@")  # ESC @
    assert re.search(rb"\x1d!\x33(\x1bE\x01)?A012\n", data)  # number: native, 4x4 (GS ! 0x33), bold
    assert b"\x1d(k" in data and b"https://dahuoai.example.vn/q/A012" in data  # native QR
    assert b"\x1dv0" in data  # raster image lines
    assert b"\x1dV" in data  # cut
    assert len(data) < 12_000


def test_text_mode_bytes_are_tcvn3():
    data = _render(CASES["ticket-80mm-text-tcvn3.bin"])
    assert b"\x1bt\x1e" in data  # ESC t 30
    assert "Đăng ký khai sinh".encode("ascii", "ignore") not in data
    assert b"\xa7\xa8ng k\xfd khai sinh" in data  # Đăng ký khai sinh in TCVN-3
    assert b"\x1dv0" not in data
    assert len(data) < 1_000
