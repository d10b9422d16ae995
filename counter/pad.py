"""The counter pad's screens: officer sign-in, the pad itself (with transfer and call-number
panels) and the rating shown to the citizen after Xong. Layout lives in ``pad.kv``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from ui_kit.i18n import tr

from .rating_view import RatingView
from .rating_vm import RatingViewModel
from .viewmodel import CounterViewModel
from .widgets import PadOverlay

KV = Path(__file__).with_name("pad.kv")


class PadSignInScreen(Screen):
    """Officer names from the config as buttons, a free-text name, or skip."""

    vm = ObjectProperty(None, allownone=True)
    lang = StringProperty("vi")
    waiting_for_answer = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._fill()

    def _fill(self) -> None:
        grid = self.ids.officers
        grid.clear_widgets()
        vm = self.vm
        if vm is None:
            return
        for i, name in enumerate(vm.desk.officers):
            button = Factory.PadOfficerButton(text=name, qid=f"officer-{i}")
            button.bind(on_release=lambda b: self.choose(b.text))
            vm.bind(can_act=lambda _vm, ok, b=button: setattr(b, "disabled", not ok))
            button.disabled = not vm.can_act
            grid.add_widget(button)
        vm.bind(on_result=self._answered)

    def choose(self, name: str) -> None:
        """Sign ``name`` in; the pad opens when the hub has recorded it."""
        if name.strip() and self.vm.sign_in(name):
            self.waiting_for_answer = True

    def _answered(self, _vm: Any, action: str, ok: bool, _text: str) -> None:
        if action == "sign_in" and self.waiting_for_answer:
            self.waiting_for_answer = False
            if ok and self.manager is not None:
                self.manager.current = "pad"

    def skip(self) -> None:
        """Work without signing in."""
        self.manager.current = "pad"


class PadScreen(Screen):
    """The officer's pad."""

    vm = ObjectProperty(None, allownone=True)
    lang = StringProperty("vi")
    dossier_draft = StringProperty("")  # the dossier field's text
    dossier_shown = BooleanProperty(False)  # a ticket to attach a code to: the current one, or one just done
    dossier_ready = BooleanProperty(False)  # Gắn mã is on: shown, linked, text typed

    def on_vm(self, _screen: Any, vm: CounterViewModel | None) -> None:
        if vm is not None:
            vm.bind(can_act=self._dossier_check, ticket=self._dossier_check, undo_ticket=self._dossier_check)
        self._dossier_check()

    def on_dossier_draft(self, *_: Any) -> None:
        self._dossier_check()

    def _dossier_check(self, *_: Any) -> None:
        vm = self.vm
        self.dossier_shown = bool(vm and (vm.ticket or (vm.undo_ticket and vm.undo_ticket.get("action") == "complete")))
        self.dossier_ready = bool(self.dossier_shown and vm.can_act and self.dossier_draft.strip())

    def open_transfer(self) -> PadTransferOverlay | None:
        """Show the list of services to move the current ticket to."""
        if not self.vm or not self.vm.ticket:
            return None
        panel = PadTransferOverlay(vm=self.vm, lang=self.lang)
        self.add_widget(panel)
        return panel

    def open_number(self) -> PadNumberOverlay:
        """Show the on-screen keypad to call a waiting number."""
        panel = PadNumberOverlay(vm=self.vm, lang=self.lang)
        self.add_widget(panel)
        return panel

    def submit_dossier(self) -> bool:
        """Gắn mã: the typed (or scanned into the field) dossier code goes to the hub; the field empties
        once sent, and keeps the text when refused here so the officer can fix it."""
        field = self.ids.dossier_input
        if not self.vm or not self.vm.set_dossier(field.text):
            return False
        field.text = ""
        field.focus = False
        return True

    def overlay(self) -> PadOverlay | None:
        """The panel shown over the pad, if any."""
        return next((w for w in self.children if isinstance(w, PadOverlay)), None)


class PadTransferOverlay(PadOverlay):
    """Buttons for every other service; one tap transfers and closes."""

    vm = ObjectProperty(None)
    lang = StringProperty("vi")
    number = StringProperty("")

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        ticket = self.vm.ticket or {}
        self.number = str(ticket.get("number", ""))
        desk = self.vm.desk
        for service in desk.transfer_targets(ticket.get("service")):
            button = Factory.PadTargetButton(text=desk.site.service_name(service, self.lang), qid=f"transfer-{service}")
            button.bind(on_release=lambda _b, s=service: self.pick(s))
            self.ids.targets.add_widget(button)
        for counter in desk.site.counter_ids:
            if counter == desk.counter_id:
                continue
            button = Factory.PadCounterTargetButton(text=desk.site.counter_name(counter, self.lang),
                                                    qid=f"transfer-counter-{counter}")
            button.bind(on_release=lambda _b, c=counter: self.pick_counter(c))
            self.ids.counters.add_widget(button)

    def pick(self, service: str) -> None:
        """Transfer to ``service``."""
        self.vm.transfer(service)
        self.dismiss()

    def pick_counter(self, counter: str) -> None:
        """Transfer to one counter."""
        self.vm.transfer_to_counter(counter)
        self.dismiss()


