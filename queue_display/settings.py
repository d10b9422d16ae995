"""What the display needs from the site config, as plain data (so tests can build it by hand)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

Names = dict[str, str]  # language code -> text; "vi" always present


def _text(value: Any) -> Names:
    root = getattr(value, "root", value)
    return dict(root) if isinstance(root, dict) else {"vi": str(root)}


def pick(names: Names | None, lang: str, fallback: str = "") -> str:
    """The text in ``lang``, else Vietnamese, else ``fallback``."""
    if not names:
        return fallback
    return names.get(lang) or names.get("vi") or fallback


def spoken_counter(counter_id: str, name: str | None = None) -> str | None:
    """What the announcer says for a counter: its id when it is digits, else the number in its name."""
    if counter_id.isdigit():
        return counter_id
    found = re.search(r"\d+", name or "")
    if found:
        return found.group()
    return counter_id if counter_id.isalnum() else None


@dataclass(frozen=True)
class DisplaySettings:
    """The display's view of the site config."""

    site_name: Names = field(default_factory=lambda: {"vi": ""})
    timezone: str = "Asia/Ho_Chi_Minh"
    notice: Names | None = None
    history: int = 6
    announce_repeat: int = 2
    announce_mode: str = "digits"  # config: digits | number
    announce_missed_s: float = 60.0  # a fetched (missed) call older than this is shown, not spoken
    counters: dict[str, Names] = field(default_factory=dict)  # config order
    services: dict[str, Names] = field(default_factory=dict)  # config order
    prefixes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Any) -> DisplaySettings:
        """From a validated ``SiteConfig``."""
        d = cfg.display
        return cls(
            site_name=_text(cfg.site.name), timezone=cfg.site.timezone,
            notice=_text(d.notice) if d.notice is not None else None, history=int(d.history),
            announce_repeat=int(d.announce_repeat), announce_mode=str(d.announce_mode),
            announce_missed_s=float(d.announce_missed_s),
            counters={c.id: _text(c.name) for c in cfg.counters},
            services={s.id: _text(s.name) for s in cfg.services},
            prefixes={s.id: s.prefix for s in cfg.services},
        )

    @property
    def tz(self) -> tzinfo:
        """The center's time zone."""
        return ZoneInfo(self.timezone)

    def now(self) -> datetime:
        """The center's local time."""
        return datetime.now(self.tz)

    @property
    def voice_mode(self) -> str:
        """The announcer's mode for the config's ``announce_mode`` (``number`` reads ``A012`` as "A mười hai")."""
        return "words" if self.announce_mode == "number" else "digits"

    def counter_name(self, counter_id: str, lang: str, fallback: str = "") -> str:
        """The counter's name in ``lang`` (the state payload's name when the config lacks it)."""
        return pick(self.counters.get(counter_id), lang, fallback or counter_id)

    def service_name(self, service_id: str, lang: str, fallback: str = "") -> str:
        """The service's name in ``lang``."""
        return pick(self.services.get(service_id), lang, fallback or service_id)

    def counter_short(self, counter_id: str, lang: str = "vi") -> str:
        """A short label for tight columns: the counter's number, else its name."""
        return spoken_counter(counter_id, self.counter_name(counter_id, lang)) or self.counter_name(counter_id, lang)
