"""Names from earlier versions of the site config, for ids the current file no longer has.

A service, counter or procedure removed from the config keeps its tickets: the hub still calls a
removed service's waiting citizens (``hub/reload.py``) and a report of a period before the change still
counts them. Without its old definition it would be shown by its id (``chung-thuc``). The web app keeps
every version it saved, and the file as it found it, in ``<data dir>/web/versions/NNNN.yaml``
(``web/versions.py``); :func:`former_names` reads the names back from there, the newest version that
names an id winning. Only the names are read (a YAML parse, no validation): an old version that would
not validate today still names its services.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSIONS_DIR = Path("web") / "versions"
"""Where the web app keeps the config's versions, under the data dir."""
MAX_VERSIONS = 200
"""Versions read at most, newest first (a center saves a few a month)."""
GROUPINGS = ("service", "counter", "procedure")

Names = dict[str, dict[str, str]]
"""``{"service": {id: Vietnamese name}, "counter": {...}, "procedure": {...}}``."""


def vi_text(name: Any) -> str | None:
    """The Vietnamese text of a config name (``{vi: ..., en: ...}`` or a plain string)."""
    if isinstance(name, dict):
        text = name.get("vi") or next((v for v in name.values() if isinstance(v, str) and v), None)
    else:
        text = name if isinstance(name, str) else None
    return text.strip() if isinstance(text, str) and text.strip() else None


def site_name(doc: Any) -> str | None:
    """The center's Vietnamese name in a config document or its catalogue (``site.name``), if any."""
    site = doc.get("site") if isinstance(doc, dict) else None
    return vi_text(site.get("name")) if isinstance(site, dict) else None


def names_in(doc: Any) -> Names:
    """The names one config document gives its services, counters and procedures."""
    found: Names = {g: {} for g in GROUPINGS}
    if not isinstance(doc, dict):
        return found
    for key, grouping in (("services", "service"), ("counters", "counter")):
        for item in doc.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str | int) and (name := vi_text(item.get("name"))):
                found[grouping][str(item["id"])] = name
            if key == "services" and isinstance(item, dict):
                for proc in item.get("procedures") or []:
                    if isinstance(proc, dict) and isinstance(proc.get("id"), str) and (name := vi_text(proc.get("name"))):
                        found["procedure"].setdefault(proc["id"], name)
    return found


def former_names(data_dir: str | Path) -> Names:
    """The names earlier config versions gave each id (newest first wins); empty without versions."""
    folder = Path(data_dir) / VERSIONS_DIR
    found: Names = {g: {} for g in GROUPINGS}
    try:
        paths = sorted((p for p in folder.iterdir() if re.fullmatch(r"\d{4,}\.yaml", p.name)),
                       key=lambda p: int(p.stem), reverse=True)[:MAX_VERSIONS]
    except OSError:
        return found
    if not paths:
        return found
    from ruamel.yaml import YAML  # only with versions to read (~10 ms of imports for every report)

    yaml = YAML(typ="safe")
    for path in paths:
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"))
        except Exception as exc:  # a damaged old version names nothing; the others still count
            log.warning("config version %s not read (%s)", path, exc)
            continue
        for grouping, names in names_in(doc).items():
            for key, name in names.items():
                found[grouping].setdefault(key, name)
    return found
