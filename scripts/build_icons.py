#!/usr/bin/env python3
"""Draw the kiosk's pictograms (white on transparent, tinted by the screens) into assets/icons/.

Simple, thick, high-contrast shapes that read at a glance from 1 m. Made by the project, CC0.
Run ``python scripts/build_icons.py [contact-sheet.png]`` after changing a drawing; the PNGs are committed.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ui_kit.paths import assets_dir, font_path

S = 512  # drawing size; saved at OUT after anti-aliased downscaling
OUT = 256
W = 30  # stroke width
INK = (255, 255, 255, 255)
HOLE = (0, 0, 0, 0)
Point = tuple[float, float]


class Pen:
    """Thick strokes with round caps and joints on one RGBA canvas."""

    def __init__(self) -> None:
        self.img = Image.new("RGBA", (S, S), HOLE)
        self.d = ImageDraw.Draw(self.img)

    def line(self, pts: list[Point], w: float = W, ink: tuple = INK) -> None:
        self.d.line(pts, fill=ink, width=int(w), joint="curve")
        for x, y in (pts[0], pts[-1]):
            self.dot(x, y, w / 2, ink)

    def dot(self, x: float, y: float, r: float, ink: tuple = INK) -> None:
        self.d.ellipse((x - r, y - r, x + r, y + r), fill=ink)

    def ring(self, x: float, y: float, r: float, w: float = W, ink: tuple = INK) -> None:
        self.d.ellipse((x - r, y - r, x + r, y + r), outline=ink, width=int(w))

    def box(self, x0: float, y0: float, x1: float, y1: float, r: float = 18, fill: bool = False,
            w: float = W, ink: tuple = INK) -> None:
        if fill:
            self.d.rounded_rectangle((x0, y0, x1, y1), r, fill=ink)
        else:
            self.d.rounded_rectangle((x0, y0, x1, y1), r, outline=ink, width=int(w))

    def poly(self, pts: list[Point], fill: bool = True, w: float = W, ink: tuple = INK) -> None:
        if fill:
            self.d.polygon(pts, fill=ink)
        else:
            self.line([*pts, pts[0], pts[1]], w, ink)

    def arc(self, x: float, y: float, r: float, start: float, end: float, w: float = W, ink: tuple = INK) -> None:
        self.d.arc((x - r, y - r, x + r, y + r), start, end, fill=ink, width=int(w))
        for a in (start, end):
            self.dot(x + (r - w / 2) * math.cos(math.radians(a)), y + (r - w / 2) * math.sin(math.radians(a)),
                     w / 2, ink)

    def text(self, x: float, y: float, s: str, size: int, ink: tuple = INK) -> None:
        font = ImageFont.truetype(str(font_path(bold=True)), size)
        self.d.text((x, y), s, font=font, fill=ink, anchor="mm")

    def page(self, x0: float, y0: float, x1: float, y1: float, lines: int = 3, fold: bool = True) -> None:
        """A sheet of paper with a folded corner and text lines."""
        f = 70 if fold else 0
        self.poly([(x0, y0), (x1 - f, y0), (x1, y0 + f), (x1, y1), (x0, y1)], fill=False)
        if fold:
            self.line([(x1 - f, y0), (x1 - f, y0 + f), (x1, y0 + f)], w=W * 0.7)
        gap = (y1 - y0 - 110) / max(lines, 1)
        for i in range(lines):
            y = y0 + 95 + i * gap
            self.line([(x0 + 50, y), (x1 - 50 - (60 if i == lines - 1 else 0), y)], w=W * 0.7)

    def person(self, cx: float, top: float, h: float) -> None:
        """A standing figure of height ``h``: head, body, legs."""
        r = h * 0.11
        self.dot(cx, top + r, r)
        bw = h * 0.34
        self.box(cx - bw / 2, top + 2.4 * r, cx + bw / 2, top + h * 0.62, r=h * 0.09, fill=True)
        lw = h * 0.11
        self.box(cx - bw / 2 + 2, top + h * 0.55, cx - 3, top + h, r=lw / 2, fill=True)
        self.box(cx + 3, top + h * 0.55, cx + bw / 2 - 2, top + h, r=lw / 2, fill=True)

    def bust(self, cx: float, top: float, h: float) -> None:
        """Head and shoulders."""
        r = h * 0.24
        self.dot(cx, top + r, r)
        self.d.pieslice((cx - h * 0.5, top + 2.15 * r, cx + h * 0.5, top + 2.15 * r + h * 0.9), 180, 360, fill=INK)

    def save(self, path: Path) -> None:
        self.img.resize((OUT, OUT), Image.Resampling.LANCZOS).save(path, optimize=True)


ICONS: dict[str, Callable[[Pen], None]] = {}


def icon(name: str) -> Callable[[Callable[[Pen], None]], Callable[[Pen], None]]:
    """Register a drawing function under ``name``."""
    def register(fn: Callable[[Pen], None]) -> Callable[[Pen], None]:
        ICONS[name] = fn
        return fn
    return register


# ---- interface ------------------------------------------------------------------------------
@icon("back")
def _back(p: Pen) -> None:
    p.line([(420, 256), (110, 256)], w=46)
    p.line([(250, 110), (100, 256), (250, 402)], w=46)


@icon("home")
def _home(p: Pen) -> None:
    p.line([(60, 250), (256, 70), (452, 250)], w=40)
    p.poly([(120, 240), (256, 120), (392, 240), (392, 450), (300, 450), (300, 330), (212, 330), (212, 450),
            (120, 450)])


@icon("question")
def _question(p: Pen) -> None:
    p.ring(256, 256, 220, w=34)
    p.text(256, 270, "?", 300)


@icon("ticket")
def _ticket(p: Pen) -> None:
    p.poly([(70, 130), (442, 130), (442, 210), (410, 256), (442, 302), (442, 382), (70, 382), (70, 302),
            (102, 256), (70, 210)])
    p.text(256, 256, "123", 130, HOLE)


@icon("warning")
def _warning(p: Pen) -> None:
    p.poly([(256, 50), (475, 440), (37, 440)])
    p.text(256, 300, "!", 250, HOLE)


@icon("printer")
def _printer(p: Pen) -> None:
    p.box(150, 60, 362, 180, r=10)
    p.box(60, 170, 452, 370, r=36, fill=True)
    p.box(140, 320, 372, 460, r=8, fill=True)
    p.box(165, 345, 347, 435, r=4, fill=True, ink=HOLE)
    p.line([(195, 375), (317, 375)], w=16)
    p.line([(195, 410), (290, 410)], w=16)
    p.dot(390, 225, 20, HOLE)


@icon("printer_off")
def _printer_off(p: Pen) -> None:
    _printer(p)
    p.line([(70, 70), (442, 442)], w=60, ink=HOLE)
    p.line([(70, 70), (442, 442)], w=28)


@icon("speaker")
def _speaker(p: Pen) -> None:
    p.poly([(70, 190), (150, 190), (260, 90), (260, 422), (150, 322), (70, 322)])
    p.arc(270, 256, 100, -45, 45)
    p.arc(270, 256, 180, -45, 45)


@icon("lock")
def _lock(p: Pen) -> None:
    p.arc(256, 210, 110, 180, 360, w=40)
    p.line([(146 + 20, 210), (146 + 20, 240)], w=40)
    p.line([(366 - 20, 210), (366 - 20, 240)], w=40)
    p.box(100, 230, 412, 460, r=30, fill=True)
    p.dot(256, 320, 32, HOLE)
    p.box(240, 320, 272, 400, r=10, fill=True, ink=HOLE)


@icon("desk")
def _desk(p: Pen) -> None:
    """The guidance desk: an officer behind a desk with an "i" sign."""
    p.bust(200, 60, 260)
    p.box(40, 300, 472, 350, r=10, fill=True)
    p.line([(90, 350), (90, 470)], w=34)
    p.line([(422, 350), (422, 470)], w=34)
    p.ring(390, 150, 75, w=22)
    p.text(390, 152, "i", 110)


@icon("globe")
def _globe(p: Pen) -> None:
    p.ring(256, 256, 210)
    p.d.ellipse((176, 46, 336, 466), outline=INK, width=W)
    p.line([(50, 256), (462, 256)])
    p.line([(90, 150), (422, 150)], w=22)
    p.line([(90, 362), (422, 362)], w=22)


# ---- services -------------------------------------------------------------------------------
@icon("info")
def _info(p: Pen) -> None:
    p.ring(256, 256, 215, w=34)
    p.dot(256, 150, 34)
    p.box(226, 215, 286, 400, r=16, fill=True)


@icon("family")
def _family(p: Pen) -> None:
    p.person(130, 60, 400)
    p.person(382, 60, 400)
    p.person(256, 230, 230)


@icon("stamp")
def _stamp(p: Pen) -> None:
    p.dot(256, 110, 70)
    p.box(216, 140, 296, 270, r=14, fill=True)
    p.box(100, 260, 412, 350, r=24, fill=True)
    p.box(120, 350, 392, 380, r=6, fill=True)
    p.line([(80, 450), (432, 450)], w=26)


@icon("house")
def _house(p: Pen) -> None:
    p.poly([(40, 260), (256, 60), (472, 260), (420, 260), (420, 460), (92, 460), (92, 260)])
    p.box(210, 320, 302, 460, r=8, fill=True, ink=HOLE)
    p.box(340, 80, 390, 190, r=4, fill=True)


@icon("handshake")
def _handshake(p: Pen) -> None:
    """A heart held in an open hand (social support)."""
    hx, hy = 256, 175
    p.dot(hx - 62, hy - 20, 72)
    p.dot(hx + 62, hy - 20, 72)
    p.poly([(hx - 130, hy + 5), (hx + 130, hy + 5), (hx, hy + 150)])
    p.d.pieslice((60, 200, 452, 470), 0, 180, fill=INK)
    p.d.pieslice((110, 150, 402, 420), 0, 180, fill=HOLE)
    p.line([(60, 335), (60, 300)], w=34)
    p.line([(452, 335), (452, 300)], w=34)


@icon("shop")
def _shop(p: Pen) -> None:
    p.box(60, 70, 452, 110, r=8, fill=True)
    for i in range(5):
        x0 = 60 + i * 78.4
        p.d.pieslice((x0, 110 - 40, x0 + 78.4, 110 + 50), 0, 180, fill=INK)
    p.box(90, 200, 422, 460, r=10)
    p.box(130, 260, 250, 460, r=4, fill=True)
    p.box(290, 260, 390, 350, r=4, fill=True)


@icon("book")
def _book(p: Pen) -> None:
    p.poly([(40, 120), (200, 100), (256, 140), (256, 440), (200, 400), (40, 420)])
    p.poly([(472, 120), (312, 100), (256, 140), (256, 440), (312, 400), (472, 420)])
    p.line([(256, 140), (256, 440)], w=14, ink=HOLE)
    for y in (180, 240, 300):
        p.line([(90, y), (200, y - 8)], w=14, ink=HOLE)
        p.line([(422, y), (312, y - 8)], w=14, ink=HOLE)


@icon("inbox")
def _inbox(p: Pen) -> None:
    p.line([(256, 50), (256, 250)], w=44)
    p.poly([(166, 200), (346, 200), (256, 300)])
    p.line([(60, 300), (60, 450), (452, 450), (452, 300)], w=36)
    p.line([(60, 330), (170, 330), (200, 380), (312, 380), (342, 330), (452, 330)], w=28)


# ---- procedures -----------------------------------------------------------------------------
@icon("computer")
def _computer(p: Pen) -> None:
    p.box(50, 70, 462, 350, r=20)
    p.box(90, 110, 422, 310, r=6, fill=True)
    p.box(226, 350, 286, 420, r=2, fill=True)
    p.box(140, 410, 372, 450, r=16, fill=True)


@icon("baby")
def _baby(p: Pen) -> None:
    p.dot(256, 170, 120)
    p.dot(210, 160, 16, HOLE)
    p.dot(302, 160, 16, HOLE)
    p.arc(256, 200, 45, 20, 160, w=14, ink=HOLE)
    p.arc(256, 60, 40, 200, 340, w=20)
    p.d.ellipse((120, 280, 392, 490), fill=INK)
    p.line([(160, 330), (352, 440)], w=16, ink=HOLE)
    p.line([(352, 330), (160, 440)], w=16, ink=HOLE)


@icon("rings")
def _rings(p: Pen) -> None:
    p.ring(190, 300, 130, w=34)
    p.ring(322, 300, 130, w=34)
    p.poly([(322, 170), (272, 120), (292, 90), (352, 90), (372, 120)])


@icon("document")
def _document(p: Pen) -> None:
    p.page(100, 50, 412, 462, lines=4)


@icon("copy")
def _copy(p: Pen) -> None:
    p.box(50, 40, 300, 360, r=16)
    p.box(170, 140, 462, 472, r=16, fill=True)
    for y in (220, 290, 360):
        p.line([(220, y), (410, y)], w=20, ink=HOLE)


@icon("certificate")
def _certificate(p: Pen) -> None:
    p.box(50, 60, 462, 360, r=14)
    p.line([(110, 140), (400, 140)], w=22)
    p.line([(110, 200), (260, 200)], w=22)
    p.poly([(310, 330), (290, 470), (340, 440), (350, 330)])
    p.poly([(400, 330), (420, 470), (370, 440), (360, 330)])
    p.dot(355, 300, 70)
    p.ring(355, 300, 44, w=12, ink=HOLE)


@icon("signature")
def _signature(p: Pen) -> None:
    pts = [(60 + 14 * i, 330 - 60 * math.sin(i / 2.2) - 4 * i) for i in range(24)]
    p.line(pts, w=20)
    p.line([(60, 420), (452, 420)], w=22)
    p.line([(250, 340), (420, 90)], w=44)
    p.poly([(222, 380), (236, 320), (270, 345)])


@icon("contract")
def _contract(p: Pen) -> None:
    p.page(90, 40, 422, 472, lines=3)
    p.line([(140, 395), (170, 370), (200, 400), (230, 370)], w=14)
    p.line([(290, 400), (310, 370), (340, 395), (370, 375)], w=14)


@icon("land")
def _land(p: Pen) -> None:
    p.poly([(130, 300), (382, 300), (482, 470), (30, 470)], fill=False, w=24)
    p.line([(256, 300), (256, 470)], w=16)
    p.line([(85, 385), (427, 385)], w=16)
    p.dot(256, 130, 95)
    p.poly([(175, 180), (337, 180), (256, 300)])
    p.dot(256, 130, 40, HOLE)


@icon("building")
def _building(p: Pen) -> None:
    p.box(110, 40, 402, 470, r=10, fill=True)
    for row in range(4):
        for col in range(3):
            x, y = 150 + col * 80, 80 + row * 80
            p.box(x, y, x + 50, y + 50, r=4, fill=True, ink=HOLE)
    p.box(220, 390, 292, 470, r=4, fill=True, ink=HOLE)


@icon("money")
def _money(p: Pen) -> None:
    p.box(30, 120, 482, 392, r=24, fill=True)
    p.ring(256, 256, 95, w=22, ink=HOLE)
    p.text(256, 262, "₫", 140, HOLE)
    p.dot(100, 190, 20, HOLE)
    p.dot(412, 322, 20, HOLE)


@icon("edit")
def _edit(p: Pen) -> None:
    p.page(60, 40, 340, 472, lines=4, fold=False)
    p.line([(250, 420), (450, 150)], w=70, ink=HOLE)
    p.line([(260, 400), (440, 160)], w=44)
    p.poly([(225, 455), (232, 392), (280, 425)])


@icon("school")
def _school(p: Pen) -> None:
    p.poly([(256, 90), (490, 190), (256, 290), (22, 190)])
    p.poly([(130, 250), (382, 250), (382, 370), (256, 410), (130, 370)])
    p.line([(440, 210), (440, 360)], w=16)
    p.dot(440, 370, 24)


@icon("festival")
def _festival(p: Pen) -> None:
    """A festive lantern."""
    p.line([(256, 20), (256, 80)], w=16)
    p.box(200, 70, 312, 100, r=6, fill=True)
    p.d.ellipse((100, 90, 412, 390), fill=INK)
    p.d.ellipse((170, 95, 342, 385), outline=HOLE, width=12)
    p.line([(256, 100), (256, 380)], w=12, ink=HOLE)
    p.box(200, 380, 312, 410, r=6, fill=True)
    for x in (226, 256, 286):
        p.line([(x, 410), (x, 490)], w=12)


# ---- priorities -----------------------------------------------------------------------------
@icon("elderly")
def _elderly(p: Pen) -> None:
    p.dot(230, 85, 52)
    p.line([(215, 160), (250, 175), (285, 300)], w=56)  # bent back
    p.line([(250, 185), (330, 260), (360, 262)], w=30)  # arm to the cane
    p.line([(280, 300), (330, 390), (330, 470)], w=38)
    p.line([(280, 300), (220, 390), (190, 470)], w=38)
    p.line([(362, 262), (400, 470)], w=22)
    p.arc(345, 262, 22, 180, 360, w=22)


@icon("disabled")
def _disabled(p: Pen) -> None:
    p.dot(210, 70, 48)
    p.line([(205, 150), (220, 290), (330, 290), (380, 430), (430, 410)], w=40)
    p.line([(210, 210), (300, 210)], w=32)
    p.arc(210, 330, 130, 60, 250, w=34)


@icon("pregnant")
def _pregnant(p: Pen) -> None:
    p.dot(240, 80, 52)
    p.poly([(190, 150), (275, 150), (300, 230), (280, 260), (200, 260)])
    p.d.ellipse((215, 200, 365, 350), fill=INK)
    p.poly([(195, 240), (285, 300), (300, 470), (170, 470)])
    p.line([(265, 170), (330, 250)], w=28)


@icon("person")
def _person(p: Pen) -> None:
    p.person(256, 40, 440)


@icon("touch")
def _touch(p: Pen) -> None:
    p.ring(220, 140, 90, w=18)
    p.box(190, 130, 250, 370, r=30, fill=True)
    p.box(190, 240, 420, 470, r=70, fill=True)
    for x in (280, 350):
        p.box(x - 30, 230, x + 30, 330, r=30, fill=True)


def build(target: Path | None = None, names: list[str] | None = None) -> list[Path]:
    """Draw every icon (or ``names``) into ``target`` (default assets/icons); return the files."""
    folder = target or assets_dir() / "icons"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names or sorted(ICONS):
        pen = Pen()
        ICONS[name](pen)
        path = folder / f"{name}.png"
        pen.save(path)
        out.append(path)
    return out


def contact_sheet(paths: list[Path], dest: Path, bg: tuple = (11, 46, 107, 255)) -> Path:
    """All icons on one dark-blue sheet, for a quick look."""
    cols = 8
    rows = (len(paths) + cols - 1) // cols
    sheet = Image.new("RGBA", (cols * 150, rows * 170), bg)
    d = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(str(font_path()), 14)
    for i, path in enumerate(paths):
        x, y = (i % cols) * 150, (i // cols) * 170
        sheet.alpha_composite(Image.open(path).resize((128, 128)), (x + 11, y + 8))
        d.text((x + 75, y + 150), path.stem, fill="white", font=font, anchor="mm")
    sheet.save(dest)
    return dest


def main(argv: list[str] | None = None) -> None:
    """``[SHEET.png] [--out DIR]``: draw every icon (into assets/icons by default), and a contact sheet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sheet", nargs="?", type=Path, help="also write all icons on one PNG here")
    parser.add_argument("--out", type=Path, help="folder for the icons (default: assets/icons)")
    args = parser.parse_args(argv)
    files = build(args.out)
    if args.sheet:
        contact_sheet(files, args.sheet)
    print(f"{len(files)} icons in {files[0].parent}")


if __name__ == "__main__":
    main()
