"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import testkit.sites

# Tests never read the board's /etc/qms/qms.env (a developer's machine may have one); they and the
# processes they start see only what each test sets.
os.environ["QMS_ENV_FILE"] = ""


@pytest.fixture
def always_open_config(tmp_path) -> Path:
    """The default commune center, with opening hours not enforced (tests run at any hour)."""
    return testkit.sites.always_open_config(tmp_path)


CENTER_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the test configs' zone: a center's day ends at 17:00 UTC
DAY_END_MARGIN_S = 120


@pytest.fixture(autouse=True)
def _one_local_day() -> Iterator[None]:
    """Tests that issue tickets on the real clock expect one day's numbering (A0001, A0002, ...), and the
    numbers start again at the center's midnight: a test that would start in a day's last two minutes
    waits for the next day instead of straddling it (a CI run crossed 17:00 UTC once; the product was
    right, the test was not). The day change itself is tested on set clocks (tests/reliability/test_clock.py)."""
    now = datetime.now(CENTER_TZ)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), CENTER_TZ)
    left = (midnight - now).total_seconds()
    if left < DAY_END_MARGIN_S:
        time.sleep(left + 1)
    yield
