"""Shared by the province tests (and tests/web/test_browser_province.py): a PostgreSQL database of their own
or a loud skip, a real center's store running a script, and a center's events stored as the ingester does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.store import Store
from qms.config import load_config, to_site_def
from qms.province import db as pdb
from testkit.province import TempDatabase, center_config, pg_available


@contextmanager
def temp_database(what: str, prefix: str = "qms_province_test") -> Iterator[TempDatabase]:
    """A database of its own (name starting with *prefix*), dropped after; without a PostgreSQL server *what*
    (``"province tests"``) is skipped, with a line on the console."""
    why = pg_available()
    if why:
        print(f"\n*** SKIPPING the {what}: {why} ***\n")
        pytest.skip(f"PostgreSQL NOT AVAILABLE — {what} skipped: {why}")
    db = TempDatabase(prefix)
    try:
        yield db
    finally:
        db.drop()


def run_center(folder: Path, site: str, script: list[tuple[str, dict]]) -> tuple[Path, list[dict]]:
    """A real store of *site* (the commune config, in ``folder/site``) running *script*: its file and its
    outbox. A ``("rate", args)`` step rates the ticket of the newest event (the one just completed)."""
    cfg = center_config(folder / site, site)
    path = folder / site / "queue.sqlite3"
    store = Store(path, to_site_def(load_config(cfg)))
    try:
        for i, (action, args) in enumerate(script):
            if action == "rate":
                args = {"ticket": store.events_after(0, 10**6)[-1]["ticket"]["id"], **args}
            reply = store.run(action, args, request_id=f"r{i}")
            assert reply.ok, reply.response
        return path, store.events_after(0, 10**6)
    finally:
        store.close()


def write_center(conn: Any, site: str, events: list[dict], link: bool | None, lag_s: float | None = 0.4) -> None:
    """*site*'s *events* stored as the ingester stores them: one batch (with the bridge's lag, if any), every
    seq contiguous, and the link up or down (``None``: never reported)."""
    pdb.write_batch(conn, [pdb.parse_event(site, e) for e in events], {site: lag_s} if lag_s else {})
    pdb.set_sites_progress(conn, [(site, events[-1]["seq"], events[-1]["seq"], False)])
    if link is not None:
        pdb.set_link(conn, site, link)
