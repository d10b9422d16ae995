"""LED board protocols: how (address, text) becomes bytes. One class per board family.

``generic`` — a simple ASCII protocol for 4-digit 7-segment RS485 boards (many Chinese queue
boards speak a variant of it; check the board's manual)::

    STX  A A  T T T T  ETX  C C
    0x02 "07" "A012"  0x03 "3E"

- ``AA``: the board address, two ASCII decimal digits (00..99; set by DIP switches on the board).
- ``TTTT``: the text, right-aligned in 4 characters, upper case; characters a 7-segment digit
  cannot show become spaces; longer texts keep their last 4 characters.
- ``CC``: checksum, the sum of the bytes from the first address digit through ETX, modulo 256,
  as two upper-case hexadecimal ASCII digits.

Another family is one subclass of :class:`LedProtocol` with its ``frame`` and an entry in
:data:`PROTOCOLS`; the transports and ``LedBoards`` stay the same.
"""

from __future__ import annotations

from typing import ClassVar

STX, ETX = b"\x02", b"\x03"
BLANK = ""
DASHES = "----"


class LedProtocol:
    """Turns one board's address and text into the bytes to send."""

    name: ClassVar[str] = "base"
    width: ClassVar[int] = 4
    max_address: ClassVar[int] = 99
    #: Characters the board can show (others become spaces).
    charset: ClassVar[str] = "0123456789 -"

    def fit(self, text: str) -> str:
        """``text`` as the board shows it: upper case, known characters, exactly ``width`` wide."""
        shown = "".join(c if c in self.charset else " " for c in text.upper())
        return shown[-self.width:].rjust(self.width) if shown else " " * self.width

    def check_address(self, address: int) -> int:
        """The address, or ValueError saying the valid range."""
        if not isinstance(address, int) or isinstance(address, bool) or not 0 <= address <= self.max_address:
            raise ValueError(f"LED board address must be 0..{self.max_address} for protocol {self.name!r}, "
                             f"got {address!r}")
        return address

    def frame(self, address: int, text: str) -> bytes:
        """The bytes that make board ``address`` show ``text``."""
        raise NotImplementedError


class GenericAscii7Seg(LedProtocol):
    """``STX AA TTTT ETX CC`` (see the module docstring)."""

    name = "generic"
    charset = "0123456789 -ABCDEFGHIJLNOPRSTUY"

    def frame(self, address: int, text: str) -> bytes:
        body = f"{self.check_address(address):02d}{self.fit(text)}".encode("ascii") + ETX
        return STX + body + f"{sum(body) % 256:02X}".encode("ascii")


PROTOCOLS: dict[str, type[LedProtocol]] = {GenericAscii7Seg.name: GenericAscii7Seg}


def get_protocol(name: str) -> LedProtocol:
    """A protocol by name, or ValueError listing the known ones."""
    try:
        return PROTOCOLS[name]()
    except KeyError:
        raise ValueError(f"unknown LED protocol {name!r}; known: {', '.join(PROTOCOLS)}") from None
