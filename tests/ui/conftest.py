"""UI tests: real Kivy windows, offscreen (SDL2), one window per test process."""

from __future__ import annotations

import os

import pytest

os.environ["QMS_HEADLESS"] = "1"

from ui_kit.boot import prepare

prepare(size=(1280, 800))

from tests.integration.conftest import broker, ctx, hub, make_client, site  # noqa: E402,F401  (shared fixtures)


@pytest.fixture(autouse=True)
def _window_size_restored():
    """Tests may resize the one shared window; the next test starts from the default size."""
    yield
    from testkit.kivy_harness import window

    window().size = (1280, 800)
