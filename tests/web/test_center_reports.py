"""Center mode's live queue (``/queue``) and report (``/report`` + CSV, PNG, xlsx) over a real hub store.

The store ran a working day (Friday 27 November 2026, the month test's plan) through the hub's real
Store, then at 19:00 three more citizens came, counter 2 called one, an elderly citizen came and counter
3 paused: the queue page at 19:30 shows three waiting (the elderly one named) and counter 2's citizen.
The report must be ``qms report``'s: the real CLI's ``--csv`` of the same store is compared with the page
and the download.

Saves web-center-*.png under $QMS_SHOTS (e.g. docs/screens) when it is set, else in the test's folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

import testkit.sites
from hub.store import Store
from qms.config import load_config
from qms.config.cache import CoreConfig
from qms.context import STORE_FILE, AppContext
from qms.live_state import read_live_state
from qms.report_ratings import read_only
from tests.factories import HCM
from tests.integration.test_report_month import plan_day, run_actions
from web.app import WebSettings, create_app

from .conftest import CHROMIUM, MANAGER, TECHNICIAN, served

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 27)  # a Friday: one citizen is sent from tu-phap to chung-thuc
EVENING = datetime(2026, 11, 27, 19, 0, tzinfo=HCM)  # after the planned day: the live queue's citizens
NOW = datetime(2026, 11, 27, 19, 30, tzinfo=HCM)
QUERY = "from=27/11/2026&to=27/11/2026"


@dataclass
class Day:
    """The generated day: its config and store, ``qms report --csv``'s text, the live queue's numbers."""

    config: Path
    store: Path
    cli_csv: str
    waiting: list[str]  # numbers still waiting at NOW
    serving: str  # counter 2's citizen
    elderly: str  # the elderly citizen's number


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Day:
    folder = tmp_path_factory.mktemp("center")
    config = testkit.sites.always_open_config(folder)
    ctx = AppContext(config_path=config, data_dir=folder / "data")
    numbers, serving = [], ""
    with ctx.open_store() as store:
        run_actions(store, plan_day(random.Random(27), DAY, []))
        for service, extra, minute in (("tu-phap", {}, 0), ("chung-thuc", {}, 0), ("huong-dan", {}, 0),
                                       ("tu-phap", {"priority": "elderly", "procedure": "khai-sinh"}, 10)):
            if minute:  # counter 2 called a citizen before the elderly one came
                called = store.run("call_next", {"counter": "2"}, now=EVENING.replace(minute=5))
                assert called.ok, called.response
                serving = called.response["result"]["ticket"]["number"]
            reply = store.run("issue_ticket", {"service": service, **extra}, now=EVENING.replace(minute=minute))
            assert reply.ok, reply.response
            numbers.append(reply.response["result"]["ticket"]["number"])
        assert store.run("pause", {"counter": "3"}, now=EVENING.replace(minute=6)).ok
    out = folder / "cli.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "qms.cli", "--config", str(config), "--data-dir", str(ctx.data_dir), "report",
         "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--csv", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "QMS_ENV_FILE": ""})
    assert proc.returncode == 0, proc.stderr
    return Day(config, ctx.store_path, out.read_bytes().decode("utf-8-sig"), [n for n in numbers if n != serving],
               serving, numbers[3])


@pytest.fixture
def settings(tmp_path, day) -> WebSettings:
    """The web app over a copy of the day's store (each test its own), its clock at 19:30 on the day."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(day.store, data / STORE_FILE)
    return WebSettings(config_path=day.config, data_dir=data, extra={"now": lambda: NOW})


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _total_cells(html: str, grouping: str = "total") -> list[str]:
    table = re.search(rf'<table class="grid report" data-grouping="{grouping}">(.*?)</table>', html, re.S)
    assert table, f"no {grouping} table"
    row = re.search(r'<tr data-key="">(.*?)</tr>', table.group(1), re.S)
    assert row, "no total row"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_the_report_and_its_csv_are_qms_reports(day, settings, login):
    before = _digest(settings.data_dir / STORE_FILE)
    client = login(MANAGER)
    page = client.get(f"/report?{QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    cli = list(csv.reader(io.StringIO(day.cli_csv)))
    total = next(r for r in cli if r[0] == "Tổng cộng")
    cells = _total_cells(html)
    assert cells[0] == "Tất cả" and int(cells[1]) > 30
    assert (cells[1], cells[2], cells[3]) == (total[3], total[4], total[5]), "tickets, served, no-shows"
    for grouping in ("day", "hour", "service", "counter", "officer", "procedure"):
        assert f'data-grouping="{grouping}"' in html
    assert "Từ 27/11/2026 đến 27/11/2026" in html
    download = client.get(f"/report.csv?{QUERY}")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert 'filename="bao-cao-2026-11-27-2026-11-27.csv"' in download.headers["Content-Disposition"]
    text = download.get_data(as_text=True)
    assert text.startswith("\ufeff") and text[1:] == day.cli_csv, "the CSV is `qms report --csv`'s, byte for byte"
    assert _digest(settings.data_dir / STORE_FILE) == before, "the pages never write the store"


def test_the_png_is_the_reports_dashboard_and_the_xlsx_a_workbook(settings, login):
    client = login(TECHNICIAN)
    png = client.get(f"/report.png?{QUERY}")
    assert png.status_code == 200 and png.mimetype == "image/png"
    body = png.data
    assert body[:8] == b"\x89PNG\r\n\x1a\n" and len(body) > 100_000
    assert struct.unpack(">II", body[16:24]) == (2200, 1600), "qms report --png's 22 × 16 in at 100 dpi"
    xlsx = client.get(f"/report.xlsx?{QUERY}")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)
    assert len(workbook.sheetnames) >= 3


