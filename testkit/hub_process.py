"""``qms hub`` as its own process, as on the appliance."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def start_hub_process(config: Path, data_dir: Path, broker_url: str, stderr: IO[bytes] | int | None = None,
                      stdout: IO[bytes] | int | None = subprocess.DEVNULL) -> subprocess.Popen:
    """Start ``python -m qms.cli --config … --data-dir … --broker … hub`` from the repository root."""
    return subprocess.Popen([sys.executable, "-m", "qms.cli", "--config", str(config), "--data-dir", str(data_dir),
                             "--broker", broker_url, "hub"], cwd=ROOT, stdout=stdout, stderr=stderr)


def stop_hub_process(hub: subprocess.Popen, timeout: float = 15) -> int:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout``; the exit code."""
    hub.send_signal(signal.SIGTERM)
    try:
        return hub.wait(timeout)
    except subprocess.TimeoutExpired:
        hub.kill()
        return hub.wait(5)
