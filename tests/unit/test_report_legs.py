"""A ticket's legs (issue 18): each service it went through, with its own wait and service time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from qms.report import compute_report
from qms.report_legs import TRANSFERRED, Transfer, legs
from tests.factories import HCM, local

T0 = local(2025, 3, 3, 8, 0)


@dataclass
class T:
    id: str
    day: date
    service: str
    status: str
    issued_at: datetime
    called_at: datetime | None = None
    finished_at: datetime | None = None
    counter: str | None = None
    officer: str | None = None
    rating: int | None = None
    procedure: str | None = None


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_ticket_without_transfers_is_one_leg():
    t = T("t1", T0.date(), "a", "done", T0, at(5), at(9), "1", "An", 4, "p")
    [leg] = legs(t)
    assert (leg.service, leg.arrived_at, leg.called_at, leg.finished_at, leg.first, leg.transferred_in,
            leg.transferred_out, leg.rating, leg.procedure) == ("a", T0, at(5), at(9), True, False, False, 4, "p")


def test_two_transfers_make_three_legs_each_from_its_arrival():
    t = T("t1", T0.date(), "c", "done", T0, at(40), at(50), "3", "Hà", 5)
    moves = [Transfer("t1", at(10), "a", "1", at(5), "An"), Transfer("t1", at(25), "b", "2", at(20), None)]
    first, second, third = legs(t, moves)
    assert (first.service, first.status, first.arrived_at, first.called_at, first.finished_at, first.counter,
            first.officer, first.rating) == ("a", TRANSFERRED, T0, at(5), at(10), "1", "An", None)
    assert (second.service, second.arrived_at, second.called_at, second.finished_at, second.counter) == (
        "b", at(10), at(20), at(25), "2")
    assert (third.service, third.arrived_at, third.called_at, third.rating) == ("c", at(25), at(40), 5)
    assert [(x.first, x.transferred_in, x.transferred_out) for x in (first, second, third)] == [
        (True, False, True), (False, True, True), (False, True, False)]


def test_a_transferred_ticket_not_called_again_has_no_call_in_its_last_service():
    """The row still holds the first service's call: it must not count as a call after the transfer."""
    t = T("t1", T0.date(), "b", "no_show", T0, at(5), None, None, "An")
    _, last = legs(t, [Transfer("t1", at(10), "a", "1", at(5), "An")])
    assert (last.called_at, last.finished_at, last.counter, last.officer, last.status) == (
        None, None, None, None, "no_show")


def test_compute_report_counts_both_services():
    t = T("t1", T0.date(), "b", "done", T0, at(30), at(40), "2", "Bình", 5)
    report = compute_report([t], T0.date(), T0.date(), HCM, transfers={"t1": [
        Transfer("t1", at(10), "a", "1", at(4), "An")]})
    rows = {r.key: r for r in report.sections["service"]}
    assert (rows["a"].issued, rows["a"].transferred_out, rows["a"].served, rows["a"].wait_avg_s,
            rows["a"].service_avg_s) == (1, 1, 0, 240.0, 360.0)
    assert (rows["b"].issued, rows["b"].transferred_in, rows["b"].served, rows["b"].wait_avg_s,
            rows["b"].service_avg_s, rows["b"].ratings) == (0, 1, 1, 1200.0, 600.0, (0, 0, 0, 0, 1))
    assert (report.total.issued, report.total.served, report.total.wait_avg_s) == (1, 1, 720.0)
    assert {r.key for r in report.sections["officer"]} == {"An", "Bình"}
