"""Screen texts from ``assets/i18n/<lang>/*.json`` (one file per app: kiosk, display, counter).

Vietnamese is the fallback for every key. A local language (K'Ho, Jarai, Bahnar...) is added by
dropping a folder ``assets/i18n/<code>/`` with the keys it translates; keys must be unique across
the files of a language (apps prefix them: ``kiosk.``, ``display.``, ``counter.``). Each missing
key is logged once per language when it falls back to Vietnamese.

A value is a string, or ``{"text": "...", "needs_native_check": true}`` for a text a native
speaker has not checked yet. Keys starting with ``_`` are notes, e.g. ``"_meta": {"sample": true}``
(a sample language: the kiosk says so on screen).
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from .paths import assets_dir

log = logging.getLogger(__name__)

DEFAULT_LANG = "vi"


_fallen_back: set[tuple[str, str]] = set()  # (lang, key) already logged


def _text_of(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return None


@cache
def _files(lang: str, folder: str) -> tuple[dict[str, object], ...]:
    found = []
    for path in sorted((Path(folder) / lang).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            log.error("translation file %s is not valid JSON (%s); its texts fall back to Vietnamese", path, exc)
            continue
        if isinstance(data, dict):
            found.append(data)
    return tuple(found)


@cache
def _table(lang: str, folder: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for data in _files(lang, folder):
        for key, value in data.items():
            text = _text_of(value)
            if text and not key.startswith("_"):
                table[key] = text
    return table


def unchecked_keys(lang: str) -> list[str]:
    """Keys of ``lang`` marked ``needs_native_check`` (a native speaker must check them)."""
    folder = str(assets_dir() / "i18n")
    return sorted(k for data in _files(lang, folder) for k, v in data.items()
                  if isinstance(v, dict) and v.get("needs_native_check"))


def language_meta(lang: str) -> dict[str, object]:
    """The ``_meta`` notes of a language folder (``{}`` when none)."""
    meta: dict[str, object] = {}
    for data in _files(lang, str(assets_dir() / "i18n")):
        if isinstance(data.get("_meta"), dict):
            meta.update(data["_meta"])
    return meta


def has_text(key: str, lang: str) -> bool:
    """True when ``lang`` itself has ``key`` (no fallback)."""
    return key in _table(lang, str(assets_dir() / "i18n"))


def available_languages() -> list[str]:
    """Language codes that have translations, Vietnamese first."""
    codes = sorted(p.name for p in (assets_dir() / "i18n").iterdir() if p.is_dir())
    return sorted(codes, key=lambda c: c != DEFAULT_LANG)


def tr(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The text of ``key`` in ``lang`` (else Vietnamese, else the key), with ``{name}`` filled in."""
    folder = str(assets_dir() / "i18n")
    text = _table(lang, folder).get(key)
    if text is None:
        text = _table(DEFAULT_LANG, folder).get(key)
        if text is not None and lang != DEFAULT_LANG and (lang, key) not in _fallen_back:
            _fallen_back.add((lang, key))
            log.warning("no %s text for %r: shown in Vietnamese", lang, key)
    if text is None:
        log.warning("no text for %r in %s or vi", key, lang)
        text = key
    try:
        return text.format(**values) if values else text
    except (KeyError, IndexError, ValueError):
        log.error("text %r in %s has a bad placeholder", key, lang)
        return text
