"""The site config as the screens show it: every name in every language, ticket numbers, who serves what.

One view for the kiosk, the counter pad and the hall display (no Kivy here). Each app adds its own
thin bits over it: the kiosk's big buttons (:mod:`kiosk.menu`), the pad's counter
(:mod:`counter.desk`), the display's settings (:mod:`queue_display.settings`).

Names never fail: an id the config does not know shows as itself (or as the caller's ``fallback``,
e.g. the name a state message carries), so a display running an older config still shows a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar, overload

from qms.config.reading import DEFAULT_LANG
from qms.config.to_core import to_opening_hours, to_service_def
from queue_core.model import ServiceDef

if TYPE_CHECKING:
    from qms.config import SiteConfig

T = TypeVar("T")


@overload
def pick(texts: Mapping[str, str] | None, lang: str, fallback: str = "") -> str: ...
@overload
def pick(texts: Mapping[str, T] | None, lang: str, fallback: T) -> T: ...
def pick(texts: Mapping[str, object] | None, lang: str, fallback: object = "") -> object:
    """The text in ``lang``, else Vietnamese, else ``fallback``."""
    if not texts:
        return fallback
    return texts.get(lang) or texts.get(DEFAULT_LANG) or fallback


class SiteView:
    """Read-only, screen-facing view of a validated :class:`SiteConfig` or its plain copy
    (:mod:`qms.config.plain`: what the devices hold).

    ``languages`` are those the screen offers (default: the config's); ``default_lang`` is the
    config's first language when offered, else the first offered one.
    """

    def __init__(self, config: SiteConfig, languages: list[str] | tuple[str, ...] | None = None) -> None:
        self.config = config
        self.languages: tuple[str, ...] = tuple(languages or config.site.languages)
        first = config.default_language
        self.default_lang = first if first in self.languages else self.languages[0]
        self._services = {s.id: s for s in config.services}
        self._numbers: dict[str, ServiceDef] = {s.id: to_service_def(s) for s in config.services}
        self._counters = {c.id: c for c in config.counters}
        self._procedures = {p.id: p for s in config.services for p in s.procedures}
        self._priorities = {p.id: p for p in config.priorities}

    # -- ids, in config order ---------------------------------------------------------------------
    @property
    def service_ids(self) -> tuple[str, ...]:
        """Services in config (kiosk) order."""
        return tuple(self._services)

    @property
    def counter_ids(self) -> tuple[str, ...]:
        """Counters in config order."""
        return tuple(self._counters)

    @property
    def guidance_service(self) -> str | None:
        """The service of the "Not sure" button, if configured."""
        return self.config.guidance_service

    # -- names --------------------------------------------------------------------------------------
    def center_name(self, lang: str) -> str:
        """The center's name."""
        return pick(self.config.site.name.root, lang)

    def service_name(self, service_id: str, lang: str, fallback: str = "") -> str:
        """A service's name (``fallback``, else its id, when the config does not know it)."""
        svc = self._services.get(service_id)
        return pick(svc.name.root if svc else None, lang, fallback or service_id)

    def counter_name(self, counter_id: str, lang: str, fallback: str = "") -> str:
        """A counter's name (``fallback``, else its id, when the config does not know it)."""
        counter = self._counters.get(counter_id)
        return pick(counter.name.root if counter else None, lang, fallback or counter_id)

    def procedure_name(self, procedure_id: str | None, lang: str) -> str:
        """A procedure's name ("" for none, its id when unknown)."""
        proc = self._procedures.get(procedure_id or "")
        return pick(proc.name.root if proc else None, lang, procedure_id or "")

    def priority_name(self, priority_id: str | None, lang: str) -> str:
        """A priority kind's name ("" for normal citizens, its id when unknown)."""
        if not priority_id or priority_id == "normal":
            return ""
        prio = self._priorities.get(priority_id)
        return pick(prio.name.root if prio else None, lang, priority_id)

    def counter_names(self, service_id: str, lang: str) -> list[str]:
        """Names of the counters that serve a service, in config order."""
        return [pick(c.name.root, lang) for c in self.config.counters_for_service(service_id)]

    def documents(self, procedure_id: str | None, lang: str) -> list[str]:
        """Papers to bring for a procedure (none for no or an unknown procedure)."""
        proc = self._procedures.get(procedure_id or "")
        return list(pick(proc.documents.root if proc and proc.documents else None, lang, []))

    def portal_url(self, procedure_id: str | None) -> str | None:
        """The procedure's portal page, if the config names one."""
        proc = self._procedures.get(procedure_id or "")
        return str(proc.portal_url) if proc and proc.portal_url else None

    def hours_text(self, service_id: str) -> str:
        """Opening periods of a service ("07:30–11:30, 13:30–17:00"), "" when always open."""
        hours = to_opening_hours(self._services[service_id].hours or self.config.hours)
        return hours.describe() if hours else ""

    # -- ticket numbers -------------------------------------------------------------------------------
    def prefix(self, service_id: str) -> str:
        """A service's ticket letter ("" when unknown)."""
        svc = self._services.get(service_id)
        return svc.prefix if svc else ""

    def number_pad(self, service_id: str) -> int:
        """How many digits a service's numbers have."""
        return self._numbers[service_id].number_pad

    def ticket_number(self, service_id: str, n: int) -> str:
        """The printed number of ticket ``n`` of a service, e.g. ``A007`` (the queue core's format)."""
        return self._numbers[service_id].format_number(n)
