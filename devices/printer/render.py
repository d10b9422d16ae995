"""Ops -> ESC/POS through python-escpos: `lower` wraps text and renders image lines, `emit` writes.

Modes:
- hybrid: lines with Vietnamese letters become TTF images cropped to ink (`GS v 0`), ASCII
  lines and the ticket number stay native text, the QR is native `GS ( k` (or an image).
- text: every line is text in one code page (`ESC t n`), encoded by `codepages.encode`.
- raster: the whole ticket as one image (the preview), for printers that can do nothing else;
  about 40 KB, so never over slow serial.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image

from .codepages import encode
from .layout import (
    QR,
    Cut,
    Encoded,
    Feed,
    NativeText,
    Number,
    Op,
    Raster,
    Rule,
    Text,
    is_ascii,
    wrap,
)
from .profiles import make_profile
from .raster import font, render_line, text_width

ESC = b"\x1b"
CELL = 12  # native font A is 12 x 24 dots
NUMBER_SCALE = 4
SAFETY = 8  # dots kept free at the right edge of image lines


@dataclass(frozen=True)
class RenderConfig:
    """How one printer wants its tickets (built from the printer URL)."""

    width: int = 576
    mode: Literal["hybrid", "text", "raster"] = "hybrid"
    encoding: str = "ascii"
    codepage: int | None = None
    qr_native: bool = True
    qr_size: int = 6
    pad_center: bool = False
    profile: str = "TM-T20II"
    density: Literal["full", "half"] = "full"

    @property
    def columns(self) -> int:
        """Native font A characters per line."""
        return self.width // CELL


def lower(ops: Sequence[Op], cfg: RenderConfig) -> list[Op]:
    """Replace Text/Rule by wrapped NativeText or Raster lines for `cfg`; keep other ops."""
    out: list[Op] = []
    for op in ops:
        if isinstance(op, Text):
            out += _lower_text(op, cfg)
        elif isinstance(op, Rule):
            out.append(NativeText("-" * (cfg.columns * 2 // 3)))
        else:
            out.append(op)
    return out


def _lower_text(op: Text, cfg: RenderConfig) -> list[Op]:
    return list(_lower_text_cached(op, cfg))


@lru_cache(maxsize=512)
def _lower_text_cached(op: Text, cfg: RenderConfig) -> tuple[Op, ...]:
    """Pure and slow (font rendering): the same line in the same settings is drawn once."""
    st = op.style
    if cfg.mode == "text" or is_ascii(op.text + op.hang):
        lines = _wrap(op, len, cfg.columns // st.scale)
        return [NativeText(line, st.scale, st.bold, st.align) for line in lines]
    xscale = 1
    if cfg.density == "half":  # bold survives halving; thin strokes would break up
        st, xscale = replace(st, bold=True), 2
    hang_w = text_width(op.hang, st)
    lsb = font(st.size, st.bold).getbbox(op.hang)[0] if op.hang.strip() else 0
    out: list[Op] = []
    for i, line in enumerate(_wrap(op, lambda s: text_width(s, st), cfg.width - SAFETY, hang_w)):
        if i and op.hang:
            out.append(render_line(line.lstrip(), st, hang_w - lsb, xscale))
        else:
            out.append(render_line(line, st, xscale=xscale))
    return tuple(out)


def _wrap(op: Text, measure: Callable[[str], int], room: int, hang_w: int = 0) -> list[str]:
    """Wrap to `room`; centred paragraphs are balanced (same line count, narrowest lines)."""
    indent = " " * len(op.hang)

    def fits(s: str, limit: int = room) -> bool:
        if op.hang and s.startswith(indent) and not s.startswith(op.hang):
            return hang_w + measure(s.lstrip()) <= limit
        return measure(s) <= limit

    lines = wrap(op.text, fits, op.hang)
    if op.style.align != "center" or len(lines) < 2:
        return lines
    lo, hi = 1, room
    while lo < hi:
        mid = (lo + hi) // 2
        if len(wrap(op.text, lambda s, m=mid: fits(s, m), op.hang)) <= len(lines):
            hi = mid
        else:
            lo = mid + 1
    return wrap(op.text, lambda s: fits(s, lo), op.hang)


def emit(p: Any, ops: Sequence[Op], cfg: RenderConfig) -> None:
    """Send lowered `ops` to the python-escpos printer `p` (starts with `ESC @`)."""
    _Emitter(p, cfg).run(ops)


class _Emitter:
    """Tracks alignment, size, weight and pending paper feed so each is sent only when needed."""

    def __init__(self, p: Any, cfg: RenderConfig) -> None:
        self.p, self.cfg = p, cfg
        self.align, self.scale, self.bold, self.feed = "left", 1, False, 0
        self.codepage: int | None = None

    def run(self, ops: Sequence[Op]) -> None:
        self.p.hw("INIT")
        self.p.magic.encoding = None  # after ESC @ the printer is back on its default page
        if self.cfg.mode == "text" and self.cfg.codepage is not None:
            self._codepage(self.cfg.codepage)
        for op in ops:
            if isinstance(op, Feed):
                self.feed += op.dots
            elif isinstance(op, Raster):
                self._raster(op)
            elif isinstance(op, NativeText):
                self._style(op.align, op.scale, op.bold)
                self._line(op.text)
            elif isinstance(op, Number):
                self._style("center", NUMBER_SCALE, True)
                self._line(op.text)
            elif isinstance(op, QR):
                self._qr(op)
            elif isinstance(op, Encoded):
                self._style("left", 1, False)
                self._codepage(op.codepage)
                self.p._raw(encode(op.text, op.encoding) + b"\n")
            elif isinstance(op, Cut):
                self._flush_feed()
                self._style(self.align, 1, False)
                self.p.cut()
            else:
                raise TypeError(f"cannot emit {op!r}: lower() it first")

    def _flush_feed(self) -> None:
        while self.feed > 0:
            n = min(self.feed, 255)
            self.p._raw(ESC + b"J" + bytes([n]))  # print and feed n dots
            self.feed -= n

    def _align(self, align: str) -> None:
        if align != self.align:
            self.p.set(align=align)
            self.align = align

    def _style(self, align: str, scale: int, bold: bool) -> None:
        self._flush_feed()
        self._align(align)
        if scale != self.scale:
            self.p.set(custom_size=True, width=scale, height=scale)  # GS ! only
            self.scale = scale
        if bold != self.bold:
            self.p.set(bold=bold)
            self.bold = bold

    def _codepage(self, n: int) -> None:
        if n != self.codepage:
            self.p._raw(ESC + b"t" + bytes([n]))
            self.codepage = n

    def _line(self, text: str) -> None:
        if self.cfg.mode == "text":  # raw, so python-escpos never switches the code page
            self.p._raw(encode(text, self.cfg.encoding) + b"\n")
        else:
            self.p.text(text + "\n")

    def _raster(self, op: Raster) -> None:
        self.feed += op.top
        self._flush_feed()
        image = op.image
        if op.align == "center" and self.cfg.pad_center:
            image = _pad_left(image, (self.cfg.width - op.printed_width) // 2 // op.xscale)
            self._align("left")
        else:
            self._align(op.align)
        self.p.image(image, impl="bitImageRaster", center=False, high_density_horizontal=op.xscale == 1)
        self.feed = op.bottom

    def _qr(self, op: QR) -> None:
        self._style("center", 1, False)
        native = self.cfg.qr_native if op.native is None else op.native
        if native:
            self.p.qr(op.data, ec=QR_ECLEVEL_M, size=self.cfg.qr_size, native=True)
            self.feed += 4
        else:
            self.p.qr(op.data, ec=QR_ECLEVEL_M, size=self.cfg.qr_size, native=False,
                      image_arguments={"impl": "bitImageRaster", "center": self.cfg.pad_center})


def _pad_left(image: Image.Image, x: int) -> Image.Image:
    out = Image.new("1", (image.width + max(0, x), image.height), 1)
    out.paste(image, (max(0, x), 0))
    return out


def render_bytes(ops: Sequence[Op], cfg: RenderConfig) -> bytes:
    """The exact bytes `ops` produce for `cfg` (lowered first), via python-escpos' Dummy."""
    p = Dummy(profile=cfg.profile)
    p.profile = make_profile(cfg.profile, cfg.width)
    if cfg.mode == "raster":
        from .preview import preview  # preview imports this module

        page = preview(lower(ops, cfg), cfg, decorate=False).convert("1", dither=Image.Dither.NONE)
        p.hw("INIT")
        p.image(page, impl="bitImageRaster", center=False)
        p.cut()
    else:
        emit(p, lower(ops, cfg), cfg)
    return p.output
