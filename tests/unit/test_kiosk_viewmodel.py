"""The kiosk's state machine without a window: flow, Back/Home, timeouts, double taps, failures, PIN."""

from __future__ import annotations

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

import pytest

from kiosk.menu import kiosk_view
from kiosk.viewmodel import KioskSettings, KioskViewModel
from mqtt_bus.contract import ErrorCode
from qms.config import default_config_path, load_config
from tests.kiosk_fakes import (
    FakeHub,
    FakePrinter,
    ManualClock,
    RecordingSpeaker,
    error_response,
    make_ticket,
    ok_response,
)

CONFIG = load_config(default_config_path())
GUARD = 0.3


class Rig:
    def __init__(self, **settings) -> None:
        self.clock = ManualClock()
        self.hub = FakeHub()
        self.printer = FakePrinter()
        self.speaker = RecordingSpeaker()
        self.exits: list[str] = []
        settings.setdefault("admin_pin_hash", CONFIG.kiosk.admin_pin_hash)
        self.vm = KioskViewModel(kiosk_view(CONFIG), self.hub, self.printer, self.speaker, self.clock,
                                 KioskSettings(**settings), pin_checker=lambda pin, done: done(pin == "2468"),
                                 on_exit=self.exits.append)

    def tap(self, method: str, *args) -> None:
        """A deliberate tap: the finger arrives after the screen has settled."""
        self.clock.advance(GUARD + 0.05)
        getattr(self.vm, method)(*args)

    def to_priority(self) -> None:
        self.tap("take_number")
        self.tap("choose_service", "tu-phap")
        self.tap("choose_procedure", "khai-sinh")

    def said(self) -> str:
        return self.speaker.spoken[-1][0] if self.speaker.spoken else ""


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_three_choices_then_ticket_printed(rig):
    vm = rig.vm
    assert vm.screen == "welcome"
    rig.to_priority()
    assert vm.screen == "priority"
    rig.tap("choose_priority", "elderly")
    choice, rid, _ = rig.hub.requests[-1]
    assert choice.args() == {"service": "tu-phap", "priority": "elderly", "lang": "vi", "procedure": "khai-sinh"}
    assert vm.busy and len(rid) == 32
    rig.hub.reply(ok_response(make_ticket("A007")))
    assert not vm.busy and vm.screen == "ticket" and vm.print_state == "printed"
    assert rig.printer.jobs[-1][0] == "ticket:A007"
    assert "a, không, không, bảy" in rig.said() and "Mời nhận phiếu" in rig.said()
    rig.clock.advance(vm.settings.result_s + 0.1)
    assert vm.screen == "welcome" and vm.ticket is None


def test_single_procedure_service_skips_the_procedure_step(rig):
    rig.tap("take_number")
    rig.tap("choose_service", "tra-ket-qua")
    assert rig.vm.screen == "priority" and rig.vm.procedure == "nhan-ket-qua"
    rig.tap("back")
    assert rig.vm.screen == "field"


def test_without_priority_question_the_procedure_is_the_last_tap():
    rig = Rig(ask_priority=False)
    rig.tap("take_number")
    rig.tap("choose_service", "chung-thuc")
    rig.tap("choose_procedure", "chung-thuc-chu-ky")
    assert rig.hub.requests[-1][0].priority == "normal"


def test_not_sure_issues_a_guidance_ticket_at_once(rig):
    rig.tap("take_number")
    rig.tap("not_sure")
    assert rig.hub.requests[-1][0].args() == {"service": "huong-dan", "priority": "normal", "lang": "vi"}


def test_back_and_home_from_every_step(rig):
    vm = rig.vm
    rig.to_priority()
    rig.tap("back")
    assert vm.screen == "procedure"
    rig.tap("back")
    assert vm.screen == "field"
    rig.tap("back")
    assert vm.screen == "welcome"
    rig.tap("choose_language", "en")
    rig.to_priority()
    rig.tap("home")
    assert vm.screen == "welcome" and vm.service == "" and vm.lang == "en"


def test_idle_timeout_goes_home_and_back_to_vietnamese():
    rig = Rig(idle_timeout_s=5)
    vm = rig.vm
    rig.tap("choose_language", "en")
    rig.tap("take_number")
    rig.tap("choose_service", "tu-phap")
    rig.clock.advance(4)
    vm.touched()  # still there
    rig.clock.advance(4)
    assert vm.screen == "procedure"
    rig.clock.advance(1.1)
    assert vm.screen == "welcome" and vm.lang == "vi"


def test_english_left_on_the_welcome_screen_returns_to_vietnamese():
    rig = Rig(idle_timeout_s=5)
    rig.tap("choose_language", "en")
    assert "Welcome" in rig.said()
    rig.clock.advance(5.1)
    assert rig.vm.lang == "vi"


