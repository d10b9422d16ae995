"""The Announcer: order, de-duplication by seq, no overlap, no-audio degradation, backends."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from devices.voice.announcer import Announcer
from devices.voice.player import (
    AplayBackend,
    AudioUnavailable,
    FileSinkBackend,
    NullBackend,
    make_backend,
)
from devices.voice.render import render_tokens
from devices.voice.sequence import announcement_tokens
from devices.voice.wavio import duration_s
from mqtt_bus.contract import EventType
from tests.voice_fakes import make_tone_pack
from ui_kit.sound import KivySoundBackend, app_backend


@pytest.fixture
def pack(tmp_path):
    return make_tone_pack(tmp_path / "vi")


def called(seq, number, counter="1", kind=EventType.TICKET_CALLED):
    return {"seq": seq, "ts": "2025-01-01T08:00:00+07:00", "type": kind,
            "ticket": {"id": seq, "number": number, "service": "A", "status": "called"}, "counter": counter}


class RecordingBackend:
    """Keeps every WAV; sleeps to make overlap visible; tracks concurrent plays."""

    name = "recording"

    def __init__(self, delay=0.0):
        self.delay, self.wavs, self.labels, self.active, self.max_active = delay, [], [], 0, 0
        self.lock = threading.Lock()

    def probe(self):
        pass

    def play(self, wav, label):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        time.sleep(self.delay)
        self.wavs.append(wav)
        self.labels.append(label)
        with self.lock:
            self.active -= 1


def test_burst_is_written_in_order_and_never_repeated(pack, tmp_path):
    sink = FileSinkBackend(tmp_path / "out")
    with Announcer(pack, sink) as ann:
        events = [called(s, f"A{s:03d}", str(s % 3 + 1)) for s in range(1, 9)]
        assert all(ann.announce(e) for e in events)
        assert not any(ann.announce(e) for e in events), "a seq is spoken once"
        assert ann.wait_idle(10)
    names = [p.name for p in sink.written]
    assert names == sorted(names) and len(names) == 8
    assert [n.split("-", 1)[1].split("_")[:2] for n in names] == [[str(s), f"A{s:03d}"] for s in range(1, 9)]
    assert all(p.stat().st_size > 1000 for p in sink.written)
    assert sorted((tmp_path / "out").iterdir()) == sink.written


def test_announcements_never_overlap_even_from_many_threads(pack):
    backend = RecordingBackend(delay=0.02)
    ann = Announcer(pack, backend)
    ann.start()
    threads = [threading.Thread(target=lambda k=k: [ann.announce(called(k * 100 + i, f"B{i}")) for i in range(5)])
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ann.wait_idle(10)
    ann.stop()
    assert backend.max_active == 1
    assert len(backend.labels) == 20 and len(set(backend.labels)) == 20
    seqs = [int(lab.split("_")[0]) for lab in backend.labels]
    for k in range(4):  # each source's events are spoken in the order it sent them
        assert [s for s in seqs if s // 100 == k] == [k * 100 + i for i in range(5)]


def test_content_matches_the_token_sequence_and_recall(pack):
    backend = RecordingBackend()
    with Announcer(pack, backend, mode="digits") as ann:
        ann.announce(called(1, "A012", "2"))
        ann.announce(called(2, "A012", "2", kind=EventType.TICKET_RECALLED))
        ann.wait_idle(10)
    assert backend.wavs[0] == render_tokens(announcement_tokens("A012", "2", "vi", "digits"), pack)
    assert backend.wavs[1] == render_tokens(announcement_tokens("A012", "2", "vi", "digits", recall=True), pack)


def test_repeat_from_config_makes_it_longer(pack):
    backend = RecordingBackend()
    with Announcer(pack, backend, repeat=1) as one:
        one.announce(called(1, "A1"))
        one.wait_idle(10)
    with Announcer(pack, backend, repeat=2) as two:
        two.announce(called(1, "A1"))
        two.wait_idle(10)
    assert duration_s(backend.wavs[1]) > duration_s(backend.wavs[0]) + 0.5


@pytest.mark.parametrize("event", [
    {"seq": 1, "type": EventType.TICKET_ISSUED, "ticket": {"number": "A1"}, "counter": None},
    {"seq": 2, "type": EventType.TICKET_CALLED, "ticket": None, "counter": "1"},
    {"seq": 3, "type": EventType.TICKET_CALLED},
    {},
])
def test_ignores_other_and_malformed_events(pack, event):
    backend = RecordingBackend()
    with Announcer(pack, backend) as ann:
        assert ann.announce(event) is False
        assert ann.wait_idle(5)
    assert backend.wavs == []


def test_garbage_never_raises(pack):
    with Announcer(pack, NullBackend()) as ann:
        assert ann.announce(None) is False  # type: ignore[arg-type]
        assert ann.announce({"seq": [1], "type": EventType.TICKET_CALLED, "ticket": {"number": "A1"}}) is False


def test_failed_announcement_is_logged_and_the_next_one_plays(pack, caplog):
    backend = RecordingBackend()
    (pack.directory / pack.clips["chín"]).unlink()
    with caplog.at_level(logging.ERROR), Announcer(pack, backend, fallback=False) as ann:
        ann.announce(called(1, "A9"))
        ann.announce(called(2, "A1"))
        ann.announce(called(3, "Ω1"))
        ann.announce(called(4, "A2"))
        assert ann.wait_idle(10)
    assert [lab.split("_")[0] for lab in backend.labels] == ["2", "4"]
    assert "'chín'" in caplog.text and "Ω" in caplog.text


class NoAudio(NullBackend):
    name = "noaudio"

    def probe(self):
        raise AudioUnavailable("`aplay -l` lists no sound card")


def test_no_audio_device_one_clear_line_and_board_keeps_working(pack, caplog):
    with caplog.at_level(logging.WARNING), Announcer(pack, NoAudio()) as ann:
        assert ann.enabled is False
        assert ann.announce(called(1, "A1")) is False
        assert ann.announce(called(2, "A2")) is False
        assert ann.wait_idle(1)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert "no audio device: announcements disabled" in lines[0] and "aplay -l" in lines[0]


def test_aplay_backend_probe_and_play_with_a_fake_player(tmp_path, pack):
    with pytest.raises(AudioUnavailable, match="aplay"):
        AplayBackend(command="").probe()
    fake = tmp_path / "aplay"
    log = tmp_path / "played.txt"
    fake.write_text(f"""#!/bin/sh
