"""The technician's "reprint a ticket of today" panel: a service letter, digits, In lại.

Opened from the technician screen; it asks the hub through :class:`kiosk.reprint.Reprints`, and
the ticket comes out of this kiosk's printer when the hub's ``reprint_requested`` event arrives.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.modalview import ModalView

from ..ports import PrintResult
from ..reprint import Reprints
from .frame import Env
from .theme import GREEN, NAVY, NAVY_DARK, PAPER, WHITE
from .widgets import Tile, paint, text

AMBER = (0.95, 0.65, 0.1, 1)


class ReprintPanel(ModalView):
    """Choose the letter, type the digits, press In lại; the answer is shown on the panel."""

    def __init__(self, env: Env, reprints: Reprints, **kw: Any) -> None:
        super().__init__(size_hint=(0.9, 0.8), auto_dismiss=False, **kw)
        self.env, self.reprints = env, reprints
        site, m = env.vm.site, env.m
        self.services = list(site.service_ids)
        self.service, self.digits = self.services[0], ""
        box = BoxLayout(orientation="vertical", spacing=m.px(16), padding=[m.px(24)] * 4)
        paint(box, PAPER, radius=m.px(20))
        box.add_widget(text(env.t("admin.reprint_title"), m.px(48), NAVY_DARK, bold=True, size_hint_y=0.12))
        self.display = text("", m.px(90), NAVY_DARK, bold=True, size_hint_y=0.18)
        self.display.qid = "reprint-number"
        box.add_widget(self.display)
        letters = GridLayout(cols=min(len(self.services), 9), spacing=m.px(8), size_hint_y=0.12)
        self.letter_tiles: dict[str, Tile] = {}
        for service in self.services:
            tile = Tile(site.prefix(service), None, m.px(40), qid=f"reprint-prefix-{service}",
                        on_tap=lambda s=service: self._pick(s), bg=NAVY, radius=m.px(10))
            self.letter_tiles[service] = tile
            letters.add_widget(tile)
        box.add_widget(letters)
        keys = GridLayout(cols=6, spacing=m.px(8), size_hint_y=0.3)
        for key in "1234567890":
            keys.add_widget(Tile(key, None, m.px(44), qid=f"reprint-key-{key}", on_tap=lambda k=key: self.press(k),
                                 bg=NAVY, radius=m.px(10)))
        keys.add_widget(Tile("⌫", None, m.px(44), qid="reprint-key-back", on_tap=lambda: self.press("back"),
                             bg=NAVY_DARK, radius=m.px(10)))
        box.add_widget(keys)
        self.message = text("", m.px(36), NAVY_DARK, size_hint_y=0.1)
        self.message.qid = "reprint-message"
        box.add_widget(self.message)
        actions = BoxLayout(spacing=m.px(16), size_hint_y=0.14)
        actions.add_widget(Tile(env.t("admin.reprint_go"), None, m.px(40), qid="reprint-go", on_tap=self.send,
                                bg=GREEN, radius=m.px(14)))
        actions.add_widget(Tile(env.t("admin.close"), None, m.px(40), qid="reprint-close", on_tap=self.dismiss,
                                bg=WHITE, fg=NAVY, border=NAVY, radius=m.px(14)))
        box.add_widget(actions)
        self.add_widget(box)
        reprints.on_printed = self._printed
        self._refresh()

    def _pick(self, service: str) -> None:
        self.service = service
        self._refresh()

    def press(self, key: str) -> None:
        """A key of the panel's keypad."""
        if key == "back":
            self.digits = self.digits[:-1]
        elif len(self.digits) < self.env.vm.site.number_pad(self.service) + 1:
            self.digits += key
        self._refresh()

    def number(self) -> str:
        """The typed number (``A007``), or the placeholder ``A___`` before a digit."""
        site = self.env.vm.site
        if not self.digits:
            return site.prefix(self.service) + "_" * site.number_pad(self.service)
        return site.ticket_number(self.service, int(self.digits))

    def _refresh(self) -> None:
        self.display.text = self.number()
        for service, tile in self.letter_tiles.items():
            tile.bg = list(AMBER if service == self.service else NAVY)

    def send(self) -> None:
        """In lại: ask the hub; the printer prints when the event comes back."""
        if not self.digits:
            return
        number = self.number()
        self.message.text = self.env.t("admin.working")
        self.reprints.request(number, lambda answer: self._answered(number, answer))

    def _answered(self, number: str, answer: Any) -> None:
        if isinstance(answer, Exception):
            self.message.text = self.env.t("admin.reprint_failed", number=number, detail=str(answer))
        elif not answer.get("ok"):
            self.message.text = self.env.t("admin.reprint_unknown", number=number)
        else:
            self.message.text = self.env.t("admin.reprint_sent", number=number)

    def _printed(self, number: str, result: PrintResult) -> None:
        self.message.text = (self.env.t("admin.reprint_printed", number=number) if result.ok
                             else self.env.t("admin.print_failed", detail=result.message))

    def on_dismiss(self) -> None:
        """Stop reporting prints to a closed panel."""
        if self.reprints.on_printed == self._printed:
            self.reprints.on_printed = None


def open_reprint(env: Env) -> ReprintPanel | None:
    """Open the panel (None on a kiosk built without reprints, e.g. in unit tests)."""
    reprints = getattr(env.vm, "reprints", None)
    if reprints is None:
        return None
    panel = ReprintPanel(env, reprints)
    panel.open()
    return panel