def test_double_tap_sends_one_request(rig):
    vm = rig.vm
    rig.to_priority()
    rig.tap("choose_priority", "normal")
    vm.choose_priority("normal")  # the second tap of a double tap, while in flight
    rig.clock.advance(0.05)
    vm.choose_priority("normal")
    assert len(rig.hub.requests) == 1


def test_a_tap_right_after_a_screen_change_is_ignored(rig):
    vm = rig.vm
    rig.tap("take_number")
    rig.tap("choose_service", "tu-phap")
    vm.choose_procedure("khai-sinh")  # same finger, 0 s later: belongs to the previous screen
    assert vm.screen == "procedure"
    rig.clock.advance(GUARD + 0.01)
    vm.choose_procedure("khai-sinh")
    assert vm.screen == "priority"


def test_slow_hub_shows_please_wait_then_ticket(rig):
    rig.to_priority()
    rig.tap("choose_priority", "normal")
    rig.clock.advance(rig.vm.settings.issuing_delay_s + 0.01)
    assert rig.vm.screen == "issuing"
    rig.hub.reply(ok_response(make_ticket("A001")))
    assert rig.vm.screen == "ticket"


@pytest.mark.parametrize("failure", [TimeoutError("no answer"), "disconnected", "hub_offline", "silent"])
def test_hub_unreachable_says_go_to_the_guidance_desk(rig, failure):
    vm = rig.vm
    rig.to_priority()
    if failure == "disconnected":
        rig.hub.connected = False
    if failure == "hub_offline":
        vm.set_hub_online(False)
    rig.tap("choose_priority", "normal")
    if isinstance(failure, Exception):
        rig.hub.reply(failure)
    if failure == "silent":  # nothing ever answers: the watchdog
        rig.clock.advance(vm.settings.request_watchdog_s + 0.1)
    assert vm.screen == "hub_down" and not vm.busy
    assert "bàn hướng dẫn" in rig.said()
    if failure in ("disconnected", "hub_offline"):
        assert rig.hub.requests == []  # nothing queued to issue a ticket nobody takes
    rig.clock.advance(vm.settings.message_s + 0.1)
    assert vm.screen == "welcome"


def test_late_answer_after_giving_up_is_ignored(rig):
    rig.to_priority()
    rig.tap("choose_priority", "normal")
    rig.clock.advance(rig.vm.settings.request_watchdog_s + 0.1)
    assert rig.vm.screen == "hub_down"
    rig.hub.reply(ok_response(make_ticket("A001")))
    assert rig.vm.screen == "hub_down" and rig.printer.jobs == []


def test_refusal_names_the_reason(rig):
    rig.tap("take_number")
    rig.tap("choose_service", "dat-dai")
    rig.tap("choose_procedure", "phep-xay-dung")
    rig.tap("choose_priority", "normal")
    rig.hub.reply(error_response(ErrorCode.SERVICE_CLOSED, "closed"))
    assert rig.vm.screen == "refused" and rig.vm.error_code == ErrorCode.SERVICE_CLOSED


def test_untrusted_clock_asks_the_citizen_to_wait_a_moment(rig):
    rig.tap("take_number")
    rig.tap("choose_service", "dat-dai")
    rig.tap("choose_procedure", "phep-xay-dung")
    rig.tap("choose_priority", "normal")
    rig.hub.reply(error_response(ErrorCode.CLOCK_UNTRUSTED, "the board's clock jumped ahead"))
    assert rig.vm.screen == "refused" and rig.vm.error_code == ErrorCode.CLOCK_UNTRUSTED
    assert rig.said() == "Hệ thống đang chỉnh lại giờ, xin vui lòng chờ trong giây lát."


def test_paper_out_still_gives_the_number_and_speaks_it(rig):
    rig.printer.state = "paper_out"
    rig.to_priority()
    rig.tap("choose_priority", "normal")
    rig.hub.reply(ok_response(make_ticket("A042")))
    vm = rig.vm
    assert vm.screen == "ticket" and vm.print_state == "failed" and vm.printer_state == "paper_out"
    assert "Hãy ghi nhớ số này" in rig.said() and rig.said().count("a, không, bốn, hai") == 2
    rig.clock.advance(vm.settings.result_s + 0.1)
    assert vm.screen == "ticket"  # longer, to write it down
    rig.clock.advance(vm.settings.remember_s)
    assert vm.screen == "welcome"


def test_voice_prompt_per_screen_in_the_chosen_language(rig):
    rig.tap("choose_language", "en")
    rig.to_priority()
    texts = [text for text, lang in rig.speaker.spoken if lang == "en"]
    assert texts[-3:] == ["Please choose the service you need.", "Please choose the procedure.",
                          "Are you elderly, a person with a disability, or pregnant? If not, please touch No."]


