"""Issue 18 acceptance: a known dataset made through the real ``qms`` CLI at fixed times (libfaketime), then
every figure of the terminal table, the CSV, the xlsx (read back with openpyxl) and the PNG title checked
against values computed by hand below; the xlsx rendered headless by LibreOffice.

The two days (Monday 2 and Tuesday 3 March 2026, local times; counter 1: Nguyễn Văn An, counter 2:
Trần Thị Bình; every call by number, so the engine's calling order does not matter):

==  =======  ==========  ==========================================================================
T   number   service     what happens
==  =======  ==========  ==========================================================================
1   A0001    tu-phap     08:00 issued (khai-sinh), 08:15 called at 1, 08:25 done, rated 4
2   G0001    huong-dan   08:02 issued (ho-tro-dich-vu-cong), 08:10 called at 1, 08:13 transferred to
                         tu-phap; 08:25 called at 2, 08:40 done, rated 3
3   B0001    chung-thuc  08:04 issued, elderly (chung-thuc-ban-sao), 08:10 called at 2, 08:18 done, rated 5
4   A0002    tu-phap     08:20 issued, 08:31 called at 1, 08:32 recalled, 08:34 no-show
5   A0001    tu-phap     day 2 09:00 issued (ket-hon), 09:06 called at 2, 09:18 done, rated 2
6   B0001    chung-thuc  day 2 09:07 issued, never called (still waiting)
7   G0001    huong-dan   day 2 14:00 issued, 14:04 called at 1, 14:08 done, rated 5
==  =======  ==========  ==========================================================================

Legs (minutes): T1 tu-phap wait 15 service 10; T2 huong-dan wait 8 service 3 (chuyển đi), T2 tu-phap wait
12 (from 08:13) service 15 (chuyển đến); T3 wait 6 service 8; T4 wait 11 (the recall does not restart the
wait), no service time; T5 wait 6 service 12; T7 wait 4 service 4. Nearest-rank P90 = the ceil(0.9·n)-th
smallest. Satisfaction = (mean − 1) · 25; 4–5★ share = ratings of 4 or 5 / ratings.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from qms.report import _fit
from testkit.sites import roomy_config
from tests.reliability.test_clock import LIBFAKETIME

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime is missing: apt-get install faketime")
AN, BINH = "Nguyễn Văn An", "Trần Thị Bình"
SHOTS = Path(os.environ["QMS_SHOTS"]) if os.environ.get("QMS_SHOTS") else None


@dataclass(frozen=True)
class F:
    """A row's figures as the tables show them (minutes and scores with one decimal)."""

    issued: int
    served: int
    no_show: int
    wait_avg: float | None
    wait_p90: float | None
    service_avg: float | None
    service_p90: float | None
    ratings: tuple[int, int, int, int, int]
    satisfaction: float | None
    good_share: float | None
    moved_in: int
    moved_out: int

    def cells(self) -> list[float | int | None]:
        """In the CSV's order: issued .. rated, 1★..5★, score, 4–5★ %, in, out."""
        return [self.issued, self.served, self.no_show, self.wait_avg, self.wait_p90, self.service_avg,
                self.service_p90, sum(self.ratings), *self.ratings, self.satisfaction, self.good_share,
                self.moved_in, self.moved_out]


