"""Render one line of (Vietnamese) text with the bundled TTF into a 1-bit image cropped to its ink."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .layout import Feed, Raster, Style

_BUNDLED = Path(__file__).resolve().parents[2] / "assets" / "fonts"
_SYSTEM = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}


def font_path(bold: bool) -> Path:
    """The TTF for a weight: $QMS_FONT_DIR, then assets/fonts, then the system DejaVu."""
    name = FONT_FILES[bold]
    dirs = [Path(d) for d in (os.environ.get("QMS_FONT_DIR"),) if d] + [_BUNDLED, _SYSTEM]
    for d in dirs:
        if (d / name).is_file():
            return d / name
    raise FileNotFoundError(f"font {name} not found in {', '.join(map(str, dirs))}")


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A cached FreeType font of `size` pixels."""
    return ImageFont.truetype(str(font_path(bold)), size)


@lru_cache(maxsize=4096)
def text_width(text: str, style: Style) -> int:
    """Advance width of `text` in dots."""
    return int(font(style.size, style.bold).getlength(text) + 0.999)


def line_height(style: Style) -> int:
    """Distance between baselines of consecutive lines of this style, in dots."""
    ascent, descent = font(style.size, style.bold).getmetrics()
    return ascent + descent + style.size // 6


def render_line(text: str, style: Style, x: int = 0, xscale: int = 1) -> Raster | Feed:
    """`text` as a Raster cropped to ink; `x` blank dots are kept on the left (indent).

    xscale=1: FreeType's hinted monochrome rendering (crisp at 203 dpi, deterministic for a
    given Pillow/FreeType build). xscale=2: rendered anti-aliased, halved horizontally and
    thresholded, for the printer to print double-width (`GS v 0` m=1): half the bytes; use it
    with bold strokes, thin ones break up. `top`/`bottom` are the blank rows cropped away, so
    the printer feeds them instead of receiving them as image data.
    """
    f = font(style.size, style.bold)
    height = line_height(style)
    pad = style.size  # room for marks above the ascent (e.g. the acute on a capital Ấ)
    width = int(f.getlength(text)) + 2 * pad
    canvas = Image.new("1" if xscale == 1 else "L", (width, height + 2 * pad), 255)
    ImageDraw.Draw(canvas).text((pad, pad), text, font=f, fill=0, anchor="la")
    if xscale > 1:
        canvas = canvas.resize((width // xscale, canvas.height), Image.BOX)
        canvas = canvas.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
    box = ImageOps.invert(canvas.convert("L")).getbbox()
    if box is None:
        return Feed(height)
    _, top, _, bottom = box
    ink = canvas.crop(box)
    x //= xscale
    image = Image.new("1", (ink.width + x, ink.height), 1)
    image.paste(ink, (x, 0))
    top_gap = top - pad
    bottom_gap = height - (bottom - pad)
    return Raster(image, style.align, max(0, top_gap), max(0, bottom_gap), text=text, xscale=xscale)
