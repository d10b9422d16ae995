"""Reusable field types of the site config: ids, localized text, periods, URLs, numbers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, ConfigDict, PlainSerializer, RootModel, model_validator
from pydantic_core import PydanticCustomError

from .errors import Problems
from .reading import DEFAULT_LANG, TextListReading, TextReading


def fail(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as is (braces are safe)."""
    return PydanticCustomError("qms", "{msg}", {"msg": message})


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x0e``), so a message stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def quoted(value: Any) -> str:
    """A value as the technician wrote it, for messages: ``"abc"``, ``12``, ``true``, ``a list``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        short = value if len(value) <= 60 else value[:57] + "..."
        return '"' + printable(short).replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a mapping (key: value lines)"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


# ---- ids --------------------------------------------------------------------------------------

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str) -> str:
    """``"Tư pháp – Hộ tịch"`` → ``"tu-phap-ho-tich"`` (a suggestion for an id)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")


def _check_id(value: str) -> str:
    if not _ID_RE.match(value) or len(value) > 40:
        hint = slugify(value)[:40].strip("-")
        suggestion = f'; did you mean "{hint}"?' if hint and _ID_RE.match(hint) else ""
        raise fail(
            f"{quoted(value)} is not a valid id: use lowercase letters a-z, digits and single '-' "
            f'(no spaces or accents, at most 40 characters), e.g. "tu-phap"{suggestion}'
        )
    return value


Id = Annotated[str, AfterValidator(_check_id)]
"""An identifier used in MQTT topics and the database: ``[a-z0-9]`` words joined by ``-``."""

_LANG_RE = re.compile(r"^[a-z]{2,3}$")


def _check_lang(value: str) -> str:
    if not _LANG_RE.match(value):
        raise fail(f'{quoted(value)} is not a language code: use 2-3 lowercase letters, e.g. "vi", "en"')
    return value


LangCode = Annotated[str, AfterValidator(_check_lang)]


# ---- whole numbers ------------------------------------------------------------------------------


def _whole(value: Any) -> Any:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise fail(f"expected a whole number, got {quoted(value)}")
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
"""An int that refuses ``true``/``false`` and fractions (pydantic would take them)."""


# ---- localized text -----------------------------------------------------------------------------


def _check_lang_keys(mapping: dict[str, Any], kind: str) -> None:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for key in mapping:
        if not _LANG_RE.match(key):
            problems.append(((key,), f'{quoted(key)} is not a language code: use e.g. "vi" or "en"'))
    if DEFAULT_LANG not in mapping:
        problems.append(
            ((), f'needs a Vietnamese {kind}: add a "vi:" entry (a plain text is taken as Vietnamese)')
        )
    if problems:
        raise Problems(problems)


