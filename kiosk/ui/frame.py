"""What every screen shares: the page frame (header, body, Back/Home bar) and the icon grid."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from ..menu import Item, icon_path
from ..viewmodel import KioskViewModel
from ..wording import t
from .theme import NAVY, NAVY_DARK, PAPER, WHITE, Metrics, Rgba
from .widgets import Tile, bar, paint, text


@dataclass
class Env:
    """What a screen builder needs: the view-model, the window's metrics, and hooks for the root."""

    vm: KioskViewModel
    m: Metrics
    hooks: dict[str, Label] = field(default_factory=dict)

    def t(self, key: str, **values: object) -> str:
        """A kiosk text in the citizen's language."""
        return t(key, self.vm.lang, **values)

    @property
    def px_per_mm(self) -> float:
        """Pixels per millimetre of the panel (window diagonal over ``kiosk.screen_diagonal_in``)."""
        return math.hypot(self.m.width, self.m.height) / (self.vm.settings.screen_diagonal_in * 25.4)


def header(env: Env, title: str, icon: str | None = None, color: Rgba = NAVY, subtitle: str = "") -> BoxLayout:
    """The navy title bar."""
    m = env.m
    height = m.header_h * (1.45 if subtitle else 1)
    box = bar(height, color, padding=[m.px(36), m.px(12)], spacing=m.px(24))
    if icon:
        box.add_widget(Image(source=icon_path(icon), color=WHITE, size_hint_x=None, width=m.px(100),
                             fit_mode="contain"))
    titles = BoxLayout(orientation="vertical")
    titles.add_widget(text(title, m.px(60), WHITE, bold=True, halign="left"))
    if subtitle:
        titles.add_widget(text(subtitle, m.px(42), WHITE, halign="left", size_hint_y=0.7))
    box.add_widget(titles)
    return box


def nav_button(env: Env, which: str, on_tap: Callable[[], None]) -> Tile:
    """Back or Home: white with a navy border, so it never looks like a choice."""
    m = env.m
    return Tile(env.t(which), which, m.px(44), qid=which, on_tap=on_tap, bg=WHITE, fg=NAVY, pressed_bg=PAPER,
                horizontal=True, icon_share=0.3, border=NAVY, radius=m.px(20), size_hint_x=None,
                width=m.px(330) if not m.portrait else m.px(300))


def nav_bar(env: Env, back: bool = True, home: bool = True, middle: Widget | None = None) -> BoxLayout:
    """The bottom bar: Back on the left, Home on the right (big, always in the same place)."""
    m = env.m
    box = bar(m.nav_h + m.px(40), WHITE, padding=[m.px(24), m.px(20)], spacing=m.px(24))
    box.add_widget(nav_button(env, "back", env.vm.back) if back else Widget(size_hint_x=None, width=m.px(300)))
    box.add_widget(middle or Widget())
    box.add_widget(nav_button(env, "home", env.vm.home) if home else Widget(size_hint_x=None, width=m.px(300)))
    return box


def page(env: Env, top: Widget, body: Widget, bottom: Widget | None) -> BoxLayout:
    """Header, body (takes the rest), bottom bar."""
    root = BoxLayout(orientation="vertical")
    paint(root, PAPER)
    root.add_widget(top)
    root.add_widget(body)
    if bottom is not None:
        root.add_widget(bottom)
    return root


def columns_for(count: int, m: Metrics) -> int:
    """How many tiles per row: few and wide in portrait, a grid in landscape."""
    if m.portrait:
        return 1 if count <= 5 else 2
    if count <= 4:
        return max(count, 1)
    return 3 if count in (5, 6, 9) else 4


def tile_grid(env: Env, items: list[Item], on_pick: Callable[[str], None], qid_prefix: str,
              available_h: float, font: float = 44, min_tile_h: float = 230,
              style: Callable[[Item], dict] | None = None) -> Widget:
    """Big icon tiles in a grid; a scroll view only when they cannot fit."""
    m = env.m
    cols = columns_for(len(items), m)
    rows = math.ceil(len(items) / cols)
    gap = m.gap
    grid = GridLayout(cols=cols, spacing=gap, padding=[gap * 1.5, gap * 1.5])
    horizontal = cols == 1
    for item in items:
        extra = style(item) if style else {}
        grid.add_widget(Tile(item.label, item.icon, m.px(font), qid=f"{qid_prefix}{item.id}",
                             on_tap=lambda ident=item.id: on_pick(ident), horizontal=horizontal,
                             icon_share=0.28 if horizontal else 0.5, radius=m.px(28), **extra))
    needed = rows * m.px(min_tile_h) + (rows + 2) * gap
    if needed <= available_h:
        return grid
    grid.size_hint_y = None
    grid.row_default_height = m.px(min_tile_h)
    grid.row_force_default = True
    grid.height = needed
    scroll = ScrollView(do_scroll_x=False, bar_width=m.px(16), bar_color=NAVY_DARK, scroll_type=["bars", "content"])
    scroll.add_widget(grid)
    return scroll
