"""Glyphs mode: the reference ticket as native text with its accented letters downloaded (ESC &)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from devices.printer import glyphs, tools
from devices.printer.layout import GlyphSet, NativeText, Number, Raster, Text, ticket_ops
from devices.printer.lowering import lower
from devices.printer.raster import font
from devices.printer.render import render_bytes, render_job
from devices.printer.sample import reference_ticket
from devices.printer.url import parse_printer_url
from tests.escpos_paper import paper
from tests.printer_reading import ops_text, read

GLYPHS = "dummy://?profile=TM-T20II&mode=glyphs"
HYBRID = "dummy://?profile=TM-T20II"


def _bytes(url: str, ticket=None) -> bytes:
    return render_bytes(ticket_ops(ticket or reference_ticket()), parse_printer_url(url).render)


def _definitions(data: bytes) -> list[tuple[int, int]]:
    """(c1, c2) of every ESC & in `data` (walking the data so glyph bytes are never misread)."""
    out, i = [], data.index(b"\x1b&")
    while data[i:i + 2] == b"\x1b&":
        y, c1, c2 = data[i + 2:i + 5]
        out.append((c1, c2))
        i += 5 + (c2 - c1 + 1) * (1 + y * 12)
    assert data[i:i + 3] == b"\x1b%\x01", "ESC % 1 right after the definitions"
    return out


def test_reference_glyph_ticket_is_at_most_2_kb():
    for url in (GLYPHS, "dummy://?profile=POS-5890&qr=native&mode=glyphs"):
        data = _bytes(url)
        assert len(data) <= 2048, (url, len(data))
        assert b"\x1dv0" not in data  # no image lines at all


def test_glyph_ticket_structure():
    data = _bytes(GLYPHS)
    assert data.startswith(b"\x1b@\x1b&\x03")  # initialise (clears old glyphs), then define
    ranges = _definitions(data)
    codes = [c for c1, c2 in ranges for c in range(c1, c2 + 1)]
    assert all(0x21 <= c <= 0x7E for c in codes)
    assert len(codes) == len(set(codes)) == 37  # the 37 accented letters of the reference ticket (Ô of "Ông/Bà")
    assert re.search(rb"\x1d!\x33(\x1bE\x01)?A012\n", data)  # the number: native, 4x4 (GS ! 0x33)
    assert b"\x1d!\x11" in data  # the service name: native, double size
    text = data[data.index(b"\x1b%\x01") + 3:]
    used_as_ascii = set(b"".join(re.findall(rb"[\x20-\x7e]+", text.split(b"\x1d(k")[0])))
    lowered = lower(ticket_ops(reference_ticket()), parse_printer_url(GLYPHS).render)
    assert isinstance(lowered[0], GlyphSet)
    slots = dict(lowered[0].slots)
    ascii_chars = {ord(c) for op in lowered if isinstance(op, NativeText | Number) for c in glyphs.normalise(op.text)
                   if c.isascii()}
    assert not ascii_chars & set(slots.values())  # no code is both an ASCII letter and a glyph
    assert set(slots.values()) <= used_as_ascii | set(codes)


def test_glyph_ticket_reads_as_the_hybrid_ticket():
    """Both tickets printed from their bytes; the glyph one, read cell by cell, says what the hybrid one says."""
    cfg_h = parse_printer_url(HYBRID).render
    hybrid_ops = lower(ticket_ops(reference_ticket()), cfg_h)
    expected = ops_text(hybrid_ops)
    assert any(isinstance(op, Raster) for op in hybrid_ops)
    data = _bytes(GLYPHS)
    printed = paper(data)
    assert read(printed, expected) == expected
    hybrid_picture = paper(_bytes(HYBRID)).image()
    glyph_picture = printed.image()
    assert abs(glyph_picture.height - hybrid_picture.height) < 0.15 * hybrid_picture.height
    # the number: the same native 4x size on both pictures (ink band height within 2 dots)
    bands = [_bands(glyph_picture), _bands(hybrid_picture)]
    tallest = [max(b - a for a, b in bb) for bb in bands]
    assert abs(tallest[0] - tallest[1]) <= 2


def test_a_wrong_code_reads_as_a_wrong_letter():
    """The check above can fail: swap the definitions of two codes and the text reads differently."""
    expected = ops_text(lower(ticket_ops(reference_ticket()), parse_printer_url(HYBRID).render))
    data = bytearray(_bytes(GLYPHS))
    start = data.index(b"\x1b&") + 5
    first, second = data[start:start + 37], data[start + 37:start + 74]
    data[start:start + 74] = second + first  # same codes, letters swapped
    assert read(paper(bytes(data)), expected) != expected
    forgotten = bytes(data).replace(b"\x1b%\x01", b"\x1b%\x00", 1)  # glyphs never selected
    assert read(paper(forgotten), expected) != expected


def test_glyph_bitmaps_look_like_their_letters():
    """Each downloaded letter, scaled to its ink, is closest to the large TTF drawing of itself.

    Scaling to the ink hides the case (Ư / ư), so the case is checked by the ink height.
    """
    letters = glyphs.foreign(ops_text(lower(ticket_ops(reference_ticket()), parse_printer_url(HYBRID).render)))

    def shape(img: Image.Image) -> np.ndarray:
        img = img.convert("L")
        box = ImageOps.invert(img).getbbox()
        return np.asarray(img.crop(box).resize((16, 24), Image.BOX), dtype=np.float64) / 255

    refs = {c: shape(_big(c)) for c in letters}
    for c in letters:
        g = shape(glyphs.glyph_image(c))
        best = min(refs, key=lambda d: np.abs(refs[d] - g).sum())
        assert best.lower() == c.lower(), (c, best)
        if c != c.lower() and c.lower() in refs and _ink_height(_big(c)) > 1.1 * _ink_height(_big(c.lower())):
            assert _ink_height(glyphs.glyph_image(c)) > _ink_height(glyphs.glyph_image(c.lower())), c


def test_letters_beyond_the_free_codes_fall_back_to_images():
    many = "".join(chr(c) for c in range(0xC0, 0x17F) if chr(c).isalpha())  # far more than 94 letters
    ops = [Text(many[:40]), Text("ordinary ASCII text"), Text(many[40:])]
    lowered = lower(ops, parse_printer_url(GLYPHS).render)
    slots = dict(lowered[0].slots) if isinstance(lowered[0], GlyphSet) else {}
    for op in lowered:
        if isinstance(op, NativeText):
            assert all(c in slots for c in glyphs.foreign(op.text)), op.text
    assert any(isinstance(op, Raster) for op in lowered)
    assert any(isinstance(op, NativeText) and op.text == "ordinary ASCII text" for op in lowered)


def test_define_groups_consecutive_codes():
    data = glyphs.define({"á": 0x21, "à": 0x22, "ả": 0x30})
    assert data[:5] == b"\x1b&\x03\x21\x22" and data.endswith(b"\x1b%\x01")
    assert len(data) == 5 + 2 * 37 + 5 + 37 + 3
    assert glyphs.encode("Cá à!", {"á": 0x21, "à": 0x22}) == b"C! \"!"


def test_test_page_has_a_glyph_sample():
    assert ("g", "mode=glyphs") in tools.test_page_choices(parse_printer_url("dummy://"))
    ops = tools.test_page_ops("dummy://")
    sets = [op for op in ops if isinstance(op, GlyphSet)]
    assert len(sets) == 2 and sets[0].slots and not sets[1].slots  # select, then back to resident


def _big(ch: str) -> Image.Image:
    img = Image.new("L", (144, 144), 255)
    ImageDraw.Draw(img).text((72, 110), ch, font=font(72), fill=0, anchor="ms")
    return img


def _ink_height(img: Image.Image) -> int:
    box = ImageOps.invert(img.convert("L")).getbbox()
    return box[3] - box[1]


def _bands(img: Image.Image) -> list[tuple[int, int]]:
    ink = (np.asarray(img.convert("L")) < 128).any(axis=1)
    out, start = [], None
    for y, on in enumerate(ink):
        if on and start is None:
            start = y
        elif not on and start is not None:
            out.append((start, y))
            start = None
    return out


def _other_ticket():
    return replace(reference_ticket(), number="B007", service_name="Chứng thực bản sao",
                   procedure_name="Chứng thực chữ ký", counters="Quầy số 5", priority_label=None)


def test_keep_defines_only_missing_letters_and_reads_right_across_tickets():
    """keep=N: later jobs skip ESC @ and most letters; one continuous paper reads every ticket right."""
    cfg = parse_printer_url(GLYPHS + "&keep=20").render
    hybrid = parse_printer_url(HYBRID).render
    tickets = [reference_ticket(), _other_ticket(), reference_ticket(), _other_ticket()]
    held, data, expected = None, b"", []
    for i, t in enumerate(tickets):
        job = render_job(t.number, ticket_ops(t), cfg, held)
        assert job.data.startswith(b"\x1b@") == (i == 0)
        if i:
            assert len(job.data) < 900, len(job.data)
        held, data = dict(job.held), data + job.data
        expected.append(ops_text(lower(ticket_ops(t), hybrid)))
    assert read(paper(data), " ".join(expected)) == " ".join(expected)
    # the same later job on a printer that forgot its letters prints wrong letters: why it must be fresh then
    late = render_job("A012", ticket_ops(reference_ticket()), cfg, held).data
    assert read(paper(late), expected[0]) != expected[0]


def test_keep_is_only_for_glyphs_mode():
    with pytest.raises(ValueError, match="keep"):
        parse_printer_url("dummy://?keep=5")
    assert parse_printer_url(GLYPHS).render.keep_glyphs == 0  # default: letters with every ticket
