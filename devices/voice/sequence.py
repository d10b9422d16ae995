"""Pure clip sequences for a call: chime, phrase, ticket, "to counter", counter number."""

from __future__ import annotations

import re

from .languages import Language, get_language
from .pack import CHIME, MODES, VoicePack

#: Silence token placed between repetitions of the spoken part.
PAUSE = "_pause"
_CHUNKS = re.compile(r"[0-9]+|[^\W\d_]")


def spell(text: str, lang: Language, mode: str = "words") -> list[str]:
    """Read a ticket or counter label: letters by name, digit runs as a number or digit by digit.

    Other characters (``-``, spaces, dots) are skipped. A letter without a name raises ValueError.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    tokens: list[str] = []
    for chunk in _CHUNKS.findall(text):
        if chunk.isascii() and chunk.isdigit():
            tokens += [lang.digits[int(d)] for d in chunk] if mode == "digits" else lang.number_words(int(chunk))
        elif chunk.upper() in lang.letters:
            tokens.append(lang.letters[chunk.upper()])
        else:
            raise ValueError(f"no {lang.code!r} name for character {chunk!r} in {text!r}")
    if not tokens:
        raise ValueError(f"nothing to read in {text!r}")
    return tokens


def announcement_tokens(
    number: str,
    counter: str | int | None,
    lang: str | Language | VoicePack,
    mode: str = "words",
    repeat: int = 1,
    *,
    recall: bool = False,
    chime: bool = True,
) -> list[str]:
    """The clip sequence for calling ticket ``number`` to ``counter``.

    ``A012`` to counter ``2`` in Vietnamese, digits mode::

        ["chime", "kính mời công dân có số thứ tự", "a", "không", "một", "hai", "đến quầy số", "hai"]

    Words mode reads ``012`` as ``mười hai``. The counter is read as a number (``"12"`` → ``mười hai``),
    a label like ``"B3"`` is spelled, ``None`` leaves the counter part out. A pack that forces a mode
    (``"digits"``) uses it for both. ``repeat`` speaks the part after the chime that many times, separated by :data:`PAUSE`.
    """
    counter_mode = "words"
    if isinstance(lang, VoicePack):
        mode, counter_mode, language = lang.mode or mode, lang.mode or counter_mode, lang.language
    else:
        language = get_language(lang) if isinstance(lang, str) else lang
    if repeat < 1:
        raise ValueError(f"repeat must be ≥ 1, got {repeat}")
    spoken = [
        *language.phrases["recall" if recall else "call"],
        *spell(number, language, mode),
    ]
    if counter is not None and str(counter).strip():
        spoken += [*language.phrases["to_counter"], *spell(str(counter).strip(), language, counter_mode)]
    tokens = [CHIME] if chime else []
    for i in range(repeat):
        tokens += [PAUSE, *spoken] if i else spoken
    return tokens


def tokens_text(tokens: list[str]) -> str:
    """The spoken words of a sequence as one sentence (chime and pauses dropped)."""
    return " ".join(t for t in tokens if t not in (CHIME, PAUSE))


def group_parts(calls: list[tuple[str, str | int | None, bool]], lang: Language | VoicePack,
                mode: str = "words") -> list[list[str]]:
    """Several calls read as one sentence: ``[opening, item 1, item 2, ...]`` token lists.

    ``calls`` holds ``(number, counter, recall)``. In Vietnamese: "kính mời các số | A007 quầy 1 | gọi lại
    B003 quầy 2" (short on purpose: a backlog must be said quickly). Raises KeyError when the language has no backlog phrases (:data:`~.languages.GROUP_KEYS`).
    """
    counter_mode = "words"
    if isinstance(lang, VoicePack):
        mode, counter_mode, language = lang.mode or mode, lang.mode or counter_mode, lang.language
    else:
        language = lang
    ph = language.phrases
    parts = [list(ph["group"])]
    for number, counter, recall in calls:
        item = [*ph["group_recall" if recall else "group_item"], *spell(number, language, mode)]
        if counter is not None and str(counter).strip():
            item += [*ph["group_counter"], *spell(str(counter).strip(), language, counter_mode)]
        parts.append(item)
    return parts