class PadNumberOverlay(PadOverlay):
    """Choose the service letter, type the digits, press Gọi."""

    vm = ObjectProperty(None)
    lang = StringProperty("vi")
    digits = StringProperty("")
    service = StringProperty("")
    display = StringProperty("")

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        desk = self.vm.desk
        self.service = desk.counter_services[0]
        self._prefix_buttons = {}
        for service in desk.counter_services:
            button = Factory.PadPrefixButton(text=f"{desk.site.prefix(service)} · {desk.site.service_name(service, self.lang)}",
                                          qid=f"prefix-{service}")
            button.bind(on_release=lambda _b, s=service: setattr(self, "service", s))
            self._prefix_buttons[service] = button
            self.ids.prefixes.add_widget(button)
        for key in "123456789":
            self._key(key, key, (0.2, 0.27, 0.36, 1))
        self._key("⌫", "back", (0.33, 0.43, 0.48, 1))
        self._key("0", "0", (0.2, 0.27, 0.36, 1))
        self.go = self._key(tr("counter.call.go", self.lang), "go", (0.18, 0.49, 0.2, 1))
        self.reprint = Factory.PadButton(text=tr("counter.call.reprint", self.lang), qid="key-reprint",
                                         base_color=(0.33, 0.43, 0.48, 1), size_hint_y=None,
                                         height=self.height * 0.11)
        self.reprint.bind(on_release=lambda _b: self.press("reprint"))
        self.ids.number_actions.add_widget(self.reprint, index=1)
        self.bind(height=lambda _w, h: setattr(self.reprint, "height", h * 0.11))
        self.reprint.fixed_font = 0
        self.bind(digits=self._refresh, service=self._refresh)
        self._refresh()

    def _key(self, text: str, name: str, color: tuple[float, ...]) -> Any:
        button = Factory.PadButton(text=text, qid=f"key-{name}", base_color=color)
        button.bind(on_release=lambda _b: self.press(name))
        self.ids.keypad_grid.add_widget(button)
        return button

    def _refresh(self, *_: Any) -> None:
        desk = self.vm.desk
        self.display = desk.number_for(self.digits, self.service) if self.digits else desk.placeholder(self.service)
        for service, button in self._prefix_buttons.items():
            button.base_color = (0.95, 0.65, 0.1, 1) if service == self.service else (0.22, 0.29, 0.67, 1)
        self.go.disabled = self.reprint.disabled = not self.digits

    def press(self, key: str) -> None:
        """A key of the on-screen keypad."""
        if key == "back":
            self.digits = self.digits[:-1]
        elif key in ("go", "reprint"):
            if self.digits:
                (self.vm.call_number if key == "go" else self.vm.reprint)(self.display)
                self.dismiss()
        elif len(self.digits) < self.vm.desk.site.number_pad(self.service) + 1:
            self.digits += key


class PadRatingScreen(Screen):
    """The rating, shown on the pad turned toward the citizen, with a thin staff strip on top:
    the pad's last message, Hoàn tác while it is offered, and Về quầy (back to the pad at once)."""

    vm = ObjectProperty(None, allownone=True)
    lang = StringProperty("vi")

    def __init__(self, rating_vm: RatingViewModel, **kw: Any) -> None:
        super().__init__(**kw)
        self.view = RatingView(vm=rating_vm, size_hint=(1, 0.915), pos_hint={"x": 0, "y": 0})  # under the strip
        self.add_widget(self.view, index=1)


class PadRoot(ScreenManager):
    """The pad app's root: sign-in → pad ⇄ rating."""

    bus: Any = None  # the UiBus, once connected
    keypad: Any = None  # the USB keypad source, when attached
    scanner: Any = None  # the barcode scanner's key source (counter/scanner.py), when attached

    def __init__(self, vm: CounterViewModel, rating_vm: RatingViewModel | None, lang: str = "vi",
                 officer: str | None = None, **kw: Any) -> None:
        super().__init__(transition=NoTransition(), **kw)
        self.vm, self.rating_vm = vm, rating_vm
        self.signin = PadSignInScreen(name="signin", vm=vm, lang=lang)
        self.pad = PadScreen(name="pad", vm=vm, lang=lang)
        self.add_widget(self.signin)
        self.add_widget(self.pad)
        if rating_vm is not None:
            self.add_widget(PadRatingScreen(rating_vm, name="rating", vm=vm, lang=lang))
            vm.bind(on_completed=lambda _vm, ticket: self.ask_rating(ticket))
            vm.bind(on_restored=lambda *_: self._undone())
            rating_vm.bind(on_finished=lambda *_: self._rating_done())
        if officer:
            self.current = "pad"
            self._auto_officer = officer
            vm.bind(can_act=self._sign_in_when_ready)
            self._sign_in_when_ready(vm, vm.can_act)
        else:
            self.current = "signin"

    def _sign_in_when_ready(self, vm: CounterViewModel, ready: bool) -> None:
        if ready and self._auto_officer and vm.sign_in(self._auto_officer):
            self._auto_officer = None
            vm.unbind(can_act=self._sign_in_when_ready)

    def ask_rating(self, ticket: dict[str, Any]) -> None:
        """Turn the pad toward the citizen."""
        if self.rating_vm is not None:
            self.rating_vm.start(ticket)
            self.current = "rating"

    def on_ticket_completed(self, _topic: str, event: dict[str, Any]) -> None:
        """``event/ticket_completed``: a ticket Gọi tiếp closed here (``reason: auto``) is rated too.

        The next citizen is already called when it arrives: the rating never delays a call.
        """
        ticket = event.get("ticket") or {}
        if event.get("reason") != "auto" or event.get("counter") != self.vm.counter_id:
            return
        if ticket.get("status") == "done" and ticket.get("rating") is None:
            self.ask_rating(ticket)

    def back_to_pad(self) -> None:
        """Về quầy: the officer needs the pad now (the rating is skipped)."""
        if self.rating_vm is not None:
            self.rating_vm.skip()
        self.current = "pad"

    def _undone(self) -> None:
        """An undo took the ticket back: nobody rates it."""
        if self.current == "rating":
            self.back_to_pad()

    def _rating_done(self) -> None:
        if self.current == "rating":
            self.current = "pad"


def load_kv() -> None:
    """Load the rules once per process."""
    if str(KV) not in Builder.files:
        Builder.load_file(str(KV))


load_kv()
