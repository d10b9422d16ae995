"""Names the counter pad shows, in every language, taken from the site config (no Kivy here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Texts = dict[str, str]  # {"vi": "...", "en": "..."}


def pick(texts: Texts | None, lang: str, fallback: str = "") -> str:
    """The text in ``lang``, else Vietnamese, else ``fallback``."""
    if not texts:
        return fallback
    return texts.get(lang) or texts.get("vi") or fallback


@dataclass(frozen=True)
class ServiceInfo:
    """What the pad needs of a service."""

    id: str
    prefix: str
    pad: int
    name: Texts

    def number(self, digits: str) -> str:
        """Typed digits as this service's ticket number: ``"7"`` → ``"A007"``."""
        return f"{self.prefix}{int(digits):0{self.pad}d}"


@dataclass(frozen=True)
class Catalog:
    """One counter's view of the site: its name, services, officers, and every name it may show."""

    counter_id: str
    counter_name: Texts
    counter_services: tuple[str, ...]
    officers: tuple[str, ...]
    services: dict[str, ServiceInfo]
    procedures: dict[str, Texts] = field(default_factory=dict)
    priorities: dict[str, Texts] = field(default_factory=dict)
    languages: tuple[str, ...] = ("vi", "en")

    @classmethod
    def from_config(cls, cfg: Any, counter_id: str) -> Catalog:
        """From a validated ``SiteConfig``; ``KeyError`` names the valid counters."""
        try:
            counter = cfg.counter(counter_id)
        except KeyError:
            valid = ", ".join(c.id for c in cfg.counters)
            raise KeyError(f"no counter {counter_id!r} in the config; counters: {valid}") from None
        return cls(
            counter_id=counter.id,
            counter_name=dict(counter.name.root),
            counter_services=tuple(counter.services),
            officers=tuple(counter.officers),
            services={s.id: ServiceInfo(s.id, s.prefix, s.numbers.pad, dict(s.name.root)) for s in cfg.services},
            procedures={p.id: dict(p.name.root) for s in cfg.services for p in s.procedures},
            priorities={p.id: dict(p.name.root) for p in cfg.priorities},
            languages=tuple(cfg.site.languages),
        )

    def name(self, lang: str) -> str:
        """The counter's name."""
        return pick(self.counter_name, lang, self.counter_id)

    def service_name(self, service_id: str, lang: str) -> str:
        """A service's name (its id when unknown)."""
        info = self.services.get(service_id)
        return pick(info.name if info else None, lang, service_id)

    def procedure_name(self, procedure_id: str | None, lang: str) -> str:
        """A procedure's name ("" when none)."""
        return pick(self.procedures.get(procedure_id or ""), lang, procedure_id or "")

    def priority_name(self, priority_id: str | None, lang: str) -> str:
        """A priority kind's name ("" for normal citizens)."""
        if not priority_id or priority_id == "normal":
            return ""
        return pick(self.priorities.get(priority_id), lang, priority_id)

    def transfer_targets(self, current_service: str | None) -> list[str]:
        """Services a ticket can be moved to: the counter's own first, then the others."""
        own = [s for s in self.counter_services if s != current_service]
        return own + [s for s in self.services if s not in own and s != current_service]

    def number_for(self, digits: str, service_id: str | None = None) -> str:
        """Typed digits as a ticket number of ``service_id`` (default: the counter's first service)."""
        return self.services[service_id or self.counter_services[0]].number(digits)
