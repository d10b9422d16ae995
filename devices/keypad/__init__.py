"""USB numeric keypad (a HID keyboard) for a counter: key map, pure decoder, key sources, beeps.

See ``devices/keypad/README.md`` for the default map and what works where.
"""

from .decoder import Command, KeyDecoder
from .keymap import ACTIONS, DEFAULT_KEYS, KeyMap, KeyMapError, normalize_key

__all__ = ["ACTIONS", "DEFAULT_KEYS", "Command", "KeyDecoder", "KeyMap", "KeyMapError", "normalize_key"]
