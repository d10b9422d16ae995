"""The kiosk's shrink-to-fit label (issue 15: kiosk memory).

Kivy keeps every font size it opens (up to 64, ~0.15 MB each with software or hardware GL alike), so
the fit tries its sizes with the one base font in a proportionally wider box; only the chosen size
is opened and rendered. The texts must still fit, as before.
"""

from __future__ import annotations

import pytest
from kivy.core.text import Label as CoreLabel
from kivy.uix.floatlayout import FloatLayout

from kiosk.ui.widgets import FitLabel
from testkit.kivy_harness import pump, show
from ui_kit.fonts import register_fonts

TEXTS = {
    "long": "Người cao tuổi, người khuyết tật, phụ nữ mang thai: chạm vào hình của mình",
    "short": "Lấy số thứ tự",
    "word": "Trung tâm Phục vụ hành chính công xã Đạ Huoai",
}


@pytest.fixture
def sizes(monkeypatch):
    """The font sizes the labels lay text out at, and the sizes of the textures they make."""
    seen: dict[str, list[float]] = {"layout": [], "texture": []}
    layout, refresh = CoreLabel.render, CoreLabel.refresh

    def spy_layout(self, real=False):
        if not real:
            seen["layout"].append(self.options["font_size"])
        return layout(self, real)

    def spy_refresh(self):
        seen["texture"].append(self.options["font_size"])
        return refresh(self)

    monkeypatch.setattr(CoreLabel, "render", spy_layout)
    monkeypatch.setattr(CoreLabel, "refresh", spy_refresh)
    return seen


@pytest.mark.parametrize("box", [(900, 120), (420, 160), (260, 90)])
@pytest.mark.parametrize("key", list(TEXTS))
def test_the_text_fits_and_its_trials_open_two_font_sizes_at_most(sizes, key, box):
    register_fonts()
    holder = FloatLayout()
    label = FitLabel(text=TEXTS[key], base_font=90, min_font=12, bold=True, size_hint=(None, None), size=box)
    holder.add_widget(label)
    show(holder, (1280, 800))
    pump(0.1)
    sizes["layout"].clear()
    sizes["texture"].clear()
    label.refit()
    tw, th = label.texture_size
    assert tw <= box[0] + 1 and th <= box[1] + 1  # it fits
    assert (tw, th) != (0, 0)
    assert set(sizes["layout"]) <= {90, label.font_size}  # the base font, then the chosen one only
    assert sizes["texture"] == [label.font_size]  # one texture, at the chosen size


def test_a_text_that_cannot_fit_stops_at_the_smallest_size(sizes):
    register_fonts()
    holder = FloatLayout()
    label = FitLabel(text=TEXTS["long"], base_font=60, min_font=20, fewer_lines=1, size_hint=(None, None),
                     size=(120, 40))
    holder.add_widget(label)
    show(holder, (1280, 800))
    pump(0.1)
    label.refit()
    assert label.font_size == 20


@pytest.mark.parametrize("box", [(900, 120), (420, 160), (260, 90), (330, 200)])
@pytest.mark.parametrize("key", list(TEXTS))
def test_saving_a_line_never_goes_below_the_smallest_font(key, box):
    """The "fewer lines" step may go smaller than the fitting size, but never below ``min_font``
    (the smallest type an elderly citizen is asked to read)."""
    register_fonts()
    holder = FloatLayout()
    label = FitLabel(text=TEXTS[key], base_font=90, min_font=1, fewer_lines=1, size_hint=(None, None), size=box)
    holder.add_widget(label)
    show(holder, (1280, 800))
    pump(0.1)
    label.refit()
    fitting = label.font_size  # the size that fits, without the step
    label.min_font, label.fewer_lines = fitting * 0.99, 0.82  # just under it: a line saved must not go below
    label.refit()
    assert label.font_size >= label.min_font - 0.01, (label.font_size, label.min_font)
