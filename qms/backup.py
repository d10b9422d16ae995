"""``qms backup FILE`` and ``qms restore FILE``: copies of the store made by SQLite itself.

Both directions go through ``sqlite3.Connection.backup`` (never a file copy, which can catch a
live WAL store half-written). A backup is one self-contained file (rollback journal, no -wal),
written next to FILE as ``FILE.part``, checked with ``PRAGMA integrity_check`` and only then
renamed over FILE.

Restore refuses while a hub serves the store (its ``hub.lock`` names a live ``qms hub`` process
holding the store open; a lock whose process is gone is stale and removed; a hub waiting for a
usable store is told by its retries). Unless ``--force`` it also refuses while another process
holds the store open (Linux ``/proc``), after a change in the last minute, and when the backup
is older than numbers handed out today (it would hand them out again). The store being replaced
is first saved as ``queue.sqlite3.bak-<timestamp>`` (its bytes as they are, if SQLite cannot read
it). The restored store keeps the replaced store's newest ``seq`` (displays keep accepting state),
does not resend its old events, and the data dir's ``store.id`` marker follows its identity.

``qms backup --auto [--keep N]`` writes ``<data-dir>/backups/queue-<local time>.sqlite3`` and
keeps the newest N (default 14, or ``$QMS_BACKUP_KEEP``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hub.schema import SCHEMA_VERSION
from hub.store import NEWEST_SEQ
from hub.store_guard import (
    BACKUP_DIR,
    BACKUP_GLOB,
    StoreIdentity,
    read_identity,
    read_marker,
    write_identity,
    write_marker,
)

if TYPE_CHECKING:
    from qms.context import AppContext

LOCK_FILE = "hub.lock"
RECENT_S = 60.0
DEFAULT_KEEP = 14
#: How far ``seq`` jumps when the replaced store is unreadable (its newest seq is unknown): more events than
#: a center makes between two automatic backups, so devices that saw the lost events still take the new ones.
SEQ_JUMP_UNKNOWN = 1_000_000
PUBLISHED_SEQ_KEY = "published_seq"  # the hub's (hub/server.py): restored old events are not sent again


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


class StoreInUse(BackupError):
    """Restore refused: the store looks in use (``reasons``)."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("the store looks in use: " + "; ".join(reasons)
                         + ". Stop the hub and every qms app on this machine (e.g. `sudo systemctl stop qms-hub`), "
                         "wait a minute, and run again; or add --force if you are sure")


class HubRunning(StoreInUse):
    """Restore refused: a live hub serves the store (``--force`` does not override this)."""

    def __init__(self, pid: int) -> None:
        self.reasons = [f"a hub (process {pid}) is running and serving it"]
        BackupError.__init__(self, f"the store looks in use: a hub (process {pid}) is running and serving it. "
                                   "Stop it first (`sudo systemctl stop qms-hub`, or Ctrl+C in its terminal), "
                                   "then run again; --force does not override a running hub")


class WouldReissue(BackupError):
    """Restore refused without ``--force``: the backup is older than numbers handed out today."""


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
            last_seq = conn.execute(NEWEST_SEQ).fetchone()[0] or 0
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


@dataclass(frozen=True)
class HubLock:
    """What ``hub.lock`` says: ``state`` is none, stale, serving (holds the store) or waiting (store fault)."""

    pid: int | None
    state: str
    note: str = ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def _is_qms_hub(pid: int) -> bool:
    """True when process ``pid`` lives and is ``qms hub`` (by its command line on Linux)."""
    if not _alive(pid):
        return False
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return not os.path.isdir("/proc")  # no /proc: trust the live pid
    return "hub" in args and any("qms" in a for a in args)


def store_files(store_path: Path) -> list[Path]:
    """The store and its WAL and shared-memory files that exist."""
    names = (store_path.name, store_path.name + "-wal", store_path.name + "-shm")
    return [p for p in (store_path.with_name(n) for n in names) if p.exists()]


