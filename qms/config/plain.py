"""A read-only plain copy of a validated :class:`~qms.config.schema.SiteConfig`, without pydantic.

The devices (kiosk, counter pad, hall display) only read their config. Importing pydantic and building
the models' validators costs a process ~13 MB (issue 15: the kiosk ≤ 150 MB at its first screen), so
the config cache (:mod:`.cache`) keeps this copy and a warm start reads it back without pydantic.

A copy is made only from a config that validated (:func:`plain_copy`), so it holds exactly what the
models hold, under the same names: every section's fields as attributes, texts with ``root`` and
``text()``, the site config's lookups (:mod:`.reading`), periods as ``(time, time)``, holidays as
``(date, date, name)``. It cannot be validated or dumped: a change goes through the models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .reading import SiteConfigReading, TextListReading, TextReading

if TYPE_CHECKING:
    from .schema import SiteConfig


class Plain:
    """A section of the config: its fields as attributes, read-only; equal to a copy with equal fields."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__.update(fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the device's config is read-only ({name}); change the config file")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]  (lists inside)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


class PlainText(TextReading, Plain):
    """A text in several languages."""


class PlainTextList(TextListReading, Plain):
    """Lines in several languages."""


class PlainSiteConfig(SiteConfigReading, Plain):
    """The whole site config."""


@dataclass(frozen=True)
class Origin:
    """Where a device's plain config came from, the version (sha-256) of its file, and how a catalogue of
    the hub (a ``config`` payload) is merged over it: ``merge(payload)`` gives the plain merged config, or
    None when the catalogue does not apply (``qms.config.cache.merged_config``)."""

    sha256: str
    merge: Callable[[dict[str, Any]], SiteConfig | None]


_KINDS = ((SiteConfigReading, PlainSiteConfig), (TextReading, PlainText), (TextListReading, PlainTextList))


def plain_copy(config: SiteConfig) -> SiteConfig:
    """The plain copy of a validated config (a plain copy is returned as it is). Typed as the config it
    copies: it reads the same."""
    if isinstance(config, Plain):
        return config
    from pydantic import BaseModel  # the models exist, so pydantic is loaded already

    def copy(value: Any) -> Any:
        if isinstance(value, BaseModel):
            kind = next((plain for reading, plain in _KINDS if isinstance(value, reading)), Plain)
            return kind({name: copy(getattr(value, name)) for name in type(value).model_fields})
        if isinstance(value, list):
            return [copy(v) for v in value]
        if isinstance(value, tuple):
            return tuple(copy(v) for v in value)
        if isinstance(value, dict):
            return {k: copy(v) for k, v in value.items()}
        return value

    return copy(config)
