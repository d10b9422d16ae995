"""Per-counter LED number boards: protocol (bytes per board family), transport (byte pipe), ``LedBoards``.

``--led serial:///dev/ttyUSB1?baudrate=9600&protocol=generic`` plus ``--led-map 1=11,2=12``
(default: the board address is the counter id). See :mod:`devices.led.protocol` for the wire format.
"""

from .boards import LedBoards, parse_led_map
from .protocol import PROTOCOLS, GenericAscii7Seg, LedProtocol
from .transport import FakeTransport, LedTransport, LedUnavailable, SerialTransport, open_led

__all__ = [
    "PROTOCOLS",
    "FakeTransport",
    "GenericAscii7Seg",
    "LedBoards",
    "LedProtocol",
    "LedTransport",
    "LedUnavailable",
    "SerialTransport",
    "open_led",
    "parse_led_map",
]