def test_pin_then_technician_screen(rig):
    vm = rig.vm
    vm.open_admin()
    assert vm.screen == "pin"
    for d in "1111":
        vm.pin_digit(d)
    vm.pin_submit()
    assert vm.screen == "pin" and vm.pin_message == "Sai mã PIN" and vm.pin == ""
    for d in "2468":
        vm.pin_digit(d)
    vm.pin_submit()
    assert vm.screen == "admin"
    vm.admin_test_print()
    assert rig.printer.jobs[-1][0] == "test" and vm.admin_message == "Đã in trang thử."
    vm.admin_exit("restart")
    assert rig.exits == ["restart"]


def test_pin_lockout_after_five_wrong(rig):
    vm = rig.vm
    vm.open_admin()
    for _ in range(5):
        vm.pin_digit("9")
        vm.pin_submit()
    assert "60" in vm.pin_message
    for d in "2468":
        vm.pin_digit(d)
    vm.pin_submit()
    assert vm.screen == "pin"
    rig.clock.advance(30)
    vm.admin_close()
    vm.open_admin()  # leaving and coming back does not lift the lock
    for d in "2468":
        vm.pin_digit(d)
    vm.pin_submit()
    assert vm.screen == "pin"
    rig.clock.advance(31)
    for d in "2468":
        vm.pin_digit(d)
    vm.pin_submit()
    assert vm.screen == "admin"


def test_admin_exit_only_from_the_technician_screen(rig):
    rig.vm.admin_exit("quit")
    assert rig.exits == []


def test_no_pin_configured_means_no_technician_door():
    rig = Rig(admin_pin_hash=None)
    rig.vm.open_admin()
    assert rig.vm.screen == "welcome"


def test_paper_first_the_screen_follows_the_printer():
    rig = Rig()
    rig.printer.immediate = False
    vm = rig.vm
    rig.to_priority()
    rig.tap("choose_priority", "normal")
    rig.hub.reply(ok_response(make_ticket("A003")))
    assert vm.screen == "priority" and vm.busy  # the printer renders first; buttons stay off
    assert rig.printer.jobs[-1][0] == "ticket:A003"
    rig.clock.advance(vm.settings.paper_first_s)
    assert vm.screen == "ticket" and vm.print_state == "printing" and not vm.busy
    rig.printer.finish()
    assert vm.print_state == "printed"


def test_hub_status_not_yet_known_still_sends(rig):
    rig.vm.set_hub_online(None)
    rig.hub.hub_online = None
    rig.to_priority()
    rig.tap("choose_priority", "normal")
    assert len(rig.hub.requests) == 1


def test_done_resets_the_language_for_the_next_citizen(rig):
    rig.tap("choose_language", "en")
    rig.to_priority()
    rig.tap("choose_priority", "normal")
    rig.hub.reply(ok_response(make_ticket("A001")))
    rig.tap("home")  # "Done"
    assert rig.vm.screen == "welcome" and rig.vm.lang == "vi"


def test_priority_pictograms_on_the_welcome_screen_keep_everyone_at_three_taps():
    for first_tap, expected in ((("take_number",), "normal"), (("take_number", "pregnant"), "pregnant")):
        rig = Rig(priority_on_welcome=True)
        rig.tap(*first_tap)
        rig.tap("choose_service", "tu-phap")
        rig.tap("choose_procedure", "khai-sinh")
        assert rig.vm.screen != "priority"
        choice = rig.hub.requests[-1][0]
        assert choice.args() == {"service": "tu-phap", "priority": expected, "lang": "vi", "procedure": "khai-sinh"}


def test_unknown_priority_from_the_welcome_screen_counts_as_normal():
    rig = Rig(priority_on_welcome=True)
    rig.tap("take_number", "astronaut")
    assert rig.vm.screen == "field" and rig.vm.priority == "normal"


def _without(service_id: str):
    """The commune config with one service (and every counter's mention of it) removed."""
    data = CONFIG.model_dump(mode="json")
    data["services"] = [s for s in data["services"] if s["id"] != service_id]
    for counter in data["counters"]:
        counter["services"] = [s for s in counter["services"] if s != service_id]
    data["counters"] = [c for c in data["counters"] if c["services"]]
    return type(CONFIG).model_validate(data)


def test_a_live_config_redraws_and_sends_a_citizen_whose_service_is_gone_home(rig):
    vm = rig.vm
    rig.tap("take_number")
    rig.tap("choose_service", "tu-phap")
    assert vm.screen == "procedure"
    vm.set_site(kiosk_view(_without("chung-thuc")))  # not this citizen's service: they go on
    assert vm.screen == "procedure" and vm.site_version == 1 and vm.service == "tu-phap"
    vm.set_site(kiosk_view(_without("tu-phap")))
    assert vm.screen == "welcome" and vm.service == "" and vm.site_version == 2
    assert "tu-phap" not in [s.id for s in vm.site.config.services]
