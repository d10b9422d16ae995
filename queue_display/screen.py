"""The hall display's Kivy screen: thin widgets bound to a :class:`BoardViewModel` (layout in screen.kv).

Landscape (1920x1080): header, then the current call and recent calls on the left, counters and
waiting queues on the right, a scrolling notice at the bottom. Portrait (1080x1920) stacks them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView
from kivy.uix.widget import Widget

from .viewmodel import BoardViewModel

KV_FILE = Path(__file__).with_name("screen.kv")
PANEL = (0.075, 0.16, 0.30, 1)
_loaded = False


def load_kv() -> None:
    """Load ``screen.kv`` once (needs the ``Body`` font registered)."""
    global _loaded
    if not _loaded:
        Builder.load_file(str(KV_FILE))
        _loaded = True


class OneLineFitLabel(Label):
    """A one-line label whose font shrinks from ``max_font`` until the text fits its box."""

    max_font = NumericProperty(100)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(text=self._fit, size=self._fit, max_font=self._fit, bold=self._fit, font_name=self._fit)
        self._fit()

    def _fit(self, *_: Any) -> None:
        size = self.max_font
        if self.text and self.width > 1 and self.height > 1:
            w, h = CoreLabel(font_size=size, font_name=self.font_name, bold=self.bold).get_extents(self.text)
            size *= min(1.0, 0.96 * self.width / max(w, 1), 0.98 * self.height / max(h, 1))
        self.font_size = max(size, 1)


class PanelBox(BoxLayout):
    """A rounded panel."""

    u = NumericProperty(1)
    fill = ColorProperty(PANEL)
    vm = ObjectProperty(None, allownone=True)


class AlertMark(Label):
    """The red "reconnecting" / "hub offline" pill in the header."""

    u = NumericProperty(1)


class MarksMark(Label):
    """The amber pill in the header: a printer out of paper or offline, this display's sound silent."""

    u = NumericProperty(1)


class Header(BoxLayout):
    """Center name, connection marks, time and date."""

    u = NumericProperty(1)
    vm = ObjectProperty(None, allownone=True)


class Hero(PanelBox):
    """The number just called and its counter, huge; blinks while ``vm.flash_on``."""


class StatusPill(Label):
    """open / paused / closed, colour-coded."""

    u = NumericProperty(1)
    status = StringProperty("")


class CounterRowView(BoxLayout):
    """One counter: name, number served, status."""

    u = NumericProperty(1)
    name = StringProperty("")
    number = StringProperty("")
    status = StringProperty("")
    status_text = StringProperty("")


class RecentCell(BoxLayout):
    """One recent call: number → counter."""

    u = NumericProperty(1)
    number = StringProperty("")
    counter = StringProperty("")
    note = StringProperty("")
    voice = StringProperty("")  # "speaking" (highlighted) / "waiting" / ""


class WaitingCell(BoxLayout):
    """One service: letter, name, waiting count."""

    u = NumericProperty(1)
    prefix = StringProperty("")
    name = StringProperty("")
    count = StringProperty("")


class Marquee(StencilView):
    """A line that scrolls right to left when it is wider than the box (holds still for a moment first)."""

    text = StringProperty("")
    font_size = NumericProperty(36)
    speed = NumericProperty(140)  # pixels per second
    hold = NumericProperty(3.0)  # seconds shown still at the start of each pass

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label = Label(font_name="Body", size_hint=(None, None), color=(1, 1, 1, 1))
        self.add_widget(self.label)
        self.label.bind(texture_size=self._sized)
        self.bind(text=self._restart, font_size=self._restart, size=self._place, pos=self._place)
        self._offset, self._wait = 0.0, self.hold
        self._ev = Clock.schedule_interval(self._step, 1 / 30)
        self._restart()

    def _sized(self, *_: Any) -> None:
        self.label.size = self.label.texture_size
        self._place()

    def _restart(self, *_: Any) -> None:
        self.label.text, self.label.font_size = self.text, self.font_size
        self._offset, self._wait = 0.0, self.hold
        self._place()

    def _step(self, dt: float) -> None:
        pad = self.font_size * 0.6
        if self.label.width <= self.width - 2 * pad:
            return
        if self._wait > 0:
            self._wait -= dt
            return
        self._offset -= self.speed * dt
        if self._offset < -self.label.width - pad:
            self._offset, self._wait = self.width - pad, 0.0
        self._place()

    def _place(self, *_: Any) -> None:
        pad = self.font_size * 0.6
        self.label.pos = (self.x + pad + self._offset, self.center_y - self.label.height / 2)

    def stop(self) -> None:
        """Stop scrolling."""
        self._ev.cancel()


