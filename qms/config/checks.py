"""Checks across sections: unique ids and letters, references between sections, languages."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from difflib import get_close_matches
from typing import Protocol

from pydantic import BaseModel

from .errors import Loc
from .fields import Text, TextList, quoted

Where = Callable[[Loc], str]
"""Describes a location for a message, e.g. ``services[1], line 40``."""


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> Text: ...


class _Service(_Named, Protocol):
    @property
    def prefix(self) -> str: ...
    @property
    def procedures(self) -> Sequence[_Named]: ...


class _Counter(_Named, Protocol):
    @property
    def services(self) -> Sequence[str]: ...


class _Site(Protocol):
    @property
    def languages(self) -> Sequence[str]: ...


class Checked(Protocol):
    """What `cross_check` reads of a ``schema.SiteConfig`` (which calls it while validating).

    A protocol, so that this module needs nothing from ``schema``: the import goes one way.
    """

    @property
    def site(self) -> _Site: ...
    @property
    def services(self) -> Sequence[_Service]: ...
    @property
    def counters(self) -> Sequence[_Counter]: ...
    @property
    def priorities(self) -> Sequence[_Named]: ...
    @property
    def guidance_service(self) -> str | None: ...


def _suggest(value: str, valid: list[str], cutoff: float = 0.6) -> str:
    close = get_close_matches(value, valid, n=1, cutoff=cutoff)
    return f'did you mean "{close[0]}"? ' if close else ""


def _unique(items: list[tuple[Loc, str, str]], what: str, where: Where) -> Iterator[tuple[Loc, str]]:
    """Problems for repeated values; each item is (loc of the value, value, owner label)."""
    first: dict[str, tuple[Loc, str]] = {}
    for loc, value, owner in items:
        if value in first:
            floc, fowner = first[value]
            yield (
                loc,
                (
                    f"{what} {quoted(value)} of {owner} is already used by {fowner} ({where(floc)}); "
                    f"each needs its own {what}"
                ),
            )
        else:
            first[value] = (loc, owner)


def _texts(obj: object, loc: Loc) -> Iterator[tuple[Loc, Text | TextList]]:
    """Every localized text inside a model, with its key path."""
    if isinstance(obj, Text | TextList):
        yield loc, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _texts(getattr(obj, name), (*loc, name))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _texts(item, (*loc, i))


def cross_check(cfg: Checked, where: Where) -> list[tuple[Loc, str]]:
    """Every problem that needs more than one section to see."""
    out: list[tuple[Loc, str]] = []
    svc = [
        (("services", i, "id"), s.id, f"service {quoted(s.name.text())}") for i, s in enumerate(cfg.services)
    ]
    out += _unique(svc, "id", where)
    prefixes = [
        (("services", i, "prefix"), s.prefix, f"service {quoted(s.name.text())}")
        for i, s in enumerate(cfg.services)
    ]
    out += _unique(prefixes, "prefix", where)
    procs = [
        (("services", i, "procedures", j, "id"), p.id, f"procedure {quoted(p.name.text())}")
        for i, s in enumerate(cfg.services)
        for j, p in enumerate(s.procedures)
    ]
    out += _unique(procs, "id", where)
    counters = [
        (("counters", i, "id"), c.id, f"counter {quoted(c.name.text())}") for i, c in enumerate(cfg.counters)
    ]
    out += _unique(counters, "id", where)
    prios = [
        (("priorities", i, "id"), p.id, f"priority {quoted(p.name.text())}")
        for i, p in enumerate(cfg.priorities)
    ]
    out += _unique(prios, "id", where)

    service_ids = list(dict.fromkeys(s.id for s in cfg.services))
    valid = "valid service ids: " + ", ".join(service_ids)
    served: set[str] = set()
    for i, c in enumerate(cfg.counters):
        seen: set[str] = set()
        for j, sid in enumerate(c.services):
            if sid not in service_ids:
                out.append(
                    (
                        ("counters", i, "services", j),
                        f"unknown service {quoted(sid)}; {_suggest(sid, service_ids)}{valid}",
                    )
                )
            elif sid in seen:
                out.append(
                    (("counters", i, "services", j), f"service {quoted(sid)} is listed twice at this counter")
                )
            seen.add(sid)
        served |= seen
    for i, s in enumerate(cfg.services):
        if s.id not in served and service_ids.index(s.id) == i:
            out.append(
                (
                    ("services", i, "id"),
                    f"service {quoted(s.id)} is not called at any counter; add it to a counter's services",
                )
            )
    if cfg.guidance_service is not None and cfg.guidance_service not in service_ids:
        g = cfg.guidance_service
        out.append((("guidance_service",), f"unknown service {quoted(g)}; {_suggest(g, service_ids)}{valid}"))

    langs = cfg.site.languages
    for loc, text in _texts(cfg, ()):
        for key in text.root:
            if key not in langs:
                out.append(
                    (
                        (*loc, key),
                        f"language {quoted(key)} is not in site.languages ({', '.join(langs)}); "
                        f"{_suggest(key, langs, 0.5)}add it there or fix this key",
                    )
                )
    return out
