"""Byte pipes to the LED boards: a serial (RS485 adapter) port, or an in-memory fake for tests."""

from __future__ import annotations

import threading
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from .protocol import LedProtocol, get_protocol

BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class LedUnavailable(RuntimeError):
    """The LED port cannot be opened or written; the message says what to check."""


class LedTransport(Protocol):
    """Where frames go."""

    def write(self, data: bytes) -> None:
        """Send ``data`` (raise :class:`LedUnavailable` on failure)."""

    def close(self) -> None:
        """Release the port."""


class SerialTransport:
    """A serial port via pyserial (8N1); reopened on the next write after a failure (USB unplugged)."""

    def __init__(self, port: str, baudrate: int = 9600, timeout: float = 1.0) -> None:
        self.port, self.baudrate, self.timeout = port, baudrate, timeout
        self._serial: Any = None

    def open(self) -> SerialTransport:
        """Open now, so a missing port is reported at start."""
        import serial  # pyserial

        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=self.timeout, write_timeout=self.timeout)
        except (serial.SerialException, OSError, ValueError) as exc:
            self._serial = None
            raise LedUnavailable(f"cannot open LED port {self.port} ({exc}); check the RS485 adapter and "
                                 "`qms ports`") from None
        return self

    def write(self, data: bytes) -> None:
        """Write and wait until sent."""
        import serial

        if self._serial is None:
            self.open()
        try:
            self._serial.write(data)
            self._serial.flush()
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise LedUnavailable(f"writing to LED port {self.port} failed ({exc})") from None

    def close(self) -> None:
        """Close the port (opened again on the next write)."""
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None


class FakeTransport:
    """Records every write; ``broken = True`` makes writes fail like an unplugged adapter."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.broken = False
        self.closed = False
        self._lock = threading.Lock()
        self.written = threading.Condition(self._lock)

    def write(self, data: bytes) -> None:
        """Record ``data``."""
        with self.written:
            if self.broken:
                raise LedUnavailable("fake LED port is unplugged")
            self.writes.append(bytes(data))
            self.written.notify_all()

    def close(self) -> None:
        """Mark closed."""
        self.closed = True


def open_led(url: str) -> tuple[LedTransport, LedProtocol]:
    """Transport and protocol from ``serial:///dev/ttyUSB1?baudrate=9600&protocol=generic`` or ``fake://``."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    unknown = set(options) - {"baudrate", "protocol"}
    if unknown:
        raise ValueError(f"unknown LED URL option(s) {', '.join(sorted(unknown))} in {url!r} "
                         "(valid: baudrate, protocol)")
    protocol = get_protocol(options.get("protocol", "generic"))
    if parts.scheme == "fake":
        return FakeTransport(), protocol
    if parts.scheme != "serial" or not parts.path:
        raise ValueError(f"LED URL must look like serial:///dev/ttyUSB1?baudrate=9600 (or fake://), got {url!r}")
    try:
        baudrate = int(options.get("baudrate", "9600"))
    except ValueError:
        baudrate = -1
    if baudrate not in BAUDRATES:
        raise ValueError(f"LED baudrate must be one of {', '.join(map(str, BAUDRATES))}, got {options['baudrate']!r}")
    return SerialTransport(parts.path, baudrate), protocol
