"""Real espeak-ng: build the voice packs, render a call, check it is a plausible, audible WAV."""

from __future__ import annotations

import array
import io
import math
import shutil
import subprocess
import threading
import wave

import pytest

from devices.voice.announcer import Announcer
from devices.voice.build import build_pack, ensure_pack
from devices.voice.pack import VOICE_ROOT
from devices.voice.player import FileSinkBackend
from devices.voice.render import render_announcement, render_spoken
from devices.voice.sequence import announcement_tokens
from devices.voice.tts import espeak_binary
from devices.voice.wavio import FORMAT
from mqtt_bus.contract import EventType

if espeak_binary() is None:
    pytest.skip("ESPEAK-NG IS NOT INSTALLED: the Vietnamese voice pack cannot be built or tested "
                "(apt install espeak-ng)", allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vi_pack(tmp_path_factory):
    return build_pack("vi", tmp_path_factory.mktemp("voice") / "vi")


def _check(wav: bytes, low: float, high: float) -> float:
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (FORMAT.rate, 1, 2)
        seconds = w.getnframes() / w.getframerate()
        samples = array.array("h", w.readframes(w.getnframes()))
    assert low <= seconds <= high, f"implausible duration {seconds:.2f} s"
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    assert rms > 0.02, f"too quiet: RMS {rms:.4f}"
    assert max(abs(s) for s in samples) < 32767, "clipped"
    return seconds


def _sox_rms(path) -> float:
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    return float(next(line.split(":")[1] for line in out.splitlines() if line.startswith("RMS     amplitude")))


def test_build_vi_pack_is_complete_and_in_format(vi_pack):
    assert vi_pack.missing() == []
    for name in vi_pack.clips.values():
        with wave.open(str(vi_pack.directory / name)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (FORMAT.rate, 1, 2), name
            assert 0.05 < w.getnframes() / w.getframerate() < 4, name


@pytest.mark.parametrize("mode", ["digits", "words"])
def test_render_a012_counter_2(vi_pack, mode, tmp_path):
    wav = render_announcement(announcement_tokens("A012", "2", vi_pack, mode), vi_pack, fallback=False)
    seconds = _check(wav, 2, 12)
    path = tmp_path / f"a012-{mode}.wav"
    path.write_bytes(wav)
    if shutil.which("sox"):
        assert _sox_rms(path) > 0.02, "sox stat says the announcement is silent"
    print(f"A012 → counter 2 ({mode}): {seconds:.2f} s")


def test_repeat_twice_is_about_twice_as_long(vi_pack):
    one = _check(render_announcement(announcement_tokens("B105", "12", vi_pack), vi_pack), 2, 12)
    two = _check(render_announcement(announcement_tokens("B105", "12", vi_pack, repeat=2), vi_pack), 4, 24)
    assert 1.5 * one < two < 2 * one + 1


def test_announcer_burst_with_real_pack(vi_pack, tmp_path):
    sink = FileSinkBackend(tmp_path / "out")
    with Announcer(vi_pack, sink) as ann:
        for seq in (10, 11, 11, 12):
            ann.announce({"seq": seq, "type": EventType.TICKET_CALLED, "ticket": {"number": f"A{seq:03d}"}, "counter": "3"})
        assert ann.wait_idle(30)
    assert [p.name.split("-", 1)[1].split("_")[0] for p in sink.written] == ["10", "11", "12"]
    for p in sink.written:
        _check(p.read_bytes(), 2, 12)


def test_missing_clip_falls_back_to_espeak_sentence(vi_pack, tmp_path):
    pack = build_pack("vi", tmp_path / "vi", source_dir=vi_pack.directory)
    (pack.directory / pack.clips["mười"]).unlink()
    tokens = announcement_tokens("A012", "2", pack)
    _check(render_announcement(tokens, pack), 2, 12)
    _check(render_spoken(tokens, pack), 2, 12)


def test_english_pack(tmp_path):
    pack = build_pack("en", tmp_path / "en")
    assert pack.missing() == []
    _check(render_announcement(announcement_tokens("A012", "2", pack), pack, fallback=False), 2, 12)


def test_ensure_pack_builds_missing_clips(tmp_path):
    root = tmp_path / "voice"
    (root / "vi").mkdir(parents=True)
    shutil.copy(VOICE_ROOT / "vi" / "pack.json", root / "vi" / "pack.json")
    pack = ensure_pack("vi", voice_root=root)
    assert pack.missing() == []


def test_smart_queue_with_the_real_pack(vi_pack, tmp_path):
    """Issue 20 with real speech: while A001 is spoken, B002 (counter 2) is superseded by B004, C003 is
    recalled; what is spoken is A001, then C003's recall and B004 in order, each once, audible."""

    class Gated(FileSinkBackend):
        def __init__(self, folder):
            super().__init__(folder)
            self.gate, self.playing = threading.Event(), threading.Event()

        def play(self, wav, label):
            self.playing.set()
            assert self.gate.wait(30)
            super().play(wav, label)

    def ev(seq, kind, number, counter):
        return {"seq": seq, "type": kind, "counter": counter, "ticket": {"number": number}}

    sink = Gated(tmp_path / "out")
    ann = Announcer(vi_pack, sink, mode="digits", repeat=2, policy="smart")
    ann.start()
    ann.announce(ev(1, EventType.TICKET_CALLED, "A001", "1"))
    assert sink.playing.wait(10)
    ann.announce(ev(2, EventType.TICKET_CALLED, "B002", "2"))
    ann.announce(ev(3, EventType.TICKET_CALLED, "C003", "3"))
    ann.observe(ev(4, EventType.TICKET_COMPLETED, "B002", "2"))
    ann.announce(ev(5, EventType.TICKET_RECALLED, "C003", "3"))
    ann.announce(ev(6, EventType.TICKET_CALLED, "B004", "2"))
    sink.gate.set()
    assert ann.wait_idle(60)
    ann.stop()
    labels = [p.name.split("-", 1)[1].removesuffix(".wav") for p in sink.written]
    assert labels == ["chime_1_A001_counter1", "group_1_A001_counter1.5_C003_counter3.6_B004_counter2",
                      "1_A001_counter1", "5_C003_counter3", "6_B004_counter2"], labels
    assert ann.dropped == 2  # B002 (completed) and C003's first call (recalled)
    for path in sink.written[2:]:  # "A không không một quầy một", …
        _check(path.read_bytes(), 1.0, 8)
    assert list(ann.started) == [1, 5, 6]
