"""The offscreen window works: a tap reaches a button, a screenshot has Vietnamese text."""

from __future__ import annotations

from kivy.uix.button import Button

from testkit.kivy_harness import pump, screenshot, show, tap
from ui_kit.fonts import register_fonts


def test_tap_and_screenshot(tmp_path):
    font = register_fonts()
    pressed = []
    button = Button(text="Lấy số thứ tự", font_name=font, font_size=48, size_hint=(0.5, 0.3),
                    pos_hint={"center_x": 0.5, "center_y": 0.5})
    button.bind(on_release=lambda *_: pressed.append(True))
    show(button)
    tap(button)
    pump(0.05)
    assert pressed == [True]
    path = screenshot(button, "smoke", tmp_path)
    assert path.stat().st_size > 1000
