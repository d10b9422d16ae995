"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Tests never read the board's /etc/qms/qms.env (a developer's machine may have one); they and the
# processes they start see only what each test sets.
os.environ["QMS_ENV_FILE"] = ""


@pytest.fixture
def always_open_config(tmp_path) -> Path:
    """The default commune center, with opening hours not enforced (tests run at any hour)."""
    text = (ROOT / "config" / "commune.yaml").read_text(encoding="utf-8")
    assert "enforce: true" in text
    path = tmp_path / "site.yaml"
    path.write_text(text.replace("enforce: true", "enforce: false", 1), encoding="utf-8")
    return path
