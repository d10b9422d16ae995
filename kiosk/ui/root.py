"""The kiosk's root widget: shows the view-model's screen, rebuilt when what it shows changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from ..viewmodel import KioskViewModel
from ..wording import t
from . import admin, choose, results
from .frame import Env
from .theme import Metrics
from .widgets import Tile

BUILDERS = {
    "welcome": choose.welcome, "field": choose.field, "procedure": choose.procedure,
    "priority": choose.priority, "issuing": results.issuing, "ticket": results.ticket,
    "hub_down": results.failure, "refused": results.failure, "pin": admin.pin, "admin": admin.admin,
}
# besides screen, lang and size: what else each screen shows
DEPENDS = {
    "welcome": {"printer_ready", "hub_ready", "hub_fault", "closed"},
    "field": {"closed_now", "priority"},
    "procedure": {"priority"},
    "ticket": {"print_state", "ticket"},
    "admin": {"printer_state", "printer_detail", "connected", "hub_online", "admin_message", "last_number",
              "info"},
}
DERIVED = {"printer_ready": ("printer_state",), "hub_ready": ("connected", "hub_online")}
"""View-model values computed from its properties: a screen showing one is rebuilt when the value changes, not at
every change of what it is computed from. The printer's first status ("unknown" -> "ok") and the hub's retained
status leave the welcome screen as it was; rebuilding it anyway costs a rebuild, and after its first frame ~4 MB in
an offscreen window (the tests', the bench's: llvmpipe frees deleted buffers at a flush; docs/kiosk-memory.md)."""
WATCHED = ("screen", "lang", "site_version",
           *sorted({s for props in DEPENDS.values() for p in props for s in DERIVED.get(p, (p,))}))


class KioskRoot(BoxLayout):
    """Fills the window; every touch tells the view-model the citizen is still there."""

    def __init__(self, vm: KioskViewModel, tz: tzinfo | None = None,
                 now: Callable[[tzinfo], datetime] = datetime.now, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.vm = vm
        self.tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")
        self.now = now
        self.env: Env | None = None
        self._derived: dict[str, object] = {}  # the DERIVED values the current screen was built with
        self.builds = 0
        self._rebuild = Clock.create_trigger(lambda _dt: self.rebuild(), -1)
        for prop in WATCHED:
            vm.fbind(prop, self._changed, prop)
        vm.bind(busy=lambda *_: self._apply_busy(), pin=lambda *_: self._live(), pin_message=lambda *_: self._live())
        self.bind(size=lambda *_: self._rebuild())
        self._ticker = Clock.schedule_interval(lambda _dt: self._tick(), 1.0)
        self.rebuild()

    def _changed(self, prop: str, *_: object) -> None:
        if self._shown(prop):
            self._rebuild()

    def _shown(self, prop: str) -> bool:
        """Whether the change of the view-model's ``prop`` changes the current screen."""
        shows = DEPENDS.get(self.vm.screen, ())
        if prop in ("screen", "lang", "site_version") or prop in shows:
            return True
        return any(prop in DERIVED[d] and getattr(self.vm, d) != self._derived.get(d) for d in shows if d in DERIVED)

    def rebuild(self) -> None:
        """Build the current screen for the current size (now)."""
        self.clear_widgets()
        self._derived = {d: getattr(self.vm, d) for d in DERIVED}
        self.env = Env(self.vm, Metrics(*self.size))
        self.add_widget(BUILDERS[self.vm.screen](self.env))
        self.builds += 1
        self._apply_busy()
        self._tick()

    def _apply_busy(self) -> None:
        """Every button of the screen is disabled while a request is in flight."""
        for w in self.walk(restrict=True):
            if isinstance(w, Tile):
                w.disabled = self.vm.busy or w.locked

    def _live(self) -> None:
        """Texts that change while a screen is shown, updated in place (the PIN pad)."""
        hooks = self.env.hooks if self.env else {}
        if "pin_shown" in hooks:
            hooks["pin_shown"].text = admin.pin_dots(self.vm.pin)
        if "pin_message" in hooks:
            hooks["pin_message"].text = self.vm.pin_message

    def _tick(self) -> None:
        self.vm.refresh_hours()
        label = self.env.hooks.get("clock") if self.env else None
        if label is None:
            return
        now = self.now(self.tz)
        sep = "  ·  " if self.env and self.env.m.portrait else "\n"
        label.text = f"{now:%H:%M}{sep}{t(f'weekday.{now.weekday()}', self.vm.lang)}, {now:%d/%m/%Y}"

    def on_touch_down(self, touch: object) -> bool:
        self.vm.touched()
        return super().on_touch_down(touch)

    def stop(self) -> None:
        """Stop the clock tick (the app is closing)."""
        self._ticker.cancel()

    def current(self) -> Widget:
        """The screen shown now."""
        return self.children[0]
