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

from .auth import require

bp = Blueprint("province", __name__)

LINK_STALE_S = 120  # no event for this long and no link notification: shown as unknown

CENTERS_SQL = """
WITH day AS (
    SELECT * FROM province_events WHERE ts >= %(start)s AND ts < %(end)s
), first_call AS (
    SELECT DISTINCT ON (site, ticket_id) site,
           extract(epoch FROM (payload->'ticket'->>'called_at')::timestamptz
                              - (payload->'ticket'->>'issued_at')::timestamptz) AS wait_s
    FROM day WHERE type = 'ticket_called' AND ticket_id IS NOT NULL
    ORDER BY site, ticket_id, seq
), waits AS (
    SELECT site, avg(wait_s) AS avg_wait_s,
           percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_s) AS p90_wait_s  -- nearest rank, as `qms report`
    FROM first_call GROUP BY site
), figures AS (
    SELECT site,
           count(*) FILTER (WHERE type = 'ticket_issued') AS issued,
           count(*) FILTER (WHERE type = 'ticket_completed') AS served,
           count(*) FILTER (WHERE type = 'ticket_no_show') AS no_shows,
           count(*) FILTER (WHERE type = 'rating_recorded') AS ratings,
           avg((payload->>'score')::numeric) FILTER (WHERE type = 'rating_recorded') AS mean_score,
           count(*) FILTER (WHERE type = 'rating_recorded' AND (payload->>'score')::int >= 4) AS good
    FROM day GROUP BY site
)
SELECT s.site, coalesce(f.issued, 0), coalesce(f.served, 0), coalesce(f.no_shows, 0), coalesce(f.ratings, 0),
       f.mean_score, coalesce(f.good, 0), w.avg_wait_s, s.last_seq, s.contiguous_seq, s.last_seen, s.lag_s,
       s.link_up, w.p90_wait_s
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
    for (site, issued, served, no_shows, ratings, mean, good, wait_s, last_seq, contiguous, last_seen, lag_s,
         link_up, p90_s) in rows:
        out.append(CenterRow(
            site=site, issued=issued, served=served, no_shows=no_shows, ratings=ratings,
            satisfaction=None if mean is None else round((float(mean) - 1) * 25, 1),
            good_pct=round(100 * good / ratings, 1) if ratings else None,
            avg_wait_min=None if wait_s is None else round(float(wait_s) / 60, 1),
            last_seq=last_seq, missing=max(0, last_seq - contiguous), last_seen=last_seen, lag_s=lag_s,
            link_up=link_up, p90_wait_min=None if p90_s is None else round(float(p90_s) / 60, 1)))
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
