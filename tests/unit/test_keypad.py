"""USB keypad: key names, the key map (dict and file), the pure decoder, key sources, beeps."""

from __future__ import annotations

import io
import json
import wave

import pytest

from devices.keypad import Command, KeyDecoder, KeyMap, KeyMapError, normalize_key
from devices.keypad.feedback import Beeper, tone_wav
from devices.keypad.sources import StdinKeySource, char_key_name, decode_chars, decode_keys, kivy_key_name


def feed(decoder: KeyDecoder, keys: list[str], t0: float = 0.0, step: float = 0.1) -> list[Command | None]:
    return [decoder.feed(k, t0 + i * step) for i, k in enumerate(keys)]


@pytest.mark.parametrize(("raw", "name"), [
    ("KP_Enter", "enter"), ("numpadenter", "enter"), ("Return", "enter"), ("\r", "enter"),
    ("numpadadd", "+"), ("KP_Subtract", "-"), ("numpadsubstract", "-"), ("numpadmul", "*"),
    ("KP_Divide", "/"), ("numpaddecimal", "."), (",", "."), ("numpad7", "7"), ("KP_0", "0"),
    ("\x7f", "backspace"), ("Escape", "esc"), ("5", "5"),
])
def test_key_names_are_normalized(raw, name):
    assert normalize_key(raw) == name


def test_default_map_drives_every_action():
    d = KeyDecoder()
    assert feed(d, ["enter", "+", ".", "-", "*", "/"]) == [
        Command("next"), Command("next"), Command("recall"), Command("no_show"), Command("complete"),
        Command("pause_toggle")]


def test_digits_then_enter_call_that_number():
    d = KeyDecoder()
    assert feed(d, ["numpad1", "2", "KP_Enter"]) == [Command("typing", "1"), Command("typing", "12"),
                                                     Command("call_number", "12")]
    assert d.buffer == ""
    assert d.feed("enter", 5.0) == Command("next")  # no digits pending: Enter is "next" again


def test_backspace_clears_digits_and_stale_digits_are_forgotten():
    d = KeyDecoder(KeyMap(digit_timeout_s=2.0))
    feed(d, ["4", "5"])
    assert d.feed("backspace", 0.3) == Command("clear") and d.buffer == ""
    d.feed("7", 1.0)
    assert d.feed("enter", 10.0) == Command("next")  # 9 s later: the 7 is forgotten


def test_an_action_key_drops_half_typed_digits_and_acts():
    d = KeyDecoder()
    feed(d, ["1", "2"])
    assert d.feed("*", 0.5) == Command("complete") and d.buffer == ""


def test_max_digits_and_unknown_keys():
    d = KeyDecoder(KeyMap(max_digits=3))
    assert feed(d, list("12345"))[-1] == Command("typing", "123")
    assert d.feed("f1", 1.0) == Command("unknown", "f1")


def test_keymap_from_dict_replaces_and_frees_keys():
    km = KeyMap.from_dict({"keys": {"KP_Add": "recall", "enter": None, "numpadmul": "transfer:chung-thuc"},
                           "submit": "+"})
    d = KeyDecoder(km)
    assert d.feed("+", 0) == Command("recall")
    assert d.feed("enter", 0.1) == Command("unknown", "enter")
    assert d.feed("*", 0.2) == Command("transfer", "chung-thuc")
    assert feed(d, ["3", "+"], t0=1) == [Command("typing", "3"), Command("call_number", "3")]


def test_keymap_with_digits_off_maps_digits():
    d = KeyDecoder(KeyMap.from_dict({"digits": False, "keys": {"1": "next", "2": "complete"}}))
    assert feed(d, ["numpad1", "2"]) == [Command("next"), Command("complete")]


@pytest.mark.parametrize(("data", "words"), [
    ({"keys": {"+": "launch"}}, "unknown action 'launch'"),
    ({"keys": {"5": "next"}}, "digits type ticket numbers"),
    ({"colour": "red"}, "unknown key map setting"),
    ({"digit_timeout_s": -1}, "positive"),
    ({"keys": ["next"]}, '"keys" must be an object'),
    ([], "JSON object"),
])
def test_bad_keymaps_say_what_is_wrong(data, words):
    with pytest.raises(KeyMapError, match=words):
        KeyMap.from_dict(data)


