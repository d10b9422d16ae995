"""Turn a validated :class:`SiteConfig` (or its plain copy, :mod:`.plain`) into the pure core's
:class:`queue_core.model.SiteDef`. No pydantic here."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from queue_core.model import (
    CounterDef,
    CounterStatus,
    Holiday,
    OpeningHours,
    Period,
    PolicyDef,
    ServiceDef,
    SiteDef,
)

from .reading import DEFAULT_LANG, WEEKDAYS

if TYPE_CHECKING:
    from .schema import CenterHoursCfg, OpeningHoursCfg, ServiceCfg, SiteConfig


def to_opening_hours(hours: OpeningHoursCfg | None, center: CenterHoursCfg | None = None) -> OpeningHours | None:
    """Config hours → core hours (weekday 0 = Monday, periods sorted), with the center's holidays and extra
    working days (``center``, else ``hours`` itself when it is the center's)."""
    if hours is None:
        return None
    days = center if center is not None else hours if hasattr(hours, "holidays") else None  # the center's own
    return OpeningHours(
        weekdays=frozenset(WEEKDAYS.index(d) for d in hours.weekdays),
        periods=tuple(Period(s, e) for s, e in sorted(hours.periods)),
        holidays=tuple(Holiday(a, b, name) for a, b, name in days.holidays) if days else (),
        extra_days=frozenset(days.extra_days) if days else frozenset(),
    )


def to_service_def(svc: ServiceCfg, center: CenterHoursCfg | None = None) -> ServiceDef:
    """One service, named in Vietnamese."""
    n = svc.numbers
    return ServiceDef(
        id=svc.id,
        prefix=svc.prefix,
        name=svc.name.text(DEFAULT_LANG),
        number_start=n.start,
        number_end=n.end,
        number_pad=n.pad,
        wrap=n.wrap,
        daily_quota=svc.daily_quota,
        hours=to_opening_hours(svc.hours, center),
        procedures=tuple(p.id for p in svc.procedures),
    )


def to_site_def(cfg: SiteConfig) -> SiteDef:
    """Everything the queue core needs, from a validated config."""
    q = cfg.queue
    return SiteDef(
        site=cfg.site.id,
        name=cfg.site.name.text(DEFAULT_LANG),
        tz=ZoneInfo(cfg.site.timezone),
        services={s.id: to_service_def(s, cfg.hours) for s in cfg.services},
        counters={
            c.id: CounterDef(c.id, c.name.text(DEFAULT_LANG), tuple(c.services), CounterStatus(c.status))
            for c in cfg.counters
        },
        priorities=tuple(p.id for p in cfg.priorities),
        policy=PolicyDef(kind=q.policy, ratio_normal=q.ratio_normal, ageing_bonus_s=q.ageing_bonus_min * 60,
                         preferred_max_wait_s=round(q.preferred_max_wait_min * 60)),
        max_recalls=q.max_recalls,
        default_service_s=max(1, round(q.default_service_min * 60)),
        service_time_window=q.estimate_window,
        service_s={k: max(1, round(m * 60)) for s in cfg.services
                   for k, m in [(s.id, s.service_min), *((p.id, p.service_min) for p in s.procedures)]
                   if m is not None},
        staffed_window_s=round(q.staffed_window_min * 60),
        enforce_hours=cfg.hours.enforce if cfg.hours is not None else False,
        hours=to_opening_hours(cfg.hours),
        languages=tuple(cfg.site.languages),
    )


def display_names(config: SiteConfig) -> dict[str, dict[str, str]]:
    """The Vietnamese names of the config's procedures and priorities, by id (the core's site names its
    services and counters itself): what a report labels beside :class:`SiteDef`, without pydantic."""
    return {"procedure": {p.id: p.name.text("vi") for s in config.services for p in s.procedures},
            "priority": {p.id: p.name.text("vi") for p in config.priorities}}
