"""The pure report computation and its text/CSV output, on hand-made ticket records."""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qms.report import (
    compute_report,
    csv_rows,
    parse_day,
    percentile,
    render_text,
    write_csv,
)
from tests.factories import HCM, local


@dataclass
class T:
    day: date
    service: str
    status: str
    issued_at: datetime
    called_at: datetime | None = None
    finished_at: datetime | None = None
    counter: str | None = None
    officer: str | None = None
    rating: int | None = None


def served(service: str, issued: datetime, wait_min: float, service_min: float, counter: str = "1",
           officer: str | None = "An", rating: int | None = None) -> T:
    called = issued + timedelta(minutes=wait_min)
    return T(issued.astimezone(HCM).date(), service, "done", issued, called,
             called + timedelta(minutes=service_min), counter, officer, rating)


D = date(2025, 3, 3)
TICKETS = [
    served("tu-phap", local(2025, 3, 3, 8, 0), 10, 5, rating=5),
    served("tu-phap", local(2025, 3, 3, 8, 10), 20, 15, rating=3),
    served("chung-thuc", local(2025, 3, 3, 9, 0), 4, 6, counter="3", officer=None, rating=1),
    T(D, "tu-phap", "no_show", local(2025, 3, 3, 9, 5), local(2025, 3, 3, 9, 35), local(2025, 3, 3, 9, 37), "2", "Bình"),
    T(D, "huong-dan", "waiting", local(2025, 3, 3, 16, 59)),
    T(date(2025, 3, 4), "huong-dan", "no_show", local(2025, 3, 4, 7, 0), None, local(2025, 3, 5, 7, 0)),  # expired
]
LABELS = {"service": {"tu-phap": "Tư pháp – Hộ tịch", "chung-thuc": "Chứng thực", "huong-dan": "Hướng dẫn"},
          "counter": {"1": "Quầy số 1", "2": "Quầy số 2", "3": "Quầy số 3"}}


def report():
    return compute_report(TICKETS, D, date(2025, 3, 4), HCM, LABELS, "Xã Đạ Huoai")


def test_percentile_is_nearest_rank():
    assert percentile([], 90) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile(list(range(1, 11)), 91) == 10
    assert percentile([4, 1, 3, 2], 50) == 2
    assert percentile([4, 1, 3, 2], 100) == 4


def test_total_figures_by_hand():
    total = report().total
    assert (total.issued, total.served, total.no_show) == (6, 3, 2)
    # waits: 10, 20, 4 (served) and 30 (no-show, called): mean 16 min, p90 = 4th of 4 = 30 min
    assert total.wait_avg_s == 16 * 60 and total.wait_p90_s == 30 * 60 and total.wait_p50_s == 10 * 60
    # service: 5, 15, 6 (done only): mean 26/3 min, p90 = 15 min
    assert total.service_avg_s == pytest.approx(26 / 3 * 60) and total.service_p90_s == 15 * 60
    assert total.ratings == (1, 0, 1, 0, 1) and total.rated == 3
    assert total.satisfaction == 50.0  # mean 3 → 50


def test_groupings_keys_labels_and_order():
    r = report()
    assert [(s.key, s.label, s.issued) for s in r.sections["service"]] == [
        ("tu-phap", "Tư pháp – Hộ tịch", 3), ("chung-thuc", "Chứng thực", 1), ("huong-dan", "Hướng dẫn", 2)]
    assert [(s.key, s.label) for s in r.sections["counter"]] == [
        ("1", "Quầy số 1"), ("2", "Quầy số 2"), ("3", "Quầy số 3"), ("", "(chưa gọi)")]
    assert [(s.key, s.label) for s in r.sections["officer"]] == [
        ("An", "An"), ("Bình", "Bình"), ("", "(không đăng nhập)")]
    officer_none = r.sections["officer"][-1]
    assert officer_none.issued == 3  # counter 3 with nobody signed in, and the two never called
    assert [(s.key, s.label, s.issued) for s in r.sections["day"]] == [
        ("2025-03-03", "T2 03/03/2025", 5), ("2025-03-04", "T3 04/03/2025", 1)]
    assert [s.key for s in r.sections["hour"]] == ["07", "08", "09", "16"]
    tu_phap = r.sections["service"][0]
    assert tu_phap.satisfaction == 75.0 and tu_phap.service_p90_s == 15 * 60
    assert r.sections["service"][2].wait_avg_s is None and r.sections["service"][2].satisfaction is None


