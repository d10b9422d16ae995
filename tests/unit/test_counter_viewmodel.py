"""Counter pad logic without a window: desk, texts, the view-models and the keypad link."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("QMS_HEADLESS", "1")
from ui_kit.boot import prepare

prepare()

from counter.desk import Desk  # noqa: E402
from counter.keypad_link import KeypadLink  # noqa: E402
from counter.present import describe_ticket, error_text  # noqa: E402
from counter.rating_vm import RatingViewModel  # noqa: E402
from counter.viewmodel import CounterViewModel  # noqa: E402
from devices.keypad import KeyDecoder  # noqa: E402
from mqtt_bus.client import RequestTimeout  # noqa: E402
from mqtt_bus.contract import ErrorCode, EventType  # noqa: E402
from mqtt_bus.topics import Topics  # noqa: E402
from qms.config import load_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class FakeBus:
    """Records subscriptions and requests; the test answers them."""

    def __init__(self) -> None:
        self.topics = Topics("t")
        self.subs: dict[str, object] = {}
        self.sent: list[tuple[str, dict, object, str]] = []

    def subscribe(self, topic, handler):
        self.subs[topic] = handler

    def request(self, action, args, done, request_id=None, timeout=3.0, retries=2):
        self.sent.append((action, args, done, request_id))
        return request_id

    def answer(self, result=None, error=None, index=-1):
        _action, _args, done, rid = self.sent[index]
        if isinstance(error, Exception):
            done(error)
        elif error:
            done({"id": rid, "ok": False, "error": {"code": error, "message": f"hub says {error}"}})
        else:
            done({"id": rid, "ok": True, "result": result or {}})


@pytest.fixture(scope="module")
def desk() -> Desk:
    return Desk.from_config(load_config(ROOT / "config" / "commune.yaml"), "2")


def ticket(number="A001", **kw):
    base = {"id": f"20261123-tu-phap-{number}", "number": number, "service": "tu-phap", "priority": "normal",
            "status": "called", "issued_at": "2026-11-23T09:01:00.000+07:00",
            "called_at": "2026-11-23T09:13:30.000+07:00", "call_count": 1, "procedure": None, "lang": "vi"}
    return {**base, **kw}


@pytest.fixture
def online(desk):
    clock = [100.0]
    vm = CounterViewModel(desk, "vi", clock=lambda: clock[0])
    bus = FakeBus()
    vm.attach(bus, connected=True)
    bus.subs["qms/v1/t/status/hub"]("", {"online": True})
    vm.clock = clock
    return vm, bus


def test_desk_names_and_numbers(desk):
    assert desk.name("vi") == "Quầy số 2" and desk.name("en") == "Counter 2" and desk.name("fr") == "Quầy số 2"
    assert desk.counter_services == ("tu-phap", "chung-thuc")
    assert desk.officers == ("Lê Thị Thu Hà", "Phạm Minh Tuấn")
    assert desk.number_for("7") == "A007" and desk.number_for("12", "chung-thuc") == "B012"
    targets = desk.transfer_targets("tu-phap")
    assert targets[0] == "chung-thuc" and "tu-phap" not in targets and len(targets) == 7
    with pytest.raises(KeyError, match="counters: 1, 2"):
        Desk.from_config(load_config(ROOT / "config" / "commune.yaml"), "9")


def test_ticket_card_texts(desk):
    t = describe_ticket(ticket(priority="elderly", procedure="ket-hon", call_count=2), desk.site, "vi")
    assert (t.number, t.detail, t.priority) == ("A001", "Đăng ký kết hôn", "★ Người cao tuổi (từ 60 tuổi)")
    assert t.since == "Lấy số 09:01 · chờ 12 phút" and t.calls == "Đã gọi 2 lần"
    en = describe_ticket(ticket(), desk.site, "en")
    assert (en.detail, en.priority, en.calls) == ("Justice – Civil status", "", "")
    assert describe_ticket(None, desk.site, "vi").number == ""


def test_error_texts():
    assert error_text(ErrorCode.COUNTER_PAUSED, "x", "vi") == "Quầy đang tạm dừng — bấm Tiếp tục"
    assert error_text(ErrorCode.COUNTER_PAUSED, "x", "en") == "The counter is paused — press Resume"
    assert error_text(ErrorCode.UNKNOWN_TICKET, "x", "vi", number="A099") == "Không có số A099 đang chờ hay vắng mặt hôm nay"
    assert error_text(ErrorCode.QUOTA_REACHED, "hết lượt", "vi") == "Không thực hiện được: hết lượt"
    assert error_text(ErrorCode.CLOCK_UNTRUSTED, "x", "vi").endswith("rồi chạy: qms clock trust")


def test_subscribes_to_its_state_services_and_hub(online):
    vm, bus = online
    assert set(bus.subs) == {"qms/v1/t/state/counter/2", "qms/v1/t/state/service/tu-phap",
                             "qms/v1/t/state/service/chung-thuc", "qms/v1/t/status/hub",
                             "qms/v1/t/state/device/+", "qms/v1/t/status/+"}
    assert vm.can_act and vm.banner == ""


def test_retained_state_fills_the_pad_and_stale_state_is_ignored(online):
    vm, bus = online
    bus.subs["qms/v1/t/state/counter/2"]("", {"counter": "2", "status": "open", "officer": "Lan",
                                              "ticket": ticket("A003"), "seq": 9})
    bus.subs["qms/v1/t/state/counter/2"]("", {"counter": "2", "status": "open", "officer": None,
                                              "ticket": None, "seq": 8})
    bus.subs["qms/v1/t/state/service/chung-thuc"]("", {"service": "chung-thuc", "waiting": 4, "seq": 9})
    assert (vm.number_text, vm.officer, vm.status) == ("A003", "Lan", "open")
    assert vm.waiting_rows == [("Tư pháp – Hộ tịch", 0), ("Chứng thực", 4)]
    vm.lang = "en"
    assert vm.waiting_rows[1] == ("Certification", 4) and vm.counter_name == "Counter 2"


def test_busy_while_in_flight_and_a_double_tap_sends_once(online):
    vm, bus = online
    assert vm.call_next() is True
    assert vm.busy and not vm.can_act
    assert vm.call_next() is False  # busy
    bus.answer({"ticket": ticket("A001")})
    assert not vm.busy and vm.number_text == "A001" and vm.message == "Đã gọi số A001"
    vm.clock[0] += 0.3
    assert vm.call_next() is False  # the same button again within the repeat guard
    vm.clock[0] += 1.0
    assert vm.call_next() is True
    assert [s[0] for s in bus.sent] == ["call_next", "call_next"]


def test_a_timed_out_request_is_retried_with_the_same_id(online):
    vm, bus = online
    vm.call_next()
    first_id = bus.sent[0][3]
    bus.answer(error=RequestTimeout("call_next", first_id, 3, 3.0))
    assert vm.message_is_error and "không trả lời" in vm.message and not vm.busy
    vm.clock[0] += 5
    vm.call_next()
    assert bus.sent[1][3] == first_id  # the hub answers the first attempt: no citizen skipped
    bus.answer({"ticket": ticket("A001")})
    vm.clock[0] += 5
    vm.call_next()
    assert bus.sent[2][3] != first_id


def test_hub_errors_are_readable_and_pause_toggles(online):
    vm, bus = online
    vm.apply_counter({"counter": "2", "status": "paused", "ticket": None})
    vm.send("call_next")  # the hub's refusal (the pad's own is in test_counter_alerts.py)
    bus.answer(error=ErrorCode.COUNTER_PAUSED)
    assert vm.message == "Quầy đang tạm dừng — bấm Tiếp tục" and vm.message_is_error
    vm.toggle_pause()
    assert bus.sent[-1][0] == "resume"
    bus.answer({"counter": {"counter": "2", "status": "open", "ticket": None, "officer": None}})
    assert vm.status == "open" and not vm.message_is_error
    vm.toggle_pause()
    assert bus.sent[-1][0] == "pause"


def test_actions_send_the_contract_args(online):
    vm, bus = online
    results = []
    vm.bind(on_result=lambda _vm, action, ok, text: results.append((action, ok)))
    completed = []
    vm.bind(on_completed=lambda _vm, t: completed.append(t["number"]))
    for call, expected in [
        (lambda: vm.recall(), ("recall", {"counter": "2"})),
        (lambda: vm.transfer("chung-thuc"), ("transfer", {"counter": "2", "service": "chung-thuc"})),
        (lambda: vm.call_number("A012"), ("call_ticket", {"counter": "2", "number": "A012"})),
        (lambda: vm.no_show(), ("no_show", {"counter": "2"})),
        (lambda: vm.complete(), ("complete", {"counter": "2"})),
        (lambda: vm.sign_in(" Lê Thị Thu Hà "), ("sign_in", {"counter": "2", "officer": "Lê Thị Thu Hà"})),
    ]:
        vm.clock[0] += 1
        assert call()
        assert bus.sent[-1][:2] == expected
        bus.answer({"ticket": ticket("A012", status="done")} if expected[0] != "sign_in" else
                   {"counter": {"counter": "2", "status": "open", "officer": "Lê Thị Thu Hà"}})
    assert completed == ["A012"] and all(ok for _, ok in results) and vm.officer == "Lê Thị Thu Hà"
    assert vm.ticket is None and vm.message == "Xin chào Lê Thị Thu Hà"


def test_offline_refuses_at_once_with_the_banner(online):
    vm, bus = online
    vm.set_connected(False)
    assert not vm.can_act and vm.banner.startswith("Mất kết nối")
    assert vm.call_next() is False and not bus.sent and vm.message_is_error
    vm.set_connected(True)
    bus.subs["qms/v1/t/status/hub"]("", {"online": False})
    assert vm.banner.startswith("Máy chủ hàng đợi") and not vm.can_act


def test_keypad_keys_drive_the_view_model(online):
    vm, bus = online
    beeps = []

    class Beeps:
        def ok(self):
            beeps.append("ok")

        def error(self):
            beeps.append("error")

    now = [0.0]
    link = KeypadLink(vm, KeyDecoder(), Beeps(), echo=beeps.append, clock=lambda: now[0])
    link.key("numpadenter")
    assert bus.sent[-1][:2] == ("call_next", {"counter": "2"})
    bus.answer({"ticket": ticket("A001")})
    assert beeps == ["ok", "Đã gọi số A001"]
    for key in ("1", "2"):
        link.key(key)
    assert vm.message == "Gọi số: A012"
    vm.clock[0] += 1
    link.key("KP_Enter")
    assert bus.sent[-1][:2] == ("call_ticket", {"counter": "2", "number": "A012"})
    bus.answer(error=ErrorCode.UNKNOWN_TICKET)
    assert beeps[-2:] == ["error", "Không có số A012 đang chờ hay vắng mặt hôm nay"]
    for key, action in [(".", "recall"), ("-", "no_show"), ("*", "complete"), ("/", "pause")]:
        vm.clock[0] += 1
        link.key(key)
        assert bus.sent[-1][0] == action
        bus.answer({"ticket": ticket("A001")} if action != "pause" else {"counter": {"status": "paused"}})
    link.key("f5")
    assert beeps[-1] == "error" and "f5" in vm.message


def test_rating_asks_sends_thanks_and_finishes(desk):
    bus = FakeBus()
    vm = RatingViewModel(desk, bus, "vi", timeout_s=0, thanks_s=0.01)
    done = []
    vm.bind(on_finished=lambda _vm, score: done.append(score))
    vm.start(ticket("A001", status="done", lang="en"))
    assert vm.phase == "ask" and vm.lang == "en" and vm.label(1) == "Very dissatisfied"
    assert vm.rate(9) is False and vm.rate(4) is True and vm.phase == "sending"
    assert vm.rate(5) is False  # one rating per ticket
    assert bus.sent[-1][:2] == ("rate", {"ticket": "20261123-tu-phap-A001", "score": 4})
    bus.answer(error=ErrorCode.ALREADY_RATED)
    assert vm.phase == "thanks" and vm.recorded
    from kivy.clock import Clock

    deadline = time.monotonic() + 2
    while vm.phase != "idle" and time.monotonic() < deadline:
        Clock.tick()
    assert vm.phase == "idle" and done == [4]


def test_rating_times_out(desk):
    from kivy.clock import Clock

    vm = RatingViewModel(desk, FakeBus(), "vi", timeout_s=0.2)
    done = []
    vm.bind(on_finished=lambda _vm, score: done.append(score))
    vm.start(ticket(status="done", lang="xx"))
    assert vm.lang == "vi" and vm.remaining == 1
    deadline = time.monotonic() + 2
    while vm.phase == "ask" and time.monotonic() < deadline:
        Clock.tick()
        time.sleep(0.01)
    assert vm.phase == "idle" and done == [0] and not vm.bus.sent


def test_rating_tablet_takes_each_completed_ticket_of_its_counter_once(desk):
    vm = RatingViewModel(desk, FakeBus(), "vi", timeout_s=0)
    event = {"seq": 10, "type": EventType.TICKET_COMPLETED, "counter": "2", "ticket": ticket(status="done")}
    vm.on_ticket_completed("", {**event, "counter": "3"})
    vm.on_ticket_completed("", {**event, "reason": "expired"})
    vm.on_ticket_completed("", {**event, "ticket": ticket(status="no_show")})
    assert vm.phase == "idle"
    vm.on_ticket_completed("", event)
    assert vm.phase == "ask"
    vm.skip()
    vm.on_ticket_completed("", event)  # delivered again after a hub restart
    assert vm.phase == "idle"
    vm.on_ticket_completed("", {**event, "seq": 12, "ticket": ticket("A002", status="done")})
    assert vm.phase == "ask" and vm.ticket["number"] == "A002"
