"""The one screen-facing view of the site config that the kiosk, the counter pad and the display share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qms.config import default_config_path, load_config, to_site_def
from queue_display.settings import DisplaySettings
from ui_kit.site_view import SiteView, pick

CONFIG = load_config(default_config_path())
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site() -> SiteView:
    return SiteView(CONFIG)


def test_pick_falls_back_to_vietnamese_then_the_fallback():
    texts = {"vi": "Quầy số 1", "en": "Counter 1"}
    assert pick(texts, "en") == "Counter 1" and pick(texts, "kho") == "Quầy số 1"
    assert pick({"vi": "Quầy", "en": ""}, "en") == "Quầy"
    assert pick(None, "en") == "" and pick({}, "en", "1") == "1"
    assert pick({"vi": ["CCCD"], "en": ["ID card"]}, "en", []) == ["ID card"]


def test_names_in_every_language(site):
    assert site.center_name("vi") == CONFIG.site.name.root["vi"]
    assert site.service_name("tu-phap", "en") == "Justice – Civil status"
    assert site.counter_name("2", "vi") == "Quầy số 2" and site.counter_name("2", "fr") == "Quầy số 2"
    assert site.procedure_name("ket-hon", "vi") == "Đăng ký kết hôn" and site.procedure_name(None, "vi") == ""
    assert site.priority_name("elderly", "en") == "Elderly (60+)"
    assert site.priority_name("normal", "en") == site.priority_name(None, "en") == ""
    assert site.counter_names("chung-thuc", "vi") == ["Quầy số 2", "Quầy số 3"]
    assert site.documents("khai-sinh", "en")[0] == "Birth registration form" and site.documents("", "en") == []


def test_unknown_ids_show_as_themselves_or_the_callers_fallback(site):
    assert site.counter_name("99", "vi") == "99" and site.counter_name("99", "vi", "Quầy 99") == "Quầy 99"
    assert site.service_name("gone", "en") == "gone" and site.procedure_name("gone", "vi") == "gone"
    assert site.priority_name("veteran", "vi") == "veteran" and site.prefix("gone") == ""


def test_ids_in_config_order(site):
    assert site.service_ids == tuple(s.id for s in CONFIG.services)
    assert site.counter_ids == tuple(c.id for c in CONFIG.counters)


def test_ticket_numbers_are_the_queue_cores(site):
    core = to_site_def(CONFIG)
    for service in site.service_ids:
        for n in (1, 7, 42, 999):
            assert site.ticket_number(service, n) == core.services[service].format_number(n)
    assert site.ticket_number("tu-phap", 7) == "A007" and site.prefix("chung-thuc") == "B"
    assert site.number_pad("tu-phap") == 3


def test_languages_offered_and_the_default():
    assert SiteView(CONFIG).languages == tuple(CONFIG.site.languages)
    assert SiteView(CONFIG).default_lang == CONFIG.default_language
    only_en = SiteView(CONFIG, ["en"])
    assert only_en.languages == ("en",) and only_en.default_lang == "en"


def test_display_settings_name_from_the_same_view():
    settings = DisplaySettings.from_config(CONFIG)
    assert settings.counter_name("2", "en") == settings.site.counter_name("2", "en") == "Counter 2"
    assert settings.counter_short("2", "en") == "2"
    assert CONFIG.display.notice is not None
    assert settings.notice_text("vi") == CONFIG.display.notice.root["vi"] != ""
    assert settings.notice_text("kho") == settings.notice_text("vi")


def test_the_view_and_the_apps_thin_bits_import_no_kivy():
    code = ("import sys, ui_kit.site_view, kiosk.menu, counter.desk, queue_display.settings; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kivy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
