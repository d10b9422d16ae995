"""Start ``qms hub`` processes cheaply: a pre-imported parent forks one child per hub start.

A crash test restarts the hub hundreds of times; a fresh interpreter costs ~0.8 s of imports, a fork
of this already-imported, single-threaded process a few milliseconds. Each child runs exactly what
``python -m qms.cli ... hub`` runs (``qms.cli.main``), opens its own store connection and broker
connection after the fork, and is a real process that the test SIGKILLs.

Usage: ``python -m tests.reliability.hub_forkserver LOG_FILE QMS_ARG...``; then, on stdin,
``spawn`` (answers the child's pid) and ``reap PID`` (answers its wait status); EOF ends it.
:class:`HubForkServer` drives it from a test.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies (no stray hubs if a test run is killed)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def serve(log_file: str, argv: list[str]) -> None:
    """The fork server's loop (runs in its own process)."""
    import qms.cli  # everything the hub needs, imported once
    from hub import server, store  # noqa: F401
    from qms import (
        hub_service,  # noqa: F401
        logs,  # noqa: F401
    )

    _die_with_parent()
    children: set[int] = set()
    for line in sys.stdin:
        verb, _, arg = line.strip().partition(" ")
        if verb == "spawn":
            pid = os.fork()
            if pid == 0:  # the hub process
                try:
                    _die_with_parent()
                    null = os.open(os.devnull, os.O_RDONLY)
                    log = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                    os.dup2(null, 0)
                    os.dup2(log, 1)
                    os.dup2(log, 2)
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    code = qms.cli.main(argv)
                except BaseException:  # report and leave with a failure code
                    import traceback

                    traceback.print_exc()
                    code = 70
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
            children.add(pid)
            print(pid, flush=True)
        elif verb == "reap":
            pid = int(arg)
            _, status = os.waitpid(pid, 0)
            children.discard(pid)
            print(status, flush=True)
    for pid in children:  # stdin closed: the test is over
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


class HubForkServer:
    """Start, SIGKILL and restart ``qms hub`` processes for one store and broker."""

    def __init__(self, config: Path, data_dir: Path, broker_url: str, log_file: Path) -> None:
        argv = ["--config", str(config), "--data-dir", str(data_dir), "--broker", broker_url, "hub"]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.hub_forkserver", str(log_file), *argv],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.pid: int | None = None
        self.starts = 0

    def _ask(self, line: str) -> int:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"hub fork server exited with {self._proc.poll()}")
        return int(answer)

    def start(self) -> int:
        """Fork a new hub process; returns its pid."""
        assert self.pid is None, "a hub is already running"
        self.pid = self._ask("spawn")
        self.starts += 1
        return self.pid

    def kill(self) -> int:
        """SIGKILL the hub (a power cut for that process) and reap it; returns its wait status."""
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        return self._reap()

    def stop(self) -> int:
        """SIGTERM the hub (a clean stop) and reap it; returns its exit code."""
        assert self.pid is not None
        os.kill(self.pid, signal.SIGTERM)
        return os.waitstatus_to_exitcode(self._reap())

    def _reap(self) -> int:
        pid, self.pid = self.pid, None
        return self._ask(f"reap {pid}")

    def alive(self) -> bool:
        """True while the current hub process exists and is not a zombie."""
        if self.pid is None:
            return False
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    def close(self) -> None:
        """Kill any running hub and end the fork server."""
        if self.pid is not None:
            with contextlib.suppress(OSError):
                self.kill()
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        if self._proc.stdout:
            self._proc.stdout.close()

    def __enter__(self) -> HubForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
