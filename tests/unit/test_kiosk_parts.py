"""Kiosk parts without Kivy: texts, menu, icons, the paper ticket, the speaker's mailbox, the CLI."""

from __future__ import annotations

import argparse
import json
import re
import string
import threading
from pathlib import Path

import pytest
from PIL import Image

from devices.printer import PrinterService
from devices.voice.wavio import FORMAT, silence, wav_bytes
from kiosk import cli_args
from kiosk.menu import (
    icon_path,
    kiosk_languages,
    kiosk_view,
    needs_procedure_step,
    priority_items,
    service_items,
)
from kiosk.ports import Choice
from kiosk.printing import KioskPrinter, printable_ticket, qr_data
from kiosk.voice import SilentSpeaker, Speaker
from kiosk.wording import ahead_text, counters_text, spoken_number, wait_text
from qms.config import default_config_path, load_config
from tests.integration.hub_helpers import wait_for
from tests.kiosk_fakes import make_ticket
from ui_kit.paths import assets_dir

CONFIG = load_config(default_config_path())
I18N = assets_dir() / "i18n"


def _keys(lang: str) -> dict[str, str]:
    return json.loads((I18N / lang / "kiosk.json").read_text(encoding="utf-8"))


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_vi_and_en_are_complete_with_the_same_placeholders():
    vi, en = _keys("vi"), _keys("en")
    assert set(vi) == set(en)
    assert all(k.startswith("kiosk.") for k in vi)
    for key in vi:
        assert _fields(vi[key]) == _fields(en[key]), key


def test_every_key_the_code_uses_exists():
    used: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "kiosk").rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'(?:env\.t|\bt|_say)\(\s*"([a-z_]+\.[a-z_.]+)"', src))
    assert used, "found no keys"
    missing = {k for k in used if f"kiosk.{k}" not in _keys("vi")}
    assert not missing


def test_wait_wording():
    assert wait_text(30, "vi") == "Thời gian chờ dự kiến: dưới 1 phút"
    assert wait_text(900, "vi") == "Thời gian chờ dự kiến: khoảng 15 phút"
    assert wait_text(4800, "vi") == "Thời gian chờ dự kiến: khoảng 1 giờ 20 phút"
    assert wait_text(900, "en") == "Estimated wait: about 15 min"
    assert wait_text(None, "vi") == "Thời gian chờ dự kiến: chưa ước tính được"  # nothing to estimate from


def test_counters_ahead_and_spoken_number():
    assert counters_text(["Quầy số 2", "Quầy số 3"], "vi") == "Quầy số 2 hoặc Quầy số 3"
    assert counters_text(["Quầy số 1", "Quầy số 2", "Quầy số 3"], "vi") == "Quầy số 1, Quầy số 2 hoặc Quầy số 3"
    assert counters_text(["Counter 4"], "en") == "Counter 4"
    assert ahead_text(0, "vi") == "Không có ai chờ trước" and ahead_text(3, "en") == "People ahead of you: 3"
    assert spoken_number("B012", "vi") == "bê, không, một, hai"
    assert spoken_number("K007", "en") == "K, zero, zero, seven"
    assert spoken_number("A001", "kho") == "a, không, không, một"  # other languages: read in Vietnamese


def test_languages_follow_the_shipped_files(tmp_path):
    for code in ("vi", "en", "kho"):
        (tmp_path / code).mkdir()
        (tmp_path / code / "kiosk.json").write_text("{}", encoding="utf-8")
    (tmp_path / "jra").mkdir()  # no kiosk.json: not offered
    assert kiosk_languages(["vi", "en"], tmp_path) == ["vi", "en"]  # kho shipped but not in site.languages
    assert kiosk_languages(["vi", "kho", "en"], tmp_path) == ["vi", "kho", "en"]
    assert kiosk_languages(["vi", "jra"], tmp_path) == ["vi"]
    assert kiosk_languages(["vi", "en"]) == ["vi", "en"]
    assert kiosk_languages(["vi", "en", "kho"]) == ["vi", "en", "kho"]  # the shipped sample folder


