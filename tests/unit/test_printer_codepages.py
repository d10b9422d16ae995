"""Vietnamese in printer code pages."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from devices.printer.codepages import TCVN3, decode, encode, strip_diacritics

SAMPLE = "Đăng ký khai sinh — Tư pháp–Hộ tịch — Quầy số 2"
ALL_LOWER = "àảãáạăằẳẵắặâầẩẫấậđèẻẽéẹêềểễếệìỉĩíịòỏõóọôồổỗốộơờởỡớợùủũúụưừửữứựỳỷỹýỵ"


def test_ascii_strips_diacritics():
    assert strip_diacritics(SAMPLE) == "Dang ky khai sinh - Tu phap-Ho tich - Quay so 2"
    assert encode("Người cao tuổi", "ascii") == b"Nguoi cao tuoi"


def test_tcvn3_covers_every_lowercase_vietnamese_letter():
    assert all(c in TCVN3 for c in ALL_LOWER)
    assert decode(encode(ALL_LOWER, "tcvn3"), "tcvn3") == ALL_LOWER


def test_tcvn3_capitals_with_tone_marks_fall_back_to_lower_case():
    assert decode(encode("ẤN ĐỊNH Ư", "tcvn3"), "tcvn3") == "ấN ĐịNH Ư"


@pytest.mark.skipif(not shutil.which("iconv"), reason="iconv not installed")
def test_tcvn3_table_agrees_with_iconv():
    probe = subprocess.run(["iconv", "-l"], capture_output=True, text=True).stdout
    if "TCVN5712-1" not in probe:
        pytest.skip("iconv has no TCVN5712-1")
    data = encode(ALL_LOWER + "ĂÂÊÔƠƯĐ", "tcvn3")
    out = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=data, capture_output=True)
    assert out.stdout.decode() == ALL_LOWER + "ĂÂÊÔƠƯĐ"


def test_cp1258_round_trips_every_letter():
    text = ALL_LOWER + ALL_LOWER.upper()
    assert decode(encode(text, "cp1258"), "cp1258") == text


def test_cp1258_uses_tone_marks_only_where_needed():
    assert encode("á", "cp1258") == b"\xe1"  # precomposed exists
    assert encode("ấ", "cp1258") == b"\xe2\xec"  # â + combining acute


def test_punctuation_and_unknown_characters_never_raise():
    for enc in ("tcvn3", "cp1258", "ascii"):
        assert encode("a—b “c” … 漢", enc).startswith(b'a-b "c" ...')


def test_unknown_encoding():
    with pytest.raises(ValueError, match="unknown encoding"):
        encode("x", "viscii")
