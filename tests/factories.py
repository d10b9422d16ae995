"""Small site definitions for tests of the pure core and the store (no YAML involved)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from queue_core import CounterDef, OpeningHours, Period, PolicyDef, ServiceDef, SiteDef

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y: int, mo: int, d: int, h: int = 9, mi: int = 0, s: int = 0) -> datetime:
    """An aware datetime in the center's zone."""
    return datetime(y, mo, d, h, mi, s, tzinfo=HCM)


def make_site(policy: str = "strict", ratio_normal: int = 2, ageing_bonus_s: int = 900, end: int = 999,
              wrap: bool = False, quota: int | None = None, enforce_hours: bool = False,
              max_recalls: int = 2) -> SiteDef:
    """Three services (A, B, G) and three counters with overlapping services."""
    services = {
        "tu-phap": ServiceDef("tu-phap", "A", "Tư pháp – Hộ tịch", number_end=end, wrap=wrap,
                              daily_quota=quota, procedures=("khai-sinh", "ket-hon")),
        "chung-thuc": ServiceDef("chung-thuc", "B", "Chứng thực", number_end=end, wrap=wrap,
                                 procedures=("ban-sao",)),
        "huong-dan": ServiceDef("huong-dan", "G", "Hướng dẫn", number_end=end, wrap=wrap),
    }
    counters = {
        "1": CounterDef("1", "Quầy số 1", ("huong-dan", "tu-phap")),
        "2": CounterDef("2", "Quầy số 2", ("tu-phap", "chung-thuc")),
        "3": CounterDef("3", "Quầy số 3", ("chung-thuc",)),
    }
    hours = OpeningHours(frozenset(range(6)), (Period(time(7, 30), time(11, 30)), Period(time(13, 30), time(17))))
    return SiteDef(
        site="test-site", name="Trung tâm thử nghiệm", tz=HCM, services=services, counters=counters,
        policy=PolicyDef(policy, ratio_normal, ageing_bonus_s), max_recalls=max_recalls,
        enforce_hours=enforce_hours, hours=hours,
    )
