"""A barcode scanner's burst of keys + Enter is one dossier code; a person's keypad keys stay commands."""

from __future__ import annotations

from counter.scanner import ScanBuffer

CODE = "000.00.25.H37-251201-0001"


def feed_text(buf: ScanBuffer, text: str, start: float, gap: float, enter: bool = True) -> list:
    """Each character as a key (keypad names for ``. - 0-9``), ``gap`` seconds apart, then Enter."""
    out, now = [], start
    for ch in text:
        key = ch if ch in "0123456789.-+*/" else None
        out += buf.feed(ch if ch not in "+*" else None, key, now)
        now += gap
    if enter:
        out += buf.feed(None, "enter", now)
    return out


def test_a_fast_burst_ending_in_enter_is_one_scan_and_no_keypad_command():
    buf = ScanBuffer()
    assert feed_text(buf, CODE, 100.0, 0.004) == [("scan", CODE)]
    assert buf.pending == []


def test_a_person_typing_a_number_and_enter_gets_the_keypad_keys_in_order():
    buf = ScanBuffer()
    out = feed_text(buf, "12", 100.0, 0.3)  # 300 ms a key
    out += buf.flush()
    assert out == [("key", "1"), ("key", "2"), ("key", "enter")]


def test_four_fast_digits_are_still_a_ticket_number_not_a_code():
    assert feed_text(ScanBuffer(), "1234", 100.0, 0.004) == [("key", k) for k in ("1", "2", "3", "4", "enter")]


def test_keypad_commands_pass_at_once_and_letters_alone_are_dropped():
    buf = ScanBuffer()
    assert buf.feed(None, "+", 1.0) == [("key", "+")]
    assert buf.feed(".", ".", 2.0) == []  # held 50 ms: it might start a code
    assert buf.flush() == [("key", ".")]  # nothing followed: Gọi lại
    assert buf.feed("H", None, 3.0) == [] and buf.flush() == []


def test_a_broken_scan_is_reported_once_and_its_tail_is_not_taken_as_keys_or_a_code():
    buf = ScanBuffer()
    out = feed_text(buf, "000.00.25", 100.0, 0.004, enter=False)
    out += feed_text(buf, ".H37-251201-0001", 100.3, 0.004)  # the UI stalled 260 ms mid-scan
    assert out == [("bad_scan", "000.00.25")]
    assert feed_text(buf, "7", 105.0, 0.3) == [("key", "7"), ("key", "enter")]  # later keys work again
