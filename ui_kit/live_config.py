"""Devices follow the hub's retained ``config`` catalogue (docs/protocol.md): a saved change redraws them.

:class:`LiveConfig` subscribes to ``qms/v1/{site}/config`` on a :class:`ui_kit.bridge.UiBus` and, for each
catalogue it has not applied yet (by ``sha256``), merges it over the device's own config
(``qms.catalogue.merge_catalogue``) and hands the result, as a plain copy (:mod:`qms.config.plain`), to
``on_config`` on the UI thread. A catalogue that does not validate, or is of another site, is ignored
(logged): the device keeps what it shows. The catalogue of the device's own config file (same sha-256)
is its own config: nothing is validated, so a device that starts from a warm config cache never loads
pydantic unless the hub's config differs from its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qms.catalogue import merge_catalogue
from qms.config.plain import Origin, Plain, plain_copy

from .bridge import UiBus

if TYPE_CHECKING:
    from qms.config import SiteConfig

log = logging.getLogger(__name__)


class LiveConfig:
    """The device's config, kept up to date from the hub's catalogue.

    ``config`` is the device's own (what it shows at start); ``origin`` says which file a plain ``config``
    was read from and how a catalogue is merged over it (without it, ``config`` must be validated: the
    catalogues are merged over it).
    """

    def __init__(self, bus: UiBus, config: SiteConfig, on_config: Callable[[SiteConfig], None], *,
                 origin: Origin | None = None) -> None:
        if origin is None and isinstance(config, Plain):
            raise TypeError("LiveConfig over a plain config needs its origin (how to merge a catalogue over it)")
        self.own = plain_copy(config)
        self.own_sha256 = origin.sha256 if origin is not None else None
        self.merge = origin.merge if origin is not None else lambda payload: _merged(config, payload)
        self.config = self.own
        self.on_config = on_config
        self.sha256: str | None = None
        self.applied = 0
        bus.subscribe(bus.topics.config, self._received)

    def _received(self, _topic: str, payload: dict[str, Any]) -> None:
        sha = payload.get("sha256")
        if not isinstance(sha, str) or sha == self.sha256:
            return
        if sha == self.own_sha256:
            shown = self.own  # the hub runs the device's own file
        else:
            merged = self.merge(payload)
            if merged is None:
                log.warning("config catalogue %.12s… ignored: not a valid catalogue of this site", sha)
                return
            shown = merged
        self.sha256 = sha
        if shown == self.config:
            return  # what this device shows already
        self.config = shown
        self.applied += 1
        log.info("config catalogue %.12s… (version %s) applied", sha, payload.get("version"))
        try:
            self.on_config(shown)
        except Exception:
            log.exception("redrawing for the new config failed")


def _merged(config: SiteConfig, payload: dict[str, Any]) -> SiteConfig | None:
    """``payload``'s catalogue merged over a validated ``config``, as a plain copy (None if it does not apply)."""
    merged = merge_catalogue(config, payload)
    return None if merged is None else plain_copy(merged)
