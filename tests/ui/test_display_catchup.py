"""The board's view-model after a gap: it asks for the missed events once, holds later ones, then
announces in seq order — a missed call only while current and recent; no answer releases what it held."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mqtt_bus.contract import ErrorCode, EventType
from qms.config import load_config
from queue_display.settings import DisplaySettings
from queue_display.viewmodel import BoardViewModel

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def call(seq, number, counter, ago_s=5):
    return {"seq": seq, "ts": (NOW - timedelta(seconds=ago_s)).isoformat(), "type": EventType.TICKET_CALLED,
            "counter": counter, "ticket": {"id": f"t-{number}", "number": number, "service": "tu-phap",
                                           "status": "called", "call_count": 1}}


@pytest.fixture
def vm():
    settings = DisplaySettings.from_config(load_config(ROOT / "config" / "commune.yaml"))
    model = BoardViewModel(settings, "vi", now=lambda: NOW)
    model.asked = []
    model.said = []
    model.fetch_events = model.asked.append
    model.bind(on_call=lambda _vm, event: model.said.append(event["seq"]))
    return model


def test_gap_is_fetched_once_and_everything_is_announced_in_seq_order(vm):
    vm.apply_state("counter", {"counter": "1", "name": "Quầy số 1", "status": "open", "ticket": None, "seq": 10})
    vm.apply_event(call(11, "A001", "1"))
    vm.apply_event(call(14, "A004", "4"))  # 12 and 13 lost
    vm.apply_event(call(15, "A005", "5"))
    assert vm.asked == [11] and vm.said == [11] and vm.hero_number == "A001", "later calls wait for the missed ones"
    old = call(12, "A002", "2", ago_s=3600)  # an hour old: shown, not read out
    vm.events_fetched({"id": "x", "ok": True, "result": {"events": [old, call(13, "A003", "3"), call(14, "A004", "4")],
                                                         "last_seq": 14, "more": False}})
    assert vm.said == [11, 13, 14, 15] and vm.hero_number == "A005" and vm.fetched_count == 2
    assert [r["number"] for r in vm.recent][:4] == ["A004", "A003", "A001", "A002"]  # by call time
    vm.apply_event(call(13, "A003", "3"))  # the broker delivers it late: not said twice
    vm.apply_event(call(16, "A006", "6"))
    assert vm.said == [11, 13, 14, 15, 16] and vm.asked == [11]


def test_no_answer_releases_the_held_events(vm):
    vm.apply_event(call(1, "A001", "1"))
    vm.apply_event(call(3, "A003", "3"))
    assert vm.asked == [1] and vm.said == [1]
    vm.events_fetched(TimeoutError("no answer to 'events_since'"))
    assert vm.said == [1, 3] and vm.hero_number == "A003"
    vm.events_fetched({"id": "x", "ok": False, "error": {"code": ErrorCode.FORBIDDEN, "message": "old ACL"}})  # late: harmless
    assert vm.said == [1, 3]


def test_without_a_fetcher_events_are_applied_as_they_come(vm):
    vm.fetch_events = None
    vm.apply_event(call(1, "A001", "1"))
    vm.apply_event(call(5, "A005", "5"))
    assert vm.said == [1, 5] and vm.asked == []
