"""Ops -> printable lines for one printer: `lower` wraps text and draws Vietnamese lines as images.

`RenderConfig` says how one printer wants its tickets. Lowered ops (NativeText, Raster, Number,
QR, Encoded, GlyphSet, Feed, Cut) are what `render` turns into ESC/POS bytes and `preview` into a PNG.

Modes:
- hybrid: lines with Vietnamese letters become TTF images cropped to ink (`GS v 0`), ASCII
  lines and the ticket number stay native text, the QR is native `GS ( k` (or an image).
- text: every line is text in one code page (`ESC t n`), encoded by `codepages.encode`.
- glyphs: every line is native text; the letters beyond ASCII are downloaded first as
  user-defined characters (`glyphs.py`, a leading `GlyphSet` op). A line whose letters find no
  free code (more distinct letters than the ticket leaves free) is drawn as in hybrid.
- raster: the whole ticket as one image (the preview), for printers that can do nothing else;
  about 40 KB, so never over slow serial.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from .glyphs import assign, foreign, normalise
from .layout import GlyphSet, NativeText, Number, Op, Rule, Text, is_ascii, wrap
from .raster import font, render_line, text_width

CELL = 12  # native font A is 12 x 24 dots
NUMBER_SCALE = 4
SAFETY = 8  # dots kept free at the right edge of image lines


@dataclass(frozen=True)
class RenderConfig:
    """How one printer wants its tickets (built from the printer URL)."""

    width: int = 576
    mode: Literal["hybrid", "text", "raster", "glyphs"] = "hybrid"
    encoding: str = "ascii"
    codepage: int | None = None
    qr_native: bool = True
    qr_size: int = 6
    pad_center: bool = False
    profile: str = "TM-T20II"
    density: Literal["full", "half"] = "full"
    keep_glyphs: int = 0  # glyphs mode: 0 = send them with every ticket; N = printer keeps them, fresh every N

    @property
    def columns(self) -> int:
        """Native font A characters per line."""
        return self.width // CELL


def lower(ops: Sequence[Op], cfg: RenderConfig) -> list[Op]:
    """Replace Text/Rule by wrapped NativeText or Raster lines for `cfg`; keep other ops."""
    out = _lower_ops(ops, cfg)
    return _with_glyphs(ops, out, cfg) if cfg.mode == "glyphs" else out


def _lower_ops(ops: Sequence[Op], cfg: RenderConfig) -> list[Op]:
    out: list[Op] = []
    for op in ops:
        if isinstance(op, Text):
            out += _lower_text(op, cfg)
        elif isinstance(op, Rule):
            out.append(NativeText("-" * (cfg.columns * 2 // 3)))
        else:
            out.append(op)
    return out


def _with_glyphs(ops: Sequence[Op], lowered: list[Op], cfg: RenderConfig) -> list[Op]:
    """Glyphs mode: a leading `GlyphSet` for the letters the native lines need.

    Paragraphs with a letter left without a code are lowered again as in hybrid (images).
    """
    slots = assign(op.text for op in lowered if isinstance(op, NativeText | Number))
    if all(c in slots for op in lowered if isinstance(op, NativeText) for c in foreign(op.text)):
        return [GlyphSet(tuple(slots.items())), *lowered] if slots else lowered
    hybrid = replace(cfg, mode="hybrid")
    out: list[Op] = []
    for op in ops:
        lines = _lower_ops([op], cfg)
        if isinstance(op, Text) and any(c not in slots for line in lines if isinstance(line, NativeText)
                                        for c in foreign(line.text)):
            lines = _lower_ops([op], hybrid)
        out += lines
    slots = assign(op.text for op in out if isinstance(op, NativeText | Number))  # fewer codes taken now
    return [GlyphSet(tuple(slots.items())), *out] if slots else out


def _lower_text(op: Text, cfg: RenderConfig) -> list[Op]:
    return list(_lower_text_cached(op, cfg))


@lru_cache(maxsize=512)
def _lower_text_cached(op: Text, cfg: RenderConfig) -> tuple[Op, ...]:
    """Pure and slow (font rendering): the same line in the same settings is drawn once."""
    st = op.style
    if cfg.mode == "glyphs":
        op = replace(op, text=normalise(op.text), hang=normalise(op.hang))
    if cfg.mode in ("text", "glyphs") or is_ascii(op.text + op.hang):
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
