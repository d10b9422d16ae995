"""The store's live queue read with plain SQL, for readers that may not import the hub (the web app's
``/queue`` page): the waiting and called tickets, the counters, the service days and the recent service
times, as the queue core's :class:`QueueState` (so its views and estimates apply).

The rows become the state as the hub's store reads them (``queue_core.rows``); the hub may not import
``qms``, the web app may not import the hub. Never writes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from queue_core import QueueState, SiteDef
from queue_core.rows import state_from_rows


def _rows(conn: sqlite3.Connection, sql: str) -> list[dict[str, Any]]:
    cursor = conn.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def read_live_state(conn: sqlite3.Connection, site: SiteDef) -> QueueState:
    """The live state of ``site`` in one read transaction (``conn`` in autocommit mode; read-only will do)."""
    conn.execute("BEGIN")
    try:
        tickets = _rows(conn, "SELECT * FROM tickets WHERE status IN ('waiting', 'called')")
        counters = _rows(conn, "SELECT * FROM counters")
        days = _rows(conn, "SELECT * FROM service_days")
        times = _rows(conn, "SELECT * FROM service_times")
    finally:
        conn.execute("COMMIT")
    return state_from_rows(site, tickets, counters, days, times)
