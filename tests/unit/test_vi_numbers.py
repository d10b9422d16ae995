"""Vietnamese number words: the reference table, rule properties and an independent round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.voice.vi_numbers import (
    DIGITS,
    VOCABULARY,
    digit_words,
    join_words,
    number_words,
    read_number,
)

TABLE = {
    0: "không", 1: "một", 4: "bốn", 5: "năm", 10: "mười", 11: "mười một", 14: "mười bốn",
    15: "mười lăm", 20: "hai mươi", 21: "hai mươi mốt", 24: "hai mươi tư", 25: "hai mươi lăm",
    101: "một trăm linh một", 105: "một trăm linh năm", 110: "một trăm mười", 115: "một trăm mười lăm",
    1000: "một nghìn", 1005: "một nghìn không trăm linh năm", 1023: "một nghìn không trăm hai mươi ba",
    10000: "mười nghìn", 21000: "hai mươi mốt nghìn", 1000000: "một triệu",
    # more
    2: "hai", 9: "chín", 19: "mười chín", 30: "ba mươi", 31: "ba mươi mốt", 44: "bốn mươi tư",
    55: "năm mươi lăm", 99: "chín mươi chín", 100: "một trăm", 104: "một trăm linh bốn",
    111: "một trăm mười một", 121: "một trăm hai mươi mốt", 200: "hai trăm", 999: "chín trăm chín mươi chín",
    1010: "một nghìn không trăm mười", 1100: "một nghìn một trăm", 2024: "hai nghìn không trăm hai mươi tư",
    15000: "mười lăm nghìn", 100000: "một trăm nghìn", 105000: "một trăm linh năm nghìn",
    1000005: "một triệu không trăm linh năm", 1001000: "một triệu không trăm linh một nghìn",
    2500000: "hai triệu năm trăm nghìn", 1000000000: "một tỷ", 1000000001: "một tỷ không trăm linh một",
}


@pytest.mark.parametrize(("n", "text"), sorted(TABLE.items()))
def test_table(n, text):
    assert read_number(n) == text
    assert number_words(n) == text.split()


def test_join_and_digits():
    assert join_words(["hai", "mươi", "mốt"]) == "hai mươi mốt"
    assert digit_words("012") == ["không", "một", "hai"]
    assert digit_words("5") == ["năm"]


@pytest.mark.parametrize("bad", [-1, 1.5, "12", None, True])
def test_number_words_rejects(bad):
    with pytest.raises(ValueError):
        number_words(bad)


@pytest.mark.parametrize("bad", ["", "A1", "1 2", "١٢"])
def test_digit_words_rejects(bad):
    with pytest.raises(ValueError):
        digit_words(bad)


# An independent reader of the words back into a number, written without the module's rules.
_VALUE = {w: i for i, w in enumerate(DIGITS)} | {"mốt": 1, "tư": 4, "lăm": 5}
_SCALE = {"nghìn": 1000, "triệu": 1_000_000}


def parse(words: list[str]) -> int:
    total, group, digit = 0, 0, None
    for w in words:
        if w in _VALUE:
            assert digit is None, f"two digit words in a row in {words}"
            digit = _VALUE[w]
        elif w == "trăm":
            group, digit = group + digit * 100, None
        elif w == "mươi":
            group, digit = group + digit * 10, None
        elif w == "mười":
            group += 10
        elif w == "linh":
            assert digit is None
        elif w in _SCALE:
            total, group, digit = total + (group + (digit or 0)) * _SCALE[w], 0, None
        elif w == "tỷ":
            total, group, digit = (total + group + (digit or 0)) * 1_000_000_000, 0, None
        else:
            raise AssertionError(f"unknown word {w!r}")
    return total + group + (digit or 0)


def _pairs(words: list[str]) -> list[tuple[str, str]]:
    return list(zip(["^", *words], [*words, "$"], strict=True))


@given(st.integers(0, 999_999))
def test_round_trip_and_vocabulary(n):
    words = number_words(n)
    assert words
    assert set(words) <= set(VOCABULARY)
    assert parse(words) == n


@given(st.integers(0, 10**12))
def test_round_trip_large(n):
    assert parse(number_words(n)) == n


@given(st.integers(0, 999_999))
def test_rules(n):
    words = number_words(n)
    for before, after in _pairs(words):
        assert (before, after) != ("một", "mươi"), "một mươi: 10 is mười"
        assert (before, after) != ("một", "mười"), "no một mười"
        if after == "mốt":
            assert before == "mươi", "mốt only after mươi (mười một, not mười mốt)"
        if after == "tư":
            assert before == "mươi", "tư only after mươi (mười bốn, linh bốn)"
        if after == "lăm":
            assert before in ("mười", "mươi")
        if before in ("mười", "mươi"):
            assert after not in ("năm",), "5 after mười/mươi is lăm"
        if before == "mươi":
            assert after not in ("một", "bốn"), "21 → hai mươi mốt, 24 → hai mươi tư"
        if before == "mười":
            assert after not in ("mốt", "tư")
        if before == "linh":
            assert after in DIGITS[1:], "linh is followed by a plain digit 1..9"
        if after == "linh":
            assert before == "trăm"
        if before == "không" and n != 0:
            assert after == "trăm", "không only as không trăm inside a number"
        if after == "mươi":
            assert before in DIGITS[2:]
    assert words[0] != "không" or n == 0
    assert words[-1] not in ("linh", "không") or n == 0


@given(st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_digit_words_length(digits):
    words = digit_words(digits)
    assert len(words) == len(digits)
    assert [DIGITS.index(w) for w in words] == [int(d) for d in digits]
