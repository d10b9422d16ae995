"""``EmbeddedBroker``: a private mosquitto on a free loopback port (``--broker embedded``, tests).

``with EmbeddedBroker() as b: BusClient(b.url, ...)``. Its config, persistence and log live in
its own directory (a temp dir removed on :meth:`EmbeddedBroker.stop` unless you pass one).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

FALLBACK_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


class BrokerUnavailable(RuntimeError):
    """mosquitto is missing or would not start."""


def find_mosquitto() -> str:
    """Path of the mosquitto binary, or BrokerUnavailable telling how to install it."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for path in FALLBACK_PATHS:
        if os.access(path, os.X_OK):
            return path
    raise BrokerUnavailable(
        "mosquitto (the MQTT broker) is not installed: run `sudo apt-get install mosquitto` "
        "(or point --broker at a running broker, e.g. mqtt://192.168.1.10:1883)"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on *host*."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class EmbeddedBroker:
    """A mosquitto child process listening on ``127.0.0.1:port``."""

    host = "127.0.0.1"

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        password_file: str | os.PathLike[str] | None = None,
        acl_file: str | os.PathLike[str] | None = None,
        allow_anonymous: bool | None = None,
        extra_config: Iterable[str] = (),
        startup_timeout: float = 5.0,
    ) -> None:
        self._own_dir = data_dir is None
        self.dir = Path(tempfile.mkdtemp(prefix="qms-mosquitto-") if data_dir is None else data_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port(self.host)
        self.password_file = Path(password_file) if password_file else None
        self.acl_file = Path(acl_file) if acl_file else None
        self.allow_anonymous = (password_file is None) if allow_anonymous is None else allow_anonymous
        self.extra_config = list(extra_config)
        self.startup_timeout = startup_timeout
        self.binary = find_mosquitto()
        self.config_path = self.dir / "mosquitto.conf"
        self.log_path = self.dir / "mosquitto.log"
        self.stderr_path = self.dir / "mosquitto.stderr"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def config_text(self) -> str:
        """The mosquitto.conf this broker runs with."""
        lines = [
            "# written by qms EmbeddedBroker",
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            "persistence true",
            f"persistence_location {self.dir}/",
            "persistence_file mosquitto.db",
            "max_queued_messages 10000",
            "max_inflight_messages 100",
            "set_tcp_nodelay true",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            lines.append("user root")  # else mosquitto drops to 'mosquitto' and cannot write self.dir
        if self.password_file:
            lines.append(f"password_file {self.password_file}")
        if self.acl_file:
            lines.append(f"acl_file {self.acl_file}")
        lines.extend(self.extra_config)
        return "\n".join(lines) + "\n"

    # -- process control -------------------------------------------------------------------------
    def start(self) -> EmbeddedBroker:
        """Start mosquitto (no-op if running) and wait until the port accepts connections."""
        if self.is_running():
            return self
        self.config_path.write_text(self.config_text())
        with open(self.stderr_path, "ab") as err:
            self._proc = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._proc.poll() is not None:
                raise BrokerUnavailable(
                    f"mosquitto exited with code {self._proc.returncode} at start:\n{self.log_tail()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self._terminate(signal.SIGKILL)
                raise BrokerUnavailable(
                    f"mosquitto did not accept connections on {self.host}:{self.port} within "
                    f"{self.startup_timeout:g} s:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def restart(self) -> EmbeddedBroker:
        """Stop gracefully (persistence is saved) and start again on the same port and data."""
        self._terminate(signal.SIGTERM)
        return self.start()

    def kill(self) -> None:
        """SIGKILL the broker, as a power cut would (no persistence save); ``start()`` may follow."""
        self._terminate(signal.SIGKILL)

    def stop(self) -> None:
        """Stop mosquitto and remove the temp dir if this object created it."""
        self._terminate(signal.SIGTERM)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _terminate(self, sig: int) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def log_tail(self, lines: int = 20) -> str:
        """Last lines of the broker's log and stderr, for error messages."""
        out = []
        for path in (self.stderr_path, self.log_path):
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            if text:
                out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out) or "(mosquitto wrote no log)"

    def __enter__(self) -> EmbeddedBroker:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
