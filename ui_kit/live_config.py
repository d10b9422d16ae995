"""Devices follow the hub's retained ``config`` catalogue (docs/protocol.md): a saved change redraws them.

:class:`LiveConfig` subscribes to ``qms/v1/{site}/config`` on a :class:`ui_kit.bridge.UiBus` and, for each
catalogue it has not applied yet (by ``sha256``), merges it over the device's own config
(``qms.catalogue.merge_catalogue``) and hands the result to ``on_config`` on the UI thread. A catalogue
that does not validate, or is of another site, is ignored (logged): the device keeps what it shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from qms.catalogue import merge_catalogue
from qms.config import SiteConfig

from .bridge import UiBus

log = logging.getLogger(__name__)


class LiveConfig:
    """The device's config, kept up to date from the hub's catalogue."""

    def __init__(self, bus: UiBus, config: SiteConfig, on_config: Callable[[SiteConfig], None]) -> None:
        self.base = config
        self.config = config
        self.on_config = on_config
        self.sha256: str | None = None
        self.applied = 0
        bus.subscribe(bus.topics.config, self._received)

    def _received(self, _topic: str, payload: dict[str, Any]) -> None:
        sha = payload.get("sha256")
        if not isinstance(sha, str) or sha == self.sha256:
            return
        merged = merge_catalogue(self.base, payload)
        if merged is None:
            log.warning("config catalogue %.12s… ignored: not a valid catalogue of this site", sha)
            return
        self.sha256 = sha
        if merged == self.config:
            return  # the hub's config is the one this device started with
        self.config = merged
        self.applied += 1
        log.info("config catalogue %.12s… (version %s) applied", sha, payload.get("version"))
        try:
            self.on_config(merged)
        except Exception:
            log.exception("redrawing for the new config failed")
