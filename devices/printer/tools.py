"""Technician functions behind `qms printer test|status` and `qms ports`."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from .codepages import profile_codepages, strip_diacritics
from .glyphs import assign, normalise
from .layout import LEFT, QR, SMALL, Cut, Encoded, Feed, GlyphSet, NativeText, Op, Rule, Style, Text, wrap
from .profiles import make_profile
from .render import render_job
from .service import PrinterService
from .url import PrinterSpec, parse_printer_url

SAMPLE = "Đăng ký khai sinh — Tư pháp–Hộ tịch — Quầy số 2"
BY_ID = Path("/dev/serial/by-id")
WELL_KNOWN = {"tcvn3": {30, 31}, "cp1258": {52, 94}}  # Epson numbers, and a common clone slot


def codepage_candidates(spec: PrinterSpec) -> list[tuple[str, int]]:
    """(encoding, ESC t number) pairs worth trying on this printer."""
    prof = make_profile(spec.profile, spec.width)
    out = []
    for enc in ("tcvn3", "cp1258"):
        pages = set(profile_codepages(prof, enc)) | WELL_KNOWN[enc]
        if spec.render.encoding == enc and spec.render.codepage is not None:
            pages.add(spec.render.codepage)
        out += [(enc, n) for n in sorted(pages)]
    return out


def test_page_choices(spec: PrinterSpec) -> list[tuple[str, str]]:
    """The samples of the test page as (label, printer URL options): what a technician picks from."""
    choices = [("1", "mode=hybrid"), ("g", "mode=glyphs")]
    choices += [(str(i), f"mode=text&encoding={enc}&codepage={page}")
                for i, (enc, page) in enumerate(codepage_candidates(spec), start=2)]
    return [*choices, ("ascii", "mode=text&encoding=ascii")]


def test_page_ops(spec: PrinterSpec | str = "dummy://") -> list[Op]:
    """The test page: SAMPLE in every mode, each under an ASCII label naming the URL options."""
    spec = parse_printer_url(spec) if isinstance(spec, str) else spec
    left = replace(LEFT, size=SMALL.size)
    ops: list[Op] = [
        NativeText("QMS PRINTER TEST", scale=2, bold=True),
        Text(strip_diacritics(f"{spec.scheme}://{spec.where}  profile={spec.profile}  width={spec.width}"), left),
        Rule(),
        Text("Which sample below reads correctly? Use its options in the printer URL.", left),
        Feed(12),
    ]
    for label, options in test_page_choices(spec):
        if options == "mode=hybrid":
            ops += [Text(f"[{label}] {options} (image, default)", Style(SMALL.size, bold=True, align="left")),
                    Text(SAMPLE, LEFT)]
            continue
        if options == "mode=glyphs":
            ops += [Feed(8), Text(f"[{label}] {options} (letters downloaded, ~2 KB a ticket)", left),
                    *glyph_sample_ops(spec.width // 12)]
            continue
        query = dict(part.split("=") for part in options.split("&"))
        ops += [Feed(8), Text(f"[{label}] {options}" + (" (no accents)" if query["encoding"] == "ascii" else ""),
                              left),
                Encoded(SAMPLE, query["encoding"], int(query.get("codepage", 0)))]
    ops += [Rule(), Text("qr=native (GS ( k):", left), QR("QMS TEST 0123456789", native=True),
            Text("qr=image:", left), QR("QMS TEST 0123456789", native=False), Cut()]
    return ops


def glyph_sample_ops(columns: int) -> list[Op]:
    """SAMPLE as native text with its letters downloaded (`ESC &`), then the resident set again."""
    lines = wrap(normalise(SAMPLE), lambda s: len(s) <= columns)
    slots = assign(lines)
    return [GlyphSet(tuple(slots.items())), *(NativeText(line, align="left") for line in lines), GlyphSet()]


def print_test_page(url: str) -> dict[str, Any]:
    """Print the test page on `url`; returns {"url", "bytes", "status"} (raises PrinterUnavailable)."""
    spec = parse_printer_url(url)
    job = render_job("test-page", test_page_ops(spec), replace(spec.render, mode="hybrid"))
    with PrinterService(spec) as service:
        sent = service.send(job)  # a missing port raises here; a silent printer still gets the page
        return {"url": url, "bytes": sent, "status": service.status()}


def printer_status(url: str) -> dict[str, str]:
    """The `state/device` payload for the printer at `url` (opens and closes the port)."""
    with PrinterService(url) as service:
        return service.status()


def list_ports() -> list[dict[str, Any]]:
    """Serial ports (with their stable /dev/serial/by-id names) and USB printer-class devices."""
    from serial.tools import list_ports as lp

    by_id: dict[str, list[str]] = {}
    for link in sorted(BY_ID.iterdir()) if BY_ID.is_dir() else []:
        by_id.setdefault(os.path.realpath(link), []).append(str(link))
    ports: list[dict[str, Any]] = []
    for p in sorted(lp.comports(), key=lambda p: p.device):
        names = by_id.get(os.path.realpath(p.device), [])
        ports.append({
            "device": p.device, "by_id": names, "description": p.description, "hwid": p.hwid,
            "vid": f"{p.vid:04x}" if p.vid is not None else None,
            "pid": f"{p.pid:04x}" if p.pid is not None else None,
            "serial_number": p.serial_number, "manufacturer": p.manufacturer,
            "url": f"serial://{names[0] if names else p.device}",
        })
    for lp_dev in sorted(Path("/dev/usb").glob("lp*")) if Path("/dev/usb").is_dir() else []:
        ports.append({"device": str(lp_dev), "by_id": [], "description": "USB printer (usblp)", "hwid": None,
                      "vid": None, "pid": None, "serial_number": None, "manufacturer": None,
                      "url": f"file://{lp_dev}"})
    return ports
