"""``qms backup FILE`` and ``qms restore FILE``: copies of the store made by SQLite itself.

Both directions go through ``sqlite3.Connection.backup`` (never a file copy, which can catch a
live WAL store half-written). A backup is one self-contained file (rollback journal, no -wal),
written next to FILE as ``FILE.part``, checked with ``PRAGMA integrity_check`` and only then
renamed over FILE.

Restore refuses (unless ``--force``) while the store looks in use: a ``hub.lock`` in the data
dir, another process holding the store open (Linux ``/proc``), or a change to the store in the
last minute. A running hub would otherwise keep publishing from its old ``seq`` on top of the
restored outbox. The store being replaced is first saved as ``queue.sqlite3.bak-<timestamp>``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hub.schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from qms.context import AppContext

LOCK_FILE = "hub.lock"
RECENT_S = 60.0


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


class StoreInUse(BackupError):
    """Restore refused: the store looks in use (``reasons``)."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("the store looks in use: " + "; ".join(reasons)
                         + ". Stop the hub and every qms app on this machine (e.g. `sudo systemctl stop qms-hub`), "
                         "wait a minute, and run again; or add --force if you are sure")


@dataclass(frozen=True)
class StoreInfo:
    """What a store (or backup) file holds."""

    path: Path
    tickets: int
    last_seq: int
    schema: int
    size: int


@contextlib.contextmanager
def _connect(path: Path, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"{path.resolve().as_uri()}?mode={'ro' if readonly else 'rwc'}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        yield conn
    finally:
        conn.close()


def inspect(path: Path) -> StoreInfo:
    """Check a store or backup file (integrity, schema) and count what it holds; raises BackupError."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    try:
        with _connect(path, readonly=True) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"{path} is damaged (integrity_check: {verdict})")
            schema = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if schema < 1 or not {"tickets", "outbox"} <= tables:
                raise BackupError(f"{path} is an SQLite file but not a qms store")
            if schema > SCHEMA_VERSION:
                raise BackupError(f"{path} has schema version {schema}, newer than this program's "
                                  f"{SCHEMA_VERSION}: upgrade qms first")
            tickets = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
            last_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable qms store ({exc})") from exc
    return StoreInfo(path, tickets, last_seq, schema, path.stat().st_size)


def copy_database(source: Path, dest: Path) -> StoreInfo:
    """Online, consistent copy of ``source`` into a new single file ``dest`` (atomically replaced)."""
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    try:
        with _connect(source, readonly=True) as src, _connect(part) as out:
            src.backup(out)  # all pages in one step: one read snapshot, never restarted by writers
            out.execute("PRAGMA journal_mode = DELETE")
        info = inspect(part)
        with open(part, "rb") as f:
            os.fsync(f.fileno())
        os.replace(part, dest)
    except sqlite3.DatabaseError as exc:
        part.unlink(missing_ok=True)
        raise BackupError(f"cannot copy {source} to {dest}: {exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return StoreInfo(dest, info.tickets, info.last_seq, info.schema, dest.stat().st_size)


def backup_store(store_path: Path, dest: Path) -> StoreInfo:
    """Back the store up to ``dest`` (a file, or a folder to get ``queue-YYYYmmdd-HHMMSS.sqlite3``)."""
    if not store_path.is_file():
        raise BackupError(f"no store at {store_path}; check --data-dir (or $QMS_DATA_DIR)")
    if dest.is_dir():
        dest = dest / f"queue-{datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    if dest.resolve() == store_path.resolve():
        raise BackupError("the backup file must not be the store itself")
    if not dest.parent.is_dir():
        raise BackupError(f"folder {dest.parent} does not exist (is the USB stick mounted?)")
    return copy_database(store_path, dest)


def _holders(paths: list[Path]) -> list[str]:
    """Other processes with one of ``paths`` open (Linux /proc; empty elsewhere)."""
    wanted = {str(p.resolve()) for p in paths}
    found = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()) if os.path.isdir("/proc") else ():
        if int(pid) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in wanted for fd in fds):
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"process {pid} ({cmd.strip()[:60]}) has it open")
    return found


def in_use_reasons(store_path: Path, data_dir: Path, recent_s: float = RECENT_S) -> list[str]:
    """Why the store looks in use right now (empty: safe to restore)."""
    reasons = []
    if (data_dir / LOCK_FILE).exists():
        reasons.append(f"{data_dir / LOCK_FILE} exists (a hub is running)")
    files = [store_path, store_path.with_name(store_path.name + "-wal")]
    reasons += _holders([f for f in files if f.exists()])
    changed = [time.time() - f.stat().st_mtime for f in files if f.exists()]
    if changed and min(changed) < recent_s:
        reasons.append(f"it was changed {max(0, min(changed)):.0f} s ago")
    return reasons


def restore_store(backup: Path, store_path: Path, data_dir: Path, *, force: bool = False,
                  recent_s: float = RECENT_S) -> tuple[StoreInfo, Path | None]:
    """Put ``backup`` back as the store; return (what the store now holds, where the old store was saved)."""
    inspect(backup)
    if not force and (reasons := in_use_reasons(store_path, data_dir, recent_s)):
        raise StoreInUse(reasons)
    previous = None
    if store_path.exists():
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        previous = store_path.with_name(f"{store_path.name}.bak-{stamp}")
        n = 1
        while previous.exists():
            previous, n = store_path.with_name(f"{store_path.name}.bak-{stamp}-{n}"), n + 1
        copy_database(store_path, previous)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _connect(backup, readonly=True) as src, _connect(store_path) as dst:
            if src.execute("PRAGMA page_size").fetchone() != dst.execute("PRAGMA page_size").fetchone():
                dst.execute("PRAGMA journal_mode = DELETE")  # WAL cannot change the page size
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as exc:
        kept = f"; the previous store is kept as {previous}" if previous else ""
        raise BackupError(f"restore of {backup} failed: {exc}{kept}") from exc
    return inspect(store_path), previous


# ------------------------------------------------------------------------------------------ CLI
def add_backup_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms backup``."""
    parser.add_argument("file", type=Path, metavar="FILE",
                        help="backup file to write (or a folder: queue-YYYYmmdd-HHMMSS.sqlite3 inside it)")


def run_backup(ctx: AppContext, ns: argparse.Namespace) -> int:
    """``qms backup FILE``."""
    try:
        info = backup_store(ctx.store_path, ns.file)
    except BackupError as exc:
        print(f"qms: {exc}", file=sys.stderr)
        return 1
    print(f"✓ backup {info.path}: {info.tickets} tickets, events up to seq {info.last_seq}, "
          f"{info.size / 1e6:.1f} MB, integrity ok")
    return 0


def add_restore_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms restore``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="a backup made by `qms backup`")
    parser.add_argument("--force", action="store_true", help="restore even if the store looks in use")


def run_restore(ctx: AppContext, ns: argparse.Namespace) -> int:
    """``qms restore FILE [--force]``."""
    try:
        info, previous = restore_store(ns.file, ctx.store_path, ctx.data_dir, force=ns.force)
    except BackupError as exc:
        print(f"qms: {exc}", file=sys.stderr)
        return 1
    print(f"✓ restored {ns.file} into {info.path}: {info.tickets} tickets, events up to seq {info.last_seq}")
    if previous:
        print(f"  the store it replaced is kept as {previous}")
    return 0
