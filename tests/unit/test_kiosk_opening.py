"""Opening hours as the kiosk tells them: closed now, why, and when it opens (no "hết giờ" before opening)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.app import settings_from
from kiosk.menu import kiosk_view
from kiosk.opening import center_closed, closed_services, closed_title, day_text, spoken_time
from kiosk.viewmodel import KioskSettings, KioskViewModel
from qms.config import default_config_path, load_config
from qms.config.schema import OpeningHoursCfg
from qms.context import AppContext
from tests.kiosk_fakes import FakeHub, FakePrinter, ManualClock, RecordingSpeaker

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = load_config(default_config_path())  # Mon–Sat 07:30–11:30, 13:30–17:00, enforced
SITE = kiosk_view(CONFIG)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)  # 23 = Monday … 29 = Sunday


@pytest.mark.parametrize(("when", "reason", "opens", "day"), [
    (at(23, 6, 50), "later_today", at(23, 7, 30), "hôm nay"),
    (at(23, 12, 0), "later_today", at(23, 13, 30), "hôm nay"),  # lunch break: not "over"
    (at(23, 17, 0), "done", at(24, 7, 30), "ngày mai, Thứ Ba 24/11"),
    (at(28, 18, 0), "done", at(30, 7, 30), "Thứ Hai, ngày 30/11"),
    (at(29, 10, 0), "day_off", at(30, 7, 30), "ngày mai, Thứ Hai 30/11"),
])
def test_closed_says_why_and_when(when, reason, opens, day):
    closed = center_closed(SITE, when)
    assert closed is not None and closed.reason == reason and closed.opens == opens
    assert day_text(closed.opens, when.date(), "vi") == day


def test_open_hours_are_not_closed():
    for when in (at(23, 7, 30), at(23, 11, 29), at(28, 16, 59)):
        assert center_closed(SITE, when) is None and closed_services(SITE, when) == []


def test_a_service_with_its_own_hours():
    cfg = CONFIG.model_copy(deep=True)
    cfg.service("dat-dai").hours = OpeningHoursCfg.model_validate({"weekdays": ["mon"], "periods": ["07:30-11:00"]})
    site = kiosk_view(cfg)
    assert closed_services(site, at(23, 14)) == ["dat-dai"] and center_closed(site, at(23, 14)) is None


def test_spoken_time():
    assert spoken_time(at(23, 7, 30), "vi") == "7 giờ 30"
    assert spoken_time(at(23, 13, 0), "vi") == "13 giờ"
    assert spoken_time(at(23, 7, 5), "en") == "7:05"


def test_the_app_follows_the_hub_rule_and_any_time(tmp_path):
    ctx = AppContext(config_path=default_config_path(), data_dir=tmp_path)
    assert settings_from(ctx).enforce_hours is True
    assert settings_from(ctx).screen_diagonal_in == 21.5
    anytime = AppContext(config_path=default_config_path(), data_dir=tmp_path)
    anytime.overrides["ignore_hours"] = True  # `qms kiosk --any-time` (the demo)
    assert settings_from(anytime).enforce_hours is False


def test_closed_kiosk_refuses_the_first_tap_and_speaks_the_time():
    speaker, hub, clock = RecordingSpeaker(), FakeHub(), ManualClock()
    now = [at(23, 6, 0)]
    vm = KioskViewModel(SITE, hub, FakePrinter(), speaker, clock, KioskSettings(enforce_hours=True, tap_guard_s=0),
                        local_now=lambda: now[0])
    assert vm.closed is not None
    assert speaker.spoken[-1][0] == "Chưa đến giờ nhận hồ sơ. Mời Ông Bà quay lại lúc 7 giờ 30, hôm nay."
    vm.take_number()
    assert vm.screen == "welcome" and not hub.requests
    spoken = len(speaker.spoken)
    vm.touched()  # too soon after the last prompt: not repeated
    assert len(speaker.spoken) == spoken
    clock.advance(10)
    vm.touched()  # a later touch repeats it
    assert len(speaker.spoken) == spoken + 1
    now[0] = at(23, 7, 30)
    vm.refresh_hours()
    vm.take_number()
    assert vm.closed is None and vm.screen == "field"


def _holiday_site(**hours):
    cfg = CONFIG.model_copy(deep=True)
    data = cfg.hours.model_dump(mode="json") | hours
    cfg.hours = type(cfg.hours).model_validate(data)
    return cfg


def test_a_holiday_closes_the_center_with_its_name_and_the_next_working_day():
    cfg = _holiday_site(holidays=["2027-02-05..2027-02-10 Tết Nguyên đán", "2027-09-02"])
    site = kiosk_view(cfg)
    when = datetime(2027, 2, 8, 9, 0, tzinfo=TZ)  # Monday inside Tết, inside the periods
    closed = center_closed(site, when)
    assert closed is not None and closed.reason == "holiday" and closed.holiday == "Tết Nguyên đán"
    assert closed.opens == datetime(2027, 2, 11, 7, 30, tzinfo=TZ)  # Thursday after the last day
    assert closed_title(closed, "vi") == "Hôm nay Trung tâm nghỉ lễ: Tết Nguyên đán"
    assert closed_title(closed, "en") == "The center is closed today: Tết Nguyên đán"
    assert day_text(closed.opens, when.date(), "vi") == "Thứ Năm, ngày 11/02"
    # the evening before Tết: the next opening skips the whole holiday
    eve = center_closed(site, datetime(2027, 2, 4, 17, 30, tzinfo=TZ))
    assert eve is not None and eve.reason == "done" and eve.opens == datetime(2027, 2, 11, 7, 30, tzinfo=TZ)
    unnamed = center_closed(site, datetime(2027, 9, 2, 9, 0, tzinfo=TZ))
    assert unnamed is not None and closed_title(unnamed, "vi") == "Hôm nay Trung tâm nghỉ lễ"


def test_an_extra_working_day_opens_and_the_kiosk_agrees_with_the_hub():
    from qms.config.to_core import to_site_def
    from queue_core import Engine, ErrorCode, QueueError, QueueState

    cfg = _holiday_site(weekdays=["mon", "tue", "wed", "thu", "fri"], holidays=["2027-02-05..2027-02-10 Tết"],
                        extra_days=["2027-02-20"])
    site, core = kiosk_view(cfg), to_site_def(cfg)
    engine, state = Engine(core), QueueState.initial(core)
    for when in (datetime(2027, 2, 8, 9, 0, tzinfo=TZ), datetime(2027, 2, 20, 9, 0, tzinfo=TZ),
                 datetime(2027, 2, 21, 9, 0, tzinfo=TZ), datetime(2027, 2, 22, 9, 0, tzinfo=TZ)):
        kiosk_open = center_closed(site, when) is None
        try:
            engine.issue_ticket(state, when, "tu-phap")
            hub_open = True
        except QueueError as err:
            assert err.code == ErrorCode.SERVICE_CLOSED
            hub_open = False
        assert kiosk_open == hub_open, when
    assert center_closed(site, datetime(2027, 2, 20, 9, 0, tzinfo=TZ)) is None  # Saturday made up: open
    assert center_closed(site, datetime(2027, 2, 8, 9, 0, tzinfo=TZ)).reason == "holiday"
