"""The rating screen (faces 1..5, countdown, thanks), bound to a :class:`RatingViewModel`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition  # noqa: F401  (used by rating.kv)

from . import widgets  # noqa: F401  (registers RatingFace, RatingFaceButton, PadButton for the kv rules)

KV = Path(__file__).with_name("rating.kv")


class RatingView(FloatLayout):
    """Faces to touch; shows ``idle``, ``ask`` or ``thanks`` after ``vm.phase``."""

    vm = ObjectProperty(None, allownone=True)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.bind(vm=self._follow)
        self._follow(self, self.vm)

    def _follow(self, _view: Any, vm: Any) -> None:
        if vm is not None:
            vm.bind(phase=self._show)
            self._show(vm, vm.phase)

    def _show(self, _vm: Any, phase: str) -> None:
        self.ids.pages.current = "ask" if phase == "sending" else phase


def load_kv() -> None:
    """Load the rules once per process."""
    if str(KV) not in Builder.files:
        Builder.load_file(str(KV))


load_kv()
