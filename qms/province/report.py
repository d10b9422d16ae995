"""``qms report``'s figures over the province's PostgreSQL, for one center or the whole province.

No second report algorithm: each ticket's last state is its newest event's ``ticket`` snapshot (by ``seq``),
its earlier legs come from its ``ticket_transferred`` events, and :func:`qms.report_sql.store_report` (what
``qms report`` runs) computes the figures over a throw-away in-memory SQLite shaped as the center's store
(``tickets`` and ``outbox``, the columns the report reads). A ticket's local day is the date in its id
(``YYYYMMDD-service-n``, as the engine makes it). Event times are published with millisecond precision, so
times may differ from the store's by less than a millisecond.

In the whole province's report, ticket ids are ``site/id`` and counters and officers ``site · id`` (counter
``1`` of two centers is two counters); days, hours and services add up across centers.

Names come from each center's config catalogue, which its bridge carries to the province with its events
(``province_sites.catalogue``): a center's report is labelled as ``qms report`` labels it from the center's
config; the province's services by the first center (by id) that names them. Without a catalogue, ids.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from qms.config.history import names_in, vi_text
from qms.report import parse_day, render_text, write_csv
from qms.report_model import Labels, Report, Stats
from qms.report_sql import store_report

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
READ_ONLY = "-c default_transaction_read_only=on"

# ticket ids start with their day (YYYYMMDD-): a range on the column itself, which the planner can estimate
_PERIOD = """ts >= %(since)s AND ticket_id >= %(first)s AND ticket_id < %(after)s
  AND (%(site)s::text IS NULL OR site = %(site)s)"""


def _utc(field_: str) -> str:
    """SQL: a snapshot's time as the store writes it, UTC ISO 8601 (``...T01:30:00.123000+00:00``)."""
    return f"""to_char((t->>'{field_}')::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


# the newest event of each ticket found on (site, seq) alone, then only those rows' snapshots read, as the
# columns of the store's tickets table (REPORT_TABLES); ticket_id is set only from a ticket object
# (qms.province.db.parse_event), so every t is one
TICKETS_SQL = f"""
WITH newest AS (
    SELECT site, max(seq) AS seq FROM province_events WHERE ticket_id IS NOT NULL AND {_PERIOD}
    GROUP BY site, ticket_id
), snapshot AS (
    SELECT e.site, e.payload->'ticket' AS t FROM newest JOIN province_events e USING (site, seq)
)
SELECT site, t->>'id', coalesce(t->>'number', ''), t->>'service',
       to_char(to_date(left(t->>'id', 8), 'YYYYMMDD'), 'YYYY-MM-DD'), coalesce(t->>'priority', 'normal'),
       t->>'status', t->>'procedure', {_utc('issued_at')}, {_utc('called_at')}, {_utc('finished_at')},
       t->>'counter', t->>'officer', (t->>'rating')::int, coalesce((t->>'transfers')::int, 0), t->>'dossier'
FROM snapshot
"""
TRANSFERS_SQL = f"""
SELECT site, payload::text FROM province_events WHERE type = 'ticket_transferred' AND {_PERIOD}
ORDER BY site, seq
"""
REPORT_TABLES = """
CREATE TABLE tickets (id TEXT, number TEXT, service TEXT, day TEXT, priority TEXT, status TEXT, procedure TEXT,
                      issued_at TEXT, called_at TEXT, finished_at TEXT, counter TEXT, officer TEXT, rating INTEGER,
                      transfers INTEGER, dossier TEXT);
CREATE TABLE outbox (seq INTEGER PRIMARY KEY, type TEXT, payload TEXT);
"""
"""The columns of the store's ``tickets`` and ``outbox`` that :func:`qms.report_sql.store_report` reads."""
ID, COUNTER, OFFICER = 0, 10, 11  # positions in a ticket row


def connect(dsn: str) -> Any:
    """A read-only connection to the province's database (nothing here ever writes)."""
    import psycopg

    return psycopg.connect(dsn, options=READ_ONLY, connect_timeout=5)


@dataclass
class SiteTickets:
    """One center's tickets of the period (rows of the store's ``tickets``) and its transfer events (JSON)."""

    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)


def load(conn: Any, start: date, end: date, tz: tzinfo, site: str | None = None) -> dict[str, SiteTickets]:
    """site -> the tickets of local days ``start``..``end`` (every site, or ``site`` only)."""
    since = datetime.combine(start - timedelta(days=1), time(), tz)  # a ticket's events never precede its issue
    params = {"since": since, "first": f"{start:%Y%m%d}", "after": f"{end + timedelta(days=1):%Y%m%d}", "site": site}
    out: dict[str, SiteTickets] = {}
    with conn.transaction():  # one snapshot for both queries
        conn.execute("SET LOCAL work_mem = '64MB'")  # a province's month of tickets: sorted in memory
        for name, *row in conn.execute(TICKETS_SQL, params):
            out.setdefault(name, SiteTickets()).tickets.append(tuple(row))
        for name, payload in conn.execute(TRANSFERS_SQL, params):
            out.setdefault(name, SiteTickets()).transfers.append(payload)
    return out


def catalogues(conn: Any, site: str | None = None) -> dict[str, Any]:
    """site -> its config catalogue as the ingester stored it (every site that sent one, or ``site`` only)."""
    return dict(conn.execute("SELECT site, catalogue FROM province_sites WHERE catalogue IS NOT NULL "
                             "AND (%(site)s::text IS NULL OR site = %(site)s) ORDER BY site", {"site": site}))


