"""Reliability fixtures: the integration fixtures (a real mosquitto per test, clients, hub) and a roomy site."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.sites import roomy_config
from tests.integration.conftest import broker, make_client, site  # noqa: F401  (fixtures)


@pytest.fixture
def roomy_site(tmp_path) -> Path:
    """The commune center, always open, numbers up to 9999 per service and day."""
    return roomy_config(tmp_path / "config")
