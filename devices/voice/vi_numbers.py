"""Vietnamese number reading as word tokens (each token is also a voice-clip name).

Rules (standard Northern reading, as used in public announcements):

- units ``không một hai ba bốn năm sáu bảy tám chín``; ``mười`` for 10, ``mươi`` after a tens digit ≥ 2;
- after ``mươi``: 1 → ``mốt``, 4 → ``tư``, 5 → ``lăm``; after ``mười``: 5 → ``lăm`` (``mười một``, ``mười bốn``);
- a zero tens digit inside a group is ``linh`` (``một trăm linh năm``);
- a group after a bigger one is read in full (``một nghìn không trăm linh năm``); all-zero groups are
  skipped (``một triệu không trăm linh năm``); scales ``nghìn triệu tỷ``.
"""

from __future__ import annotations

DIGITS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
MUOI_TEN, MUOI_TENS, HUNDRED, LINH = "mười", "mươi", "trăm", "linh"
SCALES: tuple[str, ...] = ("", "nghìn", "triệu")
BILLION = "tỷ"
VOCABULARY: tuple[str, ...] = (*DIGITS, MUOI_TEN, MUOI_TENS, "mốt", "tư", "lăm", HUNDRED, LINH, "nghìn", "triệu", BILLION)


def _group(n: int, full: bool) -> list[str]:
    """Read 0 < n < 1000; ``full`` reads the hundreds even when zero (``không trăm``)."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], HUNDRED]
    if tens == 0:
        if units:
            words += [LINH, DIGITS[units]] if words else [DIGITS[units]]
    elif tens == 1:
        words.append(MUOI_TEN)
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], MUOI_TENS]
        if units:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(units, DIGITS[units]))
    return words


def _below_billion(n: int, full: bool) -> list[str]:
    """Read 0 < n < 10⁹ group by group; ``full`` reads the leading group in full too."""
    groups = [n // 1_000_000, n // 1000 % 1000, n % 1000]
    words: list[str] = []
    for i, g in enumerate(groups):
        if g:
            words += _group(g, full or bool(words))
            scale = SCALES[len(groups) - 1 - i]
            if scale:
                words.append(scale)
    return words


def number_words(n: int) -> list[str]:
    """Read a non-negative integer as Vietnamese word tokens: ``21 → ["hai", "mươi", "mốt"]``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"number_words needs an int ≥ 0, got {n!r}")
    if n == 0:
        return [DIGITS[0]]
    if n >= 1_000_000_000:
        head, rest = divmod(n, 1_000_000_000)
        return [*number_words(head), BILLION, *(_below_billion(rest, True) if rest else [])]
    return _below_billion(n, False)


def digit_words(digits: str) -> list[str]:
    """Read a string of ASCII digits one by one: ``"012" → ["không", "một", "hai"]``."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"digit_words needs ASCII digits, got {digits!r}")
    return [DIGITS[int(d)] for d in digits]


def join_words(words: list[str]) -> str:
    """Join tokens into display/speech text: ``["hai", "mươi", "mốt"] → "hai mươi mốt"``."""
    return " ".join(words)


def read_number(n: int) -> str:
    """``number_words`` joined into a string."""
    return join_words(number_words(n))
