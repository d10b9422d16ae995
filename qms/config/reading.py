"""How a config is read, shared by the validated models (:mod:`.schema`) and their plain copy
(:mod:`.plain`): texts in a language, and lookups by id. No pydantic here, and no import of the models
(they import this): a lookup returns the section as the config holds it, a model or its plain copy."""

from __future__ import annotations

from typing import Any

DEFAULT_LANG = "vi"
"""Every text has a Vietnamese version: the fallback of every other language."""
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The config's weekday names, Monday first (the core's weekday 0)."""


class TextReading:
    """A text in several languages (``root``: language → text; ``vi`` is always there)."""

    root: dict[str, str]

    def text(self, lang: str = DEFAULT_LANG) -> str:
        """The text in ``lang``, falling back to Vietnamese."""
        return self.root.get(lang) or self.root[DEFAULT_LANG]

    def __str__(self) -> str:
        return self.text()


class TextListReading:
    """Lines in several languages (``root``: language → lines; ``vi`` is always there)."""

    root: dict[str, list[str]]

    def text(self, lang: str = DEFAULT_LANG) -> list[str]:
        """The lines in ``lang``, falling back to Vietnamese."""
        return self.root.get(lang) or self.root[DEFAULT_LANG]


class SiteConfigReading:
    """Lookups of a site config by id."""

    site: Any
    services: list[Any]
    counters: list[Any]
    priorities: list[Any]

    @property
    def default_language(self) -> str:
        """The kiosk's first language."""
        return self.site.languages[0]

    def service(self, service_id: str) -> Any:
        """The service with this id (KeyError if none)."""
        return _find(self.services, service_id)

    def procedure(self, procedure_id: str) -> tuple[Any, Any]:
        """The procedure with this id and its service (KeyError if none)."""
        for s in self.services:
            for p in s.procedures:
                if p.id == procedure_id:
                    return s, p
        raise KeyError(procedure_id)

    def counter(self, counter_id: str) -> Any:
        """The counter with this id (KeyError if none)."""
        return _find(self.counters, counter_id)

    def counters_for_service(self, service_id: str) -> list[Any]:
        """Counters that call this service, in file order."""
        return [c for c in self.counters if service_id in c.services]

    def priority(self, priority_id: str) -> Any:
        """The priority kind with this id (KeyError if none)."""
        return _find(self.priorities, priority_id)


def _find(items: list[Any], item_id: str) -> Any:
    for item in items:
        if item.id == item_id:
            return item
    raise KeyError(item_id)
