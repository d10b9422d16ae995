"""UI tests: real Kivy windows, offscreen (SDL2), one window per test process."""

from __future__ import annotations

import os

os.environ["QMS_HEADLESS"] = "1"

from ui_kit.boot import prepare

prepare(size=(1280, 800))

from tests.integration.conftest import broker, ctx, hub, make_client, site  # noqa: E402,F401  (shared fixtures)
