"""A child process that writes to a store under a file size limit (RLIMIT_FSIZE), then without it.

Usage: ``python -m tests.reliability.disk_worker DB``. Prints one JSON line per command:
``{"phase": "limited" | "recovered", "number" | "error", "in_transaction"}``.
"""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import sys
from pathlib import Path

from hub.store import Store
from tests.factories import make_site

HEADROOM = 16 * 1024  # a few commands fit, then the WAL cannot grow


def run(store: Store, phase: str, request_id: str) -> bool:
    """Issue one ticket; print the outcome; True if it succeeded."""
    line: dict[str, object] = {"phase": phase}
    try:
        reply = store.run("issue_ticket", {"service": "tu-phap"}, request_id=request_id)
        line["number"] = reply.response["result"]["ticket"]["number"]
    except Exception as exc:
        line["error"] = f"{type(exc).__name__}: {exc}"
    line["in_transaction"] = store._conn.in_transaction  # a failed command must not hold the write lock
    print(json.dumps(line), flush=True)
    return "number" in line


def main() -> None:
    db = Path(sys.argv[1])
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # writes now grow the WAL from empty
    conn.close()
    store = Store(db, make_site(end=99999))
    limit = max(p.stat().st_size for p in db.parent.glob(db.name + "*")) + HEADROOM
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    failures = 0
    for i in range(500):
        failures = 0 if run(store, "limited", f"limited-{i}") else failures + 1
        if failures == 3:
            break
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space is back
    for i in range(3):
        run(store, "recovered", f"recovered-{i}")
    store.close()


if __name__ == "__main__":
    main()
