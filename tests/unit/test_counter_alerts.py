# ruff: noqa: F811  (pytest fixtures imported from a sibling test module are redefined as arguments)
"""The pad's device alerts (pure texts) and the view-model's alert list and undo offer."""

from __future__ import annotations

import os

os.environ.setdefault("QMS_HEADLESS", "1")
from ui_kit.boot import prepare

prepare()

from counter.alerts import display_alert, printer_alert  # noqa: E402
from tests.unit.test_counter_viewmodel import desk, online, ticket  # noqa: E402,F401  (fixtures)


def test_printer_states_and_display_audio_become_lines():
    assert printer_alert("kiosk-1", {"kind": "printer", "state": "paper_out"}, "vi") \
        == "Máy lấy số 1: hết giấy in — thay giấy"
    assert printer_alert("kiosk-2", {"kind": "printer", "state": "offline"}, "en") \
        == "Kiosk 2 printer is offline — check cable and power"
    assert printer_alert("kiosk-1", {"kind": "printer", "state": "error", "detail": "cutter jam"}, "vi") \
        == "Máy lấy số 1: máy in bị lỗi (cutter jam)"
    assert printer_alert("kiosk-1", {"kind": "printer", "state": "ok"}, "vi") is None
    assert printer_alert("kiosk-1", {"kind": "scanner", "state": "offline"}, "vi") is None
    assert display_alert("display-1", {"online": True, "audio": {"state": "no_device", "detail": ""}}, "vi") \
        == "Màn hình 1 không phát được tiếng: không có loa / thiết bị âm thanh"
    assert display_alert("display-2", {"online": True, "audio": {"state": "no_pack"}}, "vi") \
        == "Màn hình 2 không phát được tiếng: thiếu gói giọng đọc"
    assert display_alert("display-1", {"online": False}, "vi") == "Màn hình 1 mất kết nối"
    for fine in ("ok", "loading", "off"):
        assert display_alert("display-1", {"online": True, "audio": {"state": fine}}, "vi") is None
    assert display_alert("display-1", {"online": True}, "vi") is None  # an older display: no audio field
    assert display_alert("kiosk-1", {"online": False}, "vi") is None


def test_alerts_come_and_go_with_the_retained_topics(online):
    vm, bus = online
    bus.subs["qms/v1/t/state/device/+"]("qms/v1/t/state/device/kiosk-1", {"kind": "printer", "state": "paper_out"})
    bus.subs["qms/v1/t/status/+"]("qms/v1/t/status/display-1", {"online": True, "audio": {"state": "no_pack"}})
    bus.subs["qms/v1/t/status/+"]("qms/v1/t/status/kiosk-1", {"online": False})  # not a display: no line
    assert vm.alert_text.splitlines() == ["Màn hình 1 không phát được tiếng: thiếu gói giọng đọc",
                                          "Máy lấy số 1: hết giấy in — thay giấy"]
    bus.subs["qms/v1/t/state/device/+"]("qms/v1/t/state/device/kiosk-1", {"kind": "printer", "state": "ok"})
    bus.subs["qms/v1/t/status/+"]("qms/v1/t/status/display-1", {"online": True, "audio": {"state": "ok"}})
    assert vm.alert_text == "" and dict(vm.alerts) == {}


def test_no_show_offers_undo_and_the_next_action_withdraws_it(online):
    vm, bus = online
    vm.repeat_guard_s = 0
    bus.subs["qms/v1/t/state/counter/2"]("", {"counter": "2", "status": "open", "ticket": ticket("A003")})
    assert vm.no_show()
    bus.answer({"ticket": {**ticket("A003"), "id": "x-3", "status": "no_show"}})
    assert vm.undo_ticket == {"id": "x-3", "number": "A003", "action": "no_show"}
    assert vm.undo_text == "Số A003 đã đánh vắng mặt" and vm.undo_left == 10
    assert vm.undo()
    assert bus.sent[-1][:2] == ("undo", {"counter": "2", "ticket": "x-3"})
    bus.answer({"ticket": {**ticket("A003"), "id": "x-3", "status": "called"}})
    assert vm.undo_ticket is None and vm.number_text == "A003"
    assert vm.message == "Đã hoàn tác — số A003 trở lại quầy"
    assert vm.complete()
    bus.answer({"ticket": {**ticket("A003"), "id": "x-3", "status": "done"}})
    assert vm.undo_ticket["action"] == "complete" and vm.undo_text == "Số A003 đã xong"
    assert vm.call_next()
    bus.answer({"ticket": ticket("A004")})
    assert vm.undo_ticket is None and not vm.undo()


def test_paused_counter_refuses_next_without_asking_the_hub(online):
    vm, bus = online
    bus.subs["qms/v1/t/state/counter/2"]("", {"counter": "2", "status": "paused", "ticket": None})
    assert not vm.can_call and vm.can_act
    sent = len(bus.sent)
    assert not vm.call_next()
    assert len(bus.sent) == sent and vm.message == "Quầy đang tạm dừng — bấm Tiếp tục trước khi gọi"


def test_the_rating_tablet_asks_after_an_auto_complete_too(desk):
    from counter.rating_vm import RatingViewModel

    rating = RatingViewModel(desk, None, "vi", timeout_s=0)
    served = {**ticket("A004"), "id": "x-4", "status": "done", "rating": None}
    rating.on_ticket_completed("", {"seq": 5, "type": "ticket_completed", "counter": "3", "ticket": served,
                                    "reason": "auto"})
    assert rating.phase == "idle"  # another counter's citizen
    rating.on_ticket_completed("", {"seq": 6, "type": "ticket_completed", "counter": "2", "ticket": served,
                                    "reason": "auto"})
    assert rating.phase == "ask" and rating.ticket["number"] == "A004"
