"""The printer URL parser: every form, and errors that say what is wrong."""

from __future__ import annotations

import pytest

from devices.printer.url import parse_printer_url


def test_serial_url():
    s = parse_printer_url("serial:///dev/ttyUSB0?baudrate=115200&flow=xonxoff&profile=TM-T20II")
    assert (s.scheme, s.path, s.baudrate, s.flow, s.profile, s.width) == (
        "serial", "/dev/ttyUSB0", 115200, "xonxoff", "TM-T20II", 576)
    assert s.render.mode == "hybrid" and s.render.qr_native and s.timeout == 0.2


def test_serial_by_id_path_and_rtscts():
    s = parse_printer_url("serial:///dev/serial/by-id/usb-Prolific-if00-port0?flow=rtscts")
    assert s.path == "/dev/serial/by-id/usb-Prolific-if00-port0" and s.flow == "rtscts"
    assert s.baudrate == 9600  # the factory default of most printers


def test_tcp_usb_file_virtual_dummy_none():
    assert parse_printer_url("tcp://10.0.0.9:9100").where == "10.0.0.9:9100"
    assert parse_printer_url("tcp://printer.local").port == 9100
    u = parse_printer_url("usb://04b8:0e15?interface=0&out_ep=0x01")
    assert (u.vid, u.pid, u.usb) == (0x04B8, 0x0E15, {"interface": 0, "out_ep": 1})
    assert parse_printer_url("file:///tmp/out.bin").path == "/tmp/out.bin"
    assert parse_printer_url("virtual:///tmp/tickets").path == "/tmp/tickets"
    assert parse_printer_url("dummy://").scheme == "dummy"
    assert parse_printer_url("none://").scheme == "none"


def test_virtual_without_path_uses_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("QMS_DATA_DIR", str(tmp_path))
    assert parse_printer_url("virtual://").path == str(tmp_path / "tickets")


def test_58mm_profile_and_width():
    s = parse_printer_url("dummy://?profile=POS-5890")
    assert s.width == 384 and s.render.qr_size == 5
    assert not s.render.qr_native  # the profile says no GS ( k; qr=native overrides
    assert parse_printer_url("dummy://?width=58mm").profile == "POS-5890"
    assert parse_printer_url("dummy://?profile=POS-5890&qr=native").render.qr_native


def test_text_mode_code_page_comes_from_the_profile():
    assert parse_printer_url("dummy://?mode=text").render.codepage == 30  # TCVN-3 on Epson
    assert parse_printer_url("dummy://?mode=text&encoding=cp1258").render.codepage == 52
    assert parse_printer_url("dummy://?mode=text&profile=POS-5890").render.encoding == "cp1258"
    assert parse_printer_url("dummy://?mode=text&encoding=tcvn3&codepage=28&profile=POS-5890").render.codepage == 28


def test_defaults_apply_unless_the_url_sets_them():
    defaults = {"width": "58mm", "mode": "text"}
    assert parse_printer_url("dummy://", defaults=defaults).width == 384
    s = parse_printer_url("dummy://?width=80mm&mode=hybrid", defaults=defaults)
    assert s.width == 576 and s.render.mode == "hybrid"
    assert parse_printer_url("tcp://h", defaults={"baudrate": "19200"}).port == 9100  # not for tcp


@pytest.mark.parametrize(("url", "says"), [
    ("serial://dev/ttyUSB0", "three slashes"),
    ("/dev/ttyUSB0", "did you mean serial:///dev/ttyUSB0"),
    ("lpt://x", "unknown scheme"),
    ("serial:///dev/ttyUSB0?baud=9600", "unknown option baud"),
    ("serial:///dev/ttyUSB0?baudrate=fast", "not a number"),
    ("serial:///dev/ttyUSB0?baudrate=12345", "unusual"),
    ("serial:///dev/ttyUSB0?flow=dsrdtr", "dsrdtr is not flow control"),
    ("serial:///dev/ttyUSB0?profile=TM-X1", "unknown profile"),
    ("tcp://:9100", "missing host"),
    ("tcp://h:port", "port"),
    ("usb://4b8:e15", "VID:PID"),
    ("file://", "missing path"),
    ("dummy://?width=100mm", "width"),
    ("dummy://?width=2000", "printable width"),
    ("dummy://?mode=fancy", "mode=fancy"),
    ("dummy://?mode=text&encoding=viscii", "encoding=viscii"),
    ("dummy://?mode=text&encoding=tcvn3&profile=POS-5890", "codepage=N"),
    ("dummy://?qr=maybe", "qr=maybe"),
    ("dummy://?timeout=soon", "timeout"),
    ("dummy://?status=maybe", "status=maybe"),
    ("dummy://?density=low", "density=low"),
])
def test_bad_urls_say_what_is_wrong_with_an_example(url, says):
    with pytest.raises(ValueError) as err:
        parse_printer_url(url)
    message = str(err.value)
    assert says in message and "example:" in message
