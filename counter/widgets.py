"""Small widgets of the counter screens: flat buttons, drawn faces, the waiting list, overlays."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Ellipse, Line
from kivy.properties import ColorProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

#: Face colours from very dissatisfied (red) to very satisfied (green).
FACE_COLORS = {1: (0.83, 0.18, 0.18), 2: (0.96, 0.49, 0.0), 3: (0.98, 0.75, 0.18), 4: (0.49, 0.70, 0.26),
               5: (0.18, 0.56, 0.24)}


class PadButton(Button):
    """A big flat button; grey while disabled, darker while pressed. ``qid`` names it for tests."""

    base_color = ColorProperty((0.2, 0.4, 0.6, 1))
    qid = StringProperty("")
    fixed_font = NumericProperty(0)  # a font size, else it follows the button's size:
    height_ratio = NumericProperty(0.3)
    width_ratio = NumericProperty(0.15)


class RatingFace(Widget):
    """A round face drawn with Kivy graphics: the mouth bends from a frown (1) to a smile (5)."""

    score = NumericProperty(3)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.bind(pos=self._draw, size=self._draw, score=self._draw)
        self._draw()

    def _draw(self, *_: Any) -> None:
        d = min(self.width, self.height)
        if d <= 0:
            return
        x0, y0 = self.center_x - d / 2, self.center_y - d / 2
        bend = (self.score - 3) / 2  # -1 frown … +1 smile
        mouth_y = y0 + d * 0.30
        half = d * 0.22
        self.canvas.clear()
        with self.canvas:
            Color(*FACE_COLORS.get(int(self.score), (0.6, 0.6, 0.6)), 1)
            Ellipse(pos=(x0, y0), size=(d, d))
            Color(0.12, 0.12, 0.12, 1)
            eye = d * 0.11
            for ex in (0.33, 0.67):
                Ellipse(pos=(x0 + d * ex - eye / 2, y0 + d * 0.60), size=(eye, eye * 1.25))
            width = max(1.5, d * 0.035)
            if bend == 0:
                Line(points=[self.center_x - half, mouth_y + d * 0.04, self.center_x + half, mouth_y + d * 0.04],
                     width=width, cap="round")
            else:
                depth = d * 0.16 * bend
                top = mouth_y + (d * 0.08 if bend > 0 else 0)
                Line(bezier=[self.center_x - half, top, self.center_x, top - depth * 2, self.center_x + half, top],
                     width=width, cap="round")


class RatingFaceButton(ButtonBehavior, BoxLayout):
    """A face and its label; the whole tile is the touch target."""

    score = NumericProperty(3)
    text = StringProperty("")
    qid = StringProperty("")


class PadWaitingList(GridLayout):
    """Rows of (service name, waiting count)."""

    rows_data = ListProperty()
    font_size = NumericProperty(18)

    def on_rows_data(self, *_: Any) -> None:
        self._rebuild()

    def on_font_size(self, *_: Any) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        self.clear_widgets()
        for name, count in self.rows_data:
            self.add_widget(Label(text=name, font_name="Body", font_size=self.font_size, halign="left",
                                  valign="middle", shorten=True, shorten_from="right",
                                  text_size=(None, None), size_hint_x=0.78, color=(0.88, 0.92, 0.96, 1)))
            self.add_widget(Label(text=str(count), font_name="Body", bold=True, font_size=self.font_size * 1.2,
                                  halign="right", size_hint_x=0.22, color=(1, 1, 1, 1)))
        for label in self.children:
            label.bind(size=lambda w, s: setattr(w, "text_size", (s[0], None)))


class PadOverlay(FloatLayout):
    """A panel over the pad that takes every touch while it is shown."""

    def on_touch_down(self, touch: Any) -> bool:
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch: Any) -> bool:
        super().on_touch_up(touch)
        return True

    def dismiss(self) -> None:
        """Remove from the screen."""
        if self.parent is not None:
            self.parent.remove_widget(self)
