"""One counter's place in the site, over the shared site view: its services, officers, typed numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ui_kit.site_view import SiteView

if TYPE_CHECKING:
    from qms.config import SiteConfig


@dataclass(frozen=True)
class Desk:
    """The counter the pad serves: its id and what the config says of it; names come from ``site``."""

    site: SiteView
    counter_id: str
    counter_services: tuple[str, ...]
    officers: tuple[str, ...]

    @classmethod
    def from_config(cls, cfg: SiteConfig, counter_id: str) -> Desk:
        """From a validated ``SiteConfig``; ``KeyError`` names the valid counters."""
        try:
            counter = cfg.counter(counter_id)
        except KeyError:
            valid = ", ".join(c.id for c in cfg.counters)
            raise KeyError(f"no counter {counter_id!r} in the config; counters: {valid}") from None
        return cls(SiteView(cfg), counter.id, tuple(counter.services), tuple(counter.officers))

    def name(self, lang: str) -> str:
        """The counter's name."""
        return self.site.counter_name(self.counter_id, lang)

    def transfer_targets(self, current_service: str | None) -> list[str]:
        """Services a ticket can be moved to: the counter's own first, then the others."""
        own = [s for s in self.counter_services if s != current_service]
        return own + [s for s in self.site.service_ids if s not in own and s != current_service]

    def number_for(self, digits: str, service_id: str | None = None) -> str:
        """Typed digits as a ticket number of ``service_id`` (default: the counter's first service): ``"7"`` → ``"A007"``."""
        return self.site.ticket_number(service_id or self.counter_services[0], int(digits))

    def placeholder(self, service_id: str) -> str:
        """What the pad shows before a digit is typed: ``"A___"``."""
        return self.site.prefix(service_id) + "_" * self.site.number_pad(service_id)
