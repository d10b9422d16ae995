"""The Vietnamese line above each model message: every message the forms can show gets one."""

from __future__ import annotations

import pytest

from qms.config import ConfigError, parse_config, yaml_rt
from web import configedit
from web.messages import vietnamese

from .conftest import MANAGER, config_text, post_form


@pytest.mark.parametrize(("change", "vi"), [
    (lambda d: d["services"][1].update(id="Tư pháp"), "Mã không hợp lệ"),
    (lambda d: d["services"][1].update(prefix="G"), "đã được dùng"),
    (lambda d: d["services"][1]["numbers"].update(start=50, end=10), "Số cuối nhỏ hơn số đầu"),
    (lambda d: d["services"][1].update(daily_quota="abc"), "Cần một số nguyên"),
    (lambda d: d["services"][1].update(daily_quota=0), "Giá trị quá nhỏ"),
    (lambda d: d["hours"].update(periods=["11:00-09:00"]), "Khoảng giờ không hợp lệ"),
    (lambda d: d["hours"].update(periods=["07:00-11:00", "10:00-12:00"]), "trùng nhau"),
    (lambda d: d["counters"][0].update(services=["tu-phapp"]), "Không có lĩnh vực"),
    (lambda d: d["services"][1]["procedures"][0].update(portal_url="dichvucong"), "Địa chỉ web"),
    (lambda d: d["services"][1]["procedures"][0].update(name=""), "Không được để trống"),
    (lambda d: d["queue"].update(policy="fifo"), "lựa chọn"),
])
def test_each_model_message_gets_a_vietnamese_line(always_open_config, change, vi):
    doc = yaml_rt().load(always_open_config.read_text(encoding="utf-8"))
    change(doc)
    with pytest.raises(ConfigError) as err:
        parse_config(configedit.dump(doc))
    lines = [vietnamese(p.message) for p in err.value.problems]
    assert any(vi in line for line in lines), [p.message for p in err.value.problems]


def test_an_unknown_message_gets_no_line():
    assert vietnamese("something new the models say") == ""


def test_the_form_shows_both_lines(settings, login):
    client = login(MANAGER)
    r = post_form(client, "/hours", {"weekdays": ["mon"], "periods": "11:00-09:00"})
    block = r.get_data(as_text=True).split('id="field-periods"')[1].split('class="field')[0]
    assert "Khoảng giờ không hợp lệ" in block and "the end must be later than the start" in block
    assert "11:00-09:00" not in config_text(settings)  # nothing saved
