"""Technician functions: test page, status, ports."""

from __future__ import annotations

from types import SimpleNamespace

from devices.printer import tools
from devices.printer.layout import QR, Encoded, Text
from devices.printer.url import parse_printer_url


def test_test_page_shows_the_sample_in_every_mode():
    ops = tools.test_page_ops("dummy://?profile=TM-T20II")
    encoded = [(op.encoding, op.codepage) for op in ops if isinstance(op, Encoded)]
    assert ("tcvn3", 30) in encoded and ("tcvn3", 31) in encoded and ("cp1258", 52) in encoded
    assert encoded[-1] == ("ascii", 0)
    assert all(op.text == tools.SAMPLE for op in ops if isinstance(op, Encoded))
    assert any(isinstance(op, Text) and op.text == tools.SAMPLE for op in ops)  # the hybrid image
    assert {op.native for op in ops if isinstance(op, QR)} == {True, False}
    labels = [op.text for op in ops if isinstance(op, Text)]
    assert "[2] mode=text&encoding=tcvn3&codepage=30" in labels


def test_candidates_include_the_configured_code_page():
    spec = parse_printer_url("dummy://?mode=text&encoding=cp1258&codepage=27&profile=POS-5890")
    assert ("cp1258", 27) in tools.codepage_candidates(spec)


def test_print_test_page_on_the_virtual_printer(tmp_path):
    result = tools.print_test_page(f"virtual://{tmp_path}")
    assert result["status"]["state"] == "ok" and 1_000 < result["bytes"] < 8_000
    assert (tmp_path / "0001-test-page.png").exists()


def test_printer_status():
    assert tools.printer_status("dummy://")["state"] == "ok"
    assert tools.printer_status("serial:///dev/does-not-exist")["state"] == "offline"


def test_list_ports_adds_by_id_names(monkeypatch, tmp_path):
    dev = tmp_path / "ttyUSB0"
    dev.touch()
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / "usb-Epson_TM-T20II-if00-port0").symlink_to(dev)
    port = SimpleNamespace(device=str(dev), description="TM-T20II", hwid="USB VID:PID=04B8:0E15", vid=0x04B8,
                           pid=0x0E15, serial_number="X1", manufacturer="EPSON")
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: [port])
    monkeypatch.setattr(tools, "BY_ID", by_id)
    (found,) = [p for p in tools.list_ports() if p["device"] == str(dev)]
    assert found["by_id"] == [str(by_id / "usb-Epson_TM-T20II-if00-port0")]
    assert found["vid"] == "04b8" and found["url"] == f"serial://{by_id}/usb-Epson_TM-T20II-if00-port0"
