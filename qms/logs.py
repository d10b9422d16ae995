"""Logging for the services: one line per event to stderr and a rotating file in the data dir."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(data_dir: Path | None, role: str, level: int = logging.INFO) -> Path | None:
    """Log to stderr and, when a data dir is given, to ``<data_dir>/logs/<role>.log`` (5 × 1 MB)."""
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
    path.parent.mkdir(parents=True, exist_ok=True)
    rotating = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    rotating.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(rotating)
    return path
