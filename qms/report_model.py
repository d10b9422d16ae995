"""The report's figures: one `Stats` row per group, one `Report` per period.

Shared by :mod:`qms.report` (computation, text and CSV) and :mod:`qms.report_charts` (the PNG),
which both import it; neither imports the other at module level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Stats:
    """The figures of one group (one day, hour, service, counter or officer)."""

    grouping: str
    key: str
    label: str
    issued: int
    served: int
    no_show: int
    wait_avg_s: float | None
    wait_p50_s: float | None
    wait_p90_s: float | None
    service_avg_s: float | None
    service_p90_s: float | None
    ratings: tuple[int, int, int, int, int]
    satisfaction: float | None

    @property
    def rated(self) -> int:
        """How many tickets were rated."""
        return sum(self.ratings)


@dataclass(frozen=True)
class Report:
    """Every grouping's rows for one period."""

    start: date
    end: date
    tz: str
    title: str
    sections: dict[str, list[Stats]]

    @property
    def total(self) -> Stats:
        """The whole period in one row."""
        return self.sections["total"][0]


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes with one decimal."""
    return None if seconds is None else round(seconds / 60, 1)
