"""The devices page over a REAL mosquitto: retained status and printer state of real bus clients."""

from __future__ import annotations

import time

from mqtt_bus.client import package_version
from mqtt_bus.contract import HUB_CLIENT_ID
from qms.context import AppContext
from web.cli import health_reader
from web.health import read_retained

from .conftest import KIOSK_AHEAD_S, MANAGER, TECHNICIAN, set_site_id


def test_read_retained_gives_one_row_per_board_with_its_fix(broker, boards):
    snap = read_retained(broker.url, boards, wait_s=0.5)
    assert not snap.error
    rows = {d.id: d for d in snap.devices}
    assert [d.id for d in snap.devices] == [HUB_CLIENT_ID, "display-1", "display-2", "kiosk-1"]  # the hub first
    assert "monitor-web" not in rows  # the reader itself is not a device
    assert rows[HUB_CLIENT_ID].online and rows[HUB_CLIENT_ID].ok
    kiosk = rows["kiosk-1"]
    assert kiosk.online and kiosk.role == "kiosk" and kiosk.version == package_version() == "0.1.0"
    assert kiosk.printer == "paper_out"
    assert abs(kiosk.clock_offset_s - KIOSK_AHEAD_S) < 2 and kiosk.clock_checked  # measured by the kiosk itself
    assert kiosk.clock_text.startswith("nhanh 9") and "s ahead of the hub" in kiosk.clock_text
    assert any("đồng hồ lệch hơn 60 giây" in f and "chronyc sources" in f for f in kiosk.fixes)  # doctor's fix
    assert rows[HUB_CLIENT_ID].version == "0.1.0" and rows[HUB_CLIENT_ID].clock_text == "chuẩn / reference"
    assert kiosk.audio_detail.startswith("hw:0,0")
    silent = rows["display-2"]
    assert silent.online and silent.audio_state == "no_device"
    assert abs(silent.clock_offset_s) < 2  # the same machine's clock: in step, no clock fix
    assert silent.fixes == ["phòng chờ không có tiếng (không có thiết bị âm thanh) / the hall is silent (no audio "
                            "device): no sound card: plug in the USB speaker"]
    assert any("lắp cuộn giấy mới" in f for f in kiosk.fixes)
    display = rows["display-1"]
    assert display.online is False
    assert any("systemctl start qms-display" in f for f in display.fixes)


def test_the_devices_page_shows_the_boards_to_a_technician_only(app, settings, login, broker, boards, tmp_path):
    set_site_id(settings, boards)
    ctx = AppContext(config_path=settings.config_path, data_dir=settings.data_dir, broker_option=broker.url)
    settings.health = lambda: health_reader(ctx)
    assert login(MANAGER).get("/devices").status_code == 403
    t0 = time.monotonic()
    page = login(TECHNICIAN).get("/devices").get_data(as_text=True)
    assert time.monotonic() - t0 < 5
    assert "kiosk-1" in page and "paper_out" in page and "display-1" in page and "✗ không / no" in page
    assert "systemctl start qms-display" in page
    assert "Lệch giờ so với hub" in page and "s ahead of the hub" in page and "chronyc sources" in page


def test_no_broker_is_said_in_plain_words(app, settings, login, tmp_path):
    ctx = AppContext(config_path=settings.config_path, data_dir=settings.data_dir,
                     broker_option="mqtt://127.0.0.1:9")
    settings.health = lambda: health_reader(ctx)
    page = login(TECHNICIAN).get("/devices").get_data(as_text=True)
    assert "cannot connect to the broker" in page