def test_keymap_file(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": {"/": "pause", "backspace": "resume"}}), encoding="utf-8")
    km = KeyMap.from_file(path)
    assert km.action_for("/") == "pause" and km.action_for("backspace") == "resume"
    assert ("0-9 + enter", "call_number") in km.describe()
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(KeyMapError, match="not valid JSON"):
        KeyMap.from_file(path)
    with pytest.raises(KeyMapError, match="cannot read"):
        KeyMap.from_file(tmp_path / "missing.json")


def test_kivy_and_terminal_key_names():
    assert kivy_key_name(271, None) == "enter" and kivy_key_name(270, "+") == "+"
    assert kivy_key_name(263, "7") == "7" and kivy_key_name(13, "") == "enter"
    assert kivy_key_name(97, "a") is None and kivy_key_name(61, "+") == "+"
    assert [char_key_name(c) for c in "1+\n\x7fa"] == ["1", "+", "enter", "backspace", None]


def test_terminal_escape_sequences_of_keypad_keys_are_decoded():
    # NumLock off: 7 = Home, 2 = Down, . = Del; application keypad mode: ESC O x
    assert decode_chars("\x1b[H\x1b[B\x1b[3~") == ["7", "2", "."]
    assert decode_chars("\x1bOq\x1bOr\x1bOM\x1bOk") == ["1", "2", "enter", "+"]
    assert decode_chars("\x1b[15~1\x1b") == ["1", "esc"]  # F5 ignored, lone Esc kept


def test_terminal_keys_keep_a_scanners_letters_with_their_keypad_names():
    assert decode_keys("H3-\x1bOM\x07") == [("H", None), ("3", "3"), ("-", "-"), (None, "enter")]  # bell: neither


def test_stdin_source_gives_characters_with_their_arrival_time_to_on_char():
    import os

    r, w = os.pipe()
    got: list[tuple[str | None, str | None, float]] = []
    with open(r, encoding="utf-8") as stream:
        src = StdinKeySource(lambda _name: None, stream, on_char=lambda c, n, at: got.append((c, n, at))).start()
        os.write(w, b"H37-1\n")
        os.close(w)
        assert src.finished.wait(2)
    assert [(c, n) for c, n, _ in got] == [("H", None), ("3", "3"), ("7", "7"), ("-", "-"), ("1", "1"), (None, "enter")]
    assert len({at for _, _, at in got}) == 1, "one chunk: one arrival time"


def test_stdin_source_reads_a_real_pipe():
    import os

    r, w = os.pipe()
    got: list[str] = []
    with open(r, encoding="utf-8") as stream:
        src = StdinKeySource(got.append, stream).start()
        os.write(w, b"+4\x1b[D\n")
        os.close(w)
        assert src.finished.wait(2)
    assert got == ["+", "4", "4", "enter"]


def test_stdin_source_feeds_the_decoder_from_a_pipe():
    got: list[str] = []
    src = StdinKeySource(got.append, io.StringIO("12\n+x*\n")).start()
    assert src.finished.wait(2)
    src.stop()
    assert got == ["1", "2", "enter", "+", "*", "enter"]
    d = KeyDecoder()
    assert [c for c in feed(d, got) if c and c.action != "typing"] == [
        Command("call_number", "12"), Command("next"), Command("complete"), Command("next")]


def test_beeps(tmp_path):
    out = io.StringIO()
    beeper = Beeper("bell", stream=out)
    beeper.ok()
    beeper.error()
    assert out.getvalue() == "\a\a\a"
    Beeper("off", stream=out).error()
    assert out.getvalue() == "\a\a\a"
    with pytest.raises(ValueError, match="beep mode"):
        Beeper("siren")
    with wave.open(str(tone_wav(tmp_path / "t.wav", [(880, 0.05), (0, 0.02)]))) as w:
        assert w.getframerate() == 16000 and w.getnframes() == 800 + 320


def test_aplay_beeps_fall_back_to_the_bell_without_aplay(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    out = io.StringIO()
    beeper = Beeper("aplay", stream=out)
    assert beeper.mode == "bell"
    beeper.ok()
    assert out.getvalue() == "\a"
