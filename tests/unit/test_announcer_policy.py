"""The smart announcement queue (issue 20): real Announcer, real WAV files from the file backend.

The first call's chime is held until the test has queued a backlog, so what waits is known.
"""

from __future__ import annotations

import io
import itertools
import threading
import wave

import pytest

from devices.voice.announcer import GROUP_GAP_MS, GROUP_SEP_MS, Announcer
from devices.voice.player import FileSinkBackend
from devices.voice.render import render_parts
from devices.voice.sequence import group_parts
from devices.voice.wavio import FORMAT, silence
from mqtt_bus.contract import EventType
from tests.voice_fakes import make_tone_pack


@pytest.fixture
def pack(tmp_path):
    return make_tone_pack(tmp_path / "vi")


class GatedSink(FileSinkBackend):
    """Writes WAV files like ``file:DIR``; the first play waits until the test opens the gate."""

    def __init__(self, folder):
        super().__init__(folder)
        self.gate, self.playing = threading.Event(), threading.Event()

    def play(self, wav, label):
        self.playing.set()
        assert self.gate.wait(10)
        super().play(wav, label)


def frames_of(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav)) as w:
        return w.readframes(w.getnframes())


def frames(paths) -> bytes:
    return b"".join(frames_of(p.read_bytes()) for p in paths)


def sentence(parts, pack) -> bytes:
    """The frames of a whole backlog sentence: its parts with the pause after each."""
    return frames_of(render_parts(parts, pack, sep_ms=GROUP_SEP_MS, gap_ms=GROUP_GAP_MS)[0]) + silence(
        FORMAT, GROUP_SEP_MS)


def ev(seq, number, counter, kind=EventType.TICKET_CALLED):
    return {"seq": seq, "ts": "2025-01-01T08:00:00+07:00", "type": kind,
            "ticket": {"id": number, "number": number, "status": "called"}, "counter": counter}


def spoken_seqs(sink):
    """Seqs named in the written files, in order (chime and sentence-opening files, which name the calls
    they are for, are skipped)."""
    out = []
    for path in sink.written:
        label = path.name.split("-", 1)[1].removesuffix(".wav")
        if not label.startswith(("chime_", "group_")):
            out += [int(part.split("_")[0]) for part in label.split(".")]
    return out


def backlog(pack, tmp_path, events, *, observe=(), **kw):
    """Call 1 at counter 9 holds the speaker; ``events`` queue behind it; ``observe`` then happens."""
    sink = GatedSink(tmp_path / "out")
    ann = Announcer(pack, sink, policy="smart", repeat=2, **kw)
    ann.start()
    assert ann.announce(ev(1, "Z001", "9"))
    assert sink.playing.wait(5)
    for e in events:
        ann.announce(e)
    for e in observe:
        ann.observe(e)
    sink.gate.set()
    assert ann.wait_idle(10)
    ann.stop()
    return ann, sink


def test_a_call_superseded_while_waiting_is_not_spoken(pack, tmp_path):
    ann, sink = backlog(pack, tmp_path, [ev(2, "A002", "1"), ev(3, "B003", "2"), ev(4, "A004", "1")],
                        observe=[ev(5, "B003", "2", EventType.TICKET_NO_SHOW)])
    assert spoken_seqs(sink) == [1, 4]  # A002: counter 1 called A004; B003: a no-show
    assert ann.dropped == 2
    assert set(ann.started) == {1, 4}


@pytest.mark.parametrize("kind", [EventType.TICKET_COMPLETED, EventType.TICKET_TRANSFERRED,
                                  EventType.COUNTER_PAUSED])
def test_a_counter_that_moved_on_is_not_called(pack, tmp_path, kind):
    _ann, sink = backlog(pack, tmp_path, [ev(2, "A002", "1"), ev(3, "B003", "2")],
                         observe=[ev(4, "A002", "1", kind)])
    assert spoken_seqs(sink) == [1, 3]


def test_a_recall_in_a_backlog_is_spoken_and_order_is_kept(pack, tmp_path):
    events = [ev(2, "A002", "1"), ev(3, "B003", "2"), ev(4, "C004", "3", EventType.TICKET_RECALLED),
              ev(5, "D005", "4")]
    ann, sink = backlog(pack, tmp_path, events)
    assert spoken_seqs(sink) == [1, 2, 3, 4, 5]
    # one chime, then the backlog as one sentence said once (one clip per call, each checked just before
    # its words, played back to back), the recall with its own phrase
    assert len(sink.written) == 7 and sink.written[0].name.startswith("0001-chime_1_Z001")
    assert sink.written[1].name == "0002-group_1_Z001_counter9.2_A002_counter1.3_B003_counter2.4_C004_counter3" \
        ".5_D005_counter4.wav"
    parts = group_parts([("Z001", "9", False), ("A002", "1", False), ("B003", "2", False), ("C004", "3", True),
                         ("D005", "4", False)], pack, "words")
    assert parts[0] == ["kính mời các số"] and parts[4][0] == "gọi lại" and parts[3][0] == "bê"
    assert frames(sink.written[1:]) == sentence(parts, pack)
    assert ann.spoken == 5
    assert ann.started[2] < ann.started[3] < ann.started[4] < ann.started[5]


def test_a_recall_supersedes_the_same_tickets_waiting_call(pack, tmp_path):
    _ann, sink = backlog(pack, tmp_path, [ev(2, "A002", "1"), ev(3, "A002", "1", EventType.TICKET_RECALLED)])
    assert spoken_seqs(sink) == [1, 3]
    expected = sentence(group_parts([("Z001", "9", False), ("A002", "1", True)], pack, "words"), pack)
    assert frames(sink.written[1:]) == expected  # "kính mời các số Z001 quầy 9, gọi lại A002 quầy 1"


def test_a_lone_call_gets_the_chime_and_is_repeated(pack, tmp_path):
    sink = FileSinkBackend(tmp_path / "out")
    with Announcer(pack, sink, policy="smart", repeat=2) as ann:
        ann.announce(ev(1, "A001", "1"))
        assert ann.wait_idle(10)
    labels = [p.name.split("-", 1)[1] for p in sink.written]
    assert labels == ["chime_1_A001_counter1.wav", "1_A001_counter1.wav", "1_A001_counter1.wav"]


def test_fifo_policy_speaks_everything_as_before(pack, tmp_path):
    sink = GatedSink(tmp_path / "out")
    ann = Announcer(pack, sink, policy="fifo", repeat=2)
    ann.start()
    ann.announce(ev(1, "Z001", "9"))
    assert sink.playing.wait(5)
    ann.announce(ev(2, "A002", "1"))
    ann.announce(ev(3, "A004", "1"))
    sink.gate.set()
    assert ann.wait_idle(10)
    ann.stop()
    assert spoken_seqs(sink) == [1, 2, 3] and ann.dropped == 0


def test_board_is_told_what_is_spoken_and_what_waits(pack, tmp_path):
    seen = []
    _ann, _sink = backlog(pack, tmp_path, [ev(2, "A002", "1"), ev(3, "B003", "2")],
                          on_change=lambda speaking, waiting: seen.append((speaking, waiting)))
    assert ((1,), (2, 3)) in seen  # the chime for call 1 plays, 2 and 3 marked as waiting
    # the chime for 1, then each call of the sentence in turn
    assert [k for k, _g in itertools.groupby(s for s, _w in seen if s)] == [(1,), (2,), (3,)]
    assert seen[-1] == ((), ())


def test_unknown_policy_is_refused(pack):
    with pytest.raises(ValueError, match="smart"):
        Announcer(pack, policy="loud")
