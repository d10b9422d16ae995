"""Web app fixtures: the commune center's config in the test's folder, a manager and a technician."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from web.app import WebSettings, create_app

MANAGER = ("lan", "mat-khau-quan-ly")
TECHNICIAN = ("kythuat", "mat-khau-ky-thuat")


@pytest.fixture
def settings(tmp_path, always_open_config) -> WebSettings:
    """Settings over a copy of the shipped config; no broker (the devices page says so)."""
    return WebSettings(config_path=always_open_config, data_dir=tmp_path / "data")


@pytest.fixture
def app(settings):
    """The app with one manager and one technician."""
    app = create_app(settings)
    accounts = app.extensions["qms_accounts"]
    accounts.add(MANAGER[0], "manager", MANAGER[1])
    accounts.add(TECHNICIAN[0], "technician", TECHNICIAN[1])
    return app


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no csrf field on the page"
    return found.group(1)


@pytest.fixture
def login(app) -> Callable[..., object]:
    """``login(MANAGER)`` -> a test client logged in as that account."""
    def make(who: tuple[str, str]):
        client = app.test_client()
        r = client.post("/login", data={"username": who[0], "password": who[1]})
        assert r.status_code == 302, r.data
        return client
    return make


def post_form(client, url: str, data: dict) -> object:
    """GET the form at ``url`` for its CSRF token, then POST ``data`` to it."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**data, "csrf": csrf_of(page.get_data(as_text=True))})


def config_text(settings: WebSettings) -> str:
    """The config file as it is now."""
    return Path(settings.config_path).read_text(encoding="utf-8")
