"""Register the bundled font under the name ``Body`` so every label shows Vietnamese right."""

from __future__ import annotations

from .paths import font_path

FONT_NAME = "Body"


def register_fonts() -> str:
    """Register ``Body`` (regular + bold) with Kivy; returns the name."""
    from kivy.core.text import LabelBase

    LabelBase.register(name=FONT_NAME, fn_regular=str(font_path()), fn_bold=str(font_path(bold=True)))
    return FONT_NAME
