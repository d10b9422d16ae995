"""Voice-pack manifests: the committed packs, validation, custom packs, slugs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devices.voice.build import default_manifest, slug
from devices.voice.languages import LANGUAGES
from devices.voice.pack import (
    DEFAULT_CHIME,
    VOICE_ROOT,
    MissingClipError,
    PackError,
    load_pack,
    parse_manifest,
)
from devices.voice.wavio import FORMAT, read_wav


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_committed_manifest_covers_the_vocabulary(lang):
    data = json.loads((VOICE_ROOT / lang / "pack.json").read_text(encoding="utf-8"))
    pack = parse_manifest(data, VOICE_ROOT / lang)
    assert set(pack.language.vocabulary()) <= set(pack.clips)
    assert len(set(pack.clips.values())) == len(pack.clips), "two tokens share a clip file"
    assert all(name.isascii() and name.endswith(".wav") for name in pack.clips.values())
    assert data["clips"] == default_manifest(lang)["clips"], "regenerate pack.json from default_manifest"


def test_generated_wavs_are_git_ignored():
    for lang in LANGUAGES:
        assert "*.wav" in (VOICE_ROOT / lang / ".gitignore").read_text().split()


def test_committed_chime_format_and_licence():
    fmt, frames = read_wav(DEFAULT_CHIME)
    assert fmt == FORMAT
    assert 0.5 < len(frames) / (2 * fmt.rate) < 3
    assert "CC0" in (DEFAULT_CHIME.parent / "LICENSE").read_text()


def test_slug_keeps_vietnamese_words_apart():
    words = ["mười", "mươi", "một", "mốt", "tư", "tự", "năm", "nam", "đê", "dê", "bảy", "bẩy"]
    assert len({slug(w) for w in words}) == len(words)
    assert slug("mười") == "muwowif" and slug("đến quầy số") == "ddeens_quaayf_soos"


@pytest.mark.parametrize(("data", "match"), [
    ([], "format"),
    ({"format": 2, "rules": "vi"}, "format"),
    ({"format": 1, "rules": "tlh"}, "rules"),
    ({"format": 1, "rules": "vi", "digits": ["x"] * 9}, "digits"),
    ({"format": 1, "rules": "vi", "phrases": {"hello": ["x"]}}, "phrases"),
    ({"format": 1, "rules": "vi", "mode": "roman"}, "mode"),
    ({"format": 1, "rules": "vi", "clips": {"a": 1}}, "clips"),
])
def test_manifest_errors_name_the_problem(data, match):
    with pytest.raises(PackError, match=match):
        parse_manifest(data, Path("/x"))


def test_load_errors(tmp_path):
    with pytest.raises(PackError, match="not found"):
        load_pack("nope", voice_root=tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pack.json").write_text("{oops")
    with pytest.raises(PackError, match="cannot read"):
        load_pack(tmp_path / "bad")


def test_recorded_pack_without_code_change(tmp_path):
    kho = tmp_path / "kho"
    kho.mkdir()
    clips = {f"k{i}": f"{i}.wav" for i in range(10)} | {"kcall": "call.wav"}
    (kho / "pack.json").write_text(json.dumps({
        "format": 1, "name": "K'Ho (recorded)", "rules": "vi", "mode": "digits",
        "digits": [f"k{i}" for i in range(10)], "phrases": {"call": ["kcall"]}, "clips": clips,
    }), encoding="utf-8")
    pack = load_pack("kho", voice_root=tmp_path)
    assert pack.name == "K'Ho (recorded)" and pack.mode == "digits"
    (kho / "0.wav").write_bytes(b"")
    assert pack.clip_path("k0") == kho / "0.wav"
    assert "k1" in pack.missing() and "mươi" not in pack.missing(), "digits-only pack needs no number words"
    with pytest.raises(MissingClipError, match=r"K'Ho.*'k1'.*does not exist"):
        pack.clip_path("k1")
    with pytest.raises(MissingClipError, match=r"'đến quầy số'.*not listed"):
        pack.clip_path("đến quầy số")
    assert pack.clip_path("chime") == DEFAULT_CHIME


def test_say_override_for_espeak():
    pack = parse_manifest({"format": 1, "rules": "vi", "say": {"a": "aa"}}, Path("/x"))
    assert pack.speech_text("gi") == "di" and pack.speech_text("a") == "aa" and pack.speech_text("bê") == "bê"
