"""The one parser for printer URLs (`--printer URL` / `$QMS_PRINTER`).

    serial:///dev/ttyUSB0?baudrate=115200&flow=none|xonxoff|rtscts&profile=TM-T20II
    tcp://10.0.0.9:9100        usb://04b8:0e15        file:///tmp/out.bin
    virtual:///tmp/tickets     dummy://        none://   (no printer: tickets only on screen)

Options for every scheme: profile (python-escpos profile, default TM-T20II = 80 mm),
width (576 | 384 | 80mm | 58mm), mode (hybrid | glyphs | text | raster), encoding (tcvn3 | cp1258 | ascii, text
mode), codepage (ESC t number, default from the profile), qr (native | image),
center (esc | pad), density (full | half: image lines bold at half horizontal resolution,
about half the bytes, for slow serial links), keep (mode=glyphs: 0 = send the letters with every
ticket, the default; N = the printer keeps them, re-sent after any not-ready status and every N
tickets), timeout (status reply timeout in seconds, default 0.2), status (dle | none:
for printers that never answer DLE EOT; they are then assumed ready while the port opens).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, urlsplit

from .codepages import ENCODINGS, profile_codepages
from .lowering import RenderConfig
from .profiles import DEFAULT_58MM, DEFAULT_80MM, make_profile, profile_names, profile_width

SCHEMES = {
    "serial": "serial:///dev/ttyUSB0?baudrate=115200&flow=xonxoff&profile=TM-T20II",
    "tcp": "tcp://10.0.0.9:9100",
    "usb": "usb://04b8:0e15",
    "file": "file:///tmp/out.bin",
    "virtual": "virtual:///tmp/tickets",
    "dummy": "dummy://",
    "none": "none://",
}
COMMON = {"profile", "width", "mode", "encoding", "codepage", "qr", "center", "timeout", "status", "density", "keep"}
EXTRA = {"serial": {"baudrate", "flow"}, "usb": {"interface", "in_ep", "out_ep"}}
FLOWS = ("none", "xonxoff", "rtscts")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)


@dataclass(frozen=True)
class PrinterSpec:
    """A parsed printer URL: transport, its settings, and how tickets are rendered for it."""

    url: str
    scheme: str
    path: str = ""
    host: str = ""
    port: int = 9100
    vid: int = 0
    pid: int = 0
    baudrate: int = 9600
    flow: str = "none"
    profile: str = DEFAULT_80MM
    width: int = 576
    timeout: float = 0.2
    status_query: bool = True
    usb: dict[str, int] = field(default_factory=dict)
    render: RenderConfig = field(default_factory=RenderConfig)

    @property
    def where(self) -> str:
        """Human name of the target: a path, host:port or vid:pid."""
        if self.scheme == "tcp":
            return f"{self.host}:{self.port}"
        if self.scheme == "usb":
            return f"{self.vid:04x}:{self.pid:04x}"
        return self.path


def _bad(url: str, what: str, scheme: str | None = None) -> ValueError:
    example = SCHEMES.get(scheme or "", SCHEMES["serial"])
    return ValueError(f"bad printer URL {url!r}: {what} (example: {example})")


def _int(url: str, scheme: str, key: str, value: str, base: int = 10) -> int:
    try:
        return int(value, base)
    except ValueError:
        raise _bad(url, f"{key}={value!r} is not a number", scheme) from None


def _width(url: str, scheme: str, value: str) -> int:
    named = {"80mm": 576, "58mm": 384}
    width = named.get(value.lower()) or _int(url, scheme, "width", value)
    if not 96 <= width <= 832:
        raise _bad(url, f"width={value} is not a printable width (use 576, 384, 80mm or 58mm)", scheme)
    return width


def default_virtual_dir() -> str:
    """Where `virtual://` (no path) saves tickets: $QMS_DATA_DIR/tickets, else a temp dir."""
    base = os.environ.get("QMS_DATA_DIR")
    return os.path.join(base, "tickets") if base else os.path.join(tempfile.gettempdir(), "qms-tickets")


def _target(url: str, scheme: str, parts: SplitResult) -> dict[str, object]:
    netloc, path = parts.netloc, parts.path
    if scheme == "virtual" and not netloc and path in ("", "/"):
        return {"path": default_virtual_dir()}
    if scheme in ("serial", "file", "virtual"):
        if netloc and not (scheme == "serial" and re.fullmatch(r"COM\d+", netloc, re.I)):
            raise _bad(url, f"the path must be absolute (three slashes: {scheme}:///...)", scheme)
        target = netloc or path
        if not target or target == "/":
            raise _bad(url, "missing path", scheme)
        return {"path": target}
    if scheme == "tcp":
        try:
            port = parts.port or 9100
        except ValueError:
            raise _bad(url, "the port is not a number 1..65535", scheme) from None
        if not parts.hostname:
            raise _bad(url, "missing host", scheme)
        return {"host": parts.hostname, "port": port}
    if scheme == "usb":
        m = re.fullmatch(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})", netloc)
        if not m:
            raise _bad(url, "expected usb://VID:PID with 4 hex digits each", scheme)
        return {"vid": int(m[1], 16), "pid": int(m[2], 16)}
    return {}


def parse_printer_url(url: str, defaults: Mapping[str, str] | None = None) -> PrinterSpec:
    """Parse and validate `url`; raises ValueError naming what is wrong, with an example.

    `defaults` are query options (e.g. from the site config: {"width": "58mm", "mode": "text"})
    used when the URL does not set them.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        if not scheme and url.strip().startswith("/dev/"):
            raise _bad(url, f"no scheme; did you mean serial://{url.strip()} ?", "serial")
        raise _bad(url, f"unknown scheme {parts.scheme + '://' if scheme else '(none)'}; use one of {known}")
    fields: dict[str, object] = {"url": url, "scheme": scheme}
    fields.update(_target(url, scheme, parts))
    query = {k: v for k, v in (defaults or {}).items() if v is not None and k in COMMON | EXTRA.get(scheme, set())}
    query.update(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - COMMON - EXTRA.get(scheme, set())
    if unknown:
        allowed = ", ".join(sorted(COMMON | EXTRA.get(scheme, set())))
        raise _bad(url, f"unknown option {', '.join(sorted(unknown))} (allowed: {allowed})", scheme)
    get = query.get

    width = _width(url, scheme, get("width", "")) if get("width") else None
    profile = get("profile") or (DEFAULT_58MM if width == 384 else DEFAULT_80MM)
    if profile not in profile_names():
        raise _bad(url, f"unknown profile {profile!r} (e.g. TM-T20II for 80 mm, POS-5890 for 58 mm)", scheme)
    width = width or profile_width(profile) or 576
    fields.update(profile=profile, width=width)

    if scheme == "serial":
        baud = _int(url, scheme, "baudrate", get("baudrate", "9600"))
        if baud not in BAUDRATES:
            raise _bad(url, f"baudrate={baud} is unusual (use one of {BAUDRATES})", scheme)
        flow = get("flow", "none").lower()
        if flow not in FLOWS:
            raise _bad(url, f"flow={flow} is not one of {'|'.join(FLOWS)} (dsrdtr is not flow control on Linux)", scheme)
        fields.update(baudrate=baud, flow=flow)
    if scheme == "usb":
        fields["usb"] = {k: _int(url, scheme, k, v, 0) for k, v in query.items() if k in EXTRA["usb"]}
    if get("timeout"):
        try:
            fields["timeout"] = float(get("timeout", ""))
        except ValueError:
            raise _bad(url, f"timeout={get('timeout')!r} is not a number of seconds", scheme) from None
    status = get("status", "dle").lower()
    if status not in ("dle", "none"):
        raise _bad(url, f"status={status} is not dle or none", scheme)
    fields["status_query"] = status == "dle"
    fields["render"] = _render_config(url, scheme, profile, width, query)
    return PrinterSpec(**fields)  # type: ignore[arg-type]


def _render_config(url: str, scheme: str, profile: str, width: int, query: dict[str, str]) -> RenderConfig:
    get = query.get
    mode = get("mode", "hybrid").lower()
    if mode not in ("hybrid", "text", "raster", "glyphs"):
        raise _bad(url, f"mode={mode} is not hybrid, glyphs, text or raster", scheme)
    prof = make_profile(profile, width)
    encoding = get("encoding", "").lower()
    if not encoding:
        encoding = next((e for e in ENCODINGS if profile_codepages(prof, e)), "ascii")
    if encoding not in ENCODINGS:
        raise _bad(url, f"encoding={encoding} is not one of {'|'.join(ENCODINGS)}", scheme)
    pages = profile_codepages(prof, encoding)
    codepage = _int(url, scheme, "codepage", get("codepage", "")) if get("codepage") else None
    if codepage is None and mode == "text":
        if not pages:
            raise _bad(url, f"profile {profile} lists no {encoding} code page: add codepage=N "
                            "(find N with `qms printer test`)", scheme)
        codepage = pages[0]
    if codepage is not None and not 0 <= codepage <= 255:
        raise _bad(url, f"codepage={codepage} is not 0..255", scheme)
    qr = get("qr", "native" if prof.supports("qrCode") else "image").lower()
    if qr not in ("native", "image"):
        raise _bad(url, f"qr={qr} is not native or image", scheme)
    center = get("center", "esc").lower()
    if center not in ("esc", "pad"):
        raise _bad(url, f"center={center} is not esc or pad", scheme)
    density = get("density", "full").lower()
    if density not in ("full", "half"):
        raise _bad(url, f"density={density} is not full or half", scheme)
    keep = _int(url, scheme, "keep", get("keep", "0"))
    if not 0 <= keep <= 1000:
        raise _bad(url, f"keep={keep} is not 0..1000 tickets", scheme)
    if keep and mode != "glyphs":
        raise _bad(url, "keep=N is for mode=glyphs (the printer keeps its downloaded letters)", scheme)
    return RenderConfig(width=width, density=density, keep_glyphs=keep, mode=mode, encoding=encoding, codepage=codepage,  # type: ignore[arg-type]
                        qr_native=qr == "native", qr_size=6 if width >= 512 else 5,
                        pad_center=center == "pad", profile=profile)