def hub_lock(store_path: Path, data_dir: Path) -> HubLock:
    """Read ``hub.lock`` and tell a live hub from a stale lock by its PID."""
    lock = data_dir / LOCK_FILE
    try:
        text = lock.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return HubLock(None, "none")
    except OSError as exc:
        return HubLock(None, "serving", f"{lock} cannot be read ({exc})")
    pid = int(text) if text.isdigit() else None
    if pid is None or not _is_qms_hub(pid):
        gone = "is gone" if pid is None or not _alive(pid) else "is not a qms hub"
        return HubLock(pid, "stale", f"{lock} is stale (process {pid if pid is not None else text!r} {gone}, "
                                     "e.g. after a power cut); removing it")
    if not os.path.isdir("/proc") or any(f"process {pid} " in r for r in _holders(store_files(store_path))):
        return HubLock(pid, "serving")  # without /proc nobody can tell a waiting hub: assume it serves
    return HubLock(pid, "waiting", f"the hub (process {pid}) is waiting for a usable store; "
                                   "it takes the restored one within seconds")


def in_use_reasons(store_path: Path, data_dir: Path, recent_s: float = RECENT_S, *,
                   check_recent: bool = True) -> list[str]:
    """Why the store looks in use right now (empty: safe to restore); a stale ``hub.lock`` is no reason."""
    reasons = []
    lock = hub_lock(store_path, data_dir)
    if lock.state == "serving":
        reasons.append(f"{data_dir / LOCK_FILE} names a running hub (process {lock.pid})")
    files = [store_path, store_path.with_name(store_path.name + "-wal")]
    reasons += [r for r in _holders([f for f in files if f.exists()])
                if lock.state != "serving" or f"process {lock.pid} " not in r]
    changed = [time.time() - f.stat().st_mtime for f in files if f.exists()]
    if check_recent and changed and min(changed) < recent_s:
        reasons.append(f"it was changed {max(0, min(changed)):.0f} s ago")
    return reasons


