"""SQLite schema of the store, versioned with ``PRAGMA user_version`` migrations."""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 1: tickets, counters, numbering, service times, outbox (the event log), request ids
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        number TEXT NOT NULL,
        service TEXT NOT NULL,
        day TEXT NOT NULL,
        day_index INTEGER NOT NULL,
        priority TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'done', 'no_show')),
        procedure TEXT,
        lang TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        called_at TEXT,
        finished_at TEXT,
        counter TEXT,
        call_count INTEGER NOT NULL DEFAULT 0,
        transfers INTEGER NOT NULL DEFAULT 0,
        rating INTEGER CHECK (rating BETWEEN 1 AND 5),
        officer TEXT
    );
    CREATE INDEX tickets_active ON tickets (status) WHERE status IN ('waiting', 'called');
    CREATE INDEX tickets_day ON tickets (day, service);
    CREATE TABLE counters (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        ticket_id TEXT,
        normal_streak INTEGER NOT NULL DEFAULT 0,
        officer TEXT
    );
    CREATE TABLE service_days (
        service TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        last_number INTEGER,
        issued INTEGER NOT NULL,
        cycle INTEGER NOT NULL DEFAULT 0,
        last_called TEXT
    );
    CREATE TABLE service_times (service TEXT PRIMARY KEY, recent_json TEXT NOT NULL);
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        action TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # 2: the counter a ticket was transferred away from (it is not called back there)
    """
    ALTER TABLE tickets ADD COLUMN transferred_from TEXT
    """,
    # 3: the one counter a ticket was transferred to; today's numbers looked up for call-back / reprint
    """
    ALTER TABLE tickets ADD COLUMN to_counter TEXT;
    CREATE INDEX tickets_number ON tickets (number, day)
    """,
    # 4: when a counter last called someone (a counter counts as staffed for wait estimates a while after)
    """
    ALTER TABLE counters ADD COLUMN last_call_at TEXT
    """,
    # 5: the one-door system's dossier code (mã hồ sơ) an officer tied to the ticket (set_dossier)
    """
    ALTER TABLE tickets ADD COLUMN dossier TEXT
    """,
    # 6: the report's figures of each past day (qms/report_days.py); the store deletes a day's rows when it
    # writes one of that day's tickets
    """
    CREATE TABLE report_days (
        grouping TEXT NOT NULL,
        day TEXT NOT NULL,
        key TEXT NOT NULL,
        tz TEXT NOT NULL,
        figures BLOB NOT NULL,
        waits BLOB NOT NULL,
        services BLOB NOT NULL,
        PRIMARY KEY (grouping, day, key)
    ) WITHOUT ROWID;
    CREATE INDEX report_days_day ON report_days (day)
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date in one transaction; return the version reached."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"the store has schema version {version}, newer than this program's {SCHEMA_VERSION}; "
                "upgrade qms or point --data-dir at another folder"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
        return SCHEMA_VERSION
    except BaseException:
        conn.execute("ROLLBACK")
        raise
