"""The REAL python-escpos Serial class against a fake ESC/POS printer on a pseudo-terminal.

The fake sits behind a symlink (like /dev/serial/by-id/...), records what it receives and
answers DLE EOT 1/2/4 from a switchable state. Unplugging closes the pty; plugging in again
makes a new pty behind the same symlink, and the service must reopen it by path.
"""

from __future__ import annotations

import os
import time

import pytest
from escpos.printer import Serial

from devices.printer import PrinterMonitor, PrinterService, PrinterUnavailable
from devices.printer.sample import reference_ticket
from devices.printer.status import query_status
from tests.fake_printer import FakePrinter


@pytest.fixture
def fake(tmp_path):
    printer = FakePrinter(tmp_path / "ttyPRINTER").plug()
    yield printer
    printer.unplug()


@pytest.fixture
def service(fake):
    svc = PrinterService(f"serial://{fake.link}?baudrate=115200&profile=TM-T20II&timeout=0.2")
    yield svc
    svc.close()


def _wait_state(events: list[dict], state: str, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if events and events[-1]["state"] == state:
            return True
        time.sleep(0.02)
    return False


def test_service_uses_the_real_escpos_serial_class(service):
    service.open()
    assert type(service.printer) is Serial
    assert service.printer.device.is_open


def test_print_ticket_over_the_pty(fake, service):
    assert service.open()["state"] == "ok"
    sent = service.print_ticket(reference_ticket())
    assert fake.wait_for(b"\x1dV")  # the cut arrived
    data = bytes(fake.received)
    assert b"\x1b@" in data and b"A012\n" in data
    assert b"\x1d(k" in data and b"https://dahuoai.example.vn/q/A012" in data  # native QR
    assert b"\x1dv0" in data  # image lines
    assert len(data) >= sent  # plus the status queries
    assert 1 in fake.queries and 4 in fake.queries


def test_query_status_on_the_escpos_object(fake, service):
    service.open()
    assert query_status(service.printer)["state"] == "ok"
    fake.state = "paper_low"
    assert query_status(service.printer)["state"] == "paper_low"
    fake.state = "cover_open"
    got = query_status(service.printer)
    assert got["state"] == "error" and "cover" in got["detail"]


def test_paper_out_is_detected_and_reported(fake, service):
    events: list[dict] = []
    with PrinterMonitor(service, on_status=events.append, interval=0.05):
        assert _wait_state(events, "ok")
        fake.state = "paper_out"
        assert _wait_state(events, "paper_out")
        with pytest.raises(PrinterUnavailable) as err:
            service.print_ticket(reference_ticket())
        assert err.value.status["state"] == "paper_out"
        assert b"A012" not in fake.received  # nothing printed into an empty printer
        fake.state = "ok"
        assert _wait_state(events, "ok")
        assert service.reprint_last() > 0  # the same ticket, after the paper change
    assert fake.wait_for(b"A012\n")
    assert [e["state"] for e in events] == ["ok", "paper_out", "ok"]
    assert all(set(e) == {"kind", "state", "detail", "ts"} and e["kind"] == "printer" for e in events)


def test_no_reply_is_offline_never_paper_ok(fake, service):
    service.open()
    fake.state = "silent"  # printer switched off, adapter still there
    t0 = time.monotonic()
    got = service.status()
    assert got["state"] == "offline" and "no reply" in got["detail"]
    assert time.monotonic() - t0 < 1.0
    fake.state = "ok"
    assert service.status()["state"] == "ok"  # same open port, printer back on


def test_unplug_and_replug_reopens_by_path(fake, service):
    events: list[dict] = []
    with PrinterMonitor(service, on_status=events.append, interval=0.05):
        assert _wait_state(events, "ok")
        old_tty = os.readlink(fake.link)
        fake.unplug()
        assert _wait_state(events, "offline")
        with pytest.raises(PrinterUnavailable):
            service.print_ticket(reference_ticket())
        spare = os.openpty()  # so the new pty gets another /dev/pts number
        try:
            fake.plug()  # a new pty behind the same path
            assert os.readlink(fake.link) != old_tty
            assert _wait_state(events, "ok")
        finally:
            for fd in spare:
                os.close(fd)
        service.reprint_last()
        assert fake.wait_for(b"A012\n")
    assert [e["state"] for e in events] == ["ok", "offline", "ok"]


def test_missing_port_is_reported_at_open(tmp_path):
    svc = PrinterService(f"serial://{tmp_path}/ttyUSB9")
    with pytest.raises(PrinterUnavailable) as err:
        svc.open()
    message = str(err.value)
    assert f"{tmp_path}/ttyUSB9" in message and "qms ports" in message
    assert svc.status()["state"] == "offline"


def test_glyph_ticket_over_the_pty_prints_the_right_letters(fake):
    """mode=glyphs through the real Serial class: the fake printer's picture reads as the ticket."""
    from devices.printer.layout import ticket_ops
    from devices.printer.lowering import lower
    from devices.printer.url import parse_printer_url
    from tests.escpos_paper import paper
    from tests.printer_reading import ops_text, read

    url = f"serial://{fake.link}?baudrate=115200&profile=TM-T20II&timeout=0.2&mode=glyphs"
    with PrinterService(url) as svc:
        assert svc.open()["state"] == "ok"
        sent = svc.print_ticket(reference_ticket())
    assert fake.wait_for(b"\x1dV") and sent <= 2048
    data = bytes(fake.received)
    assert b"\x1b&\x03" in data and b"\x1dv0" not in data
    expected = ops_text(lower(ticket_ops(reference_ticket()), parse_printer_url("dummy://").render))
    assert read(paper(data), expected) == expected
    assert fake.picture().height > 500


def test_glyphs_kept_are_sent_again_after_a_power_cycle(fake):
    """keep=N: the printer goes offline and comes back having forgotten its letters; the next
    ticket starts fresh (ESC @ and every letter), so it prints the right letters."""
    from dataclasses import replace

    from devices.printer.layout import ticket_ops
    from devices.printer.lowering import lower
    from devices.printer.render import render_job
    from devices.printer.url import parse_printer_url
    from tests.escpos_paper import paper
    from tests.printer_reading import ops_text, read

    url = f"serial://{fake.link}?baudrate=115200&profile=TM-T20II&timeout=0.2&mode=glyphs&keep=50"
    other = replace(reference_ticket(), number="B007", counters="Quầy số 5")
    with PrinterService(url) as svc:
        assert svc.open()["state"] == "ok"
        first = svc.print_ticket(reference_ticket())
        second = svc.print_ticket(other)
        assert fake.wait_for(b"B007")
        assert second < first / 2  # the letters stayed on the printer
        fake.unplug()
        assert svc.status()["state"] == "offline"
        fake.plug()  # a new pty: a printer that was switched off and on
        assert svc.status()["state"] == "ok"
        start = len(fake.received)
        svc.print_ticket(reference_ticket())
        deadline = time.monotonic() + 3
        while b"\x1dV" not in fake.received[start:] and time.monotonic() < deadline:
            time.sleep(0.01)
    after = bytes(fake.received[start:])
    after = after[after.index(b"\x1b"):]  # from the job (status queries before it)
    assert after.startswith(b"\x1b@\x1b&")
    expected = ops_text(lower(ticket_ops(reference_ticket()), parse_printer_url("dummy://").render))
    assert read(paper(after), expected) == expected
    cfg = parse_printer_url(url).render  # the two jobs before the power cycle, again: what the printer held
    held = render_job("B007", ticket_ops(other), cfg, dict(render_job("A012", ticket_ops(reference_ticket()), cfg).held)).held
    stale = render_job("A012", ticket_ops(reference_ticket()), cfg, dict(held)).data
    assert read(paper(stale), expected) != expected  # what trusting the old letters would have printed
