"""PostgreSQL for the province: the schema and the ingester's batch writes (psycopg 3).

``province_events`` holds every event of every site once, keyed ``(site, seq)``; ``province_sites`` one row
per site (newest and contiguous seq, last seen, lag, link, the center's config catalogue: its name and its
services' names); ``province_rejects`` the malformed messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS province_events (
    site        text        NOT NULL,
    seq         bigint      NOT NULL,
    type        text        NOT NULL,
    ts          timestamptz NOT NULL,
    ticket_id   text,
    counter     text,
    payload     jsonb       NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (site, seq)
);
CREATE INDEX IF NOT EXISTS province_events_type_ts ON province_events (site, type, ts);
CREATE INDEX IF NOT EXISTS province_events_ts ON province_events (ts);  -- the table's "today", any site
CREATE TABLE IF NOT EXISTS province_sites (
    site            text PRIMARY KEY,
    last_seq        bigint      NOT NULL DEFAULT 0,
    contiguous_seq  bigint      NOT NULL DEFAULT 0,
    announced_seq   bigint      NOT NULL DEFAULT 0,
    last_seen       timestamptz,
    lag_s           double precision,
    link_up         boolean,
    link_changed    timestamptz,
    resend_requests bigint      NOT NULL DEFAULT 0,
    catalogue       jsonb  -- the center's retained config catalogue (docs/protocol.md): its name, services...
);
ALTER TABLE province_sites ADD COLUMN IF NOT EXISTS catalogue jsonb;  -- databases made before it
CREATE TABLE IF NOT EXISTS province_rejects (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    topic   text        NOT NULL,
    reason  text        NOT NULL,
    payload text        NOT NULL
);
"""

INCOMING = """
CREATE TEMPORARY TABLE IF NOT EXISTS incoming_events (
    site text, seq bigint, type text, ts timestamptz, ticket_id text, counter text, payload jsonb
) ON COMMIT DELETE ROWS
"""
COPY_INCOMING = "COPY incoming_events (site, seq, type, ts, ticket_id, counter, payload) FROM STDIN"
INSERT_INCOMING = """
INSERT INTO province_events (site, seq, type, ts, ticket_id, counter, payload)
SELECT site, seq, type, ts, ticket_id, counter, payload FROM incoming_events ON CONFLICT (site, seq) DO NOTHING
"""

UPSERT_SITE = """
INSERT INTO province_sites AS s (site, last_seq, last_seen, lag_s) VALUES (%s, %s, clock_timestamp(), %s)
ON CONFLICT (site) DO UPDATE SET last_seq = GREATEST(s.last_seq, EXCLUDED.last_seq),
    last_seen = EXCLUDED.last_seen, lag_s = EXCLUDED.lag_s
"""


@dataclass(frozen=True)
class Event:
    """One event as stored: its site, seq, type, time, ticket id, counter and the whole payload."""

    site: str
    seq: int
    type: str
    ts: datetime
    ticket_id: str | None
    counter: str | None
    payload: dict[str, Any]
    raw: str | None = None  # the JSON text as received (stored as is), None: dump ``payload``


def parse_event(site: str, payload: Any, raw: str | None = None) -> Event:
    """The event in an MQTT payload (already JSON-decoded); ValueError naming what is wrong."""
    if not isinstance(payload, dict):
        raise ValueError(f"payload is a {type(payload).__name__}, not a JSON object")
    seq = payload.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError(f"'seq' must be an integer >= 1, got {seq!r}")
    kind = payload.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"'type' must be a non-empty string, got {kind!r}")
    raw_ts = payload.get("ts")
    try:
        ts = datetime.fromisoformat(raw_ts)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"'ts' must be an ISO 8601 time, got {raw_ts!r}") from None
    if ts.tzinfo is None:
        raise ValueError(f"'ts' must carry its offset, got {raw_ts!r}")
    ticket = payload.get("ticket")
    ticket_id = ticket.get("id") if isinstance(ticket, dict) else None
    counter = payload.get("counter")
    return Event(site, seq, kind, ts, None if ticket_id is None else str(ticket_id),
                 None if counter is None else str(counter), payload, raw)


def create_schema(conn: Any) -> None:
    """Create the tables if missing (idempotent)."""
    with conn.transaction():
        conn.execute(SCHEMA)


