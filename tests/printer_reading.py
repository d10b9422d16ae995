"""Read a printed picture back as text, cell by cell (for the glyphs-mode tests).

Each cell of each text line the `Paper` recorded is compared with every candidate: the resident
characters (as the interpreter draws them) and the downloaded letters (`glyph_image`), plain and
bold; the closest wins. A letter printed from the wrong code, or a code whose definition was
lost, reads as another character.
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image, ImageChops

from devices.printer.glyphs import foreign, glyph_image, normalise
from devices.printer.layout import NativeText, Number, Op, Raster
from devices.printer.preview import native_cell
from tests.escpos_paper import Paper


def _cell(ch: str, bold: bool) -> np.ndarray:
    if foreign(ch):
        img = glyph_image(ch).convert("L")
        if bold:
            img = ImageChops.darker(img, ImageChops.offset(img, 1, 0))
    else:
        img = native_cell(ch, bold)
    return np.asarray(img, dtype=np.int32)


def read(p: Paper, alphabet: str) -> str:
    """The text on `p`, lines joined by spaces, runs of spaces collapsed."""
    cands = [(ch, _cell(ch, bold)) for ch in sorted(set(alphabet) | {" "}) for bold in (False, True)]
    page = p.canvas
    lines = []
    for line in p.lines:
        out = []
        for k in range(line.cells):
            x = line.x + k * 12 * line.scale_w
            crop = page.crop((x, line.y, x + 12 * line.scale_w, line.y + 24 * line.scale_h))
            cell = np.asarray(crop.resize((12, 24), Image.NEAREST), dtype=np.int32)
            out.append(min(cands, key=lambda c: int(np.abs(c[1] - cell).sum()))[0])
        lines.append("".join(out))
    return squash(" ".join(lines))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", normalise(text)).strip()


def ops_text(ops: list[Op]) -> str:
    """The text of lowered ops, in print order (image lines by the text they were drawn from)."""
    return squash(" ".join(op.text for op in ops if isinstance(op, Raster | NativeText | Number)))
