"""The dossier code (mã hồ sơ) in ``qms report``: the ratings CSV and the xlsx ticket sheet (real store)."""

from __future__ import annotations

import argparse
import csv
import sqlite3
from datetime import timedelta

from openpyxl import load_workbook

from hub.schema import SCHEMA_VERSION
from qms import report
from qms.report_xlsx import TICKET_COLUMNS, TICKETS_SHEET
from tests.factories import local

T0 = local(2025, 4, 7, 8, 0)
DOSSIER = "000.00.25.H37-250407-0001"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    report.add_arguments(parser)
    return parser.parse_args(argv)


def day_of_ratings(ctx) -> list[str]:
    """Two served and rated tickets at counter 2, the first with a dossier code; one no-show."""
    ids = []
    with ctx.open_store() as store:
        store.run("sign_in", {"counter": "2", "officer": "Trần Thị Bình"}, now=T0)
        for _ in range(3):
            ids.append(store.run("issue_ticket", {"service": "tu-phap"}, now=T0).response["result"]["ticket"]["id"])
        store.run("call_next", {"counter": "2"}, now=T0 + timedelta(minutes=5))
        answer = store.run("set_dossier", {"counter": "2", "dossier": DOSSIER}, now=T0 + timedelta(minutes=6))
        assert answer.response["ok"], answer.response
        assert [e["type"] for e in answer.events] == ["dossier_set"] and answer.events[0]["dossier"] == DOSSIER
        store.run("complete", {"counter": "2"}, now=T0 + timedelta(minutes=15))
        store.run("rate", {"ticket": ids[0], "score": 5}, now=T0 + timedelta(minutes=16))
        store.run("call_next", {"counter": "2"}, now=T0 + timedelta(minutes=17))
        store.run("complete", {"counter": "2"}, now=T0 + timedelta(minutes=25))
        store.run("rate", {"ticket": ids[1], "score": 3}, now=T0 + timedelta(minutes=26))
        store.run("call_next", {"counter": "2"}, now=T0 + timedelta(minutes=27))
        store.run("no_show", {"counter": "2"}, now=T0 + timedelta(minutes=28))
    return ids


def test_the_store_keeps_the_code_in_its_own_column(ctx):
    ids = day_of_ratings(ctx)
    conn = sqlite3.connect(ctx.store_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 5
    assert conn.execute("SELECT dossier FROM tickets WHERE id = ?", (ids[0],)).fetchone() == (DOSSIER,)
    conn.close()
    with ctx.open_store() as store:  # read back into the core's Ticket
        ticket = store.ticket(ids[0])
        assert ticket is not None and ticket.dossier == DOSSIER
        refused = store.run("set_dossier", {"counter": "2", "ticket": ids[1], "dossier": "HS 01"}).response
        assert refused["error"]["code"] == "invalid_dossier"
        ticket = store.ticket(ids[1])
        assert ticket is not None and ticket.dossier is None


def test_ratings_csv_has_one_row_per_rating_with_its_dossier(ctx, tmp_path, capsys):
    ids = day_of_ratings(ctx)
    out = tmp_path / "ratings.csv"
    assert report.run(ctx, parse("--from", "2025-04-07", "--to", "2025-04-07", "--ratings-csv", str(out))) == 0
    assert "mã hồ sơ" in capsys.readouterr().out
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["ticket"] for r in rows] == ids[:2]  # the no-show is not rated: not listed
    assert [(r["number"], r["rating"], r["dossier"]) for r in rows] == [("A001", "5", DOSSIER), ("A002", "3", "")]
    assert rows[0]["officer"] == "Trần Thị Bình" and rows[0]["counter"] == "2" and rows[0]["day"] == "2025-04-07"
    assert rows[0]["finished_at"] == "2025-04-07T08:15:00+07:00"


def test_xlsx_ticket_sheet_has_the_dossier_column(ctx, tmp_path):
    day_of_ratings(ctx)
    path = tmp_path / "r.xlsx"
    assert report.run(ctx, parse("--from", "2025-04-07", "--to", "2025-04-07", "--xlsx", str(path))) == 0
    sheet = load_workbook(path)[TICKETS_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "Mã hồ sơ" and len(rows[0]) == len(TICKET_COLUMNS)
    by_number = {r[0]: r for r in rows[1:]}
    assert by_number["A001"][-1] == DOSSIER and by_number["A001"][-2] == 5
    assert by_number["A002"][-1] in ("", None) and by_number["A003"][-1] in ("", None)
