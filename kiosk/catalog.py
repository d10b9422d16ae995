"""What the kiosk offers, read from the site config: languages, services, procedures, priorities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qms.config import SiteConfig
from ui_kit.paths import assets_dir

FALLBACK_ICON = "document"


@dataclass(frozen=True)
class Item:
    """One big button: what it sends (``id``), what it shows (``label``, ``icon``)."""

    id: str
    label: str
    icon: str


def kiosk_languages(config_order: list[str], i18n_root: Path | None = None) -> list[str]:
    """Languages with a ``kiosk.json``: the config's order first, then any other shipped one."""
    root = i18n_root or assets_dir() / "i18n"
    shipped = sorted(p.parent.name for p in root.glob("*/kiosk.json"))
    ordered = [c for c in config_order if c in shipped] + [c for c in shipped if c not in config_order]
    return ordered or ["vi"]


def icon_path(name: str | None) -> str:
    """The PNG of an icon name (a generic document when the config names an unknown icon)."""
    folder = assets_dir() / "icons"
    path = folder / f"{name}.png"
    return str(path if name and path.exists() else folder / f"{FALLBACK_ICON}.png")


class Catalog:
    """Read-only view of the config in one language at a time."""

    def __init__(self, config: SiteConfig, languages: list[str] | None = None) -> None:
        self.config = config
        self.languages = languages or kiosk_languages(list(config.site.languages))
        first = config.default_language
        self.default_lang = first if first in self.languages else self.languages[0]

    def center_name(self, lang: str) -> str:
        """The center's name."""
        return self.config.site.name.text(lang)

    def services(self, lang: str) -> list[Item]:
        """Services in kiosk order."""
        return [Item(s.id, s.name.text(lang), s.icon or FALLBACK_ICON) for s in self.config.services]

    def service_name(self, service_id: str, lang: str) -> str:
        """The name of a service."""
        return self.config.service(service_id).name.text(lang)

    def procedures(self, service_id: str, lang: str) -> list[Item]:
        """Procedures of a service."""
        return [Item(p.id, p.name.text(lang), p.icon or FALLBACK_ICON)
                for p in self.config.service(service_id).procedures]

    def procedure_name(self, procedure_id: str, lang: str) -> str:
        """The name of a procedure ("" for none)."""
        return self.config.procedure(procedure_id)[1].name.text(lang) if procedure_id else ""

    def documents(self, procedure_id: str, lang: str) -> list[str]:
        """Papers to bring for a procedure."""
        if not procedure_id:
            return []
        docs = self.config.procedure(procedure_id)[1].documents
        return list(docs.text(lang)) if docs else []

    def portal_url(self, procedure_id: str) -> str | None:
        """The procedure's portal page, if the config names one."""
        if not procedure_id:
            return None
        url = self.config.procedure(procedure_id)[1].portal_url
        return str(url) if url else None

    def needs_procedure_step(self, service_id: str) -> bool:
        """Ask for the procedure only when there is a choice to make."""
        return len(self.config.service(service_id).procedures) > 1

    def only_procedure(self, service_id: str) -> str:
        """The procedure of a service that has exactly one ("" when it has none)."""
        procs = self.config.service(service_id).procedures
        return procs[0].id if len(procs) == 1 else ""

    def priorities(self, lang: str) -> list[Item]:
        """Priority kinds (without "normal")."""
        return [Item(p.id, p.name.text(lang), p.icon or "person") for p in self.config.priorities]

    def priority_name(self, priority_id: str, lang: str) -> str:
        """The label of a priority kind ("" for normal)."""
        if priority_id in ("", "normal"):
            return ""
        return self.config.priority(priority_id).name.text(lang)

    def counter_names(self, service_id: str, lang: str) -> list[str]:
        """Names of the counters that serve a service, in config order."""
        return [c.name.text(lang) for c in self.config.counters_for_service(service_id)]

    def hours_text(self, service_id: str) -> str:
        """Opening periods of a service ("07:30–11:30, 13:30–17:00"), "" when always open."""
        hours = self.config.service(service_id).hours or self.config.hours
        if hours is None:
            return ""
        return ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in hours.periods)

    @property
    def guidance_service(self) -> str | None:
        """The service of the "Not sure" button, if configured."""
        return self.config.guidance_service