NONE = F(1, 0, 0, None, None, None, None, (0, 0, 0, 0, 0), None, None, 0, 0)  # T6 only: never called
COUNTER_1 = F(4, 2, 1, 9.5, 15.0, 5.7, 10.0, (0, 0, 0, 1, 1), 87.5, 100.0, 0, 1)  # T1, T2a, T4, T7
COUNTER_2 = F(2, 3, 0, 8.0, 12.0, 11.7, 15.0, (0, 1, 1, 0, 1), 58.3, 33.3, 1, 0)  # T2b, T3, T5
EXPECTED: dict[str, dict[str, tuple[str, F]]] = {  # grouping -> key -> (label, figures)
    "total": {"": ("Tất cả", F(7, 5, 1, 8.9, 15.0, 8.7, 15.0, (0, 1, 1, 1, 2), 70.0, 60.0, 1, 1))},
    "day": {
        "2026-03-02": ("T2 02/03/2026", F(4, 3, 1, 10.4, 15.0, 9.0, 15.0, (0, 0, 1, 1, 1), 75.0, 66.7, 1, 1)),
        "2026-03-03": ("T3 03/03/2026", F(3, 2, 0, 5.0, 6.0, 8.0, 12.0, (0, 1, 0, 0, 1), 62.5, 50.0, 0, 0)),
    },
    "hour": {
        "08": ("8h–9h", F(4, 3, 1, 10.4, 15.0, 9.0, 15.0, (0, 0, 1, 1, 1), 75.0, 66.7, 1, 1)),
        "09": ("9h–10h", F(2, 1, 0, 6.0, 6.0, 12.0, 12.0, (0, 1, 0, 0, 0), 25.0, 0.0, 0, 0)),
        "14": ("14h–15h", F(1, 1, 0, 4.0, 4.0, 4.0, 4.0, (0, 0, 0, 0, 1), 100.0, 100.0, 0, 0)),
    },
    "service": {
        "huong-dan": ("Hướng dẫn chung", F(2, 1, 0, 6.0, 8.0, 3.5, 4.0, (0, 0, 0, 0, 1), 100.0, 100.0, 0, 1)),
        "tu-phap": ("Tư pháp – Hộ tịch", F(3, 3, 1, 11.0, 15.0, 12.3, 15.0, (0, 1, 1, 1, 0), 50.0, 33.3, 1, 0)),
        "chung-thuc": ("Chứng thực", F(2, 1, 0, 6.0, 6.0, 8.0, 8.0, (0, 0, 0, 0, 1), 100.0, 100.0, 0, 0)),
    },
    "counter": {"1": ("Quầy số 1", COUNTER_1), "2": ("Quầy số 2", COUNTER_2), "": ("(chưa gọi)", NONE)},
    "officer": {AN: (AN, COUNTER_1), BINH: (BINH, COUNTER_2), "": ("(không đăng nhập)", NONE)},
    "procedure": {
        "ho-tro-dich-vu-cong": ("Hướng dẫn nộp hồ sơ trực tuyến",
                                F(1, 1, 0, 10.0, 12.0, 9.0, 15.0, (0, 0, 1, 0, 0), 50.0, 0.0, 1, 1)),
        "khai-sinh": ("Đăng ký khai sinh", F(1, 1, 0, 15.0, 15.0, 10.0, 10.0, (0, 0, 0, 1, 0), 75.0, 100.0, 0, 0)),
        "ket-hon": ("Đăng ký kết hôn", F(1, 1, 0, 6.0, 6.0, 12.0, 12.0, (0, 1, 0, 0, 0), 25.0, 0.0, 0, 0)),
        "chung-thuc-ban-sao": ("Chứng thực bản sao từ bản chính",
                               F(1, 1, 0, 6.0, 6.0, 8.0, 8.0, (0, 0, 0, 0, 1), 100.0, 100.0, 0, 0)),
        "": ("(không chọn thủ tục)", F(3, 1, 1, 7.5, 11.0, 4.0, 4.0, (0, 0, 0, 0, 1), 100.0, 100.0, 0, 0)),
    },
}
TITLE = ("Trung tâm Phục vụ hành chính công xã Đạ Huoai\n02/03/2026 – 03/03/2026   ·   cấp 7   ·   đã phục vụ 5"
         "   ·   vắng mặt 1   ·   chuyển 1   ·   chờ trung bình 8.9 phút   ·   hài lòng 70.0/100 (4–5★: 60.0%)")


def text(value: float | int | None) -> str:
    return "–" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


class Center:
    """The commune config and a data dir, driven through ``python -m qms.cli`` at frozen local times."""

    def __init__(self, tmp: Path) -> None:
        self.config = roomy_config(tmp / "config")
        self.data = tmp / "data"

    def qms(self, when: str, *args: str) -> str:
        """Run ``qms ARGS`` with the clock stopped at local (UTC+7) ``when`` = ``YYYY-MM-DD HH:MM``."""
        utc = f"{datetime.strptime(when, '%Y-%m-%d %H:%M') - timedelta(hours=7):%Y-%m-%d %H:%M:%S}"
        env = {**os.environ, "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": utc, "TZ": "UTC",
               "FAKETIME_DONT_FAKE_MONOTONIC": "1", "QMS_ENV_FILE": "", "QMS_HEADLESS": "1"}
        done = subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(self.config), "--data-dir",
                               str(self.data), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout


