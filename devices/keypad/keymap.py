"""Which key does what: a small, validated map from key names to counter actions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Actions a key may trigger; ``transfer:SERVICE`` is also accepted.
ACTIONS = ("next", "recall", "no_show", "complete", "pause_toggle", "pause", "resume", "clear")

#: The default map for a cheap numeric keypad (digits + Enter call that number: see README).
DEFAULT_KEYS: dict[str, str] = {
    "enter": "next",
    "+": "next",
    ".": "recall",
    "-": "no_show",
    "*": "complete",
    "/": "pause_toggle",
    "backspace": "clear",
    "esc": "clear",
}

DIGITS = tuple("0123456789")

_ALIASES = {
    "return": "enter", "kp_enter": "enter", "numpadenter": "enter", "\r": "enter", "\n": "enter",
    "plus": "+", "kp_add": "+", "numpadadd": "+",
    "minus": "-", "kp_subtract": "-", "numpadsubtract": "-", "numpadsubstract": "-",  # Kivy's spelling
    "asterisk": "*", "kp_multiply": "*", "numpadmul": "*", "multiply": "*",
    "slash": "/", "kp_divide": "/", "numpaddivide": "/", "divide": "/",
    "period": ".", "dot": ".", "kp_decimal": ".", "numpaddecimal": ".", "decimal": ".", ",": ".",
    "comma": ".", "escape": "esc", "delete": "backspace", "del": "backspace", "\x7f": "backspace",
    "\b": "backspace", "\x1b": "esc",
}


class KeyMapError(ValueError):
    """A key map file or dict that cannot be used (the message names the bad entry)."""


def normalize_key(name: str) -> str:
    """One name per key: ``KP_Enter``/``numpadenter``/``return`` → ``enter``, ``numpad7`` → ``7``."""
    if name in ("\r", "\n", "\b", "\x7f", "\x1b"):
        return _ALIASES[name]
    low = name.strip().lower()
    for prefix in ("numpad", "kp_", "kp"):
        if low.startswith(prefix) and low[len(prefix):] in DIGITS:
            return low[len(prefix):]
    return _ALIASES.get(low, low)


def _check_action(key: str, action: Any) -> str:
    if not isinstance(action, str):
        raise KeyMapError(f"key {key!r}: the action must be text, got {action!r}")
    if action in ACTIONS:
        return action
    if action.startswith("transfer:") and len(action) > len("transfer:"):
        return action
    raise KeyMapError(f"key {key!r}: unknown action {action!r}; valid: {', '.join(ACTIONS)}, transfer:SERVICE")


@dataclass(frozen=True)
class KeyMap:
    """Key name → action, plus how typed digits behave.

    ``digits``: digit keys type a ticket number, a ``submit`` key then calls it;
    typed digits older than ``digit_timeout_s`` are forgotten.
    """

    keys: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_KEYS))
    digits: bool = True
    submit: tuple[str, ...] = ("enter",)
    digit_timeout_s: float = 8.0
    max_digits: int = 4

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeyMap:
        """``{"keys": {...}, "digits": true, "submit": ["enter"], "digit_timeout_s": 8}``.

        ``keys`` entries replace the defaults one by one; map a key to ``null`` to free it.
        """
        if not isinstance(data, dict):
            raise KeyMapError("a key map must be a JSON object")
        unknown = sorted(set(data) - {"keys", "digits", "submit", "digit_timeout_s", "max_digits"})
        if unknown:
            raise KeyMapError(f"unknown key map setting(s): {', '.join(unknown)}")
        keys = dict(DEFAULT_KEYS)
        given = data.get("keys", {})
        if not isinstance(given, dict):
            raise KeyMapError('"keys" must be an object of key name → action')
        for raw_key, action in given.items():
            key = normalize_key(str(raw_key))
            if key in DIGITS and data.get("digits", True):
                raise KeyMapError(f"key {raw_key!r}: digits type ticket numbers; set \"digits\": false to map them")
            if action is None:
                keys.pop(key, None)
            else:
                keys[key] = _check_action(str(raw_key), action)
        submit = data.get("submit", ["enter"])
        if isinstance(submit, str):
            submit = [submit]
        timeout = data.get("digit_timeout_s", 8.0)
        max_digits = data.get("max_digits", 4)
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise KeyMapError('"digit_timeout_s" must be a positive number of seconds')
        if not isinstance(max_digits, int) or not 1 <= max_digits <= 6:
            raise KeyMapError('"max_digits" must be a whole number 1..6')
        return cls(keys=keys, digits=bool(data.get("digits", True)),
                   submit=tuple(normalize_key(str(k)) for k in submit), digit_timeout_s=float(timeout),
                   max_digits=max_digits)

    @classmethod
    def from_file(cls, path: str | Path) -> KeyMap:
        """Read a JSON key map file (see README for the format)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise KeyMapError(f"cannot read key map {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise KeyMapError(f"key map {path} is not valid JSON: {exc}") from None
        try:
            return cls.from_dict(data)
        except KeyMapError as exc:
            raise KeyMapError(f"key map {path}: {exc}") from None

    def action_for(self, key: str) -> str | None:
        """The action of a (normalized) key, or None."""
        return self.keys.get(key)

    def describe(self) -> list[tuple[str, str]]:
        """(key, action) pairs for help screens, digits first."""
        rows = [("0-9 + " + "/".join(self.submit), "call_number")] if self.digits else []
        return rows + sorted(self.keys.items())