def test_the_queue_lists_the_waiting_and_the_counters_with_todays_figures(day, settings, login):
    before = _digest(settings.data_dir / STORE_FILE)
    page = login(MANAGER).get("/queue")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="10">' in html
    listed = re.findall(r'<tr data-ticket="([^"]+)"', html)
    assert sorted(listed) == sorted(day.waiting) and len(listed) == 3
    counter2 = re.search(r'<tr data-counter="2" class="open">(.*?)</tr>', html, re.S)
    assert counter2 and f'<strong class="number">{day.serving}</strong>' in counter2.group(1)
    assert re.search(r'<tr data-counter="3" class="paused">', html), "counter 3 paused"
    row = re.search(rf'<tr data-ticket="{day.elderly}" class="priority">(.*?)</tr>', html, re.S)
    assert row and "Người cao tuổi" in row.group(1) and "Đăng ký khai sinh" in row.group(1), "the elderly citizen"
    cli = list(csv.reader(io.StringIO(day.cli_csv)))
    total = next(r for r in cli if r[0] == "Tổng cộng")
    assert _total_cells(html)[1] == total[3], "today's tickets: the report's total"
    assert 'data-grouping="service"' in html and 'data-grouping="counter"' in html
    assert _digest(settings.data_dir / STORE_FILE) == before


def test_the_live_state_is_read_as_the_hub_reads_it(day, tmp_path):
    site = CoreConfig.of(load_config(day.config)).site
    conn = read_only(day.store)
    conn.isolation_level = None
    try:
        read = read_live_state(conn, site)
    finally:
        conn.close()
    shutil.copy(day.store, tmp_path / STORE_FILE)
    with Store(tmp_path / STORE_FILE, site) as store:
        hubs = store._load(store.connection)
    assert len(read.tickets) == 4 and read == hubs


