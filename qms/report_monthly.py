"""``qms report --monthly [--keep N]``: last month's report written without anyone asking.

Writes ``<data-dir>/reports/bao-cao-YYYY-MM.xlsx`` and ``.png`` for the previous local month (the
``qms-report.timer`` runs it early each month on the hub board) and deletes the reports of all but the
newest N months (default 24, or ``$QMS_REPORT_KEEP``). Running it again rewrites the same month's files
(written to a temporary name, then renamed: a half-written report never replaces a good one).
"""

from __future__ import annotations

import os
import re
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qms.context import AppContext

DEFAULT_KEEP = 24
NAME = re.compile(r"bao-cao-(\d{4})-(\d{2})\.(xlsx|png)")


def previous_month(today: date) -> tuple[date, date]:
    """The first and last day of the month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def keep_months(option: int | None) -> int:
    """``--keep``, else ``$QMS_REPORT_KEEP``, else 24."""
    if option is not None:
        return option
    text = os.environ.get("QMS_REPORT_KEEP", "").strip()
    if not text:
        return DEFAULT_KEEP
    if not text.isdigit():
        raise ValueError(f"QMS_REPORT_KEEP={text!r} is not a whole number of months to keep (e.g. 24)")
    return int(text)


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete the monthly reports of all but the newest ``keep`` months; return what was deleted."""
    found = [(m[1] + m[2], p) for p in folder.iterdir() if (m := NAME.fullmatch(p.name))]
    months = sorted({month for month, _ in found}, reverse=True)[:keep]
    old = sorted(p for month, p in found if month not in months)
    for path in old:
        path.unlink()
    return old


def run_monthly(ctx: AppContext, keep_option: int | None, today: date | None = None) -> int:
    """Write last month's xlsx and PNG into ``<data-dir>/reports``, then prune; exit status."""
    from qms.config.history import former_names
    from qms.report_charts import render_dashboard
    from qms.report_model import site_labels
    from qms.report_sql import store_report
    from qms.report_xlsx import store_xlsx

    try:
        keep = keep_months(keep_option)
    except ValueError as e:
        print(f"qms: {e}", file=sys.stderr)
        return 2
    if keep < 1:
        print(f"qms: --keep must be at least 1, not {keep}", file=sys.stderr)
        return 2
    if not ctx.store_path.exists():
        print(f"qms: no store at {ctx.store_path}; check --data-dir (or $QMS_DATA_DIR)", file=sys.stderr)
        return 1
    site = ctx.site
    start, end = previous_month(today or datetime.now(site.tz).date())
    folder = ctx.data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"bao-cao-{start:%Y-%m}"
    xlsx, png = stem.with_suffix(".xlsx"), stem.with_suffix(".png")
    with ctx.open_store() as store:
        labels = site_labels(site, ctx.core_config.names, former_names(ctx.data_dir))
        report = store_report(store.connection, start, end, site.tz, labels, site.name)
        store_xlsx(store.connection, report, stem.with_suffix(".tmp.xlsx"), site.tz, labels)
    render_dashboard(report, stem.with_suffix(".tmp.png"))
    stem.with_suffix(".tmp.xlsx").replace(xlsx)
    stem.with_suffix(".tmp.png").replace(png)
    print(f"✓ {start:%m/%Y}: {report.total.issued} phiếu → {xlsx}, {png}")
    for path in prune(folder, keep):
        print(f"  deleted {path.name} (keeping {keep} months)")
    return 0
