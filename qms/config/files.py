"""Where the site config lives by default (no pydantic, no YAML: every verb may ask)."""

from __future__ import annotations

from pathlib import Path


def default_config_path() -> Path:
    """The default site: ``config/commune.yaml`` of the source tree this package lives in."""
    return Path(__file__).resolve().parents[2] / "config" / "commune.yaml"