def _readable(path: Path) -> StoreInfo | None:
    """What the current store holds, or None when it is missing, empty or unreadable (a damaged store)."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        return inspect(path)
    except BackupError:
        return None


def numbers_today(path: Path, day: date) -> dict[str, tuple[int, str]]:
    """Per service: how many tickets were issued on ``day`` and the last number."""
    with _connect(path, readonly=True) as conn:
        rows = conn.execute("SELECT service, COUNT(*), number, MAX(issued_at) FROM tickets WHERE day = ? "
                            "GROUP BY service", (day.isoformat(),)).fetchall()
    return {service: (count, number) for service, count, number, _ in rows}


def reissue_warning(store_path: Path, backup: Path, day: date) -> str | None:
    """Why restoring ``backup`` would hand out again numbers the store gave on ``day`` (None: it would not)."""
    now, then = numbers_today(store_path, day), numbers_today(backup, day)
    lost = {s: v for s, v in now.items() if v[0] > then.get(s, (0, ""))[0]}
    if not lost:
        return None
    given = ", ".join(f"{number} ({service})" for service, (_, number) in sorted(lost.items()))
    had = ", ".join(f"{then[s][1]} ({s})" if s in then else f"none ({s})" for s in sorted(lost))
    return (f"the backup {backup} is older than numbers already handed out today: the store has given up to "
            f"{given}, the backup only up to {had}; restoring would hand those numbers out again. Serve or "
            "re-ticket the citizens holding them, then add --force to restore anyway")


def _save_previous(store_path: Path, readable: bool) -> Path | None:
    """Keep the store being replaced as ``.bak-<timestamp>`` (an SQLite copy, or its bytes if unreadable)."""
    if not store_path.exists():
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    previous = store_path.with_name(f"{store_path.name}.bak-{stamp}")
    n = 1
    while previous.exists():
        previous, n = store_path.with_name(f"{store_path.name}.bak-{stamp}-{n}"), n + 1
    if readable:
        copy_database(store_path, previous)
    else:
        for path in store_files(store_path):
            shutil.copyfile(path, previous.with_name(previous.name + path.name[len(store_path.name):]))
    return previous


def _prepare(part: Path, carried_seq: int | None, site: str | None, data_dir: Path) -> StoreIdentity | None:
    """In the copy about to become the store: keep ``seq`` growing, skip resending its events, set its identity.

    ``carried_seq`` is the replaced store's newest seq; None when it could not be read (seq then jumps).
    """
    with _connect(part) as conn:
        conn.execute("BEGIN IMMEDIATE")
        restored = conn.execute(NEWEST_SEQ).fetchone()[0] or 0
        if carried_seq is None:
            carried_seq = restored + SEQ_JUMP_UNKNOWN
        carry = "UPDATE sqlite_sequence SET seq = ? WHERE name = 'outbox'"
        if carried_seq > restored and not conn.execute(carry, (carried_seq,)).rowcount:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)", (carried_seq,))
        last_event = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (PUBLISHED_SEQ_KEY, str(last_event)))
        identity = read_identity(conn)
        if identity is None and site is not None:
            marker = read_marker(data_dir)
            identity = marker if marker is not None and marker.site == site else StoreIdentity.new(site)
            write_identity(conn, identity)
        conn.execute("COMMIT")
    return identity


def identity_of(path: Path) -> StoreIdentity | None:
    """The identity in a store or backup file (None when it has none)."""
    with _connect(path, readonly=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return read_identity(conn) if "meta" in tables else None


def restore_store(backup: Path, store_path: Path, data_dir: Path, *, force: bool = False,
                  recent_s: float = RECENT_S, site: str | None = None, today: date | None = None,
                  say: Callable[[str], None] = lambda _: None) -> tuple[StoreInfo, Path | None]:
    """Put ``backup`` back as the store; return (what the store now holds, where the old store was saved).

    ``site`` refuses another site's backup and stamps an identity on one without; ``today`` turns on
    the check for numbers handed out today; ``say`` gets the notes (a stale lock was removed, ...).
    """
    inspect(backup)
    theirs = identity_of(backup)
    if site is not None and theirs is not None and theirs.site != site:
        raise BackupError(f"{backup} is a store of site {theirs.site!r}, not {site!r}: choose a backup of this center")
    lock = hub_lock(store_path, data_dir)
    if lock.state == "serving" and lock.pid is not None:
        raise HubRunning(lock.pid)
    if lock.note:
        say(lock.note)
    if lock.state == "stale":
        (data_dir / LOCK_FILE).unlink(missing_ok=True)
    current = _readable(store_path)
    if current is not None and today is not None and not force and (
            why := reissue_warning(store_path, backup, today)):
        raise WouldReissue(why)
    if not force and (reasons := in_use_reasons(store_path, data_dir, recent_s, check_recent=current is not None)):
        raise StoreInUse(reasons)
    previous = _save_previous(store_path, current is not None)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    part = store_path.with_name(store_path.name + ".restoring")
    try:
        copy_database(backup, part)
        # a damaged, emptied or lost store (this board had one): its newest seq is unknown
        unknown = current is None and (store_path.exists() or read_marker(data_dir) is not None)
        identity = _prepare(part, current.last_seq if current else None if unknown else 0, site, data_dir)
        if current is None:  # nothing readable to keep coherent: put the file in place (never write into it)
            for path in store_files(store_path):
                path.unlink()
            os.replace(part, store_path)
        else:
            with _connect(part, readonly=True) as src, _connect(store_path) as dst:
                if src.execute("PRAGMA page_size").fetchone() != dst.execute("PRAGMA page_size").fetchone():
                    dst.execute("PRAGMA journal_mode = DELETE")  # WAL cannot change the page size
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as exc:
        kept = f"; the previous store is kept as {previous}" if previous else ""
        raise BackupError(f"restore of {backup} failed: {exc}{kept}") from exc
    finally:
        part.unlink(missing_ok=True)
    if identity is not None:
        write_marker(data_dir, identity)
    return inspect(store_path), previous


def auto_backup_name(folder: Path, now: datetime) -> Path:
    """``queue-<local time>.sqlite3`` in ``folder``; names sort by time (``_02``... if one exists already)."""
    stem = f"queue-{now:%Y-%m-%dT%H%M%S}"
    taken = [p.name for p in folder.glob(f"{stem}*.sqlite3")]
    if not taken:
        return folder / f"{stem}.sqlite3"
    # after the newest of this second, even when older ones of it were already deleted by --keep
    suffixes = [int(name[len(stem) + 1:-len(".sqlite3")]) for name in taken
                if re.fullmatch(rf"{re.escape(stem)}_\d+\.sqlite3", name)]
    return folder / f"{stem}_{max(suffixes, default=1) + 1:02d}.sqlite3"


def auto_backup(store_path: Path, data_dir: Path, keep: int, now: datetime) -> tuple[StoreInfo, list[Path]]:
    """Back up into ``<data-dir>/backups`` and delete all but the newest ``keep``; return (backup, deleted)."""
    if keep < 1:
        raise BackupError(f"--keep must be at least 1, not {keep}")
    folder = data_dir / BACKUP_DIR
    folder.mkdir(parents=True, exist_ok=True)
    info = backup_store(store_path, auto_backup_name(folder, now))
    old = sorted(folder.glob(BACKUP_GLOB))[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return info, old


def keep_default() -> int:
    """``$QMS_BACKUP_KEEP`` or 14."""
    text = os.environ.get("QMS_BACKUP_KEEP", "").strip()
    if not text:
        return DEFAULT_KEEP
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"QMS_BACKUP_KEEP={text!r} is not a whole number of backups to keep (e.g. 14)")
    return int(text)


# ------------------------------------------------------------------------------------------ CLI
def add_backup_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms backup``."""
    parser.add_argument("file", type=Path, metavar="FILE", nargs="?",
                        help="backup file to write (or a folder: queue-YYYYmmdd-HHMMSS.sqlite3 inside it)")
    parser.add_argument("--auto", action="store_true",
                        help="write <data-dir>/backups/queue-<local time>.sqlite3 and keep the newest --keep")
    parser.add_argument("--keep", type=int, metavar="N",
                        help=f"with --auto: how many backups to keep (env QMS_BACKUP_KEEP; default {DEFAULT_KEEP})")


