"""English number reading as word tokens (US style, no "and")."""

from __future__ import annotations

DIGITS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS: tuple[str, ...] = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                          "seventeen", "eighteen", "nineteen")
TENS: tuple[str, ...] = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
SCALES: tuple[str, ...] = ("", "thousand", "million", "billion")
VOCABULARY: tuple[str, ...] = (*DIGITS, *TEENS, *TENS[2:], "hundred", *SCALES[1:])


def _group(n: int) -> list[str]:
    """Read 0 < n < 1000."""
    hundreds, rest = divmod(n, 100)
    words = [DIGITS[hundreds], "hundred"] if hundreds else []
    if 10 <= rest < 20:
        words.append(TEENS[rest - 10])
    elif rest:
        tens, units = divmod(rest, 10)
        words += [w for w in (TENS[tens], DIGITS[units] if units else "") if w]
    return words


def number_words(n: int) -> list[str]:
    """Read 0 ≤ n < 10¹² in English: ``105 → ["one", "hundred", "five"]``."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 10**12:
        raise ValueError(f"number_words needs an int in 0..10¹²-1, got {n!r}")
    if n == 0:
        return [DIGITS[0]]
    words: list[str] = []
    for power in range(len(SCALES) - 1, -1, -1):
        group = n // 1000**power % 1000
        if group:
            words += _group(group) + ([SCALES[power]] if power else [])
    return words


def digit_words(digits: str) -> list[str]:
    """Read ASCII digits one by one."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"digit_words needs ASCII digits, got {digits!r}")
    return [DIGITS[int(d)] for d in digits]
