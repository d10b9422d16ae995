"""Announcer wiring: the board's fresh calls are spoken with the site's repeat and mode, nothing twice."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devices.voice import AudioUnavailable, FileSinkBackend, PackError, render_tokens
from devices.voice.sequence import PAUSE
from mqtt_bus.contract import EventType
from qms.config import load_config
from queue_display.settings import DisplaySettings, spoken_counter
from queue_display.viewmodel import BoardViewModel
from queue_display.voice import Voice
from tests.voice_fakes import make_tone_pack, spoken_numbers

ROOT = Path(__file__).resolve().parents[2]
MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
CALL = ["kính mời công dân có số thứ tự"]
RECALL = ["xin mời", "công dân có số thứ tự"]
TO = ["đến quầy số"]


@pytest.fixture
def settings() -> DisplaySettings:
    return DisplaySettings.from_config(load_config(ROOT / "config" / "commune.yaml"))


@pytest.fixture
def pack(tmp_path):
    return make_tone_pack(tmp_path / "pack")


def call(seq, number, counter, kind=EventType.TICKET_CALLED, count=1, ticket_id=None):
    return {"seq": seq, "ts": f"2026-11-23T09:00:{seq:02d}.000+07:00", "type": kind, "counter": counter,
            "ticket": {"id": ticket_id or f"t-{number}", "number": number, "service": "tu-phap", "status": "called",
                       "call_count": count}}


def counter_state(counter, seq, ticket=None, status="open"):
    return {"counter": counter, "name": f"Quầy số {counter}", "services": [], "status": status, "ticket": ticket,
            "seq": seq}


def test_fresh_calls_are_spoken_once_with_repeat_and_digits(settings, pack, tmp_path):
    """The ``fifo`` policy: one WAV per call, chime and repeats in it (the smart default: test_announcer_policy)."""
    sink = FileSinkBackend(tmp_path / "out")
    voice = Voice(replace(settings, announce_policy="fifo"), sink, lambda: pack).start()
    assert voice.wait_ready(5) and voice.announcer is not None
    vm = BoardViewModel(settings, "vi", now=lambda: MORNING)
    vm.bind(on_call=lambda _vm, event: voice.announce(event))
    seeded = call(3, "B001", "3")
    vm.apply_state("counter", counter_state("3", 4, seeded["ticket"]))  # retained state: shown, not spoken
    vm.apply_event(seeded)  # an old replay of what the retained state shows as current: spoken (see board.py)
    vm.apply_event(call(10, "A012", "2"))
    vm.apply_event(call(10, "A012", "2"))  # duplicate
    vm.apply_event({"seq": 11, "type": EventType.TICKET_COMPLETED, "counter": "3", "ticket": seeded["ticket"]})
    vm.apply_event(call(3, "B001", "3"))  # replayed again after the completion: stale
    vm.apply_event(call(13, "A013", "1", EventType.TICKET_RECALLED, count=2))
    vm.apply_state("counter", counter_state("2", 20, call(19, "A020", "2")["ticket"]))
    vm.apply_event(call(15, "A015", "2"))  # counter 2 moved on already: stale
    assert voice.wait_idle(10)
    voice.stop()
    assert [p.name.split("-", 1)[1] for p in sink.written] == [
        "3_B001_counter3.wav", "10_A012_counter2.wav", "13_A013_counter1.wav"]
    expected = [
        ["chime", *CALL, "bê", "không", "không", "một", *TO, "ba"],
        ["chime", *CALL, "a", "không", "một", "hai", *TO, "hai"],
        ["chime", *RECALL, "a", "không", "một", "ba", *TO, "một"],
    ]
    for path, tokens in zip(sink.written, expected, strict=True):
        spoken = tokens[1:]
        assert path.read_bytes() == render_tokens([*tokens, PAUSE, *spoken], pack), path.name


def test_number_mode_and_single_repeat(settings, pack, tmp_path):
    sink = FileSinkBackend(tmp_path / "out")
    voice = Voice(replace(settings, announce_repeat=1, announce_mode="number", announce_policy="fifo"), sink,
                  lambda: pack).start()
    assert voice.wait_ready(5)
    assert voice.announce(call(1, "A012", "2"))
    assert not voice.announce(call(1, "A012", "2")), "the announcer also drops a seq it has spoken"
    assert voice.wait_idle(10)
    voice.stop()
    assert sink.written[0].read_bytes() == render_tokens(["chime", *CALL, "a", "mười", "hai", *TO, "hai"], pack)


def test_calls_while_the_pack_loads_are_spoken_when_ready(settings, pack, tmp_path):
    sink = FileSinkBackend(tmp_path / "out")
    release = threading.Event()

    def slow_pack():
        release.wait(5)
        return pack

    voice = Voice(settings, sink, slow_pack).start()
    for seq in range(1, 6):
        assert not voice.announce(call(seq, f"A00{seq}", str(seq)))
    release.set()
    assert voice.wait_ready(5) and voice.wait_idle(20)
    voice.stop()
    assert spoken_numbers(sink.written) == ["A003", "A004", "A005"], "only the last few are kept"


def test_missing_pack_or_audio_leaves_one_log_line_and_never_raises(settings, tmp_path, caplog):
    def no_pack():
        raise PackError("no voice pack at /nowhere: pack.json not found")

    with caplog.at_level(logging.WARNING):
        voice = Voice(settings, "null", no_pack)
        states: list[dict] = []
        voice.on_audio = states.append
        assert voice.audio_status() == {"state": "loading", "detail": ""}
        voice.start()
        assert voice.wait_ready(5)
        assert voice.announce(call(1, "A001", "1")) is False
        voice.stop()
    assert states == [{"state": "no_pack", "detail": "no voice pack at /nowhere: pack.json not found"}]
    assert [r.getMessage() for r in caplog.records if "announcements disabled" in r.getMessage()] == [
        "voice pack unavailable: announcements disabled, the board keeps working — no voice pack at /nowhere: "
        "pack.json not found"]


def test_spoken_counter_label():
    assert spoken_counter("2", "Quầy số 2") == "2"
    assert spoken_counter("quay-a", "Quầy số 7") == "7"
    assert spoken_counter("tiep-nhan", "Quầy tiếp nhận") is None
    assert spoken_counter("B", "Quầy B") == "B"


class NoDevice:
    name = "nodevice"

    def probe(self):
        raise AudioUnavailable("`aplay -l` lists no sound card (empty)")

    def play(self, wav, label):
        raise AssertionError("nothing is played without a device")


def test_no_audio_device_is_one_log_line_and_the_board_keeps_working(settings, pack, caplog):
    with caplog.at_level(logging.WARNING):
        voice = Voice(settings, NoDevice(), lambda: pack).start()
        assert voice.wait_ready(5)
        status = voice.audio_status()
        assert status["state"] == "no_device" and "lists no sound card" in status["detail"], status
        vm = BoardViewModel(settings, "vi", now=lambda: MORNING)
        vm.bind(on_call=lambda _vm, event: voice.announce(event))
        for seq in range(1, 4):
            vm.apply_event(call(seq, f"A00{seq}", "2"))
        voice.stop()
    assert vm.hero_number == "A003"
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].startswith("no audio device: announcements disabled"), lines


def test_incomplete_pack_without_espeak_disables_voice_with_one_line(settings, pack, caplog, monkeypatch):
    monkeypatch.setattr("queue_display.voice.espeak_binary", lambda: None)
    (pack.directory / pack.clips["hai"]).unlink()
    with caplog.at_level(logging.WARNING):
        voice = Voice(settings, "null", lambda: pack).start()
        assert voice.wait_ready(5) and voice.announcer is None
        assert voice.announce(call(1, "A002", "2")) is False
        voice.stop()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "lacks 1 clip(s) (hai…) and espeak-ng is not installed" in lines[0], lines