def catalogue_labels(catalogue: Any) -> dict[str, dict[str, str]]:
    """A report's labels from one center's catalogue: its services, counters, procedures and priorities."""
    labels: dict[str, dict[str, str]] = dict(names_in(catalogue))
    priorities = catalogue.get("priorities") if isinstance(catalogue, dict) else None
    labels["priority"] = {str(p["id"]): name for p in priorities or []
                          if isinstance(p, dict) and "id" in p and (name := vi_text(p.get("name")))}
    return labels


def province_labels(by_site: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The province's labels: each service, procedure and priority named by the first center (by id) naming it
    (counters and officers are ``site · id`` there)."""
    labels: dict[str, dict[str, str]] = {"service": {}, "procedure": {}, "priority": {}}
    for site in sorted(by_site):
        for grouping, names in catalogue_labels(by_site[site]).items():
            if grouping in labels:
                for key, name in names.items():
                    labels[grouping].setdefault(key, name)
    return labels


def known_sites(conn: Any) -> list[str]:
    """Every site the ingester has heard of, by id."""
    return [s for (s,) in conn.execute("SELECT site FROM province_sites ORDER BY site")]


def compute(tickets: Iterable[tuple[Any, ...]], transfers: Iterable[str], start: date, end: date, tz: tzinfo,
            labels: Labels | None = None, title: str = "") -> Report:
    """:func:`qms.report_sql.store_report` over these ticket rows and transfer events."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.executescript(REPORT_TABLES)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO tickets VALUES ({', '.join('?' * 15)})", tickets)
        conn.executemany("INSERT INTO outbox (type, payload) VALUES ('ticket_transferred', ?)",
                         ((payload,) for payload in transfers))
        conn.execute("COMMIT")
        return store_report(conn, start, end, tz, labels, title)
    finally:
        conn.close()


def site_report(data: SiteTickets, start: date, end: date, tz: tzinfo, labels: Labels | None = None,
                title: str = "") -> Report:
    """One center's report, as ``qms report`` gives it from that center's store."""
    return compute(data.tickets, data.transfers, start, end, tz, labels, title)


def _named(site: str, value: str | None) -> str | None:
    return None if value is None else f"{site} · {value}"


def _renamed_transfer(site: str, payload: str) -> str:
    event = json.loads(payload)
    ticket = event["ticket"]
    ticket["id"], ticket["officer"] = f"{site}/{ticket['id']}", _named(site, ticket.get("officer"))
    event["counter"] = _named(site, event.get("counter"))
    return json.dumps(event, ensure_ascii=False)


def province_report(data: Mapping[str, SiteTickets], start: date, end: date, tz: tzinfo,
                    title: str = "Toàn tỉnh", labels: Labels | None = None) -> Report:
    """Every center's tickets in one report (ids ``site/id``, counters and officers ``site · id``)."""
    def rows() -> Iterable[tuple[Any, ...]]:
        for site, d in data.items():
            for t in d.tickets:
                row = list(t)
                row[ID], row[COUNTER], row[OFFICER] = (f"{site}/{t[ID]}", _named(site, t[COUNTER]),
                                                       _named(site, t[OFFICER]))
                yield tuple(row)
    transfers = [_renamed_transfer(site, p) for site, d in data.items() for p in d.transfers]
    return compute(rows(), transfers, start, end, tz, labels, title)


def center_totals(data: Mapping[str, SiteTickets], sites: list[str], start: date, end: date,
                  tz: tzinfo) -> dict[str, Stats]:
    """site -> the total row of its report, for ``sites`` and every site with tickets; by site id."""
    return {site: site_report(data.get(site, SiteTickets()), start, end, tz).total
            for site in sorted(set(sites) | set(data))}


# ------------------------------------------------------------------------------------------ CLI
def add_arguments(parser: argparse.ArgumentParser, dsn_default: str | None) -> None:
    """Options of ``qms province report``."""
    parser.add_argument("--dsn", default=dsn_default, help="PostgreSQL conninfo (env QMS_PROVINCE_DSN)")
    parser.add_argument("--site", help="one center (default: the whole province)")
    parser.add_argument("--from", dest="start", type=parse_day, required=True, metavar="DATE")
    parser.add_argument("--to", dest="end", type=parse_day, required=True, metavar="DATE")
    parser.add_argument("--timezone", default=DEFAULT_TZ, help=f"local time of the days (default {DEFAULT_TZ})")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write the CSV table (as `qms report --csv`)")
    parser.add_argument("--decimal-comma", action="store_true", help="CSV with ';' and decimal commas")


def run(ns: argparse.Namespace) -> int:
    """Print the report of one center or of the province; write the CSV when asked."""
    if not ns.dsn:
        raise ValueError("give --dsn 'host=... dbname=... user=...' (or env QMS_PROVINCE_DSN)")
    if ns.start > ns.end:
        print(f"qms: --from {ns.start} is after --to {ns.end}", file=sys.stderr)
        return 2
    tz = ZoneInfo(ns.timezone)
    with connect(ns.dsn) as conn:
        data = load(conn, ns.start, ns.end, tz, ns.site)
        by_site = catalogues(conn, ns.site)
    if ns.site:
        report = site_report(data.get(ns.site, SiteTickets()), ns.start, ns.end, tz,
                             catalogue_labels(by_site.get(ns.site)), ns.site)
    else:
        report = province_report(data, ns.start, ns.end, tz, labels=province_labels(by_site))
    print(render_text(report), end="")
    if ns.csv:
        write_csv(report, ns.csv, ns.decimal_comma)
        print(f"\n✓ CSV: {ns.csv}")
    return 0
