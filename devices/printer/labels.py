"""The words printed on the paper ticket, in Vietnamese and English.

The kiosk's screens have their own texts (assets/i18n, read by kiosk/wording.py), including the
on-screen wait line; change both when the wording of a ticket changes.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "number": "Số thứ tự",
        "counters": "Mời đến: {counters}",
        "ahead": "Số người chờ trước Ông/Bà: {n}",
        "wait": "Thời gian chờ dự kiến: khoảng {duration}",
        "wait_short": "Thời gian chờ dự kiến: dưới 1 phút",
        "wait_unknown": "Thời gian chờ dự kiến: chưa ước tính được",
        "minutes": "{m} phút",
        "hours": "{h} giờ {m} phút",
        "documents": "Giấy tờ cần mang:",
        "scan": "Quét mã để theo dõi lượt của Ông/Bà",  # the live tracking page
        "scan_portal": "Tra cứu thủ tục trên Cổng Dịch vụ công",
    },
    "en": {
        "number": "Your number",
        "counters": "Please go to: {counters}",
        "ahead": "People ahead of you: {n}",
        "wait": "Estimated wait: about {duration}",
        "wait_short": "Estimated wait: under 1 min",
        "wait_unknown": "Estimated wait: not known yet",
        "minutes": "{m} min",
        "hours": "{h} h {m} min",
        "documents": "Documents to bring:",
        "scan": "Scan to follow your turn",
        "scan_portal": "Look up the procedure on the National Public Service Portal",
    },
}


def label(lang: str, key: str, **values: object) -> str:
    """One label in `lang` ("vi" or "en"; anything else falls back to "vi"), formatted."""
    table = LABELS.get(lang, LABELS["vi"])
    return table[key].format(**values)


def wait_text(seconds: int | None, lang: str) -> str:
    """The estimated-wait line, e.g. "Thời gian chờ dự kiến: khoảng 15 phút" (None: no estimate yet)."""
    if seconds is None:
        return label(lang, "wait_unknown")
    if seconds < 60:
        return label(lang, "wait_short")
    minutes = round(seconds / 60)
    if minutes < 60:
        duration = label(lang, "minutes", m=minutes)
    else:
        duration = label(lang, "hours", h=minutes // 60, m=minutes % 60)
    return label(lang, "wait", duration=duration)
