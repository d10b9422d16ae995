"""``/etc/qms/qms.env``: ``KEY=value`` lines read by the systemd units; edits keep comments and order."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

LINE = re.compile(r"^\s*([A-Z_][A-Z0-9_]*)=(.*)$")


def read_env(path: Path) -> dict[str, str]:
    """The variables of an env file (missing file: empty)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        match = LINE.match(line)
        if match and not line.lstrip().startswith("#"):
            parts = shlex.split(match.group(2), comments=True)
            values[match.group(1)] = parts[0] if parts else ""
    return values


def update_env(path: Path, updates: dict[str, str]) -> None:
    """Set ``updates`` in the file: existing lines replaced in place, new ones appended, the rest kept."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pending = dict(updates)
    for i, line in enumerate(lines):
        match = LINE.match(line)
        if match and match.group(1) in pending:
            lines[i] = f"{match.group(1)}={shlex.quote(pending.pop(match.group(1)))}"
    lines += [f"{key}={shlex.quote(value)}" for key, value in pending.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, path)
