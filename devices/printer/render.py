"""Lowered ops -> ESC/POS bytes through python-escpos (`render_job` lowers once, then emits).

See `lowering` for the modes; in raster mode the whole page is the `preview` image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image

from . import glyphs
from .codepages import encode
from .layout import QR, Cut, Encoded, Feed, GlyphSet, NativeText, Number, Op, Raster
from .lowering import NUMBER_SCALE, RenderConfig, lower
from .preview import preview
from .profiles import make_profile

ESC = b"\x1b"


@dataclass(frozen=True)
class Job:
    """One print job, lowered once: its name (for previews), the lowered ops, the settings, the bytes."""

    name: str
    ops: tuple[Op, ...]
    cfg: RenderConfig
    data: bytes
    held: tuple[tuple[str, int], ...] | None = None  # keep=N: the letters the printer holds after it


def render_job(name: str, ops: Sequence[Op], cfg: RenderConfig,
               held: dict[str, int] | None = None) -> Job:
    """Lower `ops` for `cfg` and emit them: the job a transport sends (and a preview can show).

    `held` (glyphs mode with keep=N): the letters the printer still holds from earlier jobs; the
    job then starts without `ESC @` and defines only what is missing. None: a fresh start.
    """
    lowered = tuple(lower(ops, cfg))
    if not (cfg.mode == "glyphs" and cfg.keep_glyphs):
        return Job(name, lowered, cfg, emit_bytes(lowered, cfg))
    p = _printer(cfg)
    emitter = _Emitter(p, cfg, held)
    emitter.run(lowered)
    return Job(name, lowered, cfg, p.output, tuple(emitter.held.items()))


def render_bytes(ops: Sequence[Op], cfg: RenderConfig) -> bytes:
    """The exact bytes `ops` produce for `cfg` (lowered first)."""
    return emit_bytes(lower(ops, cfg), cfg)


def emit_bytes(lowered: Sequence[Op], cfg: RenderConfig) -> bytes:
    """The bytes of already lowered ops, via python-escpos' Dummy."""
    p = _printer(cfg)
    if cfg.mode == "raster":
        page = preview(lowered, cfg, decorate=False).convert("1", dither=Image.Dither.NONE)
        p.hw("INIT")
        p.image(page, impl="bitImageRaster", center=False)
        p.cut()
    else:
        emit(p, lowered, cfg)
    return p.output


def _printer(cfg: RenderConfig) -> Dummy:
    p = Dummy(profile=cfg.profile)
    p.profile = make_profile(cfg.profile, cfg.width)
    return p


def emit(p: Any, ops: Sequence[Op], cfg: RenderConfig) -> None:
    """Send lowered `ops` to the python-escpos printer `p` (starts with `ESC @`)."""
    _Emitter(p, cfg).run(ops)


class _Emitter:
    """Tracks alignment, size, weight and pending paper feed so each is sent only when needed."""

    def __init__(self, p: Any, cfg: RenderConfig, held: dict[str, int] | None = None) -> None:
        self.p, self.cfg, self.held_before = p, cfg, held
        self.held: dict[str, int] = {}  # the letters the printer holds once the job is sent
        self.align, self.scale, self.bold, self.feed = "left", 1, False, 0
        self.codepage: int | None = None
        self.glyphs: dict[str, int] | None = None  # downloaded letters while selected (ESC % 1)

    def run(self, ops: Sequence[Op]) -> None:
        if self.held_before is not None:
            self._keep(ops, self.held_before)
            ops = [op for op in ops if not isinstance(op, GlyphSet)]
        else:
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
            elif isinstance(op, GlyphSet):
                self._glyphs(dict(op.slots))
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

    def _glyphs(self, slots: dict[str, int]) -> None:
        self._flush_feed()
        self.p._raw(glyphs.define(slots) if slots else glyphs.CANCEL)
        self.glyphs = slots or None
        self.held = dict(slots)

    def _keep(self, ops: Sequence[Op], held: dict[str, int]) -> None:
        """No `ESC @`: reset the styles it would reset, then define only the missing letters."""
        needed = next((dict(op.slots) for op in ops if isinstance(op, GlyphSet)), {})
        texts = [op.text for op in ops if isinstance(op, NativeText | Number)]
        ascii_codes = {ord(c) for t in texts for c in glyphs.normalise(t) if 32 <= ord(c) < 127}
        data, self.glyphs, self.held = glyphs.plan(needed, ascii_codes, held)
        self.p._raw(glyphs.RESET_STYLE + data)

    def _line(self, text: str) -> None:
        if self.glyphs is not None:
            self.p._raw(glyphs.encode(text, self.glyphs) + b"\n")
        elif self.cfg.mode in ("text", "glyphs"):  # raw, so python-escpos never switches the code page
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