def test_menu_of_the_default_center():
    site = kiosk_view(CONFIG)
    assert len(service_items(site, "vi")) == 8 and site.guidance_service == "huong-dan"
    assert needs_procedure_step(site, "tu-phap") and not needs_procedure_step(site, "tra-ket-qua")
    assert site.counter_names("chung-thuc", "vi") == ["Quầy số 2", "Quầy số 3"]
    assert [p.id for p in priority_items(site, "en")] == ["elderly", "disabled", "pregnant"]
    assert site.hours_text("tu-phap") == "07:30–11:30, 13:30–17:00"


def test_every_icon_of_the_config_is_drawn():
    names = {s.icon for s in CONFIG.services} | {p.icon for s in CONFIG.services for p in s.procedures}
    names |= {p.icon for p in CONFIG.priorities} | {"back", "home", "question", "ticket", "warning", "desk",
                                                     "printer", "printer_off", "lock", "person", "globe", "touch"}
    for name in names:
        path = Path(icon_path(name))
        assert path.stem == name, f"icon {name} missing"
        with Image.open(path) as img:
            assert img.mode == "RGBA" and img.size == (256, 256)
            assert img.getchannel("A").getbbox() is not None
    assert Path(icon_path("no-such-icon")).stem == "document"
    assert (assets_dir() / "icons" / "LICENSE").read_text().count("CC0") >= 1


def test_paper_ticket_from_a_hub_ticket():
    cat = kiosk_view(CONFIG)
    ticket = make_ticket("A012", procedure="khai-sinh", priority="elderly")
    paper = printable_ticket(cat, ticket, Choice("tu-phap", "khai-sinh", "elderly", "en"))
    assert paper.number == "A012" and paper.lang == "en" and paper.service_name == "Justice – Civil status"
    assert paper.counters == "Counter 1, Counter 2 or Counter 3" and paper.priority_label == "Elderly (60+)"
    assert paper.documents[0] == "Birth registration form" and paper.qr_data == "https://dichvucong.gov.vn"
    assert paper.issued_at.utcoffset().total_seconds() == 7 * 3600
    other = printable_ticket(cat, make_ticket("A013"), Choice("tu-phap", lang="kho"))
    assert other.lang == "vi" and other.procedure_name is None and other.priority_label is None


def test_qr_tracking_url():
    cfg = CONFIG.model_copy(deep=True)
    cfg.printer.qr.content = "tracking"
    cfg.printer.qr.tracking_url = "http://10.0.0.1/t/{ticket}"
    assert qr_data(kiosk_view(cfg), make_ticket("A001"), "") == "http://10.0.0.1/t/20261123-tu-phap-001"
    paper = printable_ticket(kiosk_view(cfg), make_ticket("A001"), Choice("tu-phap", lang="vi"))
    assert paper.qr_kind == "tracking"
    assert "Quét mã để theo dõi lượt của Ông/Bà" in _printed_lines(paper)


def _printed_lines(paper) -> list[str]:
    from devices.printer.layout import Text, ticket_ops

    return [op.text for op in ticket_ops(paper) if isinstance(op, Text)]


def test_qr_caption_says_what_the_code_opens():
    """The default QR opens the public service portal: the caption must not promise live tracking."""
    paper = printable_ticket(kiosk_view(CONFIG), make_ticket("A012", procedure="khai-sinh"),
                             Choice("tu-phap", "khai-sinh", "normal", "vi"))
    assert paper.qr_data == "https://dichvucong.gov.vn" and paper.qr_kind == "portal"
    lines = _printed_lines(paper)
    assert "Tra cứu thủ tục trên Cổng Dịch vụ công" in lines
    assert not any("theo dõi" in line for line in lines)
    assert "Số người chờ trước Ông/Bà: 3" in lines
    assert not any(re.search(r"\bbạn\b", line, re.IGNORECASE) for line in lines)
    en = _printed_lines(printable_ticket(kiosk_view(CONFIG), make_ticket("A012", procedure="khai-sinh"),
                                         Choice("tu-phap", "khai-sinh", "normal", "en")))
    assert "Look up the procedure on the National Public Service Portal" in en


