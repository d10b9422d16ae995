"""What a printer would put on paper for a byte stream: a small ESC/POS interpreter for the tests.

Understands what the project sends: ESC @, ESC a, ESC E, GS !, ESC J, ESC d, ESC t, LF, GS v 0,
GS ( k (the QR: skipped, it is the same in every mode), GS V, and the user-defined characters
`ESC & y c1 c2 [x d...]...` / `ESC % n` / `ESC ? n` (see devices/printer/glyphs.py). Resident characters are
drawn like the previews (DejaVu in 12 x 24 cells); downloaded ones from the bytes received, so a
wrong code or a forgotten definition shows as the wrong letter. `Paper.lines` records where each
text line went (geometry only), so a test can read the picture cell by cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image, ImageChops

from devices.printer.preview import native_cell

LINE = 30  # default line spacing, dots


@dataclass
class TextLine:
    """One printed text line: top row, left dot, magnification, number of cells."""

    y: int
    x: int
    scale_w: int
    scale_h: int
    cells: int


@dataclass
class Paper:
    """Interpret `feed(data)`; `image()` is the paper so far."""

    width: int = 576
    canvas: Image.Image = field(default_factory=lambda: Image.new("L", (576, 12000), 255))
    y: int = 0
    lines: list[TextLine] = field(default_factory=list)
    cuts: int = 0

    def __post_init__(self) -> None:
        self.canvas = Image.new("L", (self.width, 12000), 255)
        self._reset()

    def _reset(self) -> None:
        self.align, self.bold, self.sw, self.sh = 0, False, 1, 1
        self.user: dict[int, Image.Image] = {}
        self.user_on = False
        self.buf: list[Image.Image] = []

    def image(self) -> Image.Image:
        return self.canvas.crop((0, 0, self.width, self.y + 8))

    def feed(self, data: bytes) -> Paper:
        i, n = 0, len(data)
        while i < n:
            b = data[i]
            if b == 0x0A:
                self._print_line(LINE * self.sh)
                i += 1
            elif b == 0x1B:
                i = self._esc(data, i + 1)
            elif b == 0x1D:
                i = self._gs(data, i + 1)
            elif b == 0x10 and data[i + 1] == 0x04:  # DLE EOT n: status query
                i += 3
            elif b >= 0x20:
                self.buf.append(self._char(b))
                i += 1
            else:
                raise ValueError(f"unexpected control byte {b:#x} at {i}")
        return self

    def _char(self, code: int) -> Image.Image:
        if self.user_on and code in self.user:
            cell = self.user[code]
            if self.bold:
                cell = ImageChops.darker(cell, ImageChops.offset(cell, 1, 0))
            return cell.resize((12 * self.sw, 24 * self.sh), Image.NEAREST)
        ch = chr(code) if code < 0x7F else "?"
        return native_cell(ch, self.bold).resize((12 * self.sw, 24 * self.sh), Image.NEAREST)

    def _print_line(self, advance: int) -> None:
        if self.buf:
            w = sum(c.width for c in self.buf)
            x = {0: 0, 1: (self.width - w) // 2, 2: self.width - w}[self.align]
            h = max(c.height for c in self.buf)
            self.lines.append(TextLine(self.y, x, self.sw, self.sh, len(self.buf)))
            for c in self.buf:
                self.canvas.paste(c, (x, self.y + h - c.height))
                x += c.width
            self.buf = []
            self.y += max(advance, h + 6)
        else:
            self.y += advance

    def _esc(self, d: bytes, i: int) -> int:
        c = d[i]
        if c == ord("@"):  # initialise: also forgets the user-defined characters
            self._reset()
            return i + 1
        if c == ord("a"):
            self.align = d[i + 1] % 48 if d[i + 1] >= 48 else d[i + 1]
            return i + 2
        if c == ord("E"):
            self.bold = bool(d[i + 1] & 1)
            return i + 2
        if c == ord("J"):
            self._print_line(0)
            self.y += d[i + 1]
            return i + 2
        if c == ord("d"):
            self._print_line(0)
            self.y += LINE * d[i + 1]
            return i + 2
        if c == ord("t"):
            return i + 2
        if c == ord("?"):  # cancel one user-defined character
            self.user.pop(d[i + 1], None)
            return i + 2
        if c == ord("%"):
            self.user_on = bool(d[i + 1] & 1)
            return i + 2
        if c == ord("&"):
            y, c1, c2 = d[i + 1], d[i + 2], d[i + 3]
            assert y == 3 and 32 <= c1 <= c2 <= 126, (y, c1, c2)
            i += 4
            for code in range(c1, c2 + 1):
                x = d[i]
                assert 0 <= x <= 12
                cols = d[i + 1:i + 1 + y * x]
                i += 1 + y * x
                img = Image.new("L", (12, 24), 255)
                px = img.load()
                for col in range(x):
                    for row in range(24):
                        if cols[col * y + row // 8] & (0x80 >> (row % 8)):
                            px[col, row] = 0
                self.user[code] = img
            return i
        raise ValueError(f"unexpected ESC {c:#x}")

    def _gs(self, d: bytes, i: int) -> int:
        c = d[i]
        if c == ord("!"):
            n = d[i + 1]
            self.sw, self.sh = (n >> 4) + 1, (n & 15) + 1
            return i + 2
        if c == ord("V"):
            m = d[i + 1]
            self._print_line(0)
            self.cuts += 1
            return i + 3 if m in (65, 66) else i + 2
        if c == ord("(") and d[i + 1] == ord("k"):
            return i + 4 + d[i + 2] + 256 * d[i + 3]
        if c == ord("v") and d[i + 1] == ord("0"):
            m, xl, xh, yl, yh = d[i + 2:i + 7]
            wb, h = xl + 256 * xh, yl + 256 * yh
            raw = d[i + 7:i + 7 + wb * h]
            img = Image.frombytes("1", (wb * 8, h), bytes(raw)).convert("L")
            img = ImageChops.invert(img)  # 1 = print in ESC/POS, 1 = white in PIL
            if m & 1:
                img = img.resize((img.width * 2, h), Image.NEAREST)
            x = {0: 0, 1: (self.width - img.width) // 2, 2: self.width - img.width}[self.align]
            self.canvas.paste(img, (x, self.y))
            self.y += h
            return i + 7 + wb * h
        raise ValueError(f"unexpected GS {c:#x}")


def paper(data: bytes, width: int = 576) -> Paper:
    """The paper `data` prints on a `width`-dot printer."""
    return Paper(width).feed(data)
