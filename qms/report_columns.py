"""A group's figures in the CSV's order, shared by the CSV (:mod:`qms.report`) and the workbook
(:mod:`qms.report_xlsx`): the older columns, the five rating counts before the satisfaction score, then
issue 18's columns."""

from __future__ import annotations

from qms.report_model import COLUMNS, EXTRA_COLUMNS, RATING_COLUMNS, Stats, cell_value

STAT_COLUMNS: tuple[tuple[str, str], ...] = (  # (header, a Stats attribute or computed name; ``rating1``..``rating5``)
    *COLUMNS[:-1], *((h, f"rating{n}") for n, h in enumerate(RATING_COLUMNS, start=1)), COLUMNS[-1], *EXTRA_COLUMNS)


def stat_value(row: Stats, attr: str) -> float | int | None:
    """The figure of ``attr`` (a :data:`STAT_COLUMNS` name) as the tables show it; a rating count as is."""
    if attr.startswith("rating"):
        return row.ratings[int(attr[-1]) - 1]
    return cell_value(row, attr)
