"""Layout, wrapping and image-line geometry (pure, fast)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printer.labels import label, wait_text
from devices.printer.layout import (
    BODY,
    LEFT,
    QR,
    TITLE,
    Cut,
    NativeText,
    Number,
    Raster,
    Text,
    ticket_ops,
    wrap,
)
from devices.printer.lowering import CELL, RenderConfig, lower
from devices.printer.sample import reference_ticket

W80 = RenderConfig(width=576, profile="TM-T20II")
W58 = RenderConfig(width=384, profile="POS-5890")
W58_HALF = replace(W58, density="half")
VI_WORDS = ["Trung", "tâm", "Phục", "vụ", "hành", "chính", "công", "xã", "Đạ", "Huoai", "Đăng", "ký",
            "khai", "sinh", "Giấy", "chứng", "nhận", "quyền", "sử", "dụng", "đất", "Ủy", "ban", "nhân",
            "dân", "NGƯỜI", "CAO", "TUỔI", "Quầy", "số", "2", "Thủ", "tục", "hồ", "sơ", "trực", "tuyến"]


def _lines(ops):
    return [op for op in ops if isinstance(op, Raster | NativeText)]


def test_wrap_fits_and_keeps_words():
    text = "Trung tâm Phục vụ hành chính công xã Đạ Huoai"
    lines = wrap(text, lambda s: len(s) <= 16)
    assert all(len(line) <= 16 for line in lines)
    assert " ".join(lines) == text


def test_wrap_splits_a_word_longer_than_the_line():
    lines = wrap("abcdefghijklmnopqrstuvwxyz", lambda s: len(s) <= 10)
    assert lines == ["abcdefghij", "klmnopqrst", "uvwxyz"]


def test_wrap_hang_indents_continuation_lines():
    lines = wrap("Bản sao giấy chứng nhận kết hôn", lambda s: len(s) <= 14, hang="- ")
    assert lines[0].startswith("- ")
    assert all(line.startswith("  ") for line in lines[1:])
    assert all(len(line) <= 14 for line in lines)


def test_wrap_empty_text_gives_one_line():
    assert wrap("", lambda s: len(s) <= 5) == [""]


@pytest.mark.parametrize("cfg", [W80, W58, W58_HALF], ids=["80mm", "58mm", "58mm-half"])
def test_reference_ticket_fits_the_paper(cfg):
    for op in _lines(lower(ticket_ops(reference_ticket()), cfg)):
        if isinstance(op, Raster):
            assert op.printed_width <= cfg.width, op.text
        else:
            assert len(op.text) * CELL * op.scale <= cfg.width, op.text


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(VI_WORDS), min_size=1, max_size=40), st.sampled_from([BODY, TITLE, LEFT]),
       st.sampled_from([W58, W58_HALF]))
def test_58mm_width_is_never_exceeded(words, style, cfg):
    ops = lower([Text(" ".join(words), style, hang="- " if style is LEFT else "")], cfg)
    for op in ops:
        assert isinstance(op, Raster | NativeText)
        if isinstance(op, Raster):
            assert op.printed_width <= 384


def test_image_lines_are_cropped_to_ink():
    ops = lower([Text("Số thứ tự", BODY), Text("Đăng ký khai sinh", TITLE)], W80)
    body, title = ops
    assert isinstance(body, Raster) and isinstance(title, Raster)
    assert body.image.width < 200 and body.image.height <= 26  # a 22 px font, not a 576-wide band
    assert title.image.height <= 40
    assert body.top + body.image.height + body.bottom >= 26  # the cropped rows are fed instead


def test_ascii_lines_stay_native_in_hybrid_mode():
    ops = lower([Text("08:15  12/03/2025", BODY), Text("Số", BODY)], W80)
    assert isinstance(ops[0], NativeText) and isinstance(ops[1], Raster)


def test_text_mode_has_no_images():
    ops = lower(ticket_ops(reference_ticket()), replace(W80, mode="text", encoding="tcvn3", codepage=30))
    assert not any(isinstance(op, Raster) for op in ops)


def test_ticket_ops_content_and_order():
    ops = ticket_ops(reference_ticket())
    texts = [op.text for op in ops if isinstance(op, Text)]
    assert texts[:3] == ["Trung tâm Phục vụ hành chính công xã Đạ Huoai", "Tư pháp–Hộ tịch", "Đăng ký khai sinh"]
    assert "Số người chờ trước Ông/Bà: 3" in texts
    assert "Thời gian chờ dự kiến: khoảng 15 phút" in texts
    assert "Giấy chứng sinh" in texts and "Mời đến: Quầy số 2" in texts
    assert [op.text for op in ops if isinstance(op, Number)] == ["A012"]
    assert any(isinstance(op, QR) for op in ops) and isinstance(ops[-1], Cut)


def test_optional_parts_are_left_out():
    t = replace(reference_ticket(), procedure_name=None, priority_label=None, documents=(), qr_data=None, footer="")
    ops = ticket_ops(t)
    texts = [op.text for op in ops if isinstance(op, Text)]
    assert not any(isinstance(op, QR) for op in ops)
    assert label("vi", "documents") not in texts and "Đăng ký khai sinh" not in texts


def test_english_labels():
    texts = [op.text for op in ticket_ops(replace(reference_ticket(), lang="en")) if isinstance(op, Text)]
    assert "People ahead of you: 3" in texts and "Estimated wait: about 15 min" in texts


@pytest.mark.parametrize(("seconds", "vi", "en"), [
    (20, "Thời gian chờ dự kiến: dưới 1 phút", "Estimated wait: under 1 min"),
    (900, "Thời gian chờ dự kiến: khoảng 15 phút", "Estimated wait: about 15 min"),
    (5400, "Thời gian chờ dự kiến: khoảng 1 giờ 30 phút", "Estimated wait: about 1 h 30 min"),
    (None, "Thời gian chờ dự kiến: chưa ước tính được", "Estimated wait: not known yet"),
])
def test_wait_text(seconds, vi, en):
    assert wait_text(seconds, "vi") == vi and wait_text(seconds, "en") == en


def test_ticket_requires_aware_time_and_known_lang():
    with pytest.raises(ValueError, match="aware"):
        replace(reference_ticket(), issued_at=datetime(2025, 3, 12, 8, 15))
    with pytest.raises(ValueError, match="lang"):
        replace(reference_ticket(), lang="fr")
