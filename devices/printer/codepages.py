"""Vietnamese text for printer code pages: TCVN-3, CP1258, or plain ASCII (diacritics stripped).

python-escpos 3.1 knows the *numbers* of the TCVN-3 pages (profile "TCVN-3-1"/"TCVN-3-2") but
has no character table for them, so the tables live here; the `ESC t n` number comes from the
escpos profile (or the `codepage=` URL option).
"""

from __future__ import annotations

import unicodedata
from typing import Any

ENCODINGS = ("tcvn3", "cp1258", "ascii")

#: python-escpos code page names for each encoding (looked up in the printer profile).
ESCPOS_NAMES = {"tcvn3": ("TCVN-3-1", "TCVN-3-2"), "cp1258": ("CP1258",), "ascii": ("CP437",)}

# TCVN 5712:1993 "VN3" (ABC): upper case without tone marks and all lower case letters.
# Upper case letters WITH tone marks have no code in VN3; they print as lower case.
_TCVN3_UPPER = "ĂÂÊÔƠƯĐăâêôơưđ"  # 0xA1..0xAE
_TCVN3_TONED = (  # 0xB5..0xFE, "\0" = no letter at that code
    "àảãáạ\0ằẳẵắ\0\0\0\0\0\0\0ặầẩẫấậè\0ẻẽéẹềểễếệìỉ\0\0\0ĩíịò\0ỏõóọồổỗốộờởỡớợù\0ủũúụừửữứựỳỷỹýỵ"
)
TCVN3: dict[str, int] = {c: 0xA1 + i for i, c in enumerate(_TCVN3_UPPER)}
TCVN3.update({c: 0xB5 + i for i, c in enumerate(_TCVN3_TONED) if c != "\0"})

_PUNCT = {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "-", "\u00a0": " "}
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def plain_punct(text: str) -> str:
    """Typographic punctuation as ASCII: "Tư pháp–Hộ tịch" -> "Tư pháp-Hộ tịch"."""
    return "".join(_PUNCT.get(c, c) for c in text)


def strip_diacritics(text: str) -> str:
    """ASCII look-alike: "Đăng ký" -> "Dang ky"; punctuation simplified; others -> "?"."""
    out = []
    for ch in text:
        ch = _PUNCT.get(ch, ch)
        if ch in "đĐ":
            ch = "d" if ch == "đ" else "D"
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        out.append(base if base.isascii() else "?")
    return "".join(out)


def _tcvn3(ch: str) -> bytes:
    code = TCVN3.get(ch) or TCVN3.get(ch.lower())
    return bytes([code]) if code else strip_diacritics(ch).encode("ascii")


def _cp1258(ch: str) -> bytes:
    try:
        return ch.encode("cp1258")
    except UnicodeEncodeError:
        pass
    decomposed = unicodedata.normalize("NFD", ch)
    tones = "".join(c for c in decomposed if c in _TONES)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    try:
        return base.encode("cp1258") + tones.encode("cp1258")
    except UnicodeEncodeError:
        return strip_diacritics(ch).encode("ascii")


def encode(text: str, encoding: str) -> bytes:
    """Bytes for `text` in `encoding` ("tcvn3", "cp1258" or "ascii"); never raises on a char."""
    text = unicodedata.normalize("NFC", text)
    if encoding == "ascii":
        return strip_diacritics(text).encode("ascii")
    one = {"tcvn3": _tcvn3, "cp1258": _cp1258}.get(encoding)
    if one is None:
        raise ValueError(f"unknown encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    return b"".join(bytes([ord(c)]) if c.isascii() else one(_PUNCT.get(c, c)) for c in text)


def decode(data: bytes, encoding: str) -> str:
    """What `data` reads as on a printer using `encoding` (previews)."""
    if encoding == "tcvn3":
        back = {v: k for k, v in TCVN3.items()}
        return "".join(back.get(b, chr(b) if b < 128 else "?") for b in data)
    return unicodedata.normalize("NFC", data.decode("cp1258" if encoding == "cp1258" else "ascii", "replace"))


def profile_codepages(profile: Any, encoding: str) -> list[int]:
    """`ESC t` numbers the python-escpos `profile` lists for `encoding` (may be empty)."""
    names = ESCPOS_NAMES.get(encoding, ())
    pages = profile.profile_data.get("codePages", {})  # {"number": name}
    return sorted(int(n) for n, name in pages.items() if name in names)
