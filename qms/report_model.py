"""The report's figures: one `Stats` row per group, one `Report` per period; the groupings, how a
group is named and ordered, and the nearest-rank percentile.

Shared by :mod:`qms.report` (from ticket records; text and CSV), :mod:`qms.report_sql` (the same
figures aggregated in the store) and :mod:`qms.report_charts` (the PNG), which all import it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from queue_core import SiteDef

GROUPINGS: dict[str, str] = {  # grouping -> Vietnamese section title, in report order
    "total": "Tổng cộng",
    "day": "Theo ngày",
    "hour": "Theo giờ đến",
    "service": "Theo lĩnh vực",
    "counter": "Theo quầy",
    "officer": "Theo cán bộ",
    "procedure": "Theo thủ tục",
}
DAY_GROUPINGS = tuple(g for g in GROUPINGS if g != "total")
"""The groupings summed up per day; ``total`` is the sum of the ``day`` groups."""
FIGURES = ("issued", "served", "no_show", "waits", "wait_us", "services", "service_us",
           "rated_1", "rated_2", "rated_3", "rated_4", "rated_5", "transferred_in", "transferred_out")
"""A group's counts and sums, in this order (``wait_us``, ``service_us``: sums in microseconds)."""
Figures = tuple[int, ...]


@dataclass(frozen=True)
class DayGroup:
    """One group's legs on one local day: its :data:`FIGURES`, its waits and service times (µs, sorted)."""

    grouping: str
    day: str
    key: str
    figures: Figures
    waits: Sequence[int]
    services: Sequence[int]


NOT_CALLED = "(chưa gọi)"  # counter of a ticket nobody called
NO_OFFICER = "(không đăng nhập)"  # officer of a ticket called while nobody was signed in
NO_PROCEDURE = "(không chọn thủ tục)"  # procedure of a ticket issued without one
WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")

Labels = Mapping[str, Mapping[str, str]]
"""grouping -> {key: display name}, e.g. ``{"service": {"tu-phap": "Tư pháp – Hộ tịch"}}``."""


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
    transferred_in: int = 0  # legs that arrived by transfer ("chuyển đến")
    transferred_out: int = 0  # legs that left by transfer ("chuyển đi")

    @property
    def rated(self) -> int:
        """How many tickets were rated."""
        return sum(self.ratings)

    @property
    def good_share(self) -> float | None:
        """Percent of the ratings that are 4★ or 5★ (the share the province's satisfaction index counts)."""
        return None if not self.rated else (self.ratings[3] + self.ratings[4]) * 100 / self.rated


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


COLUMNS = (  # (CSV/text header, Stats attribute or computed name)
    ("Cấp số", "issued"), ("Đã phục vụ", "served"), ("Vắng mặt", "no_show"),
    ("Chờ TB (phút)", "wait_avg_s"), ("Chờ P90 (phút)", "wait_p90_s"),
    ("Phục vụ TB (phút)", "service_avg_s"), ("Phục vụ P90 (phút)", "service_p90_s"),
    ("Số đánh giá", "rated"), ("Điểm hài lòng (0-100)", "satisfaction"),
)
EXTRA_COLUMNS = (  # issue 18, after the older columns (CSV readers by position keep working)
    ("Hài lòng 4-5★ (%)", "good_share"), ("Chuyển đến", "transferred_in"), ("Chuyển đi", "transferred_out"),
)
RATING_COLUMNS = tuple(f"Đánh giá {n}★" for n in range(1, 6))


def cell_value(row: Stats, attr: str) -> float | int | None:
    """A figure as the tables show it: minutes for times, one decimal for the 4–5★ share."""
    value = getattr(row, attr)
    if attr == "good_share" and value is not None:
        return round(value, 1)
    return minutes(value) if attr.endswith("_s") else value


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes with one decimal."""
    return None if seconds is None else round(seconds / 60, 1)


def nearest_rank(q: float, n: int) -> int:
    """The 1-based rank of the ``q``-th percentile among ``n`` sorted values (nearest rank)."""
    return max(1, math.ceil(q / 100 * n))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``q``% of the values ≤ it."""
    if not values:
        return None
    return sorted(values)[nearest_rank(q, len(values)) - 1]


def default_label(grouping: str, key: str) -> str:
    """A readable name for a group without a configured name."""
    if grouping == "total":
        return "Tất cả"
    if grouping == "day":
        d = date.fromisoformat(key)
        return f"{WEEKDAYS[d.weekday()]} {d:%d/%m/%Y}"
    if grouping == "hour":
        return f"{int(key)}h–{int(key) + 1}h"
    if not key:
        return {"counter": NOT_CALLED, "procedure": NO_PROCEDURE}.get(grouping, NO_OFFICER)
    return key


def section(grouping: str, keys: Iterable[str], labels: Labels, stats: Callable[[str, str], Stats]) -> list[Stats]:
    """One grouping's rows, ``stats(key, label)`` per key: services and counters in the order of ``labels``
    (the config order), then key order (days and hours chronologically); the empty key last."""
    named = labels.get(grouping, {})
    known = list(named)
    order = sorted(keys, key=lambda k: (k == "", known.index(k) if k in known else len(known), k))
    return [stats(k, named.get(k) or default_label(grouping, k)) for k in order]


def site_labels(site: SiteDef, names: Mapping[str, Mapping[str, str]] | None = None,
                former: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, dict[str, str]]:
    """Display names of the site's services and counters, in config order, and of its procedures and
    priorities (``names``: ``CoreConfig.names``, ``qms.config.to_core.display_names``); then the names
    ``former`` config versions gave ids the config no longer has (``qms.config.history.former_names``), so a
    removed service is not reported by its id."""
    labels = {"service": {s.id: s.name for s in site.services.values()},
              "counter": {c.id: c.name for c in site.counters.values()}}
    for grouping, given in (names or {}).items():
        labels[grouping] = dict(given)
    for grouping, earlier in (former or {}).items():
        current = labels.setdefault(grouping, {})
        current.update({key: name for key, name in earlier.items() if key not in current})
    return labels
