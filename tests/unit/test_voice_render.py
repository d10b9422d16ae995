"""Rendering token sequences into one WAV (fake beep pack: no espeak-ng needed)."""

from __future__ import annotations

import io
import os
import wave

import pytest

from devices.voice import render
from devices.voice.chime import chime_frames, write_chime
from devices.voice.pack import MissingClipError, PackError
from devices.voice.render import render_announcement, render_tokens
from devices.voice.sequence import PAUSE, announcement_tokens
from devices.voice.wavio import (
    FORMAT,
    AudioFormat,
    ClipFormatError,
    compress_silence,
    duration_s,
    silence,
    trim_silence,
)
from tests.voice_fakes import CLIP_MS, beep, make_tone_pack


@pytest.fixture
def pack(tmp_path):
    return make_tone_pack(tmp_path / "vi")


def _params(wav: bytes) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(wav)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


def test_concatenates_clips_with_gaps(pack):
    tokens = announcement_tokens("A012", "2", pack)
    wav = render_tokens(tokens, pack, gap_ms=100, chime_gap_ms=300, pause_ms=1000)
    rate, channels, width, frames = _params(wav)
    assert (rate, channels, width) == (FORMAT.rate, FORMAT.channels, FORMAT.sampwidth)
    clip = rate * CLIP_MS // 1000
    gaps = rate * 300 // 1000 + (len(tokens) - 2) * (rate * 100 // 1000)
    assert frames == len(tokens) * clip + gaps


def test_pause_token_is_silence_without_extra_gaps(pack):
    tokens = ["a", PAUSE, "a"]
    rate = FORMAT.rate
    wav = render_tokens(tokens, pack, gap_ms=100, pause_ms=1000)
    assert _params(wav)[3] == 2 * (rate * CLIP_MS // 1000) + rate


def test_missing_clip_names_token_and_pack(pack):
    (pack.directory / pack.clips["mười"]).unlink()
    with pytest.raises(MissingClipError, match=r"test beeps.*'mười'"):
        render_tokens(announcement_tokens("A012", "2", pack), pack)


def test_missing_clip_without_fallback_raises(pack, monkeypatch):
    (pack.directory / pack.clips["hai"]).unlink()
    monkeypatch.setattr(render, "espeak_binary", lambda: None)
    with pytest.raises(MissingClipError):
        render_announcement(["a", "hai"], pack, fallback=True)
    with pytest.raises(MissingClipError):
        render_announcement(["a", "hai"], pack, fallback=False)


def test_missing_clip_falls_back_to_speaking_the_sentence(pack, monkeypatch):
    (pack.directory / pack.clips["hai"]).unlink()
    spoken = []

    def fake_synth(text, voice, speed, amplitude):
        spoken.append((text, voice))
        return FORMAT, silence(FORMAT, 500)

    monkeypatch.setattr(render, "espeak_binary", lambda: "/usr/bin/espeak-ng")
    monkeypatch.setattr(render, "synthesize", fake_synth)
    wav = render_announcement(announcement_tokens("A012", "2", pack), pack)
    assert spoken == [("kính mời công dân có số thứ tự a mười hai đến quầy số hai", "vi")]
    assert duration_s(wav) == pytest.approx((CLIP_MS + render.CHIME_GAP_MS + 500) / 1000, abs=0.01)


def test_format_mismatch_names_the_clip(pack):
    (pack.directory / pack.clips["hai"]).write_bytes(beep("hai", fmt=AudioFormat(44100, 2, 2)))
    with pytest.raises(ClipFormatError, match=r"'hai'.*hai\.wav.*44100 Hz, 2 ch.*sox"):
        render_tokens(["a", "hai"], pack)


def test_not_a_wav_names_the_file(pack):
    (pack.directory / pack.clips["ba"]).write_bytes(b"ID3 this is an mp3")
    with pytest.raises(ClipFormatError, match=r"ba\.wav.*not a PCM WAV"):
        render_tokens(["ba"], pack)


def test_clip_cache_sees_replaced_files(pack):
    first = render_tokens(["a"], pack)
    path = pack.directory / pack.clips["a"]
    path.write_bytes(beep("a", ms=80))
    os.utime(path, ns=(1, 1))  # force a different mtime even on coarse clocks
    assert _params(render_tokens(["a"], pack))[3] > _params(first)[3]


def test_empty_sequence(pack):
    with pytest.raises(PackError, match="empty"):
        render_tokens([], pack)


def test_chime_is_audible_and_fades_to_zero(tmp_path):
    frames = chime_frames()
    samples = memoryview(frames).cast("h")
    assert max(abs(s) for s in samples) > 10000
    assert samples[-1] == 0
    path = write_chime(tmp_path / "s" / "chime.wav")
    assert 0.5 < duration_s(path.read_bytes()) <= 0.8, "short: a backlog of calls waits behind it (issue 20)"


def test_compress_silence_shortens_pauses_but_keeps_every_sound():
    fmt = FORMAT
    with wave.open(io.BytesIO(beep("x", ms=100))) as w:
        tone = w.readframes(w.getnframes())
    frames = tone + silence(fmt, 400) + tone + silence(fmt, 50) + tone
    out = compress_silence(frames, fmt, max_gap_ms=80)
    ms = len(out) / 2 / fmt.rate * 1000
    assert 100 * 3 + 80 + 50 - 10 <= ms <= 100 * 3 + 80 + 50 + 10, ms
    loud = [s for s in memoryview(out).cast("h") if abs(s) > 327]
    assert loud == [s for s in memoryview(frames).cast("h") if abs(s) > 327], "no sound is cut"


def test_trim_silence_keeps_margin():
    fmt = FORMAT
    tone = beep("x")
    with wave.open(io.BytesIO(tone)) as w:
        body = w.readframes(w.getnframes())
    padded = silence(fmt, 500) + body + silence(fmt, 500)
    trimmed = trim_silence(padded, fmt, margin_ms=10)
    assert len(body) <= len(trimmed) <= len(body) + 2 * (fmt.rate * 12 // 1000) * 2
    assert trim_silence(silence(fmt, 100), fmt) == b""
