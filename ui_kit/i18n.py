"""Screen texts from ``assets/i18n/<lang>/*.json`` (one file per app: kiosk, display, counter).

Vietnamese is the fallback for every key. A local language (K'Ho, Jarai, Bahnar...) is added by
dropping a folder ``assets/i18n/<code>/`` with the keys it translates; keys must be unique across
the files of a language (apps prefix them: ``kiosk.``, ``display.``, ``counter.``).
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from .paths import assets_dir

log = logging.getLogger(__name__)

DEFAULT_LANG = "vi"


@cache
def _table(lang: str, folder: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for path in sorted((Path(folder) / lang).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            log.error("translation file %s is not valid JSON (%s); its texts fall back to Vietnamese", path, exc)
            continue
        table.update({k: v for k, v in data.items() if isinstance(v, str)})
    return table


def available_languages() -> list[str]:
    """Language codes that have translations, Vietnamese first."""
    codes = sorted(p.name for p in (assets_dir() / "i18n").iterdir() if p.is_dir())
    return sorted(codes, key=lambda c: c != DEFAULT_LANG)


def tr(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The text of ``key`` in ``lang`` (else Vietnamese, else the key), with ``{name}`` filled in."""
    folder = str(assets_dir() / "i18n")
    text = _table(lang, folder).get(key) or _table(DEFAULT_LANG, folder).get(key)
    if text is None:
        log.warning("no text for %r in %s or vi", key, lang)
        text = key
    try:
        return text.format(**values) if values else text
    except (KeyError, IndexError, ValueError):
        log.error("text %r in %s has a bad placeholder", key, lang)
        return text
