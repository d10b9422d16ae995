"""Ticket layout: plain ticket data in, a list of abstract print ops out (no ESC/POS here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from PIL import Image

from .labels import label, wait_text

Align = Literal["left", "center"]


QR_CAPTIONS = {"tracking": "scan", "portal": "scan_portal"}  # the caption says what the code opens


@dataclass(frozen=True)
class PrintableTicket:
    """Everything printed on one ticket, already decided by the caller (no queue logic here)."""

    center_name: str
    service_name: str
    number: str
    issued_at: datetime
    ahead: int
    est_wait_s: int | None
    counters: str
    procedure_name: str | None = None
    priority_label: str | None = None
    documents: tuple[str, ...] = ()
    qr_data: str | None = None
    footer: str = ""
    qr_kind: str = "tracking"  # what the QR opens: "tracking" (this ticket's live page) or "portal"
    lang: str = "vi"

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be an aware datetime (e.g. Asia/Ho_Chi_Minh)")
        if self.lang not in ("vi", "en"):
            raise ValueError(f"lang must be 'vi' or 'en', not {self.lang!r}")
        if self.qr_kind not in QR_CAPTIONS:
            raise ValueError(f"qr_kind must be one of {sorted(QR_CAPTIONS)}, not {self.qr_kind!r}")
        if not self.number:
            raise ValueError("number must not be empty")
        object.__setattr__(self, "documents", tuple(self.documents))


@dataclass(frozen=True)
class Style:
    """Text style: TTF pixel size and weight (image lines), native size multiplier (text lines)."""

    size: int
    bold: bool = False
    align: Align = "center"
    scale: int = 1


TITLE = Style(32, bold=True, scale=2)
HEADER = Style(22, bold=True)
BODY = Style(22)
STRONG = Style(22, bold=True)
SMALL = Style(19)
LEFT = Style(22, align="left")
LEFT_STRONG = Style(22, bold=True, align="left")


@dataclass(frozen=True)
class Text:
    """A paragraph; renderers wrap it. `hang` starts the first line and indents the others."""

    text: str
    style: Style = BODY
    hang: str = ""


@dataclass(frozen=True)
class Number:
    """The ticket number, printed as large native characters."""

    text: str


@dataclass(frozen=True)
class QR:
    """A QR code: native `GS ( k` or an image (`native=None`: as the printer is configured)."""

    data: str
    native: bool | None = None


@dataclass(frozen=True)
class Feed:
    """Blank paper, in dots (1/203 inch)."""

    dots: int


@dataclass(frozen=True)
class Rule:
    """A thin horizontal separator."""


@dataclass(frozen=True)
class Cut:
    """Feed to the cutter and cut."""


@dataclass(frozen=True, eq=False)
class Raster:
    """A rendered line: 1-bit image cropped to its ink, plus the blank rows cropped away.

    `xscale` 2 means the printer doubles each dot horizontally (`GS v 0` m=1).
    """

    image: Image.Image
    align: Align
    top: int
    bottom: int
    text: str = ""
    xscale: int = 1

    @property
    def printed_width(self) -> int:
        """Width on paper, in dots."""
        return self.image.width * self.xscale


@dataclass(frozen=True)
class NativeText:
    """A line of native printer characters (already wrapped)."""

    text: str
    scale: int = 1
    bold: bool = False
    align: Align = "center"


@dataclass(frozen=True)
class Encoded:
    """A line sent as text in one code page (`ESC t codepage`), whatever the mode; test page."""

    text: str
    encoding: str
    codepage: int


@dataclass(frozen=True)
class GlyphSet:
    """Downloaded letters for the native lines that follow (`glyphs.define`); empty: resident again.

    `slots` pairs each letter with the code it prints from (see `glyphs.assign`).
    """

    slots: tuple[tuple[str, int], ...] = ()


Op = Text | Number | QR | Feed | Rule | Cut | Raster | NativeText | Encoded | GlyphSet


def ticket_ops(t: PrintableTicket) -> list[Op]:
    """The ticket as width-independent ops, in print order."""
    lang = t.lang
    ops: list[Op] = [Text(t.center_name, HEADER), Rule(), Text(t.service_name, TITLE)]
    if t.procedure_name:
        ops.append(Text(t.procedure_name, BODY))
    ops += [Feed(12), Text(label(lang, "number"), SMALL), Number(t.number)]
    if t.priority_label:
        ops.append(Text(t.priority_label, STRONG))
    ops += [
        Feed(8),
        Text(label(lang, "counters", counters=t.counters), STRONG),
        Text(label(lang, "ahead", n=t.ahead), BODY),
        Text(wait_text(t.est_wait_s, lang), BODY),
    ]
    if t.documents:
        ops += [Feed(12), Text(label(lang, "documents"), LEFT_STRONG)]
        ops += [Text(doc, LEFT, hang="- ") for doc in t.documents]
    if t.qr_data:
        ops += [Feed(12), QR(t.qr_data), Text(label(lang, QR_CAPTIONS[t.qr_kind]), SMALL)]
    ops += [Feed(8), Rule(), Text(t.issued_at.strftime("%H:%M  %d/%m/%Y"), SMALL)]
    if t.footer:
        ops.append(Text(t.footer, SMALL))
    ops.append(Cut())
    return ops


def wrap(text: str, fits: Callable[[str], bool], hang: str = "") -> list[str]:
    """Greedy word wrap: every returned line satisfies `fits` (a word too long is split).

    The first line starts with `hang` (e.g. "- "); continuation lines start with as many
    spaces, which pixel renderers replace by the measured width of `hang`.
    """
    indent = " " * len(hang)
    lines: list[str] = []
    current, empty = hang, True
    for word in text.split():
        trial = current + ("" if empty else " ") + word
        if fits(trial):
            current, empty = trial, False
            continue
        if not empty:
            lines.append(current)
            current, empty = indent, True
            if fits(current + word):
                current, empty = current + word, False
                continue
        rest = word
        while rest:
            cut = len(rest)
            while cut > 1 and not fits(current + rest[:cut]):
                cut -= 1
            piece, rest = current + rest[:cut], rest[cut:]
            if rest:
                lines.append(piece)
                current = indent
            else:
                current, empty = piece, False
    if not empty or not lines:
        lines.append(current)
    return lines


def is_ascii(text: str) -> bool:
    """True when every character prints natively on any code page."""
    return all(32 <= ord(c) < 127 for c in text)
