"""Opening hours as the kiosk shows them: is anything open now, which services are closed, when we open.

The hub refuses tickets outside hours (``service_closed``); the kiosk says so before the first tap.
Same rule as the queue core: a service's own hours, else the center's; none = always open.
No Kivy here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from qms.config.to_core import to_opening_hours
from queue_core.model import OpeningHours
from ui_kit.site_view import SiteView

from .wording import t

LOOK_AHEAD_DAYS = 40  # past the longest Tết closure


@dataclass(frozen=True)
class Closed:
    """The center is closed now: why, and when it opens next (``None``: no opening in the next week)."""

    reason: str  # "later_today" (before opening or a break), "done" (after today's hours), "day_off", "holiday"
    opens: datetime | None
    holiday: str = ""  # the holiday's name (``hours.holidays``), "" when unnamed or not a holiday


def service_hours(site: SiteView, service_id: str) -> OpeningHours | None:
    """A service's own hours, else the center's (``None``: always open)."""
    cfg = site.config
    return to_opening_hours(cfg.service(service_id).hours or cfg.hours, cfg.hours)


def service_open(site: SiteView, service_id: str, local: datetime) -> bool:
    """True when the hub would give a ticket for the service now (hours enforced)."""
    hours = service_hours(site, service_id)
    return hours is None or hours.is_open(local)


def next_opening(hours: OpeningHours | None, local: datetime) -> datetime | None:
    """The start of the next opening period after ``local`` (``local`` itself when open)."""
    if hours is None or hours.is_open(local):
        return local
    for days in range(LOOK_AHEAD_DAYS):
        day = local.date() + timedelta(days=days)
        if not hours.is_open_day(day):
            continue
        for period in hours.periods:
            start = datetime.combine(day, period.start, tzinfo=local.tzinfo)
            if start > local:
                return start
    return None


def closed_services(site: SiteView, local: datetime) -> list[str]:
    """Services not taking tickets now, in kiosk order."""
    return [s.id for s in site.config.services if not service_open(site, s.id, local)]


def center_closed(site: SiteView, local: datetime) -> Closed | None:
    """``None`` while any service takes tickets; else why the center is closed and when it opens."""
    ids = site.service_ids
    if not ids or any(service_open(site, sid, local) for sid in ids):
        return None
    starts = [s for s in (next_opening(service_hours(site, sid), local) for sid in ids) if s is not None]
    opens = min(starts) if starts else None
    if opens is not None and opens.date() == local.date():
        reason = "later_today"
    else:
        today = [h for h in (service_hours(site, sid) for sid in ids) if h is not None]
        holiday = next((x for x in (h.holiday(local.date()) for h in today) if x is not None), None)
        if holiday is not None:
            return Closed("holiday", opens, holiday.name)
        reason = "done" if any(h.is_open_day(local.date()) for h in today) else "day_off"
    return Closed(reason, opens)


def closed_title(closed: Closed, lang: str) -> str:
    """ "Hôm nay Trung tâm nghỉ lễ: Tết Nguyên đán", "Hôm nay đã hết giờ làm việc" …"""
    if closed.reason == "holiday" and closed.holiday:
        return t("closed.title_holiday_named", lang, name=closed.holiday)
    return t(f"closed.title_{closed.reason}", lang)


def day_text(opens: datetime, today: date, lang: str) -> str:
    """ "hôm nay", "ngày mai, Thứ Ba 24/11" or "Thứ Hai, 30/11"."""
    days = (opens.date() - today).days
    weekday, when = t(f"weekday.{opens.weekday()}", lang), f"{opens:%d/%m}"
    if days <= 0:
        return t("closed.today", lang)
    if days == 1:
        return t("closed.tomorrow", lang, weekday=weekday, date=when)
    return t("closed.on_day", lang, weekday=weekday, date=when)


def spoken_time(opens: datetime, lang: str) -> str:
    """ "7 giờ 30" (espeak reads "07:30" badly)."""
    if opens.minute:
        return t("say.time_hm", lang, h=opens.hour, m=opens.minute)
    return t("say.time_h", lang, h=opens.hour)
