"""``qms report``'s figures over the province's PostgreSQL, for one center or the whole province.

No second report algorithm: each ticket's last state is its newest event's ``ticket`` snapshot (by ``seq``),
its earlier legs come from its ``ticket_transferred`` events (:func:`qms.report_legs.transfer_of`), and
:func:`qms.report.compute_report` groups and computes exactly as for the center's store. A ticket's local
day is the date in its id (``YYYYMMDD-service-n``, as the engine makes it). Event times are published with
millisecond precision, so times may differ from the store's by less than a millisecond.

In the whole province's report, counters and officers are named ``site · counter`` (counter ``1`` of two
centers is two counters); days, hours and services add up across centers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from qms.report import compute_report, parse_day, render_text, write_csv
from qms.report_legs import StoredTicket, Transfer, transfer_of
from qms.report_model import Labels, Report

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
READ_ONLY = "-c default_transaction_read_only=on"

_PERIOD = """ts >= %(since)s AND left(ticket_id, 8) BETWEEN %(first)s AND %(last)s
  AND (%(site)s::text IS NULL OR site = %(site)s)"""
TICKETS_SQL = f"""
SELECT DISTINCT ON (site, ticket_id) site, payload->'ticket'
FROM province_events WHERE ticket_id IS NOT NULL AND {_PERIOD}
ORDER BY site, ticket_id, seq DESC
"""
TRANSFERS_SQL = f"""
SELECT site, payload FROM province_events WHERE type = 'ticket_transferred' AND {_PERIOD}
ORDER BY site, seq
"""


def connect(dsn: str) -> Any:
    """A read-only connection to the province's database (nothing here ever writes)."""
    import psycopg

    return psycopg.connect(dsn, options=READ_ONLY, connect_timeout=5)


@dataclass
class SiteTickets:
    """One center's tickets of the period (last states) and their transfers."""

    tickets: list[StoredTicket] = field(default_factory=list)
    transfers: dict[str, list[Transfer]] = field(default_factory=dict)


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def ticket_of(snapshot: Mapping[str, Any]) -> StoredTicket:
    """A TICKET payload (docs/protocol.md) as the report reads a store row."""
    tid = str(snapshot["id"])
    issued = _dt(snapshot["issued_at"])
    assert issued is not None
    return StoredTicket(
        tid, str(snapshot.get("number", "")), str(snapshot["service"]), datetime.strptime(tid[:8], "%Y%m%d").date(),
        str(snapshot.get("priority", "normal")), str(snapshot["status"]), snapshot.get("procedure"), issued,
        _dt(snapshot.get("called_at")), _dt(snapshot.get("finished_at")), snapshot.get("counter"),
        snapshot.get("officer"), snapshot.get("rating"), int(snapshot.get("transfers") or 0), snapshot.get("dossier"))


def load(conn: Any, start: date, end: date, tz: tzinfo, site: str | None = None) -> dict[str, SiteTickets]:
    """site -> the tickets of local days ``start``..``end`` (every site, or ``site`` only)."""
    since = datetime.combine(start - timedelta(days=1), time(), tz)  # a ticket's events never precede its issue
    params = {"since": since, "first": f"{start:%Y%m%d}", "last": f"{end:%Y%m%d}", "site": site}
    out: dict[str, SiteTickets] = {}
    with conn.transaction():  # one snapshot for both queries
        for name, snapshot in conn.execute(TICKETS_SQL, params):
            if isinstance(snapshot, dict):
                out.setdefault(name, SiteTickets()).tickets.append(ticket_of(snapshot))
        for name, event in conn.execute(TRANSFERS_SQL, params):
            transfer = transfer_of(event)
            out.setdefault(name, SiteTickets()).transfers.setdefault(transfer.ticket, []).append(transfer)
    return out


def known_sites(conn: Any) -> list[str]:
    """Every site the ingester has heard of, by id."""
    return [s for (s,) in conn.execute("SELECT site FROM province_sites ORDER BY site")]


def site_report(data: SiteTickets, start: date, end: date, tz: tzinfo, labels: Labels | None = None,
                title: str = "") -> Report:
    """One center's report, as ``qms report`` gives it from that center's store."""
    return compute_report(data.tickets, start, end, tz, labels, title, data.transfers)


def _named(site: str, value: str | None) -> str | None:
    return None if value is None else f"{site} · {value}"


def province_report(data: Mapping[str, SiteTickets], start: date, end: date, tz: tzinfo,
                    title: str = "Toàn tỉnh") -> Report:
    """Every center's tickets in one report; counters and officers named ``site · id``; ticket ids made
    unique across centers (``site/id``)."""
    tickets: list[StoredTicket] = []
    transfers: dict[str, list[Transfer]] = {}
    for site, d in data.items():
        for t in d.tickets:
            tickets.append(replace(t, id=f"{site}/{t.id}", counter=_named(site, t.counter),
                                   officer=_named(site, t.officer)))
        for tid, trs in d.transfers.items():
            transfers[f"{site}/{tid}"] = [replace(tr, ticket=f"{site}/{tid}", counter=_named(site, tr.counter),
                                                  officer=_named(site, tr.officer)) for tr in trs]
    return compute_report(tickets, start, end, tz, None, title, transfers)


def per_site(data: Mapping[str, SiteTickets], sites: list[str], start: date, end: date,
             tz: tzinfo) -> dict[str, Report]:
    """site -> its report, for ``sites`` and every site with tickets (a site without any: zeros)."""
    names = sorted(set(sites) | set(data))
    return {s: site_report(data.get(s, SiteTickets()), start, end, tz, title=s) for s in names}


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
    if ns.site:
        report = site_report(data.get(ns.site, SiteTickets()), ns.start, ns.end, tz, title=ns.site)
    else:
        report = province_report(data, ns.start, ns.end, tz)
    print(render_text(report), end="")
    if ns.csv:
        write_csv(report, ns.csv, ns.decimal_comma)
        print(f"\n✓ CSV: {ns.csv}")
    return 0
