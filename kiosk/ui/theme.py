"""Colours and sizes: dark blue on white, readable at 1 m; every size scales with the short side."""

from __future__ import annotations

from dataclasses import dataclass

Rgba = tuple[float, float, float, float]

NAVY: Rgba = (0.043, 0.180, 0.420, 1)  # #0B2E6B: 12.9:1 on white
NAVY_DARK = (0.020, 0.098, 0.255, 1)
WHITE = (1, 1, 1, 1)
PAPER = (0.953, 0.965, 0.984, 1)  # page background, a touch off white
AMBER = (1.0, 0.757, 0.027, 1)  # #FFC107: the one action to take; navy text on it is 7:1
AMBER_DARK = (0.85, 0.60, 0.0, 1)
RED = (0.702, 0.149, 0.118, 1)  # #B3261E
GREEN = (0.106, 0.369, 0.125, 1)  # #1B5E20
GREY = (0.55, 0.58, 0.63, 1)
LOCKED_BG = (0.85, 0.87, 0.90, 1)  # a choice not available now: light grey ...
LOCKED_FG = (0.20, 0.23, 0.28, 1)  # ... with dark slate text, still readable (about 10:1)
FONT = "Body"
REFERENCE = 1080.0  # sizes below are pixels on a 1080-pixel short side


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes for one window size."""

    width: float
    height: float

    @property
    def u(self) -> float:
        """Scale factor: 1.0 on a 1080x1920 or 1920x1080 screen."""
        return min(self.width, self.height) / REFERENCE

    @property
    def portrait(self) -> bool:
        """Taller than wide."""
        return self.height > self.width

    def px(self, size: float) -> float:
        """A reference size in pixels of this window."""
        return size * self.u

    @property
    def header_h(self) -> float:
        return self.px(150)

    @property
    def nav_h(self) -> float:
        """Back / Home bar: buttons at least 120 px high on the reference screen."""
        return max(self.px(140), 96)

    @property
    def gap(self) -> float:
        return self.px(24)
