"""A USB keypad drives the counter: decoded key presses → view-model actions, with beeps."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from devices.keypad import Command, KeyDecoder
from devices.keypad.feedback import Beeper
from ui_kit.i18n import tr

from .viewmodel import CounterViewModel

log = logging.getLogger(__name__)


class KeypadLink:
    """Call :meth:`key` with each key name (on the UI thread); answers beep and are printed."""

    def __init__(self, vm: CounterViewModel, decoder: KeyDecoder | None = None, beeper: Beeper | None = None,
                 echo: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.vm, self.decoder = vm, decoder or KeyDecoder()
        self.beeper = beeper or Beeper("off")
        self.echo = echo
        self._clock = clock
        self._mine = False  # the request in flight came from the keypad
        vm.bind(on_result=self._result)

    def key(self, name: str) -> Command | None:
        """One key press."""
        command = self.decoder.feed(name, self._clock())
        if command is not None:
            self.run(command)
        return command

    def scan(self, code: str) -> bool:
        """A dossier code read by the barcode scanner: tied to the current ticket (or the one just completed)."""
        if self.vm.busy:
            return False
        self._mine = True
        sent = self.vm.set_dossier(code)
        if not sent:
            self._mine = False
        return sent

    def bad_scan(self, _partial: str) -> None:
        """A scan came apart (no Enter, or a pause inside it): say so; none of its keys acted."""
        self.vm.say(tr("counter.error.scan_incomplete", self.vm.lang), error=True)
        self.beeper.error()
        self._echo(self.vm.message)

    def run(self, command: Command) -> bool:
        """Do a decoded command; False when nothing was sent."""
        vm, lang = self.vm, self.vm.lang
        action, arg = command.action, command.arg
        if action == "typing":
            vm.say(tr("counter.msg.typing", lang, number=vm.desk.number_for(arg or "0")))
            return False
        if action == "clear":
            vm.say("")
            return False
        if action == "unknown":
            vm.say(tr("counter.error.unknown_key", lang, name=arg), error=True)
            self.beeper.error()
            return False
        if vm.busy:
            return False
        self._mine = True  # an offline refusal answers at once, through _result
        sent = self._send(action, arg)
        if not sent:
            self._mine = False  # e.g. the same key again within the repeat guard: ignored quietly
        return sent

    def _send(self, action: str, arg: str | None) -> bool:
        vm = self.vm
        if action == "call_number":
            try:
                return vm.call_number(vm.desk.number_for(arg or "0"))
            except (KeyError, ValueError):
                return False
        if action == "transfer":
            return vm.transfer(arg or "")
        if action == "pause_toggle":
            return vm.toggle_pause()
        method = {"next": vm.call_next, "recall": vm.recall, "no_show": vm.no_show, "complete": vm.complete,
                  "pause": lambda: vm.send("pause"), "resume": lambda: vm.send("resume")}.get(action)
        if method is None:
            log.warning("keypad action %r is not known", action)
            return False
        return method()

    def _result(self, _vm: Any, _action: str, ok: bool, text: str) -> None:
        if not self._mine:
            return
        self._mine = False
        (self.beeper.ok if ok else self.beeper.error)()
        self._echo(text)

    def _echo(self, text: str) -> None:
        if self.echo is not None and text:
            self.echo(text)
