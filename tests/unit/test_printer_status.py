"""Status decoding, the payload shape, and PrinterService on the virtual printer."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from escpos.escpos import Escpos

from devices.printer import PrinterMonitor, PrinterService, PrinterUnavailable, query_status
from devices.printer.sample import reference_ticket
from devices.printer.status import decode, payload


class ScriptedEscpos(Escpos):
    """An escpos printer whose `_read` returns scripted replies (generic, e.g. USB, path)."""

    def __init__(self, replies: list[bytes]) -> None:
        super().__init__(profile="TM-T20II")
        self.replies, self.sent = list(replies), b""

    def _raw(self, msg: bytes) -> None:
        self.sent += msg

    def _read(self) -> bytes:
        return self.replies.pop(0) if self.replies else b""


@pytest.mark.parametrize(("online", "paper", "cause", "state"), [
    (0x12, 0x12, None, "ok"),
    (0x12, 0x1E, None, "paper_low"),
    (0x1A, 0x7E, None, "paper_out"),
    (0x12, 0x72, None, "paper_out"),
    (0x1A, 0x12, 0x16, "error"),  # cover open
    (0x1A, 0x12, 0x52, "error"),  # error bit
    (0x1A, 0x12, 0x32, "paper_out"),  # stopped at paper end
    (None, None, None, "offline"),
    (0x12, None, None, "offline"),
])
def test_decode(online, paper, cause, state):
    assert decode(online, paper, cause)[0] == state


def test_payload_matches_the_mqtt_contract():
    p = payload("paper_low", "change the roll soon")
    assert set(p) == {"kind", "state", "detail", "ts"} and p["kind"] == "printer"
    assert datetime.fromisoformat(p["ts"]).utcoffset().total_seconds() == 7 * 3600
    with pytest.raises(ValueError):
        payload("jammed", "")


def test_generic_path_reads_replies_and_ignores_garbage():
    p = ScriptedEscpos([b"\x12", b"\xff\x1e"])
    assert query_status(p)["state"] == "paper_low"
    assert p.sent == b"\x10\x04\x01\x10\x04\x04"


def test_no_reply_is_offline_not_paper_ok():
    got = query_status(ScriptedEscpos([]))
    assert got["state"] == "offline" and "no reply" in got["detail"]


def test_a_port_error_is_offline():
    class Broken(ScriptedEscpos):
        def _raw(self, msg: bytes) -> None:
            raise OSError(5, "Input/output error")

    assert query_status(Broken([]))["state"] == "offline"


def test_virtual_service_prints_and_saves_previews(tmp_path):
    with PrinterService(f"virtual://{tmp_path}") as svc:
        assert svc.open()["state"] == "ok"
        ticket = reference_ticket()
        sent = svc.print_ticket(ticket)
        assert sent == len(svc.render(ticket)) and sent < 12_000
        assert svc.printer.jobs == [svc.render(ticket)]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["0001-A012.bin", "0001-A012.png"]
        assert svc.reprint_last() == sent
    with PrinterService(f"virtual://{tmp_path}") as svc:  # numbering continues after a restart
        svc.print_ticket(ticket)
        assert (tmp_path / "0003-A012.png").exists()


def test_paper_out_raises_with_status_and_keeps_the_ticket(tmp_path):
    events: list[dict] = []
    svc = PrinterService(f"virtual://{tmp_path}", on_status=events.append)
    svc.open()
    (tmp_path / "STATE").write_text("paper_out\n")
    with pytest.raises(PrinterUnavailable) as err:
        svc.print_ticket(reference_ticket())
    assert err.value.status["state"] == "paper_out"
    assert not list(tmp_path.glob("*.png"))
    (tmp_path / "STATE").unlink()
    assert svc.reprint_last() > 0  # the ticket was kept
    assert [e["state"] for e in events] == ["ok", "paper_out", "ok"]


def test_listener_hears_changes_only(tmp_path):
    events: list[dict] = []
    svc = PrinterService(f"virtual://{tmp_path}", on_status=events.append)
    for _ in range(3):
        svc.status()
    svc.printer.state = "paper_low"
    svc.status()
    svc.status()
    assert [e["state"] for e in events] == ["ok", "paper_low"]


def test_a_failing_listener_does_not_break_the_service(tmp_path):
    def boom(_: dict) -> None:
        raise RuntimeError("listener bug")

    svc = PrinterService(f"virtual://{tmp_path}", on_status=boom)
    assert svc.status()["state"] == "ok"
    assert svc.print_ticket(reference_ticket()) > 0


def test_reprint_before_any_ticket():
    with pytest.raises(LookupError):
        PrinterService("dummy://").reprint_last()


def test_status_none_skips_queries():
    svc = PrinterService("dummy://?status=none")
    assert svc.status()["detail"].startswith("status queries disabled")


def test_no_printer_configured():
    svc = PrinterService("none://")
    assert svc.status()["state"] == "offline"
    with pytest.raises(PrinterUnavailable, match="none://"):
        svc.print_ticket(reference_ticket())


def test_monitor_polls_in_a_thread_and_stops(tmp_path):
    seen = threading.Event()
    svc = PrinterService(f"virtual://{tmp_path}")
    monitor = PrinterMonitor(svc, on_status=lambda p: seen.set(), interval=0.01).start()
    assert seen.wait(2)
    monitor.stop()
    assert monitor._thread is None


def test_concurrent_prints_and_polls_are_serialised(tmp_path):
    svc = PrinterService(f"virtual://{tmp_path}")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                svc.print_ticket(reference_ticket())
                svc.status()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(svc.printer.jobs) == 12 and len(set(svc.printer.jobs)) == 1
