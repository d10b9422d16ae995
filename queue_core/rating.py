"""Satisfaction rating scale (1..5) with its Vietnamese and English labels."""

from __future__ import annotations

RATING_LABELS: dict[int, dict[str, str]] = {
    1: {"vi": "Rất không hài lòng", "en": "Very dissatisfied"},
    2: {"vi": "Không hài lòng", "en": "Dissatisfied"},
    3: {"vi": "Bình thường", "en": "Neutral"},
    4: {"vi": "Hài lòng", "en": "Satisfied"},
    5: {"vi": "Rất hài lòng", "en": "Very satisfied"},
}


def rating_label(score: int, lang: str = "vi") -> str:
    """The label of a score in ``lang`` (Vietnamese when the language is unknown)."""
    labels = RATING_LABELS[score]
    return labels.get(lang, labels["vi"])


def satisfaction_score(scores: list[int]) -> float | None:
    """0–100: the mean rating mapped linearly (1 → 0, 5 → 100); None without ratings."""
    if not scores:
        return None
    return round((sum(scores) / len(scores) - 1) * 25, 1)
