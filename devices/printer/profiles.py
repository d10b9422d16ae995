"""python-escpos capability profiles with a known pixel width (width checks need it)."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from escpos.capabilities import CAPABILITIES, get_profile_class

DEFAULT_80MM = "TM-T20II"  # 576 dots
DEFAULT_58MM = "POS-5890"  # 384 dots


def profile_names() -> list[str]:
    """Every profile name python-escpos knows."""
    return sorted(CAPABILITIES["profiles"])


def profile_width(name: str) -> int | None:
    """Printable width in dots from the escpos profile, or None when the profile doesn't say."""
    pixels = CAPABILITIES["profiles"][name].get("media", {}).get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) else None


@lru_cache(maxsize=16)
def _profile_class(name: str, width: int) -> type:
    base = get_profile_class(name)
    data = copy.deepcopy(base.profile_data)
    data.setdefault("media", {}).setdefault("width", {})["pixels"] = width
    return type(f"{base.__name__}W{width}", (base,), {"profile_data": data})


def make_profile(name: str, width: int) -> Any:
    """Profile `name` with media width forced to `width` dots."""
    return _profile_class(name, width)()
