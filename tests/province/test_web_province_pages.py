"""Province mode's pages: a center's page, the province's report, their CSV (``qms report --csv``'s format),
center managers kept to their center, and friendly pages for bad dates, unknown centers and a database
that is down. Real stores' outboxes in a real PostgreSQL, the Flask app as ``qms web --province`` builds it."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from hub.store import Store
from qms.cli import main
from qms.config import load_config, to_site_def
from qms.config.to_core import display_names
from qms.province import db as pdb
from qms.province import report as preport
from qms.report import csv_rows
from qms.report_sql import store_report
from web.app import WebSettings, create_app

from .conftest import run_center, temp_database, write_center

PROVINCE = ("tinh", "mat-khau-tinh")
MANAGER_A = ("quanly-a", "mat-khau-xa-a")
ISSUE = ("issue_ticket", {"service": "huong-dan"})
NEXT, DONE, GONE = ("call_next", {"counter": "1"}), ("complete", {"counter": "1"}), ("no_show", {"counter": "1"})


@dataclass
class Province:
    dsn: str
    stores: dict[str, Path]
    config: Path
    now: datetime


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Iterator[Province]:
    import psycopg

    with temp_database("province page tests", "qms_provpages_test") as db:
        folder = tmp_path_factory.mktemp("centers")
        a, events_a = run_center(folder, "xa-a", [ISSUE, ISSUE, ISSUE, NEXT, DONE, ("rate", {"score": 5}), NEXT,
                                                  GONE, NEXT, DONE, ("rate", {"score": 2})])
        b, events_b = run_center(folder, "xa-b", [ISSUE, NEXT, ("transfer", {"counter": "1", "service": "tu-phap"})])
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            pdb.create_schema(conn)
            write_center(conn, "xa-a", events_a, link=True)
            write_center(conn, "xa-b", events_b, link=False)
        yield Province(db.dsn, {"xa-a": a, "xa-b": b}, folder / "xa-a" / "site.yaml",
                       datetime.fromisoformat(events_a[-1]["ts"]))


@pytest.fixture
def app(province, tmp_path):
    app = create_app(WebSettings(config_path=province.config, data_dir=tmp_path / "web", mode="province",
                                 extra={"dsn": province.dsn, "now": lambda: province.now}))
    accounts = app.extensions["qms_accounts"]
    accounts.add(PROVINCE[0], "manager", PROVINCE[1])
    accounts.add(MANAGER_A[0], "manager", MANAGER_A[1], site="xa-a")
    return app


def client_of(app, who: tuple[str, str]):
    client = app.test_client()
    r = client.post("/login", data={"username": who[0], "password": who[1]})
    assert r.status_code == 302, r.data
    return client


def cells(html: str, *markers: str) -> list[str]:
    """The texts of the cells of the first table row with cells after *markers* (found in that order)."""
    pos = 0
    for m in markers:
        pos = html.index(m, pos) + len(m)
    found = re.search(r"(<td.*?)</tr>", html[pos:], re.S)
    assert found, markers
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def csv_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff"), "a BOM, so that Excel reads Vietnamese right"
    return list(csv.reader(io.StringIO(text[1:])))


def store_csv(province: Province, site: str, start: date, end: date) -> list[list[str]]:
    """What ``qms report --csv`` computes from the center's own store (without the config's names)."""
    store = Store(province.stores[site], to_site_def(load_config(province.config)))
    try:
        return csv_rows(store_report(store.connection, start, end, store.site.tz, None, site))
    finally:
        store.close()


def test_the_table_links_each_center_and_shows_the_p90_wait(app, province):
    html = client_of(app, PROVINCE).get("/").get_data(as_text=True)
    assert 'href="/centers/xa-a"' in html and 'href="/centers/xa-b"' in html
    assert "Chờ P90 (phút)" in html
    row = cells(html, 'data-site="xa-a">')
    assert row[:4] == ["xa-a", "3", "2", "1"] and row[5] not in ("", "–"), row  # two calls: a P90


def test_a_center_whose_catalogue_arrived_is_named_and_reported_as_qms_report_does(app, province):
    """With its config catalogue (carried by its bridge), a center's name shows in the table, its page and the
    province's report; its report's CSV is ``qms report --csv``'s with the config's names, byte for byte."""
    import psycopg

    from qms.catalogue import catalogue_of
    from qms.report_model import site_labels

    config = load_config(province.config)
    name = config.site.name.text("vi")
    with psycopg.connect(province.dsn) as conn, conn.transaction():
        pdb.set_catalogues(conn, [("xa-b", json.dumps(catalogue_of(config, "sha")["catalogue"]))])
    try:
        client = client_of(app, PROVINCE)
        html = client.get("/").get_data(as_text=True)
        assert cells(html, 'data-site="xa-b">')[0] == name + "xa-b"
        assert f'{name}</a><br><code class="en">xa-b</code>' in html
        day = province.now.date()
        page = client.get(f"/centers/xa-b?from={day}&to={day}").get_data(as_text=True)
        assert f"<h1>{name}" in page and "<code>xa-b</code>" in page
        huong_dan = next(s for s in config.services if s.id == "huong-dan").name.text("vi")
        assert cells(page, 'data-grouping="service"', 'data-key="huong-dan">')[0] == huong_dan
        site = to_site_def(config)
        store = Store(province.stores["xa-b"], site)
        try:
            expected = csv_rows(store_report(store.connection, day, day, site.tz, site_labels(site, display_names(config)), name))
        finally:
            store.close()
        assert csv_of(client.get(f"/centers/xa-b/report.csv?from={day}&to={day}")) == expected
        report = client.get(f"/report?from={day}&to={day}").get_data(as_text=True)
        assert cells(report, 'data-key="xa-b">')[:2] == [name, "1"]
        assert cells(report, 'data-grouping="service"', 'data-key="huong-dan">')[0] == huong_dan
    finally:  # the other tests read xa-b by its id
        with psycopg.connect(province.dsn) as conn:
            conn.execute("UPDATE province_sites SET catalogue = NULL WHERE site = 'xa-b'")


def test_a_centers_page_has_today_the_link_and_the_report_of_the_period(app, province):
    client = client_of(app, PROVINCE)
    day = province.now.date()
    page = client.get(f"/centers/xa-a?from={day:%d/%m/%Y}&to={day.isoformat()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "Trung tâm <code>xa-a</code>" in html and "có / up" in html
    assert cells(html, 'class="grid today"')[:3] == ["3", "2", "1"]
    total = cells(html, 'data-grouping="total"', 'data-key="">')
    assert total[:4] == ["Tất cả", "3", "2", "1"], total
    assert total[-4:-3] == ["62.5"] and total[-3] == "50.0", total  # satisfaction, 4–5★ %
    for grouping in ("day", "hour", "service", "counter", "officer", "procedure"):
        assert f'data-grouping="{grouping}"' in html, grouping
    assert 'data-key="huong-dan"' in html
    # the link to the CSV carries the period
    assert f'/centers/xa-a/report.csv?from={day.isoformat()}&amp;to={day.isoformat()}' in html


def test_the_center_csv_is_qms_reports_csv(app, province):
    day = province.now.date()
    rows = csv_of(client_of(app, PROVINCE).get(f"/centers/xa-a/report.csv?from={day}&to={day}"))
    assert rows == store_csv(province, "xa-a", day, day)
    assert rows[0][:4] == ["Nhóm theo", "Mã", "Tên", "Cấp số"] and rows[1][:4] == ["Tổng cộng", "", "Tất cả", "3"]
    transferred = csv_of(client_of(app, PROVINCE).get(f"/centers/xa-b/report.csv?from={day}&to={day}"))
    assert transferred == store_csv(province, "xa-b", day, day)
    assert transferred[1][-1] == "1", "the transfer is counted as a leg that left"


def test_the_province_report_and_its_csv_add_the_centers_up(app, province):
    client = client_of(app, PROVINCE)
    day = province.now.date()
    html = client.get(f"/report?from={day}&to={day}").get_data(as_text=True)
    assert "Báo cáo toàn tỉnh" in html
    assert cells(html, 'data-grouping="total"', 'data-key="">')[:2] == ["Tất cả", "4"]
    assert cells(html, 'data-key="xa-a">')[:2] == ["xa-a", "3"] and cells(html, 'data-key="xa-b">')[:2] == ["xa-b", "1"]
    assert f'href="/centers/xa-b?from={day}&amp;to={day}"' in html
    rows = csv_of(client.get(f"/report.csv?from={day}&to={day}"))
    assert rows[1][:4] == ["Tổng cộng", "", "Tất cả", "4"]
    per_center = {r[1]: r for r in rows if r[0] == "Theo trung tâm"}
    assert set(per_center) == {"xa-a", "xa-b"}
    assert per_center["xa-a"][3:] == store_csv(province, "xa-a", day, day)[1][3:]
    assert any(r[0] == "Theo quầy" and r[1] == "xa-a · 1" for r in rows)


def test_a_centers_manager_sees_only_that_center(app, province):
    client = client_of(app, MANAGER_A)
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/centers/xa-a")
    assert client.get("/centers/xa-a").status_code == 200
    assert csv_of(client.get("/centers/xa-a/report.csv"))[1][3] == "3"
    for url in ("/centers/xa-b", "/centers/xa-b/report.csv", "/report", "/report.csv", "/centers/nowhere"):
        page = client.get(url)
        assert page.status_code == 403, url
        assert "Không có quyền" in page.get_data(as_text=True) and "may not open" in page.get_data(as_text=True)
    assert client.get("/centers/xa-a").get_data(as_text=True).count("Báo cáo toàn tỉnh") == 0


@pytest.mark.parametrize(("url", "code", "words"), [
    ("/centers/xa-a?from=hom-qua", 400, "“hom-qua” không phải là một ngày"),
    ("/centers/xa-a?to=2026-02-30", 400, "is not a date"),
    ("/centers/xa-a/report.csv?from=2026-12-05&to=2026-12-01", 400, "ở sau ngày kết thúc"),
    ("/report?from=2020-01-01&to=2026-12-01", 400, "At most 366 days"),
    ("/report.csv?from=%00", 400, "không phải là một ngày"),
    ("/centers/xa-khong-co", 404, "Không có trung tâm này"),
    ("/centers/xa-khong-co/report.csv", 404, "no data from"),
    ("/khong/co/trang", 404, "Không tìm thấy trang"),
])
def test_bad_dates_and_unknown_pages_get_a_friendly_page(app, province, url, code, words):
    page = client_of(app, PROVINCE).get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == code, html[:300]
    assert words in html and "Traceback" not in html
    assert "Về trang chính / Back to the start page" in html


def test_a_database_that_is_down_gives_a_friendly_page(province, tmp_path):
    app = create_app(WebSettings(config_path=province.config, data_dir=tmp_path / "web", mode="province",
                                 extra={"dsn": "host=127.0.0.1 port=1 user=postgres dbname=none connect_timeout=1"}))
    app.extensions["qms_accounts"].add(PROVINCE[0], "manager", PROVINCE[1])
    client = client_of(app, PROVINCE)
    for url in ("/centers/xa-a", "/report", "/report.csv"):
        page = client.get(url)
        assert page.status_code == 503, url
        assert "Không đọc được cơ sở dữ liệu" in page.get_data(as_text=True)


def test_the_pages_read_through_a_read_only_connection(province):
    import psycopg

    with preport.connect(province.dsn) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM province_events")
    with psycopg.connect(province.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM province_events").fetchone()[0] > 0


def test_qms_web_user_add_binds_a_manager_to_a_center(tmp_path, monkeypatch, capsys, always_open_config):
    base = ["--config", str(always_open_config), "--data-dir", str(tmp_path)]
    monkeypatch.setenv("QMS_ENV_FILE", "")
    monkeypatch.setattr(sys, "stdin", io.StringIO("mat-khau-xa-a\n"))
    assert main([*base, "web", "user", "add", "quanly-a", "--role", "manager", "--site", "xa-a",
                 "--password-stdin"]) == 0
    assert "of site xa-a" in capsys.readouterr().out
    assert main([*base, "web", "user", "list"]) == 0
    assert "quanly-a\tmanager" in (out := capsys.readouterr().out) and "site=xa-a" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("mat-khau-xa-a\n"))
    assert main([*base, "web", "user", "add", "x", "--role", "manager", "--site", "xa a", "--password-stdin"]) == 2


def test_a_managers_center_is_read_at_each_request_and_sessions_still_expire(app, province):
    client = client_of(app, MANAGER_A)
    assert client.get("/centers/xa-a").status_code == 200
    app.extensions["qms_accounts"].add(MANAGER_A[0], "manager", MANAGER_A[1], site="xa-b")  # moved to xa-b
    assert client.get("/centers/xa-a").status_code == 403
    assert client.get("/centers/xa-b").status_code == 200
    app.extensions["qms"].idle_minutes = -1  # any idle time is now too long
    page = client.get("/centers/xa-b")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
