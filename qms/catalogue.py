"""The catalogue: the part of the site config that devices show, as the hub publishes it on ``config``.

The hub publishes it retained on ``qms/v1/{site}/config`` after each (re)load of its config file
(docs/protocol.md). A device merges it over its own config (:func:`merge_catalogue`) and redraws: a
procedure added in the web app reaches the kiosk without a restart. Never secrets: no broker URL,
no PIN hash, nothing of ``security``, ``store``, ``clock`` or the printer's address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qms.digest import sha256_hex

if TYPE_CHECKING:
    from qms.config import SiteConfig

SECTIONS = ("site", "hours", "priorities", "services", "counters", "guidance_service")
"""Whole sections of the config a device takes from the catalogue."""
NOTICES = (("display", "notice"), ("printer", "footer"))
"""Single keys of other sections: the display's notice, the line at the bottom of each ticket."""


def config_version(text: str | bytes) -> str:
    """The sha-256 of the config file's bytes: the catalogue's identity."""
    return sha256_hex(text.encode("utf-8") if isinstance(text, str) else text)


def catalogue_of(cfg: SiteConfig, sha256: str, version: int | None = None) -> dict[str, Any]:
    """The retained ``config`` payload for ``cfg`` (``version``: the web app's version number, if known)."""
    data = cfg.model_dump(mode="json")
    catalogue: dict[str, Any] = {key: data[key] for key in SECTIONS}
    for section, key in NOTICES:
        catalogue.setdefault(section, {})[key] = data[section][key]
    return {"sha256": sha256, "version": version, "ts": datetime.now(UTC).isoformat(timespec="seconds"),
            "catalogue": catalogue}


def merge_catalogue(cfg: SiteConfig, payload: Any) -> SiteConfig | None:
    """``cfg`` with the catalogue of a ``config`` payload in place of its own sections.

    None when the payload is not a catalogue of this site or does not validate (the device keeps what
    it has: a device never shows half a config).
    """
    catalogue = payload.get("catalogue") if isinstance(payload, dict) else None
    if not isinstance(catalogue, dict) or not all(key in catalogue for key in SECTIONS):
        return None
    site = catalogue.get("site")
    if not isinstance(site, dict) or site.get("id") != cfg.site.id:
        return None
    data = cfg.model_dump(mode="json")
    data.update({key: catalogue[key] for key in SECTIONS})
    for section, key in NOTICES:
        value = catalogue.get(section)
        if isinstance(value, dict) and key in value:
            data[section] = {**data[section], key: value[key]}
    from qms.config import SiteConfig  # pydantic: only for a catalogue that is not the device's own file's

    try:
        return SiteConfig.model_validate(data)
    except ValueError:
        return None
