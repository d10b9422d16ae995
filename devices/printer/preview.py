"""PNG preview of lowered ops: image lines exactly, native text and QR approximated."""

from __future__ import annotations

from collections.abc import Sequence

import qrcode
from PIL import Image, ImageChops, ImageDraw

from .codepages import decode, encode
from .glyphs import glyph_image
from .layout import QR, Cut, Encoded, Feed, GlyphSet, NativeText, Number, Op, Raster
from .lowering import CELL, NUMBER_SCALE, RenderConfig
from .raster import font

LINE_GAP = 6  # native line spacing beyond the 24-dot cell (printer default is about 30 dots)


def native_text(text: str, scale: int, bold: bool) -> Image.Image:
    """Native font A look-alike: DejaVu squeezed into 12x24-dot cells per character."""
    size = 22 * scale
    f = font(size, bold)
    w = max(1, int(f.getlength(text)))
    img = Image.new("L", (w, 24 * scale), 255)
    ImageDraw.Draw(img).text((0, 24 * scale - 4 * scale), text, font=f, fill=0, anchor="ls")
    return img.resize((max(1, len(text) * CELL * scale), 24 * scale), Image.LANCZOS)


def native_cell(ch: str, bold: bool) -> Image.Image:
    """One resident character in its 12 x 24 cell (narrow letters centred, wide ones squeezed)."""
    f = font(22, bold)
    w = max(1, int(f.getlength(ch) + 0.999))
    img = Image.new("L", (w, 24), 255)
    ImageDraw.Draw(img).text((0, 20), ch, font=f, fill=0, anchor="ls")
    if w > CELL:
        return img.resize((CELL, 24), Image.LANCZOS)
    cell = Image.new("L", (CELL, 24), 255)
    cell.paste(img, ((CELL - w) // 2, 0))
    return cell


def _cells(text: str, scale: int, bold: bool, slots: dict[str, int]) -> Image.Image:
    """A native line drawn cell by cell, each downloaded letter as its bitmap (emboldened when bold)."""
    img = Image.new("L", (max(1, len(text)) * CELL * scale, 24 * scale), 255)
    for i, ch in enumerate(text):
        if ch in slots:
            cell = glyph_image(ch).convert("L")
            if bold:  # the printer emboldens by printing each dot twice, one dot apart
                cell = ImageChops.darker(cell, ImageChops.offset(cell, 1, 0))
        else:
            cell = native_cell(ch, bold)
        img.paste(cell.resize((CELL * scale, 24 * scale), Image.NEAREST), (i * CELL * scale, 0))
    return img


def _qr(data: str, size: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=size, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image().get_image().convert("L")


def preview(ops: Sequence[Op], cfg: RenderConfig, decorate: bool = True) -> Image.Image:
    """Paper-white image `cfg.width` dots wide showing what `ops` (lowered) print.

    `decorate` adds the paper edge and the cut line (off for mode=raster, which prints this).
    """
    width = cfg.width
    canvas = Image.new("L", (width, 8000), 255)
    y = 8
    slots: dict[str, int] = {}

    def put(img: Image.Image, where: str) -> None:
        nonlocal y
        x = (width - img.width) // 2 if where == "center" else 0
        canvas.paste(img.convert("L"), (x, y))
        y += img.height

    for op in ops:
        if isinstance(op, Feed):
            y += op.dots
        elif isinstance(op, Raster):
            y += op.top
            image = op.image.resize((op.printed_width, op.image.height)) if op.xscale > 1 else op.image
            put(image, op.align)
            y += op.bottom
        elif isinstance(op, GlyphSet):
            slots = dict(op.slots)
        elif isinstance(op, NativeText):
            text = decode(encode(op.text, cfg.encoding), cfg.encoding) if cfg.mode == "text" else op.text
            line = _cells(text, op.scale, op.bold, slots) if slots else native_text(text, op.scale, op.bold)
            put(line, op.align)
            y += LINE_GAP * op.scale
        elif isinstance(op, Number):
            put(native_text(op.text, NUMBER_SCALE, True), "center")
            y += LINE_GAP
        elif isinstance(op, QR):
            put(_qr(op.data, cfg.qr_size), "center")
            y += 4
        elif isinstance(op, Encoded):
            put(native_text(decode(encode(op.text, op.encoding), op.encoding), 1, False), "left")
            y += LINE_GAP
        elif isinstance(op, Cut) and decorate:
            y += 24
            draw = ImageDraw.Draw(canvas)
            for x in range(0, width, 16):
                draw.line((x, y, x + 8, y), fill=128, width=2)
            y += 8
    page = canvas.crop((0, 0, width, min(y, canvas.height)))
    if decorate:
        ImageDraw.Draw(page).rectangle((0, 0, width - 1, page.height - 1), outline=200)
    return page
