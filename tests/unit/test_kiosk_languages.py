"""Kiosk languages are drop-in folders (assets/i18n/<code>/kiosk.json): every key of vi, or a logged fallback."""

from __future__ import annotations

import json
import logging

import pytest

from kiosk.menu import kiosk_view
from qms.config import default_config_path, load_config
from ui_kit import i18n
from ui_kit.paths import assets_dir

I18N = assets_dir() / "i18n"
VI = json.loads((I18N / "vi" / "kiosk.json").read_text(encoding="utf-8"))
SHIPPED = sorted(p.parent.name for p in I18N.glob("*/kiosk.json") if p.parent.name != "vi")


@pytest.fixture
def fresh_log():
    """Forget which fallbacks were already logged (each is logged once per process)."""
    i18n._fallen_back.clear()
    yield
    i18n._fallen_back.clear()


@pytest.mark.parametrize("lang", SHIPPED)
def test_each_language_has_every_key_of_vi_or_falls_back_visibly(lang, fresh_log, caplog):
    missing = []
    with caplog.at_level(logging.WARNING, logger="ui_kit.i18n"):
        for key, vi_text in VI.items():
            if i18n.has_text(key, lang):
                continue
            missing.append(key)
            caplog.clear()
            assert i18n.tr(key, lang) == vi_text  # shown in Vietnamese ...
            assert f"no {lang} text for {key!r}: shown in Vietnamese" in caplog.text, key  # ... and logged
    if lang == "en":
        assert missing == []  # English is complete
    if lang == "kho":
        assert "kiosk.welcome.take" in missing  # the sample has no text of its own yet


def test_the_kho_sample_is_clearly_marked_and_invents_nothing():
    data = json.loads((I18N / "kho" / "kiosk.json").read_text(encoding="utf-8"))
    assert data["_meta"]["sample"] is True and "SAMPLE" in data["_meta"]["status"]
    assert data["kiosk.lang_name"] == "K'Ho"  # the button's own label
    marked = i18n.unchecked_keys("kho")
    assert len(marked) >= 5 and "kiosk.welcome.take" in marked and "kiosk.say.welcome" in marked
    for key in marked:
        entry = data[key]
        assert key in VI and entry["vi"] == VI[key]  # the Vietnamese source, to translate from
        assert entry["text"] == ""  # no invented translation: Vietnamese is shown until a native speaker writes it
    assert i18n.language_meta("kho")["sample"] is True and not i18n.language_meta("vi").get("sample")
    assert (I18N / "kho" / "README.md").read_text(encoding="utf-8").count("needs_native_check") >= 1


def test_a_language_is_offered_only_when_site_languages_lists_it():
    cfg = load_config(default_config_path())
    assert kiosk_view(cfg).languages == ("vi", "en")
    with_kho = cfg.model_copy(deep=True)
    with_kho.site.languages = ["vi", "en", "kho"]
    assert kiosk_view(with_kho).languages == ("vi", "en", "kho")


def test_a_dropped_in_folder_is_read_without_code(tmp_path, monkeypatch, fresh_log, caplog):
    root = tmp_path / "assets"
    (root / "i18n" / "vi").mkdir(parents=True)
    (root / "i18n" / "vi" / "kiosk.json").write_text(json.dumps(VI, ensure_ascii=False), encoding="utf-8")
    (root / "i18n" / "xyz").mkdir()
    (root / "i18n" / "xyz" / "kiosk.json").write_text(json.dumps({
        "kiosk.lang_name": "Xyz",
        "kiosk.home": {"text": "HOME-XYZ", "needs_native_check": True},
        "_meta": {"sample": False},
    }), encoding="utf-8")
    monkeypatch.setenv("QMS_ASSETS", str(root))
    with caplog.at_level(logging.WARNING, logger="ui_kit.i18n"):
        assert i18n.tr("kiosk.lang_name", "xyz") == "Xyz"
        assert i18n.tr("kiosk.home", "xyz") == "HOME-XYZ"
        assert i18n.tr("kiosk.back", "xyz") == "Quay lại"
        assert i18n.tr("kiosk.back", "xyz") == "Quay lại"
    assert caplog.text.count("no xyz text for 'kiosk.back': shown in Vietnamese") == 1  # once per key
    assert i18n.unchecked_keys("xyz") == ["kiosk.home"]


def test_a_recorded_prompt_in_the_folder_is_played_instead_of_synthesis(tmp_path, monkeypatch):
    from kiosk.voice import Speaker
    from kiosk.wording import recorded_prompt

    voice = tmp_path / "i18n" / "xyz" / "voice"
    voice.mkdir(parents=True)
    (voice / "kiosk.say.welcome.wav").write_bytes(b"RIFF-recorded")
    monkeypatch.setenv("QMS_ASSETS", str(tmp_path))
    clip = recorded_prompt("kiosk.say.welcome", "xyz")
    assert clip == str(voice / "kiosk.say.welcome.wav")
    assert recorded_prompt("kiosk.say.field", "xyz") is None

    played = []

    class Backend:
        name = "fake"

        def play(self, wav: bytes, label: str) -> None:
            played.append(wav)

    speaker = Speaker(Backend(), synth=lambda text, lang: b"RIFF-synth")
    try:
        speaker.say("xin chào", "xyz", clip=clip)
        assert speaker.wait_idle()
        speaker.say("mời chọn", "xyz")
        assert speaker.wait_idle()
    finally:
        speaker.stop()
    assert played == [b"RIFF-recorded", b"RIFF-synth"]


def test_the_citizen_is_addressed_as_ong_ba_on_screens_voice_and_paper():
    import re

    from devices.printer.labels import LABELS

    texts = [*VI.values(), *LABELS["vi"].values()]
    assert not [t for t in texts if re.search(r"\bbạn\b", t, re.IGNORECASE)]
    assert sum("Ông/Bà" in t or "Ông Bà" in t for t in texts) >= 10
