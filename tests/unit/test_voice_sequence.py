"""Clip sequences for calls (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.voice.languages import EN, VI
from devices.voice.pack import parse_manifest
from devices.voice.sequence import PAUSE, announcement_tokens, spell, tokens_text

CALL, TO = "kính mời công dân có số thứ tự", "đến quầy số"


def test_a012_counter_2_digits():
    assert announcement_tokens("A012", "2", "vi", mode="digits") == [
        "chime", CALL, "a", "không", "một", "hai", TO, "hai"]


def test_a012_counter_2_words():
    assert announcement_tokens("A012", "2", "vi") == ["chime", CALL, "a", "mười", "hai", TO, "hai"]


@pytest.mark.parametrize(("number", "counter", "middle", "end"), [
    ("B105", 12, ["bê", "một", "trăm", "linh", "năm"], ["mười", "hai"]),
    ("C021", "21", ["xê", "hai", "mươi", "mốt"], ["hai", "mươi", "mốt"]),
    ("D000", "1", ["đê", "không"], ["một"]),
    ("A-015", " 5 ", ["a", "mười", "lăm"], ["năm"]),
    ("ab7", "B3", ["a", "bê", "bảy"], ["bê", "ba"]),
    ("1024", "10", ["một", "nghìn", "không", "trăm", "hai", "mươi", "tư"], ["mười"]),
])
def test_words_mode(number, counter, middle, end):
    assert announcement_tokens(number, counter, "vi") == ["chime", CALL, *middle, TO, *end]


def test_recall_uses_xin_moi():
    tokens = announcement_tokens("A012", "2", VI, recall=True, chime=False)
    assert tokens == ["xin mời", "công dân có số thứ tự", "a", "mười", "hai", TO, "hai"]


def test_repeat_keeps_one_chime_and_pauses_between():
    once = announcement_tokens("A1", "2", "vi")
    twice = announcement_tokens("A1", "2", "vi", repeat=2)
    assert twice == [*once, PAUSE, *once[1:]]
    assert twice.count("chime") == 1
    with pytest.raises(ValueError):
        announcement_tokens("A1", "2", "vi", repeat=0)


def test_no_counter_leaves_counter_part_out():
    assert announcement_tokens("A1", None, "vi", chime=False) == [CALL, "a", "một"]


def test_english():
    assert announcement_tokens("B105", 12, "en", chime=False) == [
        "ticket number", "B", "one", "hundred", "five", "please go to counter", "twelve"]
    assert spell("A012", EN, "digits") == ["A", "zero", "one", "two"]


def test_pack_overrides_and_forced_digits():
    pack = parse_manifest({
        "format": 1, "rules": "vi", "mode": "digits",
        "digits": [f"k{i}" for i in range(10)],
        "letters": {"a": "kA"},
        "phrases": {"call": ["kcall"], "to_counter": ["kto"]},
    }, directory=Path("/nonexistent"))
    assert announcement_tokens("A12", "10", pack) == ["chime", "kcall", "kA", "k1", "k2", "kto", "k1", "k0"]


def test_errors():
    with pytest.raises(ValueError, match="character"):
        spell("Ω1", VI)
    with pytest.raises(ValueError, match="nothing"):
        spell("--", VI)
    with pytest.raises(ValueError, match="mode"):
        spell("A1", VI, "roman")
    with pytest.raises(ValueError, match="known"):
        announcement_tokens("A1", "1", "xx")


def test_tokens_text():
    assert tokens_text(announcement_tokens("A012", "2", "vi", repeat=2)).startswith(f"{CALL} a mười hai {TO} hai {CALL}")


@given(letter=st.sampled_from(sorted(VI.letters)), n=st.integers(0, 9999), counter=st.integers(1, 99),
       mode=st.sampled_from(["words", "digits"]), repeat=st.integers(1, 3))
def test_every_token_is_in_the_vocabulary(letter, n, counter, mode, repeat):
    tokens = announcement_tokens(f"{letter}{n:03d}", str(counter), "vi", mode, repeat)
    assert set(tokens) <= {"chime", PAUSE, *VI.vocabulary()}
    assert tokens.count(CALL) == repeat
    start = tokens.index(CALL) + 1
    ticket = tokens[start:tokens.index(TO)]
    assert ticket[0] == VI.letters[letter]
    if mode == "digits":
        assert len(ticket) == 1 + len(f"{n:03d}")
