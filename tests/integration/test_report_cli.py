"""``qms report`` through ``run(ctx, ns)`` on a real AppContext and store (the commune config)."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from qms import report
from tests.factories import local


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    report.add_arguments(parser)
    return parser.parse_args(argv)


def test_report_prints_tables_and_writes_csv(ctx, tmp_path, capsys):
    t0 = local(2025, 4, 7, 8, 0)
    with ctx.open_store() as store:
        store.run("sign_in", {"counter": "2", "officer": "Trần Thị Bình"}, now=t0)
        ticket = store.run("issue_ticket", {"service": "tu-phap"}, now=t0).response["result"]["ticket"]
        store.run("call_next", {"counter": "2"}, now=t0 + timedelta(minutes=12))
        store.run("complete", {"counter": "2"}, now=t0 + timedelta(minutes=20))
        store.run("rate", {"ticket": ticket["id"], "score": 4}, now=t0 + timedelta(minutes=21))
        store.run("issue_ticket", {"service": "tu-phap"}, now=t0 + timedelta(days=2))  # outside the period
    ns = parse("--from", "07/04/2025", "--to", "2025-04-08", "--csv", str(tmp_path / "r.csv"))
    assert report.run(ctx, ns) == 0
    out = capsys.readouterr().out
    assert "Từ 07/04/2025 đến 08/04/2025" in out and ctx.site.name in out
    row = next(line for line in out.splitlines() if line.startswith("Tư pháp"))
    assert row[26:].split()[:5] == ["1", "1", "0", "12.0", "12.0"]
    assert "Trần Thị Bình" in out and "75.0" in out
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_report_default_period_is_this_month(ctx, capsys):
    ctx.open_store().close()
    assert report.run(ctx, parse()) == 0
    assert "Từ 01/" in capsys.readouterr().out


def test_report_refuses_reversed_dates_and_a_missing_store(ctx, capsys):
    assert report.run(ctx, parse("--from", "2025-04-08", "--to", "2025-04-07")) == 2
    assert "after --to" in capsys.readouterr().err
    assert report.run(ctx, parse("--to", "2025-04-07")) == 1
    err = capsys.readouterr().err
    assert "no store" in err and "--data-dir" in err
    assert not ctx.store_path.exists()  # a report never creates an empty store


def test_bad_date_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        parse("--from", "32/01/2025")
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_keep_goes_with_monthly(ctx, capsys):
    assert report.run(ctx, parse("--keep", "3")) == 2
    assert "--monthly" in capsys.readouterr().err


def test_monthly_needs_a_store_and_a_sane_keep(ctx, capsys, monkeypatch):
    assert report.run(ctx, parse("--monthly")) == 1
    assert "no store" in capsys.readouterr().err
    ctx.open_store().close()
    assert report.run(ctx, parse("--monthly", "--keep", "0")) == 2
    monkeypatch.setenv("QMS_REPORT_KEEP", "many")
    assert report.run(ctx, parse("--monthly")) == 2
    assert "QMS_REPORT_KEEP" in capsys.readouterr().err
    assert not (ctx.data_dir / "reports").exists()
