"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def always_open_config(tmp_path) -> Path:
    """The default commune center, with opening hours not enforced (tests run at any hour)."""
    text = (ROOT / "config" / "commune.yaml").read_text(encoding="utf-8")
    assert "enforce: true" in text
    path = tmp_path / "site.yaml"
    path.write_text(text.replace("enforce: true", "enforce: false", 1), encoding="utf-8")
    return path