class Text(TextReading, RootModel[dict[str, str]]):
    """Text in several languages, e.g. ``{vi: "Quầy số 1", en: "Counter 1"}``; ``vi`` is required.

    A plain string is accepted and taken as Vietnamese.
    """

    model_config = ConfigDict(coerce_numbers_to_str=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _plain_string(cls, value: Any) -> Any:
        return (
            {DEFAULT_LANG: value}
            if isinstance(value, str | int | float) and not isinstance(value, bool)
            else value
        )

    @model_validator(mode="after")
    def _required_vi(self) -> Text:
        _check_lang_keys(self.root, "text")
        empty = [((k,), "must not be empty") for k, v in self.root.items() if not v]
        if empty:
            raise Problems(empty)
        return self


class TextList(TextListReading, RootModel[dict[str, list[str]]]):
    """A list of lines per language, e.g. ``{vi: ["CCCD"], en: ["ID card"]}``; ``vi`` is required.

    A plain list is accepted and taken as Vietnamese.
    """

    model_config = ConfigDict(coerce_numbers_to_str=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _plain_list(cls, value: Any) -> Any:
        return {DEFAULT_LANG: value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _required_vi(self) -> TextList:
        _check_lang_keys(self.root, "list")
        return self


# ---- opening hours ------------------------------------------------------------------------------

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_PERIOD_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$")


def _parse_period(value: Any) -> tuple[time, time]:
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(t, time) for t in value):
        return value
    how = 'write it as "HH:MM-HH:MM" in quotes, e.g. "07:30-11:30"'
    m = _PERIOD_RE.match(value) if isinstance(value, str) else None
    if not m:
        raise fail(f"bad period {quoted(value)}: {how}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise fail(f"bad period {quoted(value)}: hours go 00-23 and minutes 00-59; {how}")
    start, end = time(h1, m1), time(h2, m2)
    if end <= start:
        raise fail(f"bad period {quoted(value)}: the end must be later than the start")
    return start, end


def format_period(p: tuple[time, time]) -> str:
    """``(07:30, 11:30)`` → ``"07:30-11:30"``."""
    return f"{p[0]:%H:%M}-{p[1]:%H:%M}"


PeriodSpec = Annotated[tuple[time, time], BeforeValidator(_parse_period), PlainSerializer(format_period)]
"""An opening period written ``"07:30-11:30"``; the end is exclusive."""

_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_HOLIDAY_RE = re.compile(r"^\s*(\S+?)(?:\s*(?:\.\.|–|—)\s*(\S+))?(?:\s+(.*\S))?\s*$")
_DATE_HOW = 'write dates as "YYYY-MM-DD", e.g. "2027-02-05"'


def _parse_date(value: Any, what: str = "date", shown: Any = None) -> date:
    shown = value if shown is None else shown
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    m = _DATE_RE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise fail(f"bad {what} {quoted(shown)}: {_DATE_HOW}")
    try:
        return date(*(int(g) for g in m.groups()))
    except ValueError:
        raise fail(f"bad {what} {quoted(shown)}: no such day; {_DATE_HOW}") from None


def _parse_holiday(value: Any) -> tuple[date, date, str]:
    if isinstance(value, tuple) and len(value) == 3:
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, value, ""
    how = f'{_DATE_HOW}, a range as "2027-02-05..2027-02-10", then the name, e.g. "2027-02-05..2027-02-10 Tết"'
    m = _HOLIDAY_RE.match(value) if isinstance(value, str) else None
    if not m or not _DATE_RE.match(m.group(1)) or (m.group(2) and not _DATE_RE.match(m.group(2))):
        raise fail(f"bad holiday {quoted(value)}: {how}")
    first = _parse_date(m.group(1), "holiday", value)
    last = _parse_date(m.group(2), "holiday", value) if m.group(2) else first
    if last < first:
        raise fail(f"bad holiday {quoted(value)}: the last day is before the first")
    if (last - first).days > 31:
        raise fail(f"bad holiday {quoted(value)}: longer than 31 days; write one line per holiday")
    return first, last, m.group(3) or ""


def format_holiday(h: tuple[date, date, str]) -> str:
    """``(2027-02-05, 2027-02-10, "Tết")`` → ``"2027-02-05..2027-02-10 Tết"``."""
    span = h[0].isoformat() if h[0] == h[1] else f"{h[0].isoformat()}..{h[1].isoformat()}"
    return f"{span} {h[2]}".strip()


HolidaySpec = Annotated[tuple[date, date, str], BeforeValidator(_parse_holiday), PlainSerializer(format_holiday)]
"""Closed dates written ``"2027-02-05..2027-02-10 Tết Nguyên đán"`` (one day: ``"2027-09-02 Quốc khánh"``)."""

DateSpec = Annotated[date, BeforeValidator(_parse_date), PlainSerializer(lambda d: d.isoformat())]
"""A day written ``"2027-02-20"``."""


# ---- URLs and secrets ---------------------------------------------------------------------------


def _check_broker(value: str) -> str:
    if value == "embedded":
        return value
    how = 'use "embedded" or "mqtt://[user:password@]host[:port]", e.g. "mqtt://192.168.1.10:1883"'
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        raise fail(f"bad broker address {quoted(value)}: {how}") from None
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise fail(f"bad broker address {quoted(value)}: {how}")
    return value


BrokerUrl = Annotated[str, AfterValidator(_check_broker)]

PRINTER_SCHEMES = ("serial", "tcp", "usb", "file", "virtual", "none")


def _check_printer(value: str) -> str:
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in PRINTER_SCHEMES:
        raise fail(
            f"bad printer address {quoted(value)}: start it with one of "
            + ", ".join(f"{s}://" for s in PRINTER_SCHEMES)
            + ', e.g. "serial:///dev/ttyUSB0?baudrate=115200" or "virtual://"'
        )
    return value


PrinterUrl = Annotated[str, AfterValidator(_check_printer)]


def _check_web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail(f'bad web address {quoted(value)}: it must start with "https://" or "http://"')
    return value


WebUrl = Annotated[str, AfterValidator(_check_web_url)]


def _check_pin_hash(value: str) -> str:
    from .pin import is_pin_hash

    if not is_pin_hash(value):
        raise fail(
            "not a PIN hash: paste the line printed by "
            '`python -m qms.config.pin NEW_PIN` (it starts with "pbkdf2_sha256$")'
        )
    return value


PinHash = Annotated[str, AfterValidator(_check_pin_hash)]
