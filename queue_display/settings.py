"""What the display needs from the site config: the shared site view, plus the board's own settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ui_kit.site_view import SiteView, pick

if TYPE_CHECKING:
    from qms.config import SiteConfig


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
    """The display's view of the site config: names from ``site``, the rest from ``display:``."""

    site: SiteView
    timezone: str = "Asia/Ho_Chi_Minh"
    notice: Mapping[str, str] | None = None
    history: int = 6
    announce_repeat: int = 2
    announce_mode: str = "digits"  # config: digits | number
    announce_missed_s: float = 60.0  # a fetched (missed) call older than this is shown, not spoken
    announce_policy: str = "smart"  # smart: drop calls no longer current, a backlog said once; fifo: every call

    @classmethod
    def from_config(cls, cfg: SiteConfig) -> DisplaySettings:
        """From a validated ``SiteConfig``."""
        d = cfg.display
        return cls(
            site=SiteView(cfg), timezone=cfg.site.timezone,
            notice=dict(d.notice.root) if d.notice is not None else None, history=int(d.history),
            announce_repeat=int(d.announce_repeat), announce_mode=str(d.announce_mode),
            announce_missed_s=float(d.announce_missed_s),
            announce_policy=str(getattr(d, "announce_policy", "smart")),
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

    def notice_text(self, lang: str) -> str:
        """The scrolling notice in ``lang`` ("" when none)."""
        return pick(self.notice, lang)

    def counter_name(self, counter_id: str, lang: str, fallback: str = "") -> str:
        """The counter's name in ``lang`` (the state payload's name when the config lacks it)."""
        return self.site.counter_name(counter_id, lang, fallback)

    def counter_short(self, counter_id: str, lang: str = "vi") -> str:
        """A short label for tight columns: the counter's number, else its name."""
        name = self.counter_name(counter_id, lang)
        return spoken_counter(counter_id, name) or name
