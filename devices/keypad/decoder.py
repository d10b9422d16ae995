"""Key presses → counter commands. Pure: the caller passes the time of each press."""

from __future__ import annotations

from dataclasses import dataclass

from .keymap import DIGITS, KeyMap, normalize_key


@dataclass(frozen=True)
class Command:
    """What a key press asks for.

    ``action``: one of the key map actions, ``call_number`` (arg: the digits), ``transfer``
    (arg: the service), ``typing`` (arg: the digits typed so far) or ``unknown`` (arg: the key).
    """

    action: str
    arg: str | None = None


class KeyDecoder:
    """Feed key names (any spelling :func:`normalize_key` knows); get a :class:`Command` or None."""

    def __init__(self, keymap: KeyMap | None = None) -> None:
        self.keymap = keymap or KeyMap()
        self.buffer = ""
        self._typed_at = 0.0

    def feed(self, key: str, now: float) -> Command | None:
        """One key press at monotonic time ``now``."""
        km = self.keymap
        key = normalize_key(key)
        if self.buffer and now - self._typed_at > km.digit_timeout_s:
            self.buffer = ""
        if km.digits and key in DIGITS:
            if len(self.buffer) < km.max_digits:
                self.buffer += key
            self._typed_at = now
            return Command("typing", self.buffer)
        if self.buffer and key in km.submit:
            number, self.buffer = self.buffer, ""
            return Command("call_number", number)
        action = km.action_for(key)
        if action is None:
            return Command("unknown", key) if key else None
        self.buffer = ""  # an action key drops half-typed digits, then acts
        if action.startswith("transfer:"):
            return Command("transfer", action.split(":", 1)[1])
        return Command(action)