@pytest.mark.parametrize(("query", "title"), [
    ("from=31/02/2026", "Ngày không hợp lệ"),
    ("from=hôm-nay", "Ngày không hợp lệ"),
    ("from=28/11/2026&to=27/11/2026", "Ngày không hợp lệ"),
    ("from=2025-01-01&to=2026-11-27", "Khoảng thời gian quá dài"),
])
def test_bad_periods_get_a_friendly_400(settings, login, query, title):
    client = login(MANAGER)
    for url in ("/report", "/report.csv", "/report.png"):
        r = client.get(f"{url}?{query}")
        text = r.get_data(as_text=True)
        assert r.status_code == 400 and title in text and "Traceback" not in text, url


def test_logged_out_goes_to_the_login_page(app):
    client = app.test_client()
    for url in ("/queue", "/report", "/report.csv", "/report.png", "/report.xlsx"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_no_store_is_a_friendly_page_and_stays_absent(tmp_path, day):
    settings = WebSettings(config_path=day.config, data_dir=tmp_path / "empty")
    app = create_app(settings)
    app.extensions["qms_accounts"].add(MANAGER[0], "manager", MANAGER[1])
    client = app.test_client()
    assert client.post("/login", data={"username": MANAGER[0], "password": MANAGER[1]}).status_code == 302
    for url in ("/queue", f"/report?{QUERY}", "/report.csv"):
        r = client.get(url)
        text = r.get_data(as_text=True)
        assert r.status_code == 503 and "Chưa có dữ liệu" in text and "Traceback" not in text, url
    assert not (tmp_path / "empty" / STORE_FILE).exists()


def test_a_changed_config_is_read_again(day, tmp_path, login, settings):
    config = settings.config_path = tmp_path / "site.yaml"  # the app reads it once per change, not per request
    shutil.copy(day.config, config)
    client = login(MANAGER)
    assert "Quầy số 1" in client.get("/queue").get_data(as_text=True)
    config.write_text(day.config.read_text(encoding="utf-8").replace('vi: "Quầy số 1"', 'vi: "Quầy Một"'),
                      encoding="utf-8")
    html = client.get("/queue").get_data(as_text=True)
    assert "Quầy Một" in html and "Quầy số 1" not in html


def test_a_damaged_store_is_a_friendly_page(settings, login):
    (settings.data_dir / STORE_FILE).write_bytes(b"not a database, a half-copied file" * 100)
    client = login(MANAGER)
    for url in ("/queue", f"/report?{QUERY}", f"/report.xlsx?{QUERY}"):
        r = client.get(url)
        text = r.get_data(as_text=True)
        assert r.status_code == 503 and "Không đọc được dữ liệu" in text and "Traceback" not in text, url


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/setup)")
def test_the_manager_opens_the_queue_and_the_report_in_chromium(browser, app, day, shots):
    with served(app) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="vi-VN")
        page = context.new_page()
        page.goto(base + "/queue")
        page.fill("input[name=username]", MANAGER[0])
        page.fill("input[name=password]", MANAGER[1])
        page.click("button[type=submit]")
        page.wait_for_url(base + "/queue")
        assert page.locator("tr[data-ticket]").count() == 3
        assert day.serving in page.inner_text("tr[data-counter='2'] td.serving")
        page.screenshot(path=str(shots / "web-center-queue.png"), full_page=True)
        page.click("nav >> text=Báo cáo")
        page.wait_for_url(base + "/report")
        page.fill("input[name=from]", "27/11/2026")
        page.fill("input[name=to]", "27/11/2026")
        page.click("text=Xem / Show")
        page.wait_for_url(f"{base}/report?from=27%2F11%2F2026&to=27%2F11%2F2026")
        total = page.locator("table[data-grouping='total'] tr[data-key=''] td")
        cli = list(csv.reader(io.StringIO(day.cli_csv)))
        assert total.nth(1).inner_text() == next(r for r in cli if r[0] == "Tổng cộng")[3]
        page.screenshot(path=str(shots / "web-center-report.png"), full_page=True)
        context.close()