def test_kiosk_printer_prints_off_thread_and_reports(tmp_path):
    results = []
    posted = threading.Event()

    def post(fn):
        fn()
        posted.set()

    printer = KioskPrinter(PrinterService(f"virtual://{tmp_path}"), kiosk_view(CONFIG), post)
    printer.print_ticket(make_ticket("A001"), Choice("tu-phap"), results.append)
    assert posted.wait(10)
    assert results[0].ok and results[0].status["state"] == "ok"
    assert len(list(tmp_path.glob("*-A001.png"))) == 1
    (tmp_path / "STATE").write_text("paper_out")
    posted.clear()
    printer.print_ticket(make_ticket("A002"), Choice("tu-phap"), results.append)
    assert posted.wait(10)
    assert not results[1].ok and results[1].status["state"] == "paper_out"
    printer.close()


class SlowBackend:
    name = "slow"

    def __init__(self) -> None:
        self.played: list[bytes] = []
        self.finished = 0
        self.started = threading.Event()
        self.gate = threading.Event()

    def probe(self) -> None:
        pass

    def play(self, wav: bytes, label: str) -> None:
        self.played.append(wav)
        self.started.set()
        self.gate.wait(5)
        self.finished += 1


def test_speaker_never_blocks_and_newest_prompt_wins():
    backend = SlowBackend()
    speaker = Speaker(backend, synth=lambda text, lang: text.encode())
    speaker.say("one", "vi")
    assert backend.started.wait(5)
    for word in ("two", "three", "four"):
        speaker.say(word, "vi")
    assert backend.finished == 0, "say() waited for the prompt being played"
    backend.gate.set()
    assert speaker.wait_idle(5)
    assert backend.played == [b"one", b"four"]
    speaker.stop()


def test_speaker_survives_a_synthesis_failure():
    def synth(text, lang):
        if text == "bad":
            raise RuntimeError("espeak-ng missing")
        return text.encode()

    backend = SlowBackend()
    backend.gate.set()
    speaker = Speaker(backend, synth=synth)
    speaker.say("bad", "vi")
    assert speaker.wait_idle(5)
    speaker.say("good", "vi")
    assert speaker.wait_idle(5)
    assert backend.played == [b"good"]
    speaker.stop()
    silent = SilentSpeaker()
    silent.say("x", "vi")
    assert silent.spoken == ["x"]


def test_espeak_prompt_is_a_wav():
    pytest.importorskip("shutil").which("espeak-ng") or pytest.skip("espeak-ng not installed")
    from kiosk.voice import espeak_wav

    wav = espeak_wav("Mời chọn thủ tục.", "vi")
    assert wav[:4] == b"RIFF" and len(wav) > 10_000


def test_cli_options():
    parser = argparse.ArgumentParser()
    cli_args.add_arguments(parser, "kiosk")
    ns = parser.parse_args(["--client-id", "kiosk-2", "--windowed", "--portrait", "--no-voice"])
    assert (ns.client_id, ns.windowed, ns.portrait, ns.no_voice) == ("kiosk-2", True, True, True)
    assert parser.parse_args([]).client_id == "kiosk-1"


def test_a_newer_prompt_cuts_the_one_being_played(tmp_path):
    from devices.voice import AplayBackend
    from kiosk.voice import InterruptiblePlayer

    log = tmp_path / "played.txt"
    player = tmp_path / "paplay"  # stands in for the real player: logs, then "plays" for 5 s
    player.write_text(f"#!/bin/sh\necho start >> {log}\nsleep 5\necho end >> {log}\n")
    player.chmod(0o755)
    wav = wav_bytes(FORMAT, silence(FORMAT, 200))
    speaker = Speaker(InterruptiblePlayer(AplayBackend(command=str(player))), synth=lambda text, lang: wav)
    speaker.say("first", "vi")
    assert wait_for(lambda: log.exists() and "start" in log.read_text())
    speaker.say("second", "vi")
    assert wait_for(lambda: log.read_text().count("start") == 2)  # well before the first's 5 s end
    assert log.read_text().split() == ["start", "start"]  # the first never reached its end
    speaker.stop(1.0)
