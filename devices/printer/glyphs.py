"""Glyphs mode: the letters a ticket needs beyond ASCII, downloaded as user-defined characters.

The ticket stays native text (font A, 12 x 24 dots); each accented letter is drawn once from the
bundled TTF into a 12 x 24 bitmap and sent with `ESC &` into a printable code (0x21-0x7E) that
the ticket's own ASCII text does not use; `ESC % 1` then prints those codes as the downloaded
letters. Commands, from the Epson ESC/POS Command Reference (TM printers):

- `ESC & y c1 c2 [x1 d1...d(y*x1)]...[xk d1...d(y*xk)]` (1B 26): "Define user-defined
  characters". y = 3 bytes per column for font A (24 dots high), 32 <= c1 <= c2 <= 126 (k =
  c2 - c1 + 1 characters), 0 <= x <= 12 columns for font A; each column is y bytes top to bottom,
  most significant bit on top, 1 = print.
- `ESC % n` (1B 25): "Select/cancel user-defined character set": LSB of n = 1 selects it, 0
  cancels it (resident characters). In the selected set a code with no definition prints the
  resident character, so the ticket's ASCII text is unaffected.
- `ESC ? n` (1B 3F): "Cancel user-defined characters": deletes the definition of code n
  (32 <= n <= 126), which then prints the resident character again.
- `ESC @` (1B 40): "Initialize printer" also clears the user-defined characters, so with the
  default `ESC @` at every job the glyphs are sent with every ticket (always correct).

Option `keep=N` (`plan`): jobs start without `ESC @`; the letters the printer already holds are
reused, new ones defined in free codes, held ones whose code this ticket prints as ASCII are
cancelled. The caller forgets what the printer holds after any status that is not ready, any
error, and every N tickets, and then sends a fresh `ESC @` with every letter again.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

from PIL import Image, ImageDraw, ImageOps

from .codepages import plain_punct
from .raster import font

ESC = b"\x1b"
WIDTH, HEIGHT, Y = 12, 24, 3  # font A cell; bytes per column
FIRST, LAST = 0x21, 0x7E  # printable codes ESC & accepts (0x20, the space, stays a space)
BASELINE = 19  # row of the baseline inside the 24-dot cell (5 rows left for descenders, dot below)
SELECT, CANCEL = ESC + b"%\x01", ESC + b"%\x00"


def normalise(text: str) -> str:
    """NFC, typographic punctuation as ASCII (a dash is not worth a glyph)."""
    return plain_punct(unicodedata.normalize("NFC", text))


def foreign(text: str) -> list[str]:
    """The characters of `text` that need a glyph, in order of first appearance."""
    return list(dict.fromkeys(c for c in normalise(text) if not 32 <= ord(c) < 127))


def assign(texts: Iterable[str], limit: int | None = None) -> dict[str, int]:
    """Map the letters the `texts` need to codes 0x21-0x7E none of the `texts` uses.

    The most frequent letters get a code first; letters beyond the free codes (or `limit`) are
    left out: the caller prints their lines another way.
    """
    texts = [normalise(t) for t in texts]
    used = {ord(c) for t in texts for c in t if 32 <= ord(c) < 127}
    free = [code for code in range(FIRST, LAST + 1) if code not in used]
    counts: dict[str, int] = {}
    for t in texts:
        for c in t:
            if not 32 <= ord(c) < 127:
                counts[c] = counts.get(c, 0) + 1
    order = sorted(counts, key=lambda c: -counts[c])  # stable: ties keep first appearance
    n = min(len(free), len(order), len(order) if limit is None else limit)
    return {c: free[i] for i, c in enumerate(sorted(order[:n], key=list(counts).index))}


@lru_cache(maxsize=512)
def glyph_image(ch: str) -> Image.Image:
    """`ch` from the bundled TTF as a 12 x 24 1-bit image (0 = ink), baseline at row 19.

    The largest size from 20 down whose ink fits the cell (capitals with stacked marks get a
    smaller size); ink wider than 11 dots is squeezed, narrower ink is centred.
    """
    for size in range(20, 9, -1):
        f = font(size)
        canvas = Image.new("L", (3 * size, 3 * size), 255)
        ImageDraw.Draw(canvas).text((size, size + BASELINE), ch, font=f, fill=0, anchor="ls")
        box = ImageOps.invert(canvas).getbbox()
        if box is None:
            return Image.new("1", (WIDTH, HEIGHT), 1)
        top, bottom = box[1] - size, box[3] - size  # rows in the cell
        if top >= 0 and bottom <= HEIGHT:
            break
    ink = canvas.crop((box[0], size, box[2], size + HEIGHT))
    if ink.width > WIDTH - 1:
        ink = ink.resize((WIDTH - 1, HEIGHT), Image.LANCZOS)
    cell = Image.new("L", (WIDTH, HEIGHT), 255)
    cell.paste(ink, ((WIDTH - ink.width) // 2, 0))
    return cell.point(lambda v: 255 if v >= 140 else 0).convert("1", dither=Image.Dither.NONE)


@lru_cache(maxsize=512)
def glyph_bytes(ch: str) -> bytes:
    """The 36 data bytes of `ch` for `ESC &`: 12 columns of 3 bytes, top to bottom, MSB on top."""
    img = glyph_image(ch)
    px = img.load()
    out = bytearray()
    for x in range(WIDTH):
        for band in range(Y):
            b = 0
            for bit in range(8):
                if px[x, band * 8 + bit] == 0:
                    b |= 0x80 >> bit
            out.append(b)
    return bytes(out)


def define(slots: Mapping[str, int]) -> bytes:
    """`ESC &` for every slot (one command per run of consecutive codes), then `ESC % 1`."""
    by_code = sorted((code, ch) for ch, code in slots.items())
    out = bytearray()
    i = 0
    while i < len(by_code):
        j = i
        while j + 1 < len(by_code) and by_code[j + 1][0] == by_code[j][0] + 1:
            j += 1
        out += ESC + b"&" + bytes([Y, by_code[i][0], by_code[j][0]])
        for _, ch in by_code[i:j + 1]:
            out += bytes([WIDTH]) + glyph_bytes(ch)
        i = j + 1
    return bytes(out) + SELECT


RESET_STYLE = ESC + b"a\x00" + b"\x1d!\x00" + ESC + b"E\x00"  # ESC a 0, GS ! 0, ESC E 0: what ESC @ would set


def plan(needed: Mapping[str, int], ascii_codes: Iterable[int],
         held: Mapping[str, int]) -> tuple[bytes, dict[str, int], dict[str, int]]:
    """For a job on a printer holding `held` (letter -> code) without `ESC @`.

    `needed`: the letters of the ticket (their codes from `assign`, ignored here except as the
    proof that enough codes are free); `ascii_codes`: the codes the ticket prints as ASCII.
    Returns (bytes to send first, letter -> code for this ticket, what the printer holds after).
    """
    used = set(ascii_codes)
    stale = sorted(code for code in held.values() if code in used)
    keep = {c: code for c, code in held.items() if code not in used}
    slots = {c: keep[c] for c in needed if c in keep}
    busy = used | set(slots.values())
    # codes never defined first, then codes holding letters this ticket does not need
    free = [code for code in range(FIRST, LAST + 1) if code not in busy and code not in keep.values()]
    free += sorted(code for c, code in keep.items() if c not in slots)
    new = {c: free[i] for i, c in enumerate(c for c in needed if c not in slots)}
    after = {c: code for c, code in keep.items() if code not in new.values()} | new
    out = b"".join(ESC + b"?" + bytes([code]) for code in stale)
    return out + (define(new) if new else SELECT), slots | new, after


def encode(text: str, slots: Mapping[str, int]) -> bytes:
    """`text` as codes: ASCII as itself, glyph letters as their slot, anything else as "?"."""
    return bytes(slots.get(c, ord(c) if 32 <= ord(c) < 127 else 0x3F) for c in normalise(text))
