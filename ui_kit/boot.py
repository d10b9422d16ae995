"""Kivy settings that must be made before Kivy is imported: headless runs, kiosk mode on the Pi.

``prepare(kiosk=True)`` on the Pi: fullscreen (SDL2 KMSDRM), no cursor, Escape does not quit,
one input provider per touch device (``mtdev`` or ``hidinput``, never both: two providers fire
every tap twice). ``QMS_HEADLESS=1`` (or no display at all) runs offscreen, for tests and CI.
"""

from __future__ import annotations

import os
from pathlib import Path


def headless_requested() -> bool:
    """True when there is no screen to draw on, or when tests ask for offscreen windows."""
    if os.environ.get("QMS_HEADLESS") == "1":
        return True
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or Path("/dev/dri/card0").exists()
                or Path("/dev/dri/card1").exists())


def prepare(kiosk: bool = False, size: tuple[int, int] | None = None, kivy_home: Path | None = None,
            touch_provider: str | None = None) -> None:
    """Set the environment and Kivy's config for this process (call once, before importing Kivy)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    if kivy_home is not None:
        # Kivy makes ``mods`` with a check-then-mkdir at import: two apps starting together race on it.
        (kivy_home / "mods").mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("KIVY_HOME", str(kivy_home))
    if headless_requested():
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kivy.config import Config  # the first Kivy import, after the environment is set

    Config.set("kivy", "exit_on_escape", "0" if kiosk else "1")
    Config.set("kivy", "log_level", "info")
    Config.set("graphics", "multisamples", "0")
    if size is not None:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    if kiosk:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
        Config.set("graphics", "borderless", "1")
        for name in list(Config.options("input")) if Config.has_section("input") else []:
            Config.remove_option("input", name)
        if touch_provider:
            Config.set("input", "touch", touch_provider)