def test_local_hour_and_period_use_the_center_time_zone():
    early = served("tu-phap", datetime(2025, 3, 2, 23, 50, tzinfo=UTC), 40, 5)  # 06:50 on 3 March in Vietnam
    assert early.day == D
    r = compute_report([early], D, D, HCM)
    assert r.sections["hour"][0].key == "06" and r.total.issued == 1
    assert compute_report([early], date(2025, 3, 2), date(2025, 3, 2), HCM).total.issued == 0


def test_empty_period_has_a_zero_total_row():
    r = compute_report([], D, D, HCM)
    assert r.total.issued == 0 and r.total.wait_avg_s is None
    assert all(not rows for name, rows in r.sections.items() if name != "total")
    assert "Tất cả" in render_text(r)


def test_text_table_lines_up_with_vietnamese_names():
    text = render_text(report())
    assert "Xã Đạ Huoai" in text and "Từ 03/03/2025 đến 04/03/2025" in text
    section = text.split("\n\n")[3]  # the hour section
    widths = {len(line) for line in section.splitlines()}
    assert len(widths) == 1, section
    row = next(line for line in text.splitlines() if line.startswith("Tư pháp"))
    assert row[26:].split()[:4] == ["3", "2", "1", "20.0"]  # issued, served, no-show, mean wait of 10, 20, 30


def test_csv_long_format_with_bom(tmp_path):
    path = tmp_path / "r.csv"
    write_csv(report(), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Nhóm theo", "Mã", "Tên", "Cấp số"]
    assert rows[1][:7] == ["Tổng cộng", "", "Tất cả", "6", "3", "2", "16.0"]
    assert rows[1][-9:] == ["1", "0", "1", "0", "1", "50.0", "33.3", "0", "0"]  # ..., 4-5★ %, transfers in, out
    svc = next(r for r in rows if r[1] == "huong-dan")
    assert svc[6] == "" and svc[-4] == "" and svc[-3] == ""  # no wait, no rating: empty cells, not zeros
    assert {r[0] for r in rows[1:]} == {"Tổng cộng", "Theo ngày", "Theo giờ đến", "Theo lĩnh vực", "Theo quầy",
                                        "Theo cán bộ", "Theo thủ tục"}


def test_csv_decimal_comma_for_vietnamese_excel(tmp_path):
    path = tmp_path / "r.csv"
    write_csv(report(), path, decimal_comma=True)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[1][6] == "16,0" and rows[1][-4] == "50,0" and rows[1][-3] == "33,3"
    assert rows == [[c.replace(".", ",") for c in r] for r in csv_rows(report())]


def test_parse_day_accepts_iso_and_vietnamese_order():
    assert parse_day("2025-03-31") == parse_day("31/03/2025") == parse_day("31-03-2025") == date(2025, 3, 31)
    assert parse_day("1/3/2025") == date(2025, 3, 1)
    for bad in ("31/02/2025", "2025-13-01", "hôm qua"):
        with pytest.raises(argparse.ArgumentTypeError, match="YYYY-MM-DD"):
            parse_day(bad)


record = st.builds(
    lambda day, hour, wait, svc, status, counter, rating: served(
        svc, local(2025, 3, day, hour), wait, 5, counter=counter, rating=rating if status == "done" else None)
    if status != "waiting" else T(date(2025, 3, day), svc, "waiting", local(2025, 3, day, hour)),
    st.integers(1, 9), st.integers(6, 17), st.integers(0, 120), st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["done", "waiting"]), st.sampled_from(["1", "2"]), st.none() | st.integers(1, 5))


@settings(max_examples=60, deadline=None)
@given(st.lists(record, max_size=40))
def test_every_grouping_partitions_the_tickets(tickets):
    r = compute_report(tickets, date(2025, 3, 2), date(2025, 3, 8), HCM)
    total = r.total
    for name, rows in r.sections.items():
        assert sum(s.issued for s in rows) == total.issued, name
        assert sum(s.served for s in rows) == total.served, name
        assert sum(s.rated for s in rows) == total.rated, name
        for s in rows:
            assert s.served + s.no_show <= s.issued
            if s.wait_p90_s is not None:
                assert s.wait_p50_s <= s.wait_p90_s
            assert s.satisfaction is None or 0 <= s.satisfaction <= 100
