"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import testkit.sites

# Tests never read the board's /etc/qms/qms.env (a developer's machine may have one); they and the
# processes they start see only what each test sets.
os.environ["QMS_ENV_FILE"] = ""


@pytest.fixture
def always_open_config(tmp_path) -> Path:
    """The default commune center, with opening hours not enforced (tests run at any hour)."""
    return testkit.sites.always_open_config(tmp_path)