if [ "$1" = "-l" ]; then echo "aplay: device_list:277: no soundcards found..." >&2; exit 0; fi
for a; do last=$a; done; sleep 0.2; echo "$@" >> {log}; cp "$last" {tmp_path}/last.wav
""")
    fake.chmod(0o755)
    with pytest.raises(AudioUnavailable, match="no sound"):
        AplayBackend(command=str(fake)).probe()
    backend = AplayBackend(device="hw:0,3", command=str(fake))
    backend.probe()  # an explicit device skips the card listing
    wav = render_tokens(["a", "hai"], pack)
    start = time.monotonic()
    backend.play(wav, "x")
    assert time.monotonic() - start >= 0.2, "play blocks until the player exits"
    assert log.read_text().startswith("-q -D hw:0,3 ")
    assert (tmp_path / "last.wav").read_bytes() == wav


def test_the_one_playback_command_line():
    """aplay and paplay name the device differently; the kiosk and the announcer both use this line."""
    assert AplayBackend(command="/usr/bin/aplay").command_line("f.wav") == ["/usr/bin/aplay", "-q", "f.wav"]
    assert AplayBackend(device="hw:0,3", command="/usr/bin/aplay").command_line("f.wav") == [
        "/usr/bin/aplay", "-q", "-D", "hw:0,3", "f.wav"]
    assert AplayBackend(command="/usr/bin/paplay").command_line("f.wav") == ["/usr/bin/paplay", "f.wav"]
    assert AplayBackend(device="sink-1", command="/usr/bin/paplay").command_line("f.wav") == [
        "/usr/bin/paplay", "--device=sink-1", "f.wav"]


def test_aplay_failure_is_an_error(tmp_path, pack):
    fake = tmp_path / "aplay"
    fake.write_text("#!/bin/sh\necho 'device busy' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(RuntimeError, match="device busy"):
        AplayBackend(device="default", command=str(fake)).play(render_tokens(["a"], pack), "x")


def test_counter_label_hook(pack):
    backend = RecordingBackend()
    names = {"c-7": "7"}
    with Announcer(pack, backend, counter_label=lambda e: names[e["counter"]]) as ann:
        ann.announce(called(1, "A1", "c-7"))
        ann.wait_idle(10)
    assert backend.labels == ["1_A1_counter7"]


def test_make_backend_from_config_strings(tmp_path):
    assert isinstance(make_backend("null"), NullBackend)
    assert make_backend(f"file:{tmp_path}").folder == tmp_path
    assert make_backend("aplay:hw:0,3").device == "hw:0,3"
    assert isinstance(app_backend("kivy"), KivySoundBackend)
    with pytest.raises(ValueError, match="unknown audio backend"):
        make_backend("bluetooth")


class FakeSound:
    def __init__(self, length):
        self.length, self.state, self.events = length, "stop", []

    def play(self):  # like SDL2: the state flips back to "stop" when the sound has ended
        self.state = "play"
        self.events.append("play")
        threading.Timer(self.length, self.stop).start()

    def stop(self):
        self.state = "stop"

    def unload(self):
        self.events.append("unload")


def test_kivy_backend_length_zero_means_no_audio(monkeypatch):
    monkeypatch.setattr(KivySoundBackend, "_load", lambda self, wav, path: FakeSound(0))
    with pytest.raises(AudioUnavailable, match="length 0"):
        KivySoundBackend().probe()
    monkeypatch.setattr(KivySoundBackend, "_load", lambda self, wav, path: None)
    with pytest.raises(AudioUnavailable):
        KivySoundBackend().probe()


def test_kivy_backend_blocks_for_the_sound_length(monkeypatch, pack):
    wav = render_tokens(["a", "hai", "ba"], pack)
    sound = FakeSound(duration_s(wav) + 0.1)
    monkeypatch.setattr(KivySoundBackend, "_load", lambda self, wav, path: sound)
    start = time.monotonic()
    KivySoundBackend().play(wav, "x")
    assert duration_s(wav) + 0.1 <= time.monotonic() - start < duration_s(wav) + 1
    assert sound.events == ["play", "unload"]
