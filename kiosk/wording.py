"""Texts the kiosk builds from a ticket: waits in minutes, counters, the number read aloud."""

from __future__ import annotations

from devices.voice.languages import get_language
from devices.voice.sequence import spell
from ui_kit.i18n import tr
from ui_kit.paths import assets_dir


def t(key: str, lang: str, **values: object) -> str:
    """A kiosk text (``kiosk.<key>``) in ``lang``."""
    return tr(f"kiosk.{key}", lang, **values)


def wait_text(seconds: int | None, lang: str) -> str:
    """ "Thời gian chờ dự kiến: khoảng 15 phút" — rounded to whole minutes, hours past 60 min.

    None: the hub has nothing to estimate from yet (no staffed counter): "chưa ước tính được".
    """
    if seconds is None:
        return t("wait.unknown", lang)
    if seconds < 60:
        return t("wait.under_minute", lang)
    minutes = round(seconds / 60)
    if minutes < 60:
        return t("wait.minutes", lang, m=minutes)
    return t("wait.hours", lang, h=minutes // 60, m=minutes % 60)


def ahead_text(ahead: int | None, lang: str) -> str:
    """How many citizens are ahead."""
    return t("ticket.ahead_none", lang) if not ahead else t("ticket.ahead", lang, n=ahead)


def counters_text(names: list[str], lang: str) -> str:
    """ "Quầy số 2 hoặc Quầy số 3" (at most three names, then "…")."""
    shown = names[:3] + (["…"] if len(names) > 3 else [])
    if len(shown) <= 1:
        return "".join(shown)
    return t("counters.join", lang).join([", ".join(shown[:-1]), shown[-1]])


def spoken_number(number: str, lang: str) -> str:
    """The ticket number as espeak-ng should read it: letter and digits one by one."""
    try:
        words = spell(number, get_language(lang if lang in ("vi", "en") else "vi"), mode="digits")
    except ValueError:
        return " ".join(number)
    return ", ".join(words)


def recorded_prompt(key: str, lang: str) -> str | None:
    """A language folder's own recording of a prompt: ``assets/i18n/<lang>/voice/<key>.wav``."""
    path = assets_dir() / "i18n" / lang / "voice" / f"{key}.wav"
    return str(path) if path.is_file() else None
