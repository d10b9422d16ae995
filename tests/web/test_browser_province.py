"""Province mode in Debian's Chromium, driven by Playwright: the provincial account walks the table, a center's
page, its CSV and the province's report; a center's manager is kept to its center; a bad date gets a
friendly page. Four centers' real stores ran a working day (Friday 4 December 2026, whole-second times)
and their outboxes went into a real PostgreSQL through the ingester's database functions.

Saves web-province-*.png under $QMS_SHOTS (e.g. docs/screens) when it is set, else in the test's folder.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from hub.store import Store
from qms.province import db as pdb
from qms.report import csv_rows
from qms.report_sql import store_report
from tests.factories import HCM, make_site
from tests.integration.test_report_month import plan_day, run_actions
from tests.province.conftest import temp_database, write_center
from web.app import WebSettings, create_app

from .conftest import CHROMIUM, served

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/setup)")]
sync_api = pytest.importorskip("playwright.sync_api")

DAY = date(2026, 12, 4)  # a Friday: one citizen is sent from tu-phap to chung-thuc
NOW = datetime(2026, 12, 4, 17, 45, tzinfo=HCM)
CENTERS = {"phuong-an-lac": (11, True, 0.6), "xa-da-huoai": (7, True, 0.3), "xa-tan-phu": (3, False, None)}
SILENT = "xa-nui-tuong"  # known to the ingester, nothing today, link unknown
NAMED = {"phuong-an-lac": "Trung tâm Phục vụ hành chính công phường An Lạc",
         "xa-tan-phu": "Trung tâm Phục vụ hành chính công xã Tân Phú"}  # their catalogues arrived; the others: ids
PROVINCE = ("tinh", "mat-khau-tinh")
MANAGER = ("quanly-dahuoai", "mat-khau-da-huoai")


@dataclass
class Province:
    dsn: str
    stores: dict[str, Path]


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Iterator[Province]:
    import psycopg

    with temp_database("province browser tests", "qms_provbrowser_test") as db:
        folder = tmp_path_factory.mktemp("centers")
        stores: dict[str, Path] = {}
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            pdb.create_schema(conn)
            for site, (seed, up, lag) in CENTERS.items():
                path = folder / site / "queue.sqlite3"
                path.parent.mkdir()
                store = Store(path, make_site())
                try:
                    run_actions(store, plan_day(random.Random(seed), DAY, []))
                    events = store.events_after(0, 10**6)
                finally:
                    store.close()
                write_center(conn, site, events, link=up, lag_s=lag)
                stores[site] = path
            pdb.set_sites_progress(conn, [(SILENT, 0, 0, False)])
            with conn.transaction():
                pdb.set_catalogues(conn, [(site, json.dumps(catalogue(site, name))) for site, name in NAMED.items()])
            # as if ingested just now (the day is fixed; the test's own clock is not)
            conn.execute("UPDATE province_sites SET last_seen = %s WHERE last_seen IS NOT NULL", (NOW,))
        yield Province(db.dsn, stores)


def catalogue(site_id: str, name: str) -> dict:
    """A center's config catalogue as its hub publishes it, with the names of the test site's services and counters."""
    site = make_site()
    return {"site": {"id": site_id, "name": {"vi": name}},
            "services": [{"id": s.id, "name": {"vi": s.name}} for s in site.services.values()],
            "counters": [{"id": c.id, "name": {"vi": c.name}} for c in site.counters.values()]}


def store_csv(province: Province, site: str) -> list[list[str]]:
    """``qms report --csv``'s rows from the center's own store (the province knows no names: ids)."""
    store = Store(province.stores[site], make_site())
    try:
        return csv_rows(store_report(store.connection, DAY, DAY, HCM, None, site))
    finally:
        store.close()


@pytest.fixture
def server(province, tmp_path, always_open_config) -> Iterator[str]:
    """``qms web --province`` on a free loopback port, its clock at 17:45 on the day."""

    app = create_app(WebSettings(config_path=always_open_config, data_dir=tmp_path / "web", mode="province",
                                 extra={"dsn": province.dsn, "now": lambda: NOW}))
    app.extensions["qms_accounts"].add(PROVINCE[0], "manager", PROVINCE[1])
    app.extensions["qms_accounts"].add(MANAGER[0], "manager", MANAGER[1], site="xa-da-huoai")
    with served(app) as url:
        yield url


def log_in(browser, base: str, who: tuple[str, str], lands_on: str):
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", who[0])
    page.fill("input[name=password]", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(base + lands_on)
    return page


def download(page, link: str, folder: Path) -> list[list[str]]:
    with page.expect_download() as info:
        page.click(link)
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_the_province_walks_the_table_a_center_its_csv_the_report_and_a_bad_date(
        browser, server, province, shots, tmp_path):
    page = log_in(browser, server, PROVINCE, "/")
    assert "Các trung tâm trong tỉnh" in page.inner_text("h1")
    expected = {site: store_csv(province, site)[1] for site in CENTERS}  # each center's total row
    for site, total in expected.items():
        row = page.locator(f"tr[data-site='{site}'] td")
        assert row.nth(1).inner_text() == total[3], site  # today's tickets, as the center's own report
    assert "mất / down" in page.inner_text("tr[data-site='xa-tan-phu']")
    assert page.locator(f"tr[data-site='{SILENT}'] td").nth(1).inner_text() == "0"
    for site, name in NAMED.items():
        assert page.locator(f"tr[data-site='{site}'] td").nth(0).inner_text().split("\n") == [name, site]
    assert page.locator("tr[data-site='xa-da-huoai'] td").nth(0).inner_text() == "xa-da-huoai"
    page.screenshot(path=str(shots / "web-province-table.png"), full_page=True)

    page.click("tr[data-site='xa-da-huoai'] a")
    page.wait_for_url(server + "/centers/xa-da-huoai")
    assert "có / up" in page.inner_text("dl.link")
    assert page.locator("table[data-grouping='counter'] tr[data-key='1']").count() == 1
    page.screenshot(path=str(shots / "web-province-center.png"), full_page=True)
    rows = download(page, "text=Tải CSV / Download CSV", tmp_path)
    assert rows == store_csv(province, "xa-da-huoai"), "the center's CSV is `qms report --csv`'s"
    assert rows[1][:3] == ["Tổng cộng", "", "Tất cả"] and int(rows[1][3]) > 10

    page.click("nav >> text=Báo cáo toàn tỉnh")
    page.wait_for_url(server + "/report")
    assert page.input_value("input[name=from]") == "01/12/2026", "from the 1st of the month, day first"
    page.fill("input[name=from]", f"{DAY:%d/%m/%Y}")
    page.fill("input[name=to]", f"{DAY:%d/%m/%Y}")
    page.click("text=Xem / Show")
    page.wait_for_url(f"{server}/report?from=04%2F12%2F2026&to=04%2F12%2F2026")
    assert "Từ 04/12/2026 đến 04/12/2026" in page.inner_text("p.summary")
    total = page.locator("table[data-grouping='total'] tr[data-key=''] td")
    assert total.nth(1).inner_text() == str(sum(int(r[3]) for r in expected.values()))
    assert page.locator("tr[data-key='phuong-an-lac'] td").nth(0).inner_text() == NAMED["phuong-an-lac"]
    assert page.locator("table[data-grouping='service'] tr[data-key='tu-phap'] td").nth(0).inner_text() == \
        "Tư pháp – Hộ tịch", "services named from the centers' catalogues"
    page.screenshot(path=str(shots / "web-province-report.png"), full_page=True)
    whole = download(page, "text=Tải CSV / Download CSV", tmp_path)
    assert {r[1]: r[3] for r in whole if r[0] == "Theo trung tâm"} == {
        **{site: total[3] for site, total in expected.items()}, SILENT: "0"}

    page.goto(server + "/centers/xa-da-huoai")
    page.fill("input[name=from]", "31/02/2026")  # no such day
    with page.expect_navigation() as nav:
        page.click("text=Xem / Show")
    assert nav.value.status == 400
    assert "Ngày không hợp lệ" in page.inner_text("h1") and "31/02/2026" in page.inner_text("main")
    page.screenshot(path=str(shots / "web-province-bad-date.png"), full_page=True)


def test_a_centers_manager_sees_its_center_and_is_refused_another(browser, server, province, shots, tmp_path):
    page = log_in(browser, server, MANAGER, "/centers/xa-da-huoai")
    assert page.locator("nav >> text=Báo cáo toàn tỉnh").count() == 0
    assert "trung tâm / center xa-da-huoai" in page.inner_text("header")
    page.screenshot(path=str(shots / "web-province-manager.png"), full_page=True)
    assert download(page, "text=Tải CSV / Download CSV", tmp_path) == store_csv(province, "xa-da-huoai")
    for url in ("/centers/xa-tan-phu", "/report", "/centers/xa-tan-phu/report.csv"):
        response = page.goto(server + url)
        assert response.status == 403, url
        assert "Không có quyền" in page.inner_text("h1")
    page.goto(server + "/centers/xa-tan-phu")
    page.screenshot(path=str(shots / "web-province-forbidden.png"), full_page=True)
