"""Building blocks: labels that shrink to fit, big icon buttons, bars, the long press."""

from __future__ import annotations

from collections.abc import Callable

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle, RoundedRectangle
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from ..menu import icon_path
from .theme import FONT, GREY, LOCKED_BG, LOCKED_FG, NAVY, NAVY_DARK, WHITE, Rgba

LINE_HEIGHT = 1.17  # DejaVu Sans: line height / font size


class FitLabel(Label):
    """A centred, wrapped label that lowers its font size until the text fits its box.

    It then goes a little smaller still (down to ``fewer_lines`` of the fitting size, never below
    ``min_font``) when that saves a line, so a name does not end with one orphan word on a line of its own.
    """

    base_font = NumericProperty(40)
    min_font = NumericProperty(14)
    fewer_lines = NumericProperty(0.82)

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("font_name", FONT)
        kwargs.setdefault("halign", "center")
        kwargs.setdefault("valign", "middle")
        super().__init__(**kwargs)
        self._refit_trigger = Clock.create_trigger(lambda _dt: self.refit(), -1)
        self.bind(size=self._refit_trigger, text=self._refit_trigger, base_font=self._refit_trigger)
        self.font_size = self.base_font

    def _measure(self, size: float, width: float) -> tuple[float, float]:
        """The size of the text at font ``size`` wrapped to ``width``: laid out, not drawn."""
        self.font_size = size  # the Label hands both to its core label at once
        self.text_size = (width, None)
        label = self._label
        label.resolve_font_name()
        tw, th = label.render()  # what texture_update() would size the texture to, without its pixels
        return (tw, th) if tw > 1 and th > 1 else (1, 1)

    def _at(self, size: float) -> tuple[float, float]:
        """The text's size at font ``size``, estimated with the base font in a box ``base/size`` as wide:
        the same line breaks, scaled. Every trial then uses one font: Kivy keeps each font size it opens
        (up to 64, ~0.15 MB each), and the trials opened ~55 at the first screen (issue 15: kiosk memory)."""
        k = self.base_font / size
        tw, th = self._measure(self.base_font, self.width * k)
        return tw / k, th / k

    def refit(self) -> None:
        """Choose the font size for the current box (now, synchronously)."""
        if self.width <= 1 or self.height <= 1 or not self.text:
            self.font_size = self.base_font
            return
        size = self.base_font
        while True:
            tw, th = self._at(size)
            if (tw <= self.width + 1 and th <= self.height + 1) or size <= self.min_font:
                break
            size = max(self.min_font, size * 0.92)
        lines = round(th / (size * LINE_HEIGHT))
        best, trial = size, size * 0.95
        while lines > 1 and trial >= max(size * self.fewer_lines, self.min_font):
            _tw, t_h = self._at(trial)
            if round(t_h / (trial * LINE_HEIGHT)) < lines:
                best = trial
                break
            trial *= 0.95
        for _ in range(8):  # the estimate is off by a pixel's rounding at most: check the real size
            tw, th = self._measure(best, self.width)
            if (tw <= self.width + 1 and th <= self.height + 1) or best <= self.min_font:
                break
            best = max(self.min_font, best * 0.97)
        self.texture_update()  # the one real rendering, now


def paint(widget: Widget, color: Rgba, radius: float = 0, border: Rgba | None = None, border_w: float = 3) -> Color:
    """A (rounded) background under ``widget``, following its size; returns its Color."""
    with widget.canvas.before:
        fill = Color(*color)
        shape = RoundedRectangle(radius=[radius]) if radius else Rectangle()
        if border is not None:
            Color(*border)
            outline = Line(width=border_w)

    def follow(*_: object) -> None:
        shape.pos, shape.size = widget.pos, widget.size
        if border is not None:
            x, y = widget.pos
            w, h = widget.size
            outline.rounded_rectangle = (x + border_w, y + border_w, w - 2 * border_w, h - 2 * border_w,
                                         max(radius - border_w, 1))
    widget.bind(pos=follow, size=follow)
    follow()
    return fill


