"""Built-in reading rules per language: numbers, digits, letter names and fixed phrases.

A voice pack (``pack.json``) names one of these as its ``rules`` and may override the letter
names, digit names and phrases, so a recorded pack for another language needs no code change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from . import en_numbers, vi_numbers

#: Phrase keys every language defines; each phrase is a list of tokens.
PHRASE_KEYS: tuple[str, ...] = ("call", "recall", "to_counter")
#: Optional phrases for reading a backlog in one sentence ("Kính mời các số: A007 quầy 1, gọi lại B003 quầy 2"):
#: the opening, before each ticket, before each recalled ticket, before each counter.
GROUP_KEYS: tuple[str, ...] = ("group", "group_item", "group_recall", "group_counter")

# Letter names as Vietnamese speakers spell abbreviations ("a bê xê đê").
VI_LETTERS: dict[str, str] = {
    "A": "a", "B": "bê", "C": "xê", "D": "đê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê",
    "Q": "quy", "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích xì",
    "Y": "i dài", "Z": "dét",
}
EN_LETTERS: dict[str, str] = {c: c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


@dataclass(frozen=True)
class Language:
    """How one language reads a call: numbers, digits, letters and phrases, all as tokens."""

    code: str
    number_words: Callable[[int], list[str]]
    digits: tuple[str, ...]
    letters: Mapping[str, str]
    phrases: Mapping[str, tuple[str, ...]]
    number_vocabulary: tuple[str, ...] = field(default=())
    #: token → text for espeak-ng when it misreads the token itself
    say: Mapping[str, str] = field(default_factory=dict)

    def vocabulary(self, numbers: bool = True, group: bool = True) -> list[str]:
        """Every token this language can produce (``numbers=False``: digits mode only; ``group=False``:
        without the optional backlog phrases), in a stable order."""
        tokens = [t for key in PHRASE_KEYS for t in self.phrases[key]]
        if group:
            tokens += [t for key in GROUP_KEYS for t in self.phrases.get(key, ())]
        tokens += [*self.letters.values(), *self.digits, *(self.number_vocabulary if numbers else ())]
        return list(dict.fromkeys(tokens))


VI = Language(
    code="vi",
    number_words=vi_numbers.number_words,
    digits=vi_numbers.DIGITS,
    letters=VI_LETTERS,
    phrases={
        "call": ("kính mời công dân có số thứ tự",),
        "recall": ("xin mời", "công dân có số thứ tự"),
        "to_counter": ("đến quầy số",),
        "group": ("kính mời các số",),
        "group_item": (),
        "group_recall": ("gọi lại",),
        "group_counter": ("quầy",),
    },
    number_vocabulary=vi_numbers.VOCABULARY,
    say={"gi": "di"},  # espeak-ng reads a bare "gi" as the consonant only
)

EN = Language(
    code="en",
    number_words=en_numbers.number_words,
    digits=en_numbers.DIGITS,
    letters=EN_LETTERS,
    phrases={
        "call": ("ticket number",),
        "recall": ("once again", "ticket number"),
        "to_counter": ("please go to counter",),
        "group": ("calling numbers",),
        "group_item": (),
        "group_recall": ("again",),
        "group_counter": ("counter",),
    },
    number_vocabulary=en_numbers.VOCABULARY,
)

LANGUAGES: dict[str, Language] = {"vi": VI, "en": EN}


def get_language(code: str) -> Language:
    """The built-in rules for ``code``; a clear error lists the known ones."""
    try:
        return LANGUAGES[code]
    except KeyError:
        raise ValueError(f"no reading rules for language {code!r}; known: {sorted(LANGUAGES)}") from None