def run_backup(ctx: AppContext, ns: argparse.Namespace) -> int:
    """``qms backup FILE`` or ``qms backup --auto [--keep N]``."""
    auto = getattr(ns, "auto", False)
    if auto == (ns.file is not None):
        print("qms: give a backup FILE, or --auto for <data-dir>/backups (not both)", file=sys.stderr)
        return 2
    removed: list[Path] = []
    keep = 0
    try:
        if auto:
            keep = ns.keep if ns.keep is not None else keep_default()
            info, removed = auto_backup(ctx.store_path, ctx.data_dir, keep, datetime.now(ctx.site.tz))
        else:
            info = backup_store(ctx.store_path, ns.file)
    except BackupError as exc:
        print(f"qms: {exc}", file=sys.stderr)
        return 1
    print(f"✓ backup {info.path}: {info.tickets} tickets, events up to seq {info.last_seq}, "
          f"{info.size / 1e6:.1f} MB, integrity ok")
    if removed:
        print(f"  removed {len(removed)} older backup(s), keeping the newest {keep}")
    return 0


def add_restore_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``qms restore``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="a backup made by `qms backup`")
    parser.add_argument("--force", action="store_true", help="restore even if the store looks in use")


def run_restore(ctx: AppContext, ns: argparse.Namespace) -> int:
    """``qms restore FILE [--force]``."""
    try:
        info, previous = restore_store(ns.file, ctx.store_path, ctx.data_dir, force=ns.force, site=ctx.site.site,
                                       today=datetime.now(ctx.site.tz).date(), say=print)
    except BackupError as exc:
        print(f"qms: {exc}", file=sys.stderr)
        return 1
    print(f"✓ restored {ns.file} into {info.path}: {info.tickets} tickets, events up to seq {info.last_seq}")
    if previous:
        print(f"  the store it replaced is kept as {previous}")
    return 0
