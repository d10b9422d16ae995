"""The web app's province mode: a read-only table of every center, from the ingester's PostgreSQL tables filled
with real events (the real store's outbox of two centers), behind the same login."""

from __future__ import annotations

import http.cookiejar
import io
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime

import pytest

from qms.cli import main
from qms.province import db as pdb
from testkit.province import ROOT, TempDatabase
from web.app import WebSettings, create_app

from .conftest import run_center, temp_database, write_center


@pytest.fixture
def database() -> Iterator[TempDatabase]:
    with temp_database("province web tests") as d:
        yield d


def test_the_province_table_shows_each_centers_figures_read_only(tmp_path, database, always_open_config):
    import psycopg

    issue = ("issue_ticket", {"service": "huong-dan"})
    nxt, done, gone = (("call_next", {"counter": "1"}), ("complete", {"counter": "1"}), ("no_show", {"counter": "1"}))
    _, a = run_center(tmp_path, "xa-a", [issue, issue, issue, nxt, done, ("rate", {"score": 5}), nxt, gone,
                                         nxt, done, ("rate", {"score": 2})])
    _, b = run_center(tmp_path, "xa-b", [issue, nxt])
    with psycopg.connect(database.dsn, autocommit=True) as conn:
        pdb.create_schema(conn)
        write_center(conn, "xa-a", a, link=True)
        write_center(conn, "xa-b", b, link=False)
    last = datetime.fromisoformat(a[-1]["ts"])
    app = create_app(WebSettings(config_path=always_open_config, data_dir=tmp_path / "web", mode="province",
                                 extra={"dsn": database.dsn, "now": lambda: last}))
    app.extensions["qms_accounts"].add("tinh", "manager", "mat-khau-tinh")
    client = app.test_client()
    assert client.get("/").status_code == 302, "the table needs a login"
    assert client.post("/login", data={"username": "tinh", "password": "mat-khau-tinh"}).status_code == 302
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "Các trung tâm trong tỉnh" in html
    row_a = re.search(r'data-site="xa-a">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row_a, re.S)]
    # tickets 3, served 2, no-show 1, ratings 5 and 2: satisfaction (3.5 - 1) * 25 = 62.5, 50 % 4–5★, link up
    assert cells[:4] == ["xa-a", "3", "2", "1"], cells
    assert cells[6:9] == ["62.5", "50 %", "có / up"], cells
    assert cells[10] == "0", "nothing missing"
    row_b = re.search(r'data-site="xa-b">(.*?)</tr>', html, re.S).group(1)
    assert "mất / down" in row_b
    assert client.get("/procedures").status_code == 404, "no center pages in province mode"
    assert "Không tìm thấy trang" in client.get("/nope/nope").get_data(as_text=True)


def test_a_database_that_is_down_gives_a_friendly_page(tmp_path, always_open_config):
    app = create_app(WebSettings(config_path=always_open_config, data_dir=tmp_path / "web", mode="province",
                                 extra={"dsn": "host=127.0.0.1 port=1 user=postgres dbname=none connect_timeout=1"}))
    app.extensions["qms_accounts"].add("tinh", "manager", "mat-khau-tinh")
    client = app.test_client()
    client.post("/login", data={"username": "tinh", "password": "mat-khau-tinh"})
    page = client.get("/")
    assert page.status_code == 200
    assert "Không đọc được cơ sở dữ liệu" in page.get_data(as_text=True)


def test_qms_web_province_serves_the_table_over_http(tmp_path, database, always_open_config, monkeypatch):
    """``qms web --province DSN`` as a provincial server runs it: log in over HTTP and read the table."""
    import psycopg

    with psycopg.connect(database.dsn, autocommit=True) as conn:
        pdb.create_schema(conn)
        pdb.set_link(conn, "xa-da-huoai", True)
    base = ["--config", str(always_open_config), "--data-dir", str(tmp_path)]
    monkeypatch.setenv("QMS_ENV_FILE", "")
    monkeypatch.setattr(sys, "stdin", io.StringIO("mat-khau-tinh\n"))
    assert main([*base, "web", "user", "add", "tinh", "--role", "manager", "--password-stdin"]) == 0
    env = {**os.environ, "QMS_ENV_FILE": "", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "qms.cli", *base, "web", "--host", "127.0.0.1", "--port", "0",
                             "--province", database.dsn], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("qms web: http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
        url = line.split(" ", 2)[2]
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        data = urllib.parse.urlencode({"username": "tinh", "password": "mat-khau-tinh"}).encode()
        with opener.open(url + "login", data=data, timeout=5) as r:  # follows the redirect to the table
            page = r.read().decode()
        assert "Các trung tâm trong tỉnh" in page and 'data-site="xa-da-huoai"' in page and "có / up" in page
    finally:
        proc.terminate()
        proc.wait(5)
