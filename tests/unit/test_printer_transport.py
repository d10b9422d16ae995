"""The printer's seam: a job is lowered once, and every printer URL opens a `Transport` that sends it."""

from __future__ import annotations

import pytest

from devices.printer import Job, PrinterUnavailable, Transport, open_transport, render_job
from devices.printer.layout import Rule, Text, ticket_ops
from devices.printer.lowering import lower
from devices.printer.render import emit_bytes, render_bytes
from devices.printer.sample import reference_ticket
from devices.printer.transport import EscposTransport, VirtualTransport
from devices.printer.url import parse_printer_url


@pytest.mark.parametrize("options", ["", "mode=text&encoding=tcvn3&codepage=30", "mode=raster", "density=half"])
def test_a_job_holds_lowered_ops_and_their_bytes(options):
    cfg = parse_printer_url(f"dummy://?{options}").render
    ops = ticket_ops(reference_ticket())
    job = render_job("A012", ops, cfg)
    assert not any(isinstance(op, Text | Rule) for op in job.ops)
    assert lower(job.ops, cfg) == list(job.ops)  # lowering is done: a second pass changes nothing
    assert job.data == render_bytes(ops, cfg) == emit_bytes(job.ops, cfg)


def test_virtual_transport_keeps_the_job_and_saves_its_preview(tmp_path):
    spec = parse_printer_url(f"virtual://{tmp_path}")
    transport: Transport = open_transport(spec)
    assert isinstance(transport, VirtualTransport)
    job = render_job("A012", ticket_ops(reference_ticket()), spec.render)
    transport.write(job)
    assert transport.device.jobs == [job.data]
    assert (tmp_path / "0001-A012.bin").read_bytes() == job.data
    assert (tmp_path / "0001-A012.png").stat().st_size > 1000
    (tmp_path / "STATE").write_text("paper_out")
    assert transport.read_status(0.2) == ("paper_out", "virtual printer")
    transport.close()


def test_dummy_transport_receives_the_bytes():
    spec = parse_printer_url("dummy://")
    transport = open_transport(spec)
    assert isinstance(transport, EscposTransport)
    job = Job("x", (), spec.render, b"\x1b@hello")
    transport.write(job)
    assert transport.device.output == b"\x1b@hello"
    assert transport.read_status(0.2)[0] == "ok"


def test_none_and_missing_ports_say_what_to_check():
    with pytest.raises(PrinterUnavailable, match="no printer configured"):
        open_transport(parse_printer_url("none://"))
    with pytest.raises(PrinterUnavailable, match="does not exist"):
        open_transport(parse_printer_url("serial:///dev/does-not-exist"))
