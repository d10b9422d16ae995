"""The kiosk's big buttons over the shared site view: languages it speaks, items with icons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ui_kit.paths import assets_dir
from ui_kit.site_view import SiteView

if TYPE_CHECKING:
    from qms.config import SiteConfig

FALLBACK_ICON = "document"


@dataclass(frozen=True)
class Item:
    """One big button: what it sends (``id``), what it shows (``label``, ``icon``)."""

    id: str
    label: str
    icon: str


def kiosk_languages(config_order: list[str], i18n_root: Path | None = None) -> list[str]:
    """Languages of ``site.languages`` that have a ``kiosk.json`` folder, in the config's order.

    A shipped folder the config does not list is not offered: the hub accepts only listed languages.
    """
    root = i18n_root or assets_dir() / "i18n"
    shipped = {p.parent.name for p in root.glob("*/kiosk.json")}
    return [c for c in config_order if c in shipped] or ["vi"]


def kiosk_view(config: SiteConfig, i18n_root: Path | None = None) -> SiteView:
    """The site as the kiosk shows it: in the languages it has texts for."""
    return SiteView(config, kiosk_languages(list(config.site.languages), i18n_root))


def icon_path(name: str | None) -> str:
    """The PNG of an icon name (a generic document when the config names an unknown icon)."""
    folder = assets_dir() / "icons"
    path = folder / f"{name}.png"
    return str(path if name and path.exists() else folder / f"{FALLBACK_ICON}.png")


def service_items(site: SiteView, lang: str) -> list[Item]:
    """Services in kiosk order."""
    return [Item(s.id, site.service_name(s.id, lang), s.icon or FALLBACK_ICON) for s in site.config.services]


def procedure_items(site: SiteView, service_id: str, lang: str) -> list[Item]:
    """Procedures of a service."""
    return [Item(p.id, site.procedure_name(p.id, lang), p.icon or FALLBACK_ICON)
            for p in site.config.service(service_id).procedures]


def priority_items(site: SiteView, lang: str) -> list[Item]:
    """Priority kinds (without "normal")."""
    return [Item(p.id, site.priority_name(p.id, lang), p.icon or "person") for p in site.config.priorities]


def needs_procedure_step(site: SiteView, service_id: str) -> bool:
    """Ask for the procedure only when there is a choice to make."""
    return len(site.config.service(service_id).procedures) > 1


def only_procedure(site: SiteView, service_id: str) -> str:
    """The procedure of a service that has exactly one ("" when it has none)."""
    procs = site.config.service(service_id).procedures
    return procs[0].id if len(procs) == 1 else ""