def write_batch(conn: Any, events: Sequence[Event], lags: dict[str, float]) -> None:
    """Insert *events* (a replayed ``(site, seq)`` changes nothing) and update each site, in one transaction.

    The rows are copied (``COPY``) into a temporary table, then inserted with ``ON CONFLICT DO NOTHING``.
    """
    newest: dict[str, int] = {}
    for e in events:
        newest[e.site] = max(newest.get(e.site, 0), e.seq)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(INCOMING)
        with cur.copy(COPY_INCOMING) as copy:
            for e in events:
                copy.write_row((e.site, e.seq, e.type, e.ts, e.ticket_id, e.counter,
                                e.raw if e.raw is not None else json.dumps(e.payload, ensure_ascii=False)))
        cur.execute(INSERT_INCOMING)
        cur.executemany(UPSERT_SITE, [(site, seq, lags.get(site)) for site, seq in sorted(newest.items())])


def write_rejects(conn: Any, rejects: Iterable[tuple[str, str, str]]) -> None:
    """Record malformed messages ``(topic, reason, payload text)``."""
    rows = [(topic, reason, text[:4000]) for topic, reason, text in rejects]
    if rows:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany("INSERT INTO province_rejects (topic, reason, payload) VALUES (%s, %s, %s)", rows)


def contiguous_after(conn: Any, site: str, after: int, limit: int = 100_000) -> tuple[int, int | None]:
    """``(contiguous, next_stored)``: the highest seq reached from *after* with no hole, and the first stored seq
    past the hole (None when nothing is stored past it)."""
    rows = conn.execute("SELECT seq FROM province_events WHERE site = %s AND seq > %s ORDER BY seq LIMIT %s",
                        (site, after, limit)).fetchall()
    contiguous = after
    for (seq,) in rows:
        if seq == contiguous + 1:
            contiguous = seq
        else:
            return contiguous, seq
    return contiguous, None


def set_sites_progress(conn: Any, progress: Sequence[tuple[str, int, int, bool]]) -> None:
    """Store ``(site, contiguous, announced, resend_asked)`` of several sites in one transaction: the contiguous
    and announced seqs never go backwards, a resend request is counted."""
    if not progress:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO province_sites AS s (site, contiguous_seq, announced_seq, resend_requests)
               VALUES (%s, %s, %s, %s)
               ON CONFLICT (site) DO UPDATE SET contiguous_seq = GREATEST(s.contiguous_seq, EXCLUDED.contiguous_seq),
                   announced_seq = GREATEST(s.announced_seq, EXCLUDED.announced_seq),
                   resend_requests = s.resend_requests + EXCLUDED.resend_requests""",
            [(site, contiguous, announced, 1 if resend else 0) for site, contiguous, announced, resend in progress])


def set_link(conn: Any, site: str, up: bool) -> None:
    """Record a site's bridge going up or down."""
    with conn.transaction():
        conn.execute(
            """INSERT INTO province_sites AS s (site, link_up, link_changed) VALUES (%s, %s, clock_timestamp())
               ON CONFLICT (site) DO UPDATE SET link_up = EXCLUDED.link_up, link_changed = EXCLUDED.link_changed""",
            (site, up))


SITE_NAME_SQL = "catalogue #>> '{site,name,vi}'"
"""A site's name in ``province_sites`` (a catalogue is ``SiteConfig.model_dump``: names are ``{vi: ...}``)."""


def set_catalogues(conn: Any, catalogues: Sequence[tuple[str, str]]) -> None:
    """Record each ``(site, catalogue JSON)`` a center's retained config gave (in the caller's transaction)."""
    if catalogues:
        with conn.cursor() as cur:
            cur.executemany("""INSERT INTO province_sites AS s (site, catalogue) VALUES (%s, %s::jsonb)
                               ON CONFLICT (site) DO UPDATE SET catalogue = EXCLUDED.catalogue""", list(catalogues))


def load_progress(conn: Any) -> dict[str, tuple[int, int]]:
    """``{site: (contiguous_seq, announced_seq)}`` as stored."""
    return {site: (int(c), int(a)) for site, c, a in
            conn.execute("SELECT site, contiguous_seq, announced_seq FROM province_sites").fetchall()}