class NoticeBar(BoxLayout):
    """The bottom bar with the scrolling notice."""

    u = NumericProperty(1)


class BoardScreen(BoxLayout):
    """The whole board; rearranges itself for portrait when taller than wide."""

    vm = ObjectProperty(None)
    u = NumericProperty(1)
    portrait = BooleanProperty(False)
    recent_cols = NumericProperty(2)
    waiting_cols = NumericProperty(2)

    def __init__(self, vm: BoardViewModel, **kwargs: Any) -> None:
        load_kv()
        super().__init__(orientation="vertical", **kwargs)
        self.vm = vm
        self.header = Header(vm=vm)
        self.hero = Hero(vm=vm)
        self.counters_panel, self.counter_rows = self._panel("counters", vm.texts.get("counters.title", ""))
        self.recent_panel, self.recent_grid = self._panel("recent", vm.texts.get("recent.title", ""))
        self.waiting_panel, self.waiting_grid = self._panel("waiting", vm.texts.get("waiting.title", ""))
        self.counter_head = self._counter_head()
        self.counters_panel.add_widget(self.counter_head, index=1)
        self.body = BoxLayout()
        self.notice = NoticeBar()
        self.marquee = Marquee(text=vm.notice)
        self.notice.add_widget(self.marquee)
        for w in (self.header, self.body, self.notice):
            self.add_widget(w)
        for w in (self.header, self.hero, self.counters_panel, self.recent_panel, self.waiting_panel, self.notice):
            self.bind(u=w.setter("u"))
        vm.bind(counters=self._fill_counters, recent=self._fill_recent, waiting=self._fill_waiting,
                texts=self._retitle, notice=self.marquee.setter("text"))
        self.bind(size=self._resize)
        self._resize()

    # ------------------------------------------------------------------ building
    def _panel(self, name: str, title: str) -> tuple[PanelBox, GridLayout]:
        panel = PanelBox(vm=self.vm)
        heading = Factory.SectionTitle(text=title)
        self.bind(u=heading.setter("u"))
        grid = GridLayout(cols=1, spacing=(16, 0))
        grid.qid = f"{name}-grid"  # type: ignore[attr-defined]
        panel.heading = heading  # type: ignore[attr-defined]
        panel.add_widget(heading)
        panel.add_widget(grid)
        return panel, grid

    def _counter_head(self) -> Widget:
        row = BoxLayout(size_hint_y=None, height=36, spacing=14)  # sizes follow u in _resize
        texts = self.vm.texts
        self._heads = []
        for key, hint, align in (("counters.counter", 0.42, "left"), ("counters.number", 0.26, "center"),
                                 ("counters.status", 0.32, "center")):
            label = Label(text=texts.get(key, ""), font_name="Body", color=(0.74, 0.81, 0.91, 1),
                          size_hint_x=hint, halign=align, valign="middle")
            label.bind(size=label.setter("text_size"))
            label.key = key  # type: ignore[attr-defined]
            self._heads.append(label)
            row.add_widget(label)
        return row

    def _retitle(self, *_: Any) -> None:
        t = self.vm.texts
        self.counters_panel.heading.text = t.get("counters.title", "")
        self.recent_panel.heading.text = t.get("recent.title", "")
        self.waiting_panel.heading.text = t.get("waiting.title", "")
        for label in self._heads:
            label.text = t.get(label.key, "")
        self._fill_recent()

    # ------------------------------------------------------------------ layout
    def _resize(self, *_: Any) -> None:
        self.u = max(min(self.width, self.height), 1) / 1080
        portrait = self.height > self.width * 1.1
        self.recent_cols = 1 if portrait else 2
        self.waiting_cols = 1 if portrait else 2
        self.counter_head.height, self.counter_head.spacing = 40 * self.u, 14 * self.u
        for label in self._heads:
            label.font_size = 26 * self.u
        self.marquee.font_size = 38 * self.u
        if portrait != self.portrait or not self.body.children:
            self.portrait = portrait
            self._arrange()
        gap = 16 * self.u
        self.body.padding = self.body.spacing = gap
        for box in self.body.children:
            box.spacing = gap
        self._fill_counters()
        self._fill_recent()
        self._fill_waiting()

    def _arrange(self) -> None:
        for w in (self.hero, self.counters_panel, self.recent_panel, self.waiting_panel):
            if w.parent is not None:
                w.parent.remove_widget(w)
        self.body.clear_widgets()
        if self.portrait:
            self.body.orientation = "vertical"
            bottom = BoxLayout(size_hint_y=0.36)
            self.hero.size_hint = (1, 0.30)
            self.counters_panel.size_hint = (1, 0.34)
            self.recent_panel.size_hint_x, self.waiting_panel.size_hint_x = 0.42, 0.58
            self.recent_panel.size_hint_y = self.waiting_panel.size_hint_y = 1
            bottom.add_widget(self.recent_panel)
            bottom.add_widget(self.waiting_panel)
            for w in (self.hero, self.counters_panel, bottom):
                self.body.add_widget(w)
        else:
            self.body.orientation = "horizontal"
            left = BoxLayout(orientation="vertical", size_hint_x=0.43)
            right = BoxLayout(orientation="vertical", size_hint_x=0.57)
            self.hero.size_hint = (1, 0.58)
            self.recent_panel.size_hint = (1, 0.42)
            self.counters_panel.size_hint = (1, 0.6)
            self.waiting_panel.size_hint = (1, 0.4)
            left.add_widget(self.hero)
            left.add_widget(self.recent_panel)
            right.add_widget(self.counters_panel)
            right.add_widget(self.waiting_panel)
            self.body.add_widget(left)
            self.body.add_widget(right)

    # ------------------------------------------------------------------ lists
    def _fill_counters(self, *_: Any) -> None:
        rows = self.vm.counters
        grid = self.counter_rows
        if len(grid.children) != len(rows):
            grid.clear_widgets()
            for row in rows:
                view = CounterRowView(u=self.u)
                view.qid = f"counter-{row['id']}"  # type: ignore[attr-defined]
                grid.add_widget(view)
        for view, row in zip(reversed(grid.children), rows, strict=True):
            view.u = self.u
            view.name, view.number = row["name"], row["number"]
            view.status, view.status_text = row["status"], row["status_text"]
            view.qid = f"counter-{row['id']}"  # type: ignore[attr-defined]

    def _fill_recent(self, *_: Any) -> None:
        grid, cols = self.recent_grid, self.recent_cols
        slots = math.ceil(max(self.vm.settings.history, 1) / cols) * cols
        grid.cols = cols
        grid.spacing = (24 * self.u, 0)
        if len(grid.children) != slots:
            grid.clear_widgets()
            for i in range(slots):
                cell = RecentCell(u=self.u)
                cell.qid = f"recent-{i}"  # type: ignore[attr-defined]
                grid.add_widget(cell)
        calls = self.vm.recent
        order = self._column_major(slots, cols)
        cells = list(reversed(grid.children))
        for slot, cell in zip(order, cells, strict=True):
            call = calls[slot] if slot < len(calls) else None
            cell.u = self.u
            cell.qid = f"recent-{slot}"  # type: ignore[attr-defined]
            cell.number = call["number"] if call else ""
            cell.counter = call["counter"] if call else ""
            cell.note = call["note"] if call else ""
            cell.voice = call.get("voice", "") if call else ""
            cell.opacity = 1 if call else 0

    @staticmethod
    def _column_major(slots: int, cols: int) -> list[int]:
        """Grid position → call index, so the newest calls read top to bottom in the first column."""
        rows = math.ceil(slots / cols)
        return [c * rows + r for r in range(rows) for c in range(cols)]

    def _fill_waiting(self, *_: Any) -> None:
        grid, items = self.waiting_grid, self.vm.waiting
        grid.cols = self.waiting_cols
        grid.spacing = (28 * self.u, 0)
        order = self._column_major(len(items), grid.cols) if items else []
        if len(grid.children) != len(order):
            grid.clear_widgets()
            for _slot in order:
                grid.add_widget(WaitingCell(u=self.u))
        for slot, cell in zip(order, reversed(grid.children), strict=True):
            item = items[slot] if slot < len(items) else None
            cell.u = self.u
            cell.opacity = 1 if item else 0
            if item is None:
                continue
            cell.qid = f"waiting-{item['id']}"  # type: ignore[attr-defined]
            cell.prefix, cell.name = item["prefix"], item["name"]
            cell.count = "–" if item["waiting"] is None else str(item["waiting"])

    def close(self) -> None:
        """Stop the scrolling notice's timer."""
        self.marquee.stop()
