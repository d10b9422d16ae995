"""The store is never silently replaced: its identity, the data dir's marker, and one ``StoreFault`` per problem.

The store's ``meta`` table holds its identity (``site``, ``store_uuid``, ``created_at``; the last
``seq`` is the outbox's) and the data dir keeps the same identity in ``store.id`` (JSON), written
when the store is created. :func:`open_checked` refuses, with one line naming the fix, a store that
is missing or empty although this board had one, a store of another site or another board, and a
file SQLite cannot read. It never writes to a file it refused.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mqtt_bus.contract import FaultCode

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)

MARKER_FILE = "store.id"
BACKUP_DIR = "backups"
BACKUP_GLOB = "queue-*.sqlite3"
IDENTITY_KEYS = ("site", "store_uuid", "created_at")


class StoreFault(RuntimeError):
    """The store cannot be used; ``code`` is a stable :class:`~mqtt_bus.contract.FaultCode`."""

    def __init__(self, code: str, problem: str, fix: str) -> None:
        self.code, self.problem, self.fix = code, problem, fix
        self.message = f"{problem}: {fix}"
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        """``{"code", "message", "fix"}``: the hub status's ``fault`` (``fix``: the command that repairs it)."""
        return {"code": self.code, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class StoreIdentity:
    """Who a store is: the site it serves, a uuid made at its creation, and when that was."""

    site: str
    store_uuid: str
    created_at: str

    @classmethod
    def new(cls, site: str) -> StoreIdentity:
        """A fresh identity for a store created now."""
        return cls(site, uuid.uuid4().hex, datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def created_day(self) -> str:
        """The creation date, for messages."""
        return self.created_at[:10]


def marker_path(data_dir: Path) -> Path:
    """``<data-dir>/store.id``."""
    return data_dir / MARKER_FILE


def read_marker(data_dir: Path) -> StoreIdentity | None:
    """The identity the data dir remembers (None when there is no readable marker)."""
    try:
        raw = json.loads(marker_path(data_dir).read_text(encoding="utf-8"))
        return StoreIdentity(*(str(raw[k]) for k in IDENTITY_KEYS))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_marker(data_dir: Path, identity: StoreIdentity) -> None:
    """Write ``store.id`` atomically."""
    path = marker_path(data_dir)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(asdict(identity), indent=1) + "\n", encoding="utf-8")
    with open(part, "rb") as f:
        os.fsync(f.fileno())
    os.replace(part, path)


def read_identity(conn: sqlite3.Connection) -> StoreIdentity | None:
    """The identity in a store's ``meta`` table (None when it has none yet)."""
    rows = dict(conn.execute(f"SELECT key, value FROM meta WHERE key IN {IDENTITY_KEYS}").fetchall())
    if not all(k in rows for k in IDENTITY_KEYS):
        return None
    return StoreIdentity(*(str(rows[k]) for k in IDENTITY_KEYS))


def write_identity(conn: sqlite3.Connection, identity: StoreIdentity) -> None:
    """Put ``identity`` into the store's ``meta`` table (the caller's transaction, if any)."""
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(asdict(identity).items()))


def newest_backup(data_dir: Path) -> Path | None:
    """The newest automatic backup in ``<data-dir>/backups`` (names sort by time)."""
    found = sorted((data_dir / BACKUP_DIR).glob(BACKUP_GLOB))
    return found[-1] if found else None


def restore_hint(data_dir: Path) -> str:
    """The exact restore command: the newest automatic backup if there is one."""
    newest = newest_backup(data_dir)
    sudo = "sudo -u qms " if str(data_dir).startswith("/var/lib/qms") else ""
    if newest is not None:
        return f"restore the newest automatic backup: {sudo}qms restore {newest}"
    return (f"restore your newest backup: {sudo}qms restore FILE (no automatic backup in "
            f"{data_dir / BACKUP_DIR}; `qms backup --auto` makes them)")


def check_file(store_path: Path, data_dir: Path) -> StoreIdentity | None:
    """Refuse a missing or empty store where the marker says one existed; return the marker."""
    marker = read_marker(data_dir)
    size = store_path.stat().st_size if store_path.exists() else None
    if size:
        return marker
    state = "is missing" if size is None else "is empty"
    if marker is not None:
        raise StoreFault(FaultCode.STORE_MISSING,
                         f"the store {store_path} {state} but this board had one (created {marker.created_day})",
                         restore_hint(data_dir))
    if newest_backup(data_dir) is not None:  # the marker went too, but the backups say there was a store
        raise StoreFault(FaultCode.STORE_MISSING, f"the store {store_path} {state} but {data_dir / BACKUP_DIR} holds "
                                          "automatic backups of one", restore_hint(data_dir))
    return None