def ticket_id(out: str) -> str:
    return next(line.split('"')[3] for line in out.splitlines() if line.strip().startswith('"id"'))


@pytest.fixture(scope="module")
def center(tmp_path_factory) -> Center:
    c = Center(tmp_path_factory.mktemp("acceptance"))
    d1, d2 = "2026-03-02", "2026-03-03"
    c.qms(f"{d1} 07:55", "counter", "1", "sign-in", AN)
    c.qms(f"{d1} 07:55", "counter", "2", "sign-in", BINH)
    t1 = ticket_id(c.qms(f"{d1} 08:00", "ticket", "issue", "tu-phap", "--procedure", "khai-sinh"))
    t2 = ticket_id(c.qms(f"{d1} 08:02", "ticket", "issue", "huong-dan", "--procedure", "ho-tro-dich-vu-cong"))
    t3 = ticket_id(c.qms(f"{d1} 08:04", "ticket", "issue", "chung-thuc", "--priority", "elderly", "--procedure",
                         "chung-thuc-ban-sao"))
    c.qms(f"{d1} 08:10", "counter", "2", "call", "B0001")
    c.qms(f"{d1} 08:10", "counter", "1", "call", "G0001")
    c.qms(f"{d1} 08:13", "counter", "1", "transfer", "tu-phap")
    c.qms(f"{d1} 08:15", "counter", "1", "call", "A0001")
    c.qms(f"{d1} 08:18", "counter", "2", "complete")
    c.qms(f"{d1} 08:19", "ticket", "rate", t3, "5")
    t4 = ticket_id(c.qms(f"{d1} 08:20", "ticket", "issue", "tu-phap"))
    assert t4
    c.qms(f"{d1} 08:25", "counter", "1", "complete")
    c.qms(f"{d1} 08:25", "counter", "2", "call", "G0001")
    c.qms(f"{d1} 08:26", "ticket", "rate", t1, "4")
    c.qms(f"{d1} 08:31", "counter", "1", "call", "A0002")
    c.qms(f"{d1} 08:32", "counter", "1", "recall")
    c.qms(f"{d1} 08:34", "counter", "1", "no-show")
    c.qms(f"{d1} 08:40", "counter", "2", "complete")
    c.qms(f"{d1} 08:41", "ticket", "rate", t2, "3")
    c.qms(f"{d2} 08:55", "counter", "1", "sign-in", AN)
    c.qms(f"{d2} 08:55", "counter", "2", "sign-in", BINH)
    t5 = ticket_id(c.qms(f"{d2} 09:00", "ticket", "issue", "tu-phap", "--procedure", "ket-hon"))
    c.qms(f"{d2} 09:06", "counter", "2", "call", "A0001")
    c.qms(f"{d2} 09:07", "ticket", "issue", "chung-thuc")
    c.qms(f"{d2} 09:18", "counter", "2", "complete")
    c.qms(f"{d2} 09:19", "ticket", "rate", t5, "2")
    t7 = ticket_id(c.qms(f"{d2} 14:00", "ticket", "issue", "huong-dan"))
    c.qms(f"{d2} 14:04", "counter", "1", "call", "G0001")
    c.qms(f"{d2} 14:08", "counter", "1", "complete")
    c.qms(f"{d2} 14:09", "ticket", "rate", t7, "5")
    return c


@pytest.fixture(scope="module")
def outputs(center, tmp_path_factory) -> tuple[str, Path, Path, Path]:
    out = tmp_path_factory.mktemp("report")
    csv_path, xlsx, png = out / "r.csv", out / "r.xlsx", out / "r.png"
    printed = center.qms("2026-03-03 17:00", "report", "--from", "02/03/2026", "--to", "03/03/2026", "--csv",
                         str(csv_path), "--xlsx", str(xlsx), "--png", str(png))
    return printed, csv_path, xlsx, png