class Tile(ButtonBehavior, BoxLayout):
    """A big button: pictogram and text, high contrast, disabled while a request is in flight."""

    qid = StringProperty("")
    bg = ListProperty(NAVY)
    fg = ListProperty(WHITE)
    pressed_bg = ListProperty(NAVY_DARK)

    def __init__(self, text: str, icon: str | None, font_px: float, *, qid: str = "",
                 on_tap: Callable[[], None] | None = None, bg: Rgba = NAVY, fg: Rgba = WHITE,
                 pressed_bg: Rgba = NAVY_DARK, horizontal: bool = False, icon_share: float = 0.5,
                 radius: float = 24, border: Rgba | None = None, bold: bool = True,
                 subtitle: str = "", locked: bool = False, **kwargs: object) -> None:
        kwargs.setdefault("orientation", "horizontal" if horizontal else "vertical")
        super().__init__(**kwargs)
        self.locked = locked  # greyed out and untappable for now (closed service, hub not connected)
        if locked:
            bg = pressed_bg = LOCKED_BG
            fg = LOCKED_FG
        self.qid, self.bg, self.fg, self.pressed_bg = qid, list(bg), list(fg), list(pressed_bg)
        self.padding = [font_px * 0.5] * 4
        self.spacing = font_px * 0.3
        self._fill = paint(self, bg, radius, border)
        if icon:
            self.icon = Image(source=icon_path(icon), color=fg, fit_mode="contain", size_hint=(icon_share, 1)
                              if horizontal else (1, icon_share))
            self.add_widget(self.icon)
        text_box = BoxLayout(orientation="vertical", size_hint=(1 - icon_share, 1) if horizontal and icon
                             else (1, 1 - icon_share if icon else 1))
        self.label = FitLabel(text=text, base_font=font_px, bold=bold, color=fg, disabled_color=fg,
                              halign="left" if horizontal and icon else "center")
        text_box.add_widget(self.label)
        if subtitle:
            self.sub = FitLabel(text=subtitle, base_font=font_px * 0.7, color=fg, disabled_color=fg, size_hint_y=0.6,
                                halign="left" if horizontal and icon else "center")
            text_box.add_widget(self.sub)
        self.add_widget(text_box)
        if on_tap is not None:
            self.bind(on_release=lambda *_: on_tap())
        self.bind(state=self._restyle, disabled=self._restyle)
        self.disabled = locked

    def _restyle(self, *_: object) -> None:
        if self.locked:
            self._fill.rgba = LOCKED_BG
        elif self.disabled:
            self._fill.rgba = GREY
        else:
            self._fill.rgba = self.pressed_bg if self.state == "down" else self.bg


class LongPress(BoxLayout):
    """Calls ``on_long`` after the finger has rested ``seconds`` on this box (the hidden technician door)."""

    active = BooleanProperty(False)

    def __init__(self, seconds: float, on_long: Callable[[], None], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds
        self.on_long = on_long
        self._event = None

    def on_touch_down(self, touch: object) -> bool:
        if self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            self._cancel()
            self._event = Clock.schedule_once(lambda _dt: self._fire(), self.seconds)
            touch.ud["long_press"] = self  # type: ignore[attr-defined]
        return super().on_touch_down(touch)

    def on_touch_up(self, touch: object) -> bool:
        if touch.ud.get("long_press") is self:  # type: ignore[attr-defined]
            self._cancel()
        return super().on_touch_up(touch)

    def _fire(self) -> None:
        self._event = None
        self.on_long()

    def _cancel(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None


def bar(height: float, color: Rgba = NAVY, **kwargs: object) -> BoxLayout:
    """A full-width coloured strip."""
    box = BoxLayout(size_hint_y=None, height=height, **kwargs)
    paint(box, color)
    return box


def text(value: str, font_px: float, color: Rgba = NAVY, bold: bool = False, **kwargs: object) -> FitLabel:
    """A FitLabel with the kiosk font."""
    return FitLabel(text=value, base_font=font_px, color=color, bold=bold, **kwargs)
