"""scripts/build_voice_pack.py without espeak-ng: chime, pack checks, a clear error when espeak is missing."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from devices.voice import tts
from devices.voice.pack import VOICE_ROOT
from devices.voice.wavio import AudioFormat, read_wav
from tests.voice_fakes import beep, make_tone_pack

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_voice_pack.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("build_voice_pack", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_pack_is_exported(script):
    assert callable(script.build_pack)


def test_chime(script, tmp_path, capsys):
    assert script.main(["--chime", str(tmp_path / "chime.wav")]) == 0
    fmt, frames = read_wav(tmp_path / "chime.wav")
    assert fmt == AudioFormat(22050, 1, 2) and frames


def test_check_good_and_bad_packs(script, tmp_path, capsys):
    pack = make_tone_pack(tmp_path / "vi")
    assert script.main(["--check", str(pack.directory)]) == 0
    assert "OK" in capsys.readouterr().out
    (pack.directory / pack.clips["tư"]).unlink()
    (pack.directory / pack.clips["ba"]).write_bytes(beep("ba", fmt=AudioFormat(44100, 1, 2)))
    assert script.main(["--check", str(pack.directory)]) == 1
    out = capsys.readouterr().out
    assert "'tư'" in out and "44100 Hz" in out and "2 problem(s)" in out


def test_missing_espeak_is_a_one_line_error(script, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tts, "espeak_binary", lambda: None)
    src = tmp_path / "src"
    src.mkdir()
    (src / "pack.json").write_text((VOICE_ROOT / "vi" / "pack.json").read_text(encoding="utf-8"), encoding="utf-8")
    assert script.main(["--lang", "vi", "--out", str(tmp_path / "out")]) == 1
    assert "apt install espeak-ng" in capsys.readouterr().err


def test_build_adds_tokens_missing_from_the_manifest(tmp_path, monkeypatch):
    from devices.voice import build

    src = tmp_path / "src"
    src.mkdir()
    manifest = json.loads((VOICE_ROOT / "vi" / "pack.json").read_text(encoding="utf-8"))
    del manifest["clips"]["lăm"]
    (src / "pack.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    said = []
    monkeypatch.setattr(build, "synthesize", lambda text, *a: (said.append(text), read_wav_frames())[1])
    pack = build.build_pack("vi", tmp_path / "out", source_dir=src)
    assert pack.missing() == [] and "lăm" in said and "di" in said and "gi" not in said


def read_wav_frames():
    from devices.voice.wavio import FORMAT

    return FORMAT, b"\x00\x10" * 2000
