"""Province mode of the web app: a read-only table of every center, over the ingester's PostgreSQL.

``create_app(WebSettings(mode="province", extra={"dsn": ...}))``. Nothing here writes: the connection is
opened read-only (``default_transaction_read_only``). Today's figures are counted from the events of the
province's calendar day (``extra["timezone"]``, default Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, redirect, render_template, url_for

from qms.province.db import SITE_NAME_SQL
from queue_core.rating import satisfaction_score

from .auth import require

bp = Blueprint("province", __name__)

LINK_STALE_S = 120  # no event for this long and no link notification: shown as unknown

# The figures of `qms report` (qms/report.py, qms/report_legs.py) for the tickets issued today: each ticket as
# its newest event leaves it (a no-show called back and served, a complete undone, count once, as they end);
# the wait (mean and P90) is counted per leg (issue or transfer in, to the leg's call), as the report counts it. Only the
# newest event's and the transfers' payloads are read (by primary key): reading every payload of the day
# took 3 times as long (124 sites, 16,500 events).
CENTERS_SQL = f"""
WITH day AS (
    SELECT site, seq, type, ts, ticket_id FROM province_events
    WHERE ts >= %(start)s AND ts < %(end)s AND ticket_id IS NOT NULL
), tickets AS (
    SELECT site, max(seq) AS newest,
           max(ts) FILTER (WHERE type IN ('ticket_issued', 'ticket_transferred')) AS arrived
    FROM day GROUP BY site, ticket_id HAVING bool_or(type = 'ticket_issued')
), final AS (
    SELECT k.site, k.arrived, e.payload->'ticket' AS t
    FROM tickets k JOIN province_events e ON e.site = k.site AND e.seq = k.newest
), moves AS (
    SELECT site, seq, type, lag(ts) OVER (PARTITION BY site, ticket_id ORDER BY seq) AS arrived
    FROM day WHERE type IN ('ticket_issued', 'ticket_transferred')
), waits AS (
    SELECT site, avg(wait_s) AS avg_wait_s,
           percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_s) AS p90_wait_s  -- nearest rank, as `qms report`
    FROM (SELECT site, extract(epoch FROM called_at - arrived) AS wait_s
          FROM (SELECT m.site, (e.payload->'ticket'->>'called_at')::timestamptz AS called_at, m.arrived
                FROM moves m JOIN province_events e USING (site, seq) WHERE m.type = 'ticket_transferred'
                UNION ALL SELECT site, (t->>'called_at')::timestamptz, arrived FROM final) legs
          WHERE called_at >= arrived) leg_waits
    GROUP BY site
), figures AS (
    SELECT site, count(*) AS issued,
           count(*) FILTER (WHERE t->>'status' = 'done') AS served,
           count(*) FILTER (WHERE t->>'status' = 'no_show') AS no_shows,
           count(*) FILTER (WHERE t->>'rating' = '1') AS r1, count(*) FILTER (WHERE t->>'rating' = '2') AS r2,
           count(*) FILTER (WHERE t->>'rating' = '3') AS r3, count(*) FILTER (WHERE t->>'rating' = '4') AS r4,
           count(*) FILTER (WHERE t->>'rating' = '5') AS r5
    FROM final GROUP BY site
)
SELECT s.site, coalesce(f.issued, 0), coalesce(f.served, 0), coalesce(f.no_shows, 0), coalesce(f.r1, 0),
       coalesce(f.r2, 0), coalesce(f.r3, 0), coalesce(f.r4, 0), coalesce(f.r5, 0), w.avg_wait_s, s.last_seq,
       s.contiguous_seq, s.last_seen, s.lag_s, s.link_up, w.p90_wait_s, s.{SITE_NAME_SQL}
FROM province_sites s LEFT JOIN figures f USING (site) LEFT JOIN waits w USING (site)
ORDER BY s.site
"""


@dataclass(frozen=True)
class CenterRow:
    """One center's line in the province table."""

    site: str
    issued: int
    served: int
    no_shows: int
    ratings: int
    satisfaction: float | None  # 0–100: the mean rating mapped linearly (1 → 0, 5 → 100), as `qms report`
    good_pct: float | None  # % of ratings with 4 or 5 stars
    avg_wait_min: float | None
    last_seq: int
    missing: int  # events known to exist but not stored yet (last_seq - contiguous_seq)
    last_seen: datetime | None
    lag_s: float | None
    link_up: bool | None
    p90_wait_min: float | None = None  # 90th percentile (nearest rank) of the same waits as avg_wait_min
    name: str | None = None  # the center's name, from its config catalogue (None before it arrived)


def _settings() -> Any:
    return current_app.extensions["qms"]


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start and end of *now*'s calendar day (in its own time zone)."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def centers(dsn: str, now: datetime) -> list[CenterRow]:
    """Every center the ingester knows, with today's figures."""
    import psycopg

    start, end = day_bounds(now)
    with psycopg.connect(dsn, options="-c default_transaction_read_only=on", connect_timeout=5) as conn:
        rows = conn.execute(CENTERS_SQL, {"start": start, "end": end}).fetchall()
    out = []
    for (site, issued, served, no_shows, *stars, wait_s, last_seq, contiguous, last_seen, lag_s, link_up,
         p90_s, name) in rows:
        ratings = sum(stars)
        out.append(CenterRow(
            site=site, issued=issued, served=served, no_shows=no_shows, ratings=ratings,
            satisfaction=satisfaction_score([n for n, k in enumerate(stars, start=1) for _ in range(k)]),
            good_pct=round(100 * (stars[3] + stars[4]) / ratings, 1) if ratings else None,
            avg_wait_min=None if wait_s is None else round(float(wait_s) / 60, 1),
            last_seq=last_seq, missing=max(0, last_seq - contiguous), last_seen=last_seen, lag_s=lag_s,
            link_up=link_up, p90_wait_min=None if p90_s is None else round(float(p90_s) / 60, 1), name=name))
    return out


@bp.route("/")
@require("manager")
def home() -> Any:
    if g.user.site is not None:  # a center's manager: that center's page (web/province_pages.py)
        return redirect(url_for("province_pages.center", site=g.user.site))
    s = _settings()
    tz = ZoneInfo(s.extra.get("timezone", "Asia/Ho_Chi_Minh"))
    now = s.extra.get("now", lambda: datetime.now(tz))().astimezone(tz)
    try:
        rows, problem = centers(s.extra["dsn"], now), None
    except Exception as exc:  # the database is down or not set up: say so on the page, never a traceback
        current_app.logger.error("province table: %s", exc)
        rows, problem = [], f"Không đọc được cơ sở dữ liệu / cannot read the database: {type(exc).__name__}"
    return render_template("province.html", rows=rows, problem=problem, day=now.date(), now=now, tz=tz)
