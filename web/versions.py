"""Versions of the site config file: every saved change is a numbered copy with who, when and why.

``<data dir>/web/versions/0007.yaml`` holds the whole file as saved, ``0007.json`` its metadata. A rollback
saves an old text again as a new version, so history only grows. A file edited by hand (over SSH) since
the last version is recorded as its own version before the next save, so nothing is lost.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HAND_EDIT = "(sửa tay / edited by hand)"


@dataclass(frozen=True)
class Version:
    """One saved state of the config file."""

    number: int
    who: str
    when: str
    summary: str


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, keeping its mode; a symlink's target is replaced (an installed
    hub board's /etc/qms/site.yaml points into the data dir, which the web service may write)."""
    path = path.resolve()
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    tmp = path.with_name(f".{path.name}.web-tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class History:
    """The versions folder of one config file."""

    def __init__(self, folder: Path, config_path: Path) -> None:
        self.folder = folder
        self.config_path = config_path

    def numbers(self) -> list[int]:
        """Version numbers, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.folder.iterdir() if (m := re.fullmatch(r"(\d{4,})\.yaml", p.name)))

    def list(self) -> list[Version]:
        """Every version, newest first."""
        return [self.get(n) for n in reversed(self.numbers())]

    def get(self, number: int) -> Version:
        """The metadata of version ``number`` (KeyError if none)."""
        meta = self.folder / f"{number:04d}.json"
        if not (self.folder / f"{number:04d}.yaml").is_file():
            raise KeyError(number)
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        return Version(number, str(data.get("who", "?")), str(data.get("when", "")), str(data.get("summary", "")))

    def text(self, number: int) -> str:
        """The file as saved in version ``number`` (KeyError if none)."""
        try:
            return (self.folder / f"{number:04d}.yaml").read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyError(number) from None

    def _add(self, text: str, who: str, summary: str, when: datetime) -> int:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        number = (self.numbers() or [0])[-1] + 1
        (self.folder / f"{number:04d}.yaml").write_text(text, encoding="utf-8")
        meta = {"who": who, "when": when.isoformat(timespec="seconds"), "summary": summary}
        (self.folder / f"{number:04d}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        return number

    def record_current(self, when: datetime) -> None:
        """Record the file on disk as a version if it differs from the newest one (first use, hand edits)."""
        current = self.config_path.read_text(encoding="utf-8")
        numbers = self.numbers()
        if not numbers:
            self._add(current, "(ban đầu / initial file)", "tệp lúc bắt đầu dùng trang web / the file when the web app "
                      "was first used", when)
        elif self.text(numbers[-1]) != current:
            self._add(current, HAND_EDIT, "tệp đã được sửa ngoài trang web / changed outside the web app", when)

    def save(self, text: str, who: str, summary: str, when: datetime) -> int:
        """Write ``text`` to the config file and record it; returns the new version number."""
        self.record_current(when)
        write_atomic(self.config_path, text)
        return self._add(text, who, summary, when)

    def diff(self, number: int) -> list[tuple[str, str]]:
        """What version ``number`` changed against the one before: (kind, line) with kind add/del/hunk/ctx."""
        before = self.text(number - 1) if number - 1 in self.numbers() else ""
        return unified(before, self.text(number))


def unified(before: str, after: str, context: int = 2) -> list[tuple[str, str]]:
    """A readable diff: ``[("hunk", "@@ ..."), ("del", "- old"), ("add", "+ new"), ("ctx", "  same")]``."""
    out: list[tuple[str, str]] = []
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=context)
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        kind = {"@": "hunk", "-": "del", "+": "add"}.get(line[:1], "ctx")
        out.append((kind, line))
    return out
