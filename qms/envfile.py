"""``/etc/qms/qms.env``: ``KEY=value`` lines read by the systemd units; edits keep comments and order."""

from __future__ import annotations

import grp
import os
import re
import shlex
from pathlib import Path

NEW_FILE_MODE = 0o640  # no secrets inside, but not every user's business either
SERVICE_GROUP = "qms"
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
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, NEW_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    if path.exists():  # keep the file's mode and owner (root:qms 0640 on a board)
        info = path.stat()
        os.chmod(tmp, info.st_mode & 0o777)
        if os.geteuid() == 0:
            os.chown(tmp, info.st_uid, info.st_gid)
    else:
        os.chmod(tmp, NEW_FILE_MODE)
        _group_for_services(tmp)
    os.replace(tmp, path)


def _group_for_services(path: Path) -> None:
    """A new env file belongs to root:qms when root writes it and the group exists (the services read it)."""
    if os.geteuid() != 0:
        return
    try:
        gid = grp.getgrnam(SERVICE_GROUP).gr_gid
    except KeyError:
        return
    os.chown(path, 0, gid)
