"""Live apply (issue 19): a procedure added in the browser shows on a REAL kiosk process, without a restart.

Debian Chromium (Playwright) drives ``qms web``'s app; a hub (``start_hub``, real SQLite) and a kiosk
process (``testkit.kiosk_probe``: ``build_kiosk`` + ``KioskApp`` offscreen) run on a private mosquitto.
Nothing is restarted. The kiosk's screenshots go to $QMS_SHOTS (``kiosk-live-*.png``) when it is set.

How soon (the goal: 2 s) is ``bench/bench_live_apply.py``'s figure; this test prints the delay it saw and
fails only past :data:`LIVE_BOUND_S`, far beyond any poll or rebuild, so a change that reaches the kiosk
only after a restart, a reconnect or a long cache still fails here, on a loaded CI machine too.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qms.context import AppContext
from qms.hub_service import start_hub
from testkit.kiosk_probe import KioskProbe
from web.health import hub_request, read_retained

from .conftest import CHROMIUM, MANAGER, TECHNICIAN
from .test_browser import _page, server  # noqa: F401  (server: a fixture)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/setup)")]
pytest.importorskip("playwright.sync_api")
NEW = "Đăng ký nhận cha, mẹ, con"
LIVE_BOUND_S = 10.0
"""Seconds from Save to the kiosk's new screen past which the change is not live (2 s is the bench's goal)."""


@pytest.fixture
def hub(settings, broker) -> Iterator[Any]:
    """The hub over the web app's config file and data dir, as on the hub board."""
    ctx = AppContext(config_path=settings.config_path, data_dir=settings.data_dir)
    h = start_hub(ctx, broker.url)
    assert h.bus.wait_connected(5)
    yield h
    h.stop()
    if h.store is not None:
        h.store.close()


def test_procedure_added_in_the_browser_shows_on_the_live_kiosk(
        browser, server, settings, shots, broker, hub, tmp_path):  # noqa: F811
    probe = KioskProbe(settings.config_path, broker.url, tmp_path / "kiosk", "tu-phap")
    try:
        before = probe.wait(lambda line: line["screen"] == "procedure", 20)
        assert before is not None, "no procedure screen on the kiosk: " + probe.stop()[-3000:]
        assert NEW not in before["labels"] and len(before["labels"]) >= 2

        page = _page(browser, server, MANAGER)
        page.click("nav >> text=Thủ tục")
        page.click("text=+ Thêm / Add")
        page.select_option("select[name=service]", "tu-phap")
        page.fill("input[name=id]", "nhan-cha-me-con")
        page.fill("input[name=name_vi]", NEW)
        page.fill("input[name=name_en]", "Recognition of parents and children")
        page.fill("textarea[name=documents_vi]", "Tờ khai đăng ký nhận cha, mẹ, con (theo mẫu)")
        saved_at = time.time()
        page.click("text=Lưu / Save")
        page.wait_for_url(server + "/procedures")
        assert "Saved as version 2" in page.inner_text(".flash")

        after = probe.wait(lambda line: NEW in line["labels"], LIVE_BOUND_S + 5)
        assert after is not None, "the kiosk never showed the new procedure"
        delay = after["t"] - saved_at
        print(f"kiosk showed the new procedure {delay:.2f} s after the click on Save")
        assert after["screen"] == "procedure" and delay < LIVE_BOUND_S
        assert [x for x in after["labels"] if x != NEW] == before["labels"], "the others stay, in their order"
        assert hub.reloads == 1 and hub.catalogue["version"] == 2
        shutil.copy(before["png"], shots / "kiosk-live-before.png")
        shutil.copy(after["png"], shots / "kiosk-live-after.png")
        page.screenshot(path=str(shots / "web-live-saved.png"), full_page=True)
    finally:
        stderr = probe.stop()
    assert "Traceback" not in stderr, stderr[-3000:]


def test_technician_prints_a_test_page_on_the_real_kiosk_from_the_devices_page(
        browser, server, settings, shots, broker, hub, tmp_path):  # noqa: F811
    settings.health = lambda: read_retained(broker.url, "xa-da-huoai", wait_s=0.5, tz=ZoneInfo("Asia/Ho_Chi_Minh"))
    settings.device_request = lambda action, args: hub_request(broker.url, "xa-da-huoai", action, args)
    probe = KioskProbe(settings.config_path, broker.url, tmp_path / "kiosk", "tu-phap")
    try:
        assert probe.wait(lambda line: line["screen"] == "procedure", 20), "the kiosk process runs"
        page = _page(browser, server, TECHNICIAN)
        page.click("nav >> text=Thiết bị")
        page.wait_for_selector("tr:has-text('kiosk-1')")
        page.click("tr:has-text('kiosk-1') >> text=In trang thử / Test page")
        page.wait_for_url(server + "/devices")
        assert "Test page sent to kiosk-1" in page.inner_text(".flash")
        page.screenshot(path=str(shots / "web-devices-test-page.png"), full_page=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not list(probe.printed.glob("*test-page*.png")):
            time.sleep(0.1)
        pages = sorted(probe.printed.glob("*test-page*.png"))
        assert pages, f"the kiosk printed no test page: {sorted(probe.printed.glob('*'))}"
        assert pages[-1].stat().st_size > 10_000  # the rendered page, not an empty job
    finally:
        stderr = probe.stop()
    assert "Traceback" not in stderr, stderr[-3000:]
