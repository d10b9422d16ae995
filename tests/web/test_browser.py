"""The web app in Debian's Chromium, driven by Playwright (no browser download): the acceptance walk.

Saves web-*.png under $QMS_SHOTS (e.g. docs/screens) when it is set, else in the test's folder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qms.config import load_config
from qms.context import AppContext
from web.cli import health_reader

from .conftest import CHROMIUM, MANAGER, TECHNICIAN, served, set_site_id

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/setup)")]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app served on a free loopback port, as `qms web` serves it."""
    with served(app) as url:
        yield url


def _page(browser, base: str, who: tuple[str, str], shots: Path | None = None):
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="vi-VN")
    page = context.new_page()
    page.goto(base + "/")
    assert "/login" in page.url
    if shots:
        page.screenshot(path=str(shots / "web-login.png"), full_page=True)
    page.fill("input[name=username]", who[0])
    page.fill("input[name=password]", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


def test_manager_adds_a_procedure_sees_the_field_error_rolls_back_and_is_refused_devices(
        browser, server, settings, shots):
    page = _page(browser, server, MANAGER, shots)
    page.screenshot(path=str(shots / "web-home.png"), full_page=True)

    # add a procedure with an invalid id: the error is next to the field, nothing saved
    page.click("nav >> text=Thủ tục")
    page.click("text=+ Thêm / Add")
    page.select_option("select[name=service]", "tu-phap")
    page.fill("input[name=id]", "Nhận cha mẹ con")
    page.fill("input[name=name_vi]", "Đăng ký nhận cha, mẹ, con")
    page.fill("input[name=name_en]", "Recognition of parents and children")
    page.fill("textarea[name=documents_vi]", "Tờ khai đăng ký nhận cha, mẹ, con (theo mẫu)\nCCCD của người yêu cầu")
    page.click("text=Lưu / Save")
    error = page.locator("#field-id .error-text")
    assert "is not a valid id" in error.inner_text()
    assert "nhan-cha-me-con" in error.inner_text()  # the suggestion
    assert page.locator("#field-id.invalid").count() == 1
    assert page.input_value("input[name=name_vi]") == "Đăng ký nhận cha, mẹ, con"
    page.screenshot(path=str(shots / "web-procedure-error.png"), full_page=True)
    with pytest.raises(KeyError):
        load_config(settings.config_path).procedure("nhan-cha-me-con")

    # fix it and save: the list shows it and the file has it
    page.fill("input[name=id]", "nhan-cha-me-con")
    page.click("text=Lưu / Save")
    page.wait_for_url(server + "/procedures")
    assert "Saved as version 2" in page.inner_text(".flash")
    assert page.locator("td >> text=Đăng ký nhận cha, mẹ, con").count() == 1
    page.screenshot(path=str(shots / "web-procedures.png"), full_page=True)
    assert load_config(settings.config_path).procedure("nhan-cha-me-con")[0].id == "tu-phap"

    # the edit form of one procedure
    page.goto(server + "/procedures/nhan-cha-me-con")
    page.screenshot(path=str(shots / "web-procedure-edit.png"), full_page=True)

    # versions: the diff, then one click back to version 1
    page.click("nav >> text=Phiên bản")
    page.screenshot(path=str(shots / "web-versions.png"), full_page=True)
    page.click("tr:has-text('nhan-cha-me-con') >> text=Xem / View")
    assert "+      - id: nhan-cha-me-con" in page.inner_text("pre.diff")
    page.screenshot(path=str(shots / "web-version-diff.png"), full_page=True)
    page.click("nav >> text=Phiên bản")
    page.click("tr:has-text('initial file') >> text=Quay lại / Go back")  # one click back to version 1
    page.wait_for_url(server + "/versions")
    assert "Back to version 1" in page.inner_text(".flash")
    page.screenshot(path=str(shots / "web-versions-rolled-back.png"), full_page=True)
    page.click("nav >> text=Thủ tục")
    assert page.locator("text=Đăng ký nhận cha, mẹ, con").count() == 0
    with pytest.raises(KeyError):
        load_config(settings.config_path).procedure("nhan-cha-me-con")

    # the manager is refused the device page, and has no link to it
    assert page.locator("nav >> text=Thiết bị").count() == 0
    response = page.goto(server + "/devices")
    assert response.status == 403
    assert "Không có quyền" in page.inner_text("h1")
    page.screenshot(path=str(shots / "web-forbidden.png"), full_page=True)
    response = page.goto(server + "/khong-co-trang-nay")
    assert response.status == 404 and "Không tìm thấy trang" in page.inner_text("h1")
    page.screenshot(path=str(shots / "web-not-found.png"), full_page=True)


def test_technician_pages_and_device_health(browser, server, settings, shots, broker, boards):
    set_site_id(settings, boards)
    ctx = AppContext(config_path=settings.config_path, data_dir=settings.data_dir, broker_option=broker.url)
    settings.health = lambda: health_reader(ctx)
    page = _page(browser, server, TECHNICIAN)
    t0 = time.monotonic()
    page.click("nav >> text=Thiết bị")
    page.wait_for_selector("table.devices")
    assert time.monotonic() - t0 < 5
    rows = page.locator("table.devices tbody tr")
    assert rows.count() == 4
    assert "the hall is silent" in page.inner_text("tr:has-text('display-2')")
    assert "paper_out" in page.inner_text("tr:has-text('kiosk-1')")
    assert "systemctl start qms-display" in page.inner_text("tr:has-text('display-1')")
    page.screenshot(path=str(shots / "web-devices.png"), full_page=True)
    for name in ("services", "counters", "officers", "hours", "notices", "priorities", "policy"):
        page.goto(f"{server}/{name}")
        assert page.locator("h1").count() == 1
        page.screenshot(path=str(shots / f"web-{name}.png"), full_page=True)
    page.goto(server + "/services/tu-phap")
    page.fill("input[name=end]", "0")
    page.click("text=Lưu / Save")
    assert "smaller than start" in page.inner_text("#field-end .error-text")
    page.screenshot(path=str(shots / "web-service-error.png"), full_page=True)
    page.goto(server + "/counters/1")
    page.screenshot(path=str(shots / "web-counter-edit.png"), full_page=True)


def test_manager_enters_holidays_sees_a_bad_date_named_and_saves(browser, server, settings, shots):
    page = _page(browser, server, MANAGER)
    page.click("nav >> text=Giờ làm việc")
    page.fill("textarea[name=holidays]", "2027-02-05..2027-02-10 Tết Nguyên đán\n2027-02-30 Quốc khánh")
    page.fill("textarea[name=extra_days]", "2027-02-20")
    page.click("text=Lưu / Save")
    error = page.inner_text("#field-holidays")
    assert "Không có ngày này trong lịch" in error and 'bad holiday "2027-02-30 Quốc khánh": no such day' in error
    page.screenshot(path=str(shots / "web-hours-holiday-error.png"), full_page=True)
    assert load_config(settings.config_path).hours.holidays == []  # nothing half-valid was saved
    page.fill("textarea[name=holidays]", "2027-02-05..2027-02-10 Tết Nguyên đán\n2027-09-02 Quốc khánh")
    page.click("text=Lưu / Save")
    page.goto(server + "/hours")
    assert "2027-09-02 Quốc khánh" in page.input_value("textarea[name=holidays]")
    page.screenshot(path=str(shots / "web-hours.png"), full_page=True)
    hours = load_config(settings.config_path).hours
    assert [h[2] for h in hours.holidays] == ["Tết Nguyên đán", "Quốc khánh"] and len(hours.extra_days) == 1