def test_terminal_table(outputs):
    printed = outputs[0]
    sections = {block.splitlines()[0].split("  ")[0].strip(): block.splitlines()[2:]
                for block in printed.split("\n\n")[1:]}
    titles = {"total": "Tổng cộng", "day": "Theo ngày", "hour": "Theo giờ đến", "service": "Theo lĩnh vực",
              "counter": "Theo quầy", "officer": "Theo cán bộ", "procedure": "Theo thủ tục"}
    for grouping, rows in EXPECTED.items():
        lines = sections[titles[grouping]]
        assert len(lines) == len(rows), (grouping, lines)
        for label, f in rows.values():
            line = next(x for x in lines if x.startswith(_fit(label, 26)))
            cells = line[26:].split()
            want = [*f.cells()[:8], f.satisfaction, f.good_share, f.moved_in, f.moved_out]
            assert cells[:-1] == [text(v) for v in want], (grouping, label)
            assert cells[-1] == "·".join(map(str, f.ratings))


def test_csv(outputs):
    rows = list(csv.reader(outputs[1].read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][3:] == ["Cấp số", "Đã phục vụ", "Vắng mặt", "Chờ TB (phút)", "Chờ P90 (phút)",
                           "Phục vụ TB (phút)", "Phục vụ P90 (phút)", "Số đánh giá", "Đánh giá 1★", "Đánh giá 2★",
                           "Đánh giá 3★", "Đánh giá 4★", "Đánh giá 5★", "Điểm hài lòng (0-100)",
                           "Hài lòng 4-5★ (%)", "Chuyển đến", "Chuyển đi"]
    found = {(r[0], r[1]): r for r in rows[1:]}
    titles = {"total": "Tổng cộng", "day": "Theo ngày", "hour": "Theo giờ đến", "service": "Theo lĩnh vực",
              "counter": "Theo quầy", "officer": "Theo cán bộ", "procedure": "Theo thủ tục"}
    assert len(found) == sum(map(len, EXPECTED.values())) == len(rows) - 1
    for grouping, groups in EXPECTED.items():
        for key, (label, f) in groups.items():
            row = found[titles[grouping], key]
            assert row[2] == label
            assert row[3:] == ["" if v is None else text(v) for v in f.cells()], (grouping, key)


def test_xlsx(outputs):
    wb = load_workbook(outputs[2])
    assert wb.sheetnames == ["Tổng hợp", "Theo ngày", "Theo giờ đến", "Theo lĩnh vực", "Theo quầy", "Theo cán bộ",
                             "Theo thủ tục", "Danh sách phiếu"]
    summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    total = EXPECTED["total"][""][1]
    headers = [c.value for c in wb["Theo lĩnh vực"][1]][2:]
    assert [summary[h] for h in headers] == [("–" if v is None else v) for v in total.cells()]
    assert summary["Từ ngày"] == "02/03/2026" and summary["Đến ngày"] == "03/03/2026"
    sheets = {"day": "Theo ngày", "hour": "Theo giờ đến", "service": "Theo lĩnh vực", "counter": "Theo quầy",
              "officer": "Theo cán bộ", "procedure": "Theo thủ tục"}
    for grouping, title in sheets.items():
        ws = wb[title]
        assert ws.freeze_panes == "A2" and ws.column_dimensions["A"].width >= 20
        assert ws["A1"].font.bold and ws["C1"].value == "Cấp số"
        rows = {r[1] or "": r for r in ws.iter_rows(min_row=2, values_only=True)}
        assert set(rows) == set(EXPECTED[grouping]), grouping
        for key, (label, f) in EXPECTED[grouping].items():
            assert rows[key][0] == label
            assert list(rows[key][2:]) == f.cells(), (grouping, key)
        assert ws["F2"].number_format == "0.0" or ws["F2"].value is None  # minutes, one decimal
    ws = wb["Danh sách phiếu"]
    assert ws.freeze_panes == "A2"
    legs = [dict(zip([c.value for c in ws[1]], r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(legs) == 8  # 7 tickets, T2 twice
    g1 = [r for r in legs if r["Số phiếu"] == "G0001" and r["Ngày"].day == 2]
    assert [(r["Lĩnh vực"], r["Chờ (phút)"], r["Phục vụ (phút)"], r["Quầy"], r["Cán bộ"], r["Kết quả"],
             r["Chuyển"], r["Đánh giá (★)"]) for r in g1] == [
        ("Hướng dẫn chung", 8.0, 3.0, "Quầy số 1", AN, "Chuyển đi", "chuyển đi", None),
        ("Tư pháp – Hộ tịch", 12.0, 15.0, "Quầy số 2", BINH, "Đã phục vụ", "chuyển đến từ Hướng dẫn chung", 3)]
    assert g1[1]["Đến lúc"].strftime("%d/%m %H:%M") == "02/03 08:13"
    b1 = next(r for r in legs if r["Số phiếu"] == "B0001" and r["Ngày"].day == 2)
    assert (b1["Ưu tiên"], b1["Thủ tục"], b1["Gọi lúc"].strftime("%H:%M")) == (
        "Người cao tuổi (từ 60 tuổi)", "Chứng thực bản sao từ bản chính", "08:10")
    a2 = next(r for r in legs if r["Số phiếu"] == "A0002")
    assert (a2["Chờ (phút)"], a2["Phục vụ (phút)"], a2["Kết quả"]) == (11.0, None, "Vắng mặt")
    waiting = next(r for r in legs if r["Số phiếu"] == "B0001" and r["Ngày"].day == 3)
    assert (waiting["Gọi lúc"], waiting["Chờ (phút)"], waiting["Kết quả"]) == (None, None, "Đang chờ")


def test_png_title(outputs):
    png = outputs[3]
    with Image.open(png) as image:
        assert image.size == (2200, 1600)
        assert image.text["Title"] == TITLE.replace("\n", " — ")
    if SHOTS:
        shutil.copy(png, SHOTS / "report-acceptance-dashboard.png")


def test_xlsx_renders_in_libreoffice(outputs, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("!!! LibreOffice is not installed: scripts/setup installs libreoffice-calc-nogui")
    profile = tmp_path / "profile"
    done = subprocess.run([office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(tmp_path), str(outputs[2])], capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "r.pdf"
    assert done.returncode == 0 and pdf.exists() and pdf.stat().st_size > 5000, (done.stdout, done.stderr)
    assert "Error" not in done.stderr, done.stderr
    pdftotext, pdftoppm = shutil.which("pdftotext"), shutil.which("pdftoppm")
    if pdftotext is None or pdftoppm is None:
        pytest.skip("!!! poppler-utils is not installed: scripts/setup installs it")
    words = subprocess.run([pdftotext, "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert "Điểm hài lòng (0-100)" in words and "Đạ Huoai" in words and "70.0" in words
    subprocess.run([pdftoppm, "-f", "1", "-l", "1", "-r", "90", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page1")], check=True)
    with Image.open(tmp_path / "page1.png") as page:
        assert page.size[0] > 500
    if SHOTS:
        shutil.copy(tmp_path / "page1.png", SHOTS / "report-xlsx.png")


def test_monthly_writes_last_month_and_keeps_n(center):
    reports = center.data / "reports"
    reports.mkdir(exist_ok=True)
    for old in ("bao-cao-2025-12.xlsx", "bao-cao-2025-12.png", "bao-cao-2026-01.xlsx", "notes.txt"):
        (reports / old).write_text("old")
    out = center.qms("2026-04-01 06:00", "report", "--monthly", "--keep", "2")
    assert "03/2026: 7 phiếu" in out and "bao-cao-2025-12.xlsx" in out
    assert sorted(p.name for p in reports.iterdir()) == [
        "bao-cao-2026-01.xlsx", "bao-cao-2026-03.png", "bao-cao-2026-03.xlsx", "notes.txt"]
    wb = load_workbook(reports / "bao-cao-2026-03.xlsx")
    summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert (summary["Từ ngày"], summary["Đến ngày"], summary["Cấp số"], summary["Chờ TB (phút)"]) == (
        "01/03/2026", "31/03/2026", 7, 8.9)
    with Image.open(reports / "bao-cao-2026-03.png") as image:
        assert "chờ trung bình 8.9 phút" in image.text["Title"]
