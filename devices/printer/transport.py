"""The printer's one seam: a `Transport` takes rendered jobs and answers status queries.

`open_transport(spec)` picks the transport for a printer URL: `EscposTransport` for serial, tcp,
usb, file and dummy (a python-escpos device), `VirtualTransport` for virtual:// (keeps each job
and saves its PNG preview). The service and the tools only ever see a `Transport`.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any, Protocol

from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, File, Network, Serial, Usb
from PIL import Image

from .errors import PrinterUnavailable
from .preview import preview
from .profiles import make_profile
from .render import Job
from .status import STATES, read_status
from .url import PrinterSpec

TCP_CONNECT_TIMEOUT = 3.0
TCP_WRITE_TIMEOUT = 10.0


class Transport(Protocol):
    """An open printer: where jobs go and where the paper state comes from."""

    @property
    def device(self) -> Any:
        """The underlying python-escpos object (for tests and the set-up wizard)."""

    def write(self, job: Job) -> None:
        """Send one rendered job; raises OSError (incl. serial.SerialException) on failure."""

    def read_status(self, timeout: float) -> tuple[str, str]:
        """(state, detail) from the printer; raises OSError when the port itself fails."""

    def close(self) -> None:
        """Release the port, ignoring errors from one that has already gone away."""


class VirtualPrinter(Dummy):
    """Printer that keeps each job's bytes and saves a PNG preview of it into a directory.

    Its paper state is `state` if set, else the first word of `<dir>/STATE` (e.g. write
    "paper_out" there to rehearse the kiosk's fallback), else "ok".
    """

    def __init__(self, directory: str | Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = Path(directory)
        self.jobs: list[bytes] = []
        self.saved: list[Path] = []
        self.state: str | None = None
        self._seq = 0

    def open(self) -> None:
        """Create the directory; fail clearly when it can't be written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeviceNotFoundError(f"cannot create {self.directory}: {exc}") from exc
        if not os.access(self.directory, os.W_OK):
            raise DeviceNotFoundError(f"{self.directory} is not writable")
        numbers = [int(m[1]) for p in self.directory.iterdir() if (m := re.match(r"(\d+)-", p.name))]
        self._seq = max(numbers, default=0)

    def simulated_state(self) -> str:
        """The paper state this virtual printer pretends to have."""
        if self.state:
            return self.state
        with contextlib.suppress(OSError, IndexError):
            return (self.directory / "STATE").read_text().split()[0]
        return "ok"

    def end_job(self, name: str, image: Image.Image) -> Path:
        """Close the current job: keep its bytes, write `NNNN-name.png` and `.bin`."""
        data = self.output
        self.clear()
        self.jobs.append(data)
        self._seq += 1
        stem = self.directory / f"{self._seq:04d}-{re.sub(r'[^A-Za-z0-9_-]', '_', name)}"
        image.save(stem.with_suffix(".png"))
        stem.with_suffix(".bin").write_bytes(data)
        self.saved.append(stem.with_suffix(".png"))
        return stem.with_suffix(".png")


def _unavailable(spec: PrinterSpec, reason: str) -> PrinterUnavailable:
    where = spec.where
    if spec.scheme == "serial":
        check = ("check the cable and the printer's power; `qms ports` lists serial ports "
                 "(prefer a /dev/serial/by-id/... path)")
        if not os.path.exists(spec.path):
            return PrinterUnavailable(f"cannot open printer port {where}: it does not exist; {check}")
        if not os.access(spec.path, os.R_OK | os.W_OK):
            return PrinterUnavailable(f"cannot open printer port {where}: permission denied; add this user "
                                      "to the 'dialout' group (sudo usermod -aG dialout $USER, then log in again)")
        return PrinterUnavailable(f"cannot open printer port {where}: {reason}; {check}")
    if spec.scheme == "tcp":
        return PrinterUnavailable(f"cannot connect to printer at {where}: check its power, network cable "
                                  f"and IP address (the self-test page shows it) [{reason}]")
    if spec.scheme == "usb":
        return PrinterUnavailable(f"USB printer {where} not found: check the cable, `lsusb`, and the udev "
                                  f"rule giving this user access [{reason}]")
    return PrinterUnavailable(f"cannot open printer {spec.scheme}://{where}: {reason}")


def _create(spec: PrinterSpec) -> Any:
    profile = spec.profile
    if spec.scheme == "serial":
        return Serial(devfile=spec.path, baudrate=spec.baudrate, timeout=spec.timeout,
                      xonxoff=spec.flow == "xonxoff", dsrdtr=False, profile=profile)
    if spec.scheme == "tcp":
        return Network(host=spec.host, port=spec.port, timeout=TCP_CONNECT_TIMEOUT, profile=profile)
    if spec.scheme == "usb":
        if not Usb.is_usable():
            raise PrinterUnavailable("usb:// needs pyusb: pip install 'python-escpos[usb]', "
                                     "or use the printer's serial:// or /dev/usb/lp0 (file://) device")
        return Usb(spec.vid, spec.pid, timeout=int(spec.timeout * 1000) or 200, profile=profile, **spec.usb)
    if spec.scheme == "file":
        return File(devfile=spec.path, profile=profile)
    if spec.scheme == "virtual":
        return VirtualPrinter(spec.path, profile=profile)
    return Dummy(profile=profile)


def open_transport(spec: PrinterSpec) -> Transport:
    """The transport for `spec`, already OPEN (python-escpos would open lazily).

    Raises PrinterUnavailable with a message that says what to check.
    """
    if spec.scheme == "none":
        raise PrinterUnavailable("no printer configured (none://): tickets are shown on screen only")
    printer = _create(spec)
    printer.profile = make_profile(spec.profile, spec.width)  # width checks need the pixel width
    try:
        printer.open()
    except (DeviceNotFoundError, OSError) as exc:
        raise _unavailable(spec, str(exc).replace("\n", " ")) from exc
    if spec.scheme == "serial":
        if spec.flow == "rtscts":
            printer.device.rtscts = True  # python-escpos only offers dsrdtr, which Linux ignores
    elif spec.scheme == "tcp":
        printer.device.settimeout(TCP_WRITE_TIMEOUT)
    if spec.scheme == "virtual":
        return VirtualTransport(printer)
    return EscposTransport(printer, spec)


class EscposTransport:
    """A python-escpos device (serial, tcp, usb, file, dummy); status over DLE EOT."""

    def __init__(self, device: Any, spec: PrinterSpec) -> None:
        self.device = device
        self.spec = spec

    def write(self, job: Job) -> None:
        """Send the job's bytes; on serial, wait until they have left (with a timeout)."""
        if isinstance(self.device, Serial):
            dev = self.device.device
            dev.write_timeout = 5 + 3 * len(job.data) * 10 / self.spec.baudrate  # 3x the wire time
            dev.write(job.data)
            dev.flush()  # returns once the bytes have left (tcdrain)
        else:
            self.device._raw(job.data)

    def read_status(self, timeout: float) -> tuple[str, str]:
        """DLE EOT queries (see `status.read_status`)."""
        return read_status(self.device, timeout)

    def close(self) -> None:
        """Close, ignoring errors from a port that has already gone away."""
        printer = self.device
        if isinstance(printer, Serial):
            dev = printer._device
            printer._device = False
            if dev:
                with contextlib.suppress(Exception):
                    dev.close()  # not python-escpos close(): its flush() can block on a dead port
            return
        with contextlib.suppress(Exception):
            printer.close()


class VirtualTransport:
    """The virtual printer as a transport: each job's bytes kept, its preview saved as a PNG."""

    def __init__(self, device: VirtualPrinter) -> None:
        self.device = device

    def write(self, job: Job) -> None:
        """Keep the bytes and write `NNNN-name.png` / `.bin` (the preview of the lowered ops)."""
        self.device._raw(job.data)
        self.device.end_job(job.name, preview(job.ops, job.cfg))

    def read_status(self, timeout: float) -> tuple[str, str]:
        """The simulated paper state (see `VirtualPrinter`)."""
        state = self.device.simulated_state()
        return (state, "virtual printer") if state in STATES else ("error", f"virtual STATE {state!r}")

    def close(self) -> None:
        """Nothing to release."""
        with contextlib.suppress(Exception):
            self.device.close()
