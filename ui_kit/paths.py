"""Where the shipped assets are (the repository's ``assets/``, or ``$QMS_ASSETS``)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def assets_dir() -> Path:
    """The assets folder."""
    return Path(os.environ.get("QMS_ASSETS") or REPO_ROOT / "assets")


def font_path(bold: bool = False) -> Path:
    """The bundled Vietnamese-capable font."""
    return assets_dir() / "fonts" / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
