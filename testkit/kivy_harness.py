"""Drive a real Kivy window from a test: show a widget, let the clock run, tap, take screenshots."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kivy.base import EventLoop
from kivy.tests.common import UnitTestTouch
from kivy.uix.widget import Widget

if TYPE_CHECKING:  # importing kivy.core.window opens the window
    from kivy.core.window import WindowBase

# Screenshots go to a temp folder of this process (two test runs at once never write each other's files),
# so tests never rewrite tracked files; refresh the documentation's pictures on purpose with
# `QMS_SHOTS=docs/screens .venv/bin/python -m pytest tests/ui`.
SCREENS_DIR = Path(os.environ.get("QMS_SHOTS") or Path(tempfile.gettempdir()) / f"qms-screens-{os.getpid()}")


def window() -> WindowBase:
    """The one window of this process."""
    EventLoop.ensure_window()
    return EventLoop.window


def pump(seconds: float = 0.1) -> None:
    """Run the Kivy clock and draw for ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        EventLoop.idle()
        if time.monotonic() >= end:
            return
        time.sleep(0.005)


def pump_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Run the clock until ``check()`` is true (or the time is up)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        EventLoop.idle()
        if check():
            return True
        time.sleep(0.01)
    return check()


def show(widget: Widget, size: tuple[int, int] | None = None) -> Widget:
    """Make ``widget`` the only content of the window (optionally resizing it first)."""
    win = window()
    if size is not None:
        win.size = size
    for child in list(win.children):
        win.remove_widget(child)
    win.add_widget(widget)
    pump(0.15)
    return widget


def tap(widget: Widget) -> None:
    """A finger tap at the widget's centre."""
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    pump(0.02)
    touch.touch_up()
    pump(0.05)


def screenshot(widget: Widget, name: str, folder: Path | None = None) -> Path:
    """Save the widget as ``<folder>/<name>.png`` (default ``$QMS_SHOTS`` or a temp folder)."""
    target = (folder or SCREENS_DIR) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    pump(0.05)
    widget.export_to_png(str(target))
    return target


def find(root: Widget, predicate: Callable[[Widget], bool]) -> Widget:
    """The first widget under ``root`` (depth first) that matches ``predicate``."""
    for w in root.walk(restrict=True):
        if predicate(w):
            return w
    raise LookupError("no widget matches")


def find_by_id(root: Widget, ident: str) -> Widget:
    """The widget with ``qid == ident`` (our screens tag their actionable widgets with ``qid``)."""
    return find(root, lambda w: getattr(w, "qid", None) == ident)