def check_header(store_path: Path, data_dir: Path) -> None:
    """Refuse a file cut short: fewer bytes than its header's page count (unless a WAL or hot journal finishes it)."""
    for suffix in ("-wal", "-journal"):
        extra = store_path.with_name(store_path.name + suffix)
        if extra.exists() and extra.stat().st_size > 0:
            return
    with open(store_path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        raise corrupt(store_path, data_dir, "file is not a database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] == header[92:96] and pages * page_size > store_path.stat().st_size:
        raise corrupt(store_path, data_dir, f"the file is cut short: {store_path.stat().st_size} bytes of "
                                            f"{pages * page_size}")


def is_damage(exc: BaseException) -> bool:
    """True for SQLite's "damaged file" errors (not a bug's IntegrityError or a full disk)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or (
        type(exc) is sqlite3.DatabaseError and not name)


def corrupt(store_path: Path, data_dir: Path, why: object) -> StoreFault:
    """The fault for a file SQLite cannot read."""
    return StoreFault(FaultCode.STORE_CORRUPT, f"the store {store_path} is damaged ({why}); it is left as it is",
                      restore_hint(data_dir))


def foreign(found: StoreIdentity, marker: StoreIdentity, store_path: Path) -> str | None:
    """Why the store is not the one the marker remembers (None: it is)."""
    if found.store_uuid == marker.store_uuid:
        return None
    return (f"the store {store_path} (created {found.created_day}) is not the one this board created on "
            f"{marker.created_day}")


def check_identity(conn: sqlite3.Connection, store_path: Path, data_dir: Path, site: str,
                   marker: StoreIdentity | None) -> StoreIdentity:
    """Compare the store's identity with the config's site and the marker; stamp a store that has none."""
    found = read_identity(conn)
    if found is not None and found.site != site:
        raise StoreFault(FaultCode.STORE_FOREIGN, f"the store {store_path} belongs to site {found.site!r}, not {site!r}",
                         f"check --config, or {restore_hint(data_dir)}")
    if found is not None and marker is not None and (why := foreign(found, marker, store_path)):
        raise StoreFault(FaultCode.STORE_FOREIGN, why, f"{restore_hint(data_dir)} (`qms restore` also takes another "
                                               "board's store on purpose)")
    if found is None:
        found = marker if marker is not None and marker.site == site else StoreIdentity.new(site)
        conn.execute("BEGIN IMMEDIATE")
        try:
            write_identity(conn, found)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    if marker != found:
        try:
            write_marker(data_dir, found)
        except OSError as exc:  # e.g. a technician's read-only look: the hub (user qms) writes it next time
            log.warning("cannot write %s: %s", marker_path(data_dir), exc)
    return found


def open_checked(store_path: Path, data_dir: Path, site: str, opener: Callable[[], Store]) -> Store:
    """Run every check around ``opener()`` (which opens and migrates the store); raise ``StoreFault``."""
    marker = check_file(store_path, data_dir)
    if store_path.exists() and store_path.stat().st_size > 0:
        check_header(store_path, data_dir)
    try:
        store = opener()
    except sqlite3.OperationalError:
        raise  # locked, disk full, read-only: the file is fine, the caller says what to check
    except sqlite3.DatabaseError as exc:
        raise corrupt(store_path, data_dir, exc) from exc
    except RuntimeError as exc:  # hub/schema.py: written by a newer qms ("...; upgrade qms or ...")
        problem, _, fix = str(exc).partition("; ")
        raise StoreFault(FaultCode.STORE_NEWER, f"{problem} ({store_path})", fix or "upgrade qms") from exc
    try:
        conn = store.connection
        conn.execute("SELECT COUNT(*) FROM tickets").fetchone()  # reads the table's pages: catches torn files
        conn.execute("SELECT MAX(seq) FROM outbox").fetchone()
        check_identity(conn, store_path, data_dir, site, marker)
    except sqlite3.OperationalError:
        store.close()
        raise
    except sqlite3.DatabaseError as exc:
        store.close()
        raise corrupt(store_path, data_dir, exc) from exc
    except BaseException:
        store.close()
        raise
    return store
