"""Logging for the services: one line per event to stderr and a rotating file in the data dir."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_MODE = 0o640  # the service user and its group (technicians in group qms), nobody else


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created mode 0640, whatever the umask."""

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        os.chmod(self.baseFilename, LOG_MODE)
        return stream


def setup_logging(data_dir: Path | None, role: str, level: int = logging.INFO) -> Path | None:
    """Log to stderr and, when a data dir is given, to ``<data_dir>/logs/<role>.log`` (5 × 1 MB, mode 0640)."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    if data_dir is None:
        return None
    path = data_dir / "logs" / f"{role}.log"
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    rotating = PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    rotating.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(rotating)
    return path
