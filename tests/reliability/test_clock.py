"""Trusted time under a lying clock: the real ``qms`` CLI and hub run under libfaketime.

libfaketime moves the wall clock of one process (``FAKETIME`` offsets, or a file the hub re-reads);
``/proc/uptime`` and the kernel boot id stay real, as they do when ``date -s`` or a bad NTP answer
moves a Raspberry Pi's clock. Every test pins the fake clock to a chosen local hour of today (an
offset from the real clock), so it never depends on when it runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.clock import BootReading, ClockGuard, ClockPolicy
from hub.store import Store
from mqtt_bus.client import BusClient
from mqtt_bus.contract import HUB_CLIENT_ID, ErrorCode, EventType, Role
from qms.config import yaml_rt
from testkit.sites import roomy_config
from tests.factories import HCM, local, make_site
from tests.integration.hub_helpers import SITE, wait_for
from tests.reliability.helpers import ROOT

LIBFAKETIME = next((p for p in (Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
                                Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
                                Path("/usr/lib/faketime/libfaketime.so.1")) if p.exists()), None)
needs_faketime = pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime is missing: apt-get install faketime")
DAY = 86400


def offset_to(hour: int, minute: int = 0, days: int = 0) -> int:
    """Seconds to add to the real clock so that it reads today's ``hour:minute`` (+ ``days``) in Hà Nội."""
    now = datetime.now(HCM)
    target = datetime.combine(now.date() + timedelta(days=days), time(hour, minute), tzinfo=HCM)
    return round((target - now).total_seconds())


def faketime_env(offset: int | str | None = None, timestamp_file: Path | None = None) -> dict[str, str]:
    """The environment of a process whose wall clock is moved by ``offset`` seconds (or as ``timestamp_file`` says)."""
    env = {**os.environ, "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    if timestamp_file is not None:
        env.update(FAKETIME_TIMESTAMP_FILE=str(timestamp_file), FAKETIME_NO_CACHE="1")
    elif isinstance(offset, int):
        env["FAKETIME"] = f"{offset:+d}"
    elif offset is not None:
        env["FAKETIME"] = offset
    return env


class Center:
    """One center's config and data dir, driven through the real ``qms`` CLI."""

    def __init__(self, tmp_path: Path, clock: dict[str, int] | None = None) -> None:
        self.config = roomy_config(tmp_path / "config")
        if clock:
            yaml = yaml_rt()
            doc = yaml.load(self.config.read_text(encoding="utf-8"))
            doc["clock"] = clock
            with self.config.open("w", encoding="utf-8") as f:
                yaml.dump(doc, f)
        self.data = tmp_path / "data"

    def qms(self, *args: str, offset: int | str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(self.config), "--data-dir",
                               str(self.data), *args], cwd=ROOT, env=faketime_env(offset), capture_output=True,
                              text=True, timeout=60)

    def ok(self, *args: str, offset: int | str | None = None) -> Any:
        done = self.qms(*args, offset=offset)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def refused(self, *args: str, offset: int | str | None = None) -> str:
        """Run a command that must be refused with ``clock_untrusted``; return its one line."""
        done = self.qms(*args, offset=offset)
        assert done.returncode != 0 and done.stdout == ""
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "[clock_untrusted]" in done.stderr and "qms clock trust" in done.stderr
        return done.stderr

    def install(self, offset: int) -> None:
        """The technician checks the date and confirms it (needed here: this machine's kernel may not
        report NTP sync; on a board whose chrony synced the clock, the first command starts exact)."""
        trust = self.qms("clock", "trust", offset=offset)
        assert trust.returncode == 0, trust.stderr

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data / "queue.sqlite3") as conn:
            return conn.execute(sql).fetchall()

    def footprint(self) -> tuple[Any, ...]:
        """Everything a refused issue must leave as it was."""
        return (self.rows("SELECT * FROM tickets ORDER BY id"), self.rows("SELECT * FROM outbox ORDER BY seq"),
                self.rows("SELECT * FROM requests ORDER BY id"), self.rows("SELECT * FROM service_days"),
                self.rows("SELECT * FROM meta WHERE key = 'clock_ref'"))


def assert_numbers_unique_per_day(center: Center) -> None:
    pairs = center.rows("SELECT day, number FROM tickets")
    assert len(pairs) == len(set(pairs)), f"a number was given twice on one day: {sorted(pairs)}"
    seqs = [s for (s,) in center.rows("SELECT seq FROM outbox ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))


# --------------------------------------------------------------------------- the CLI under a lying clock


@needs_faketime
def test_cli_clock_a_day_ahead_and_back_issues_no_number_twice_and_expires_nobody(tmp_path):
    center = Center(tmp_path)
    morning = offset_to(9)
    today = (datetime.now(HCM) + timedelta(seconds=morning)).date()
    center.install(morning)
    issued = [center.ok("ticket", "issue", "tu-phap", offset=morning)["number"] for _ in range(3)]
    assert issued == ["A0001", "A0002", "A0003"]

    ahead = morning + DAY  # a bad NTP answer or a technician's typo
    before = center.footprint()
    line = center.refused("ticket", "issue", "tu-phap", offset=ahead)
    assert "jumped ahead" in line
    assert center.footprint() == before, "a refused issue stored something"
    status = center.qms("clock", offset=ahead)
    assert status.returncode == 1 and "PAUSED (clock_untrusted)" in status.stdout

    called = center.ok("counter", "2", "next", offset=ahead)  # staff keep serving on the trusted time
    assert called["number"] == "A0001" and called["called_at"].startswith(today.isoformat())

    back = center.ok("ticket", "issue", "tu-phap", offset=morning)  # the clock is corrected
    assert back["number"] == "A0004" and back["id"].startswith(f"{today:%Y%m%d}-")
    assert center.qms("clock", offset=morning).returncode == 0
    assert center.ok("counter", "2", "next", offset=morning)["number"] == "A0002"

    statuses = dict(center.rows("SELECT number, status FROM tickets"))
    assert statuses == {"A0001": "done", "A0002": "called", "A0003": "waiting", "A0004": "waiting"}
    assert center.rows("SELECT day FROM tickets GROUP BY day") == [(today.isoformat(),)]
    assert center.rows("SELECT COUNT(*) FROM outbox WHERE type = 'ticket_no_show'") == [(0,)]
    assert_numbers_unique_per_day(center)


@needs_faketime
def test_cli_1970_boot_after_real_use_refuses_to_issue_and_stores_nothing(tmp_path):
    center = Center(tmp_path)
    morning = offset_to(9)
    today = (datetime.now(HCM) + timedelta(seconds=morning)).date()
    assert [center.ok("ticket", "issue", "tu-phap", offset=morning)["number"] for _ in range(2)] == [
        "A0001", "A0002"]

    epoch = "@1970-01-01 07:00:00"  # the board booted without a network: no RTC, no NTP yet
    before = center.footprint()
    line = center.refused("ticket", "issue", "tu-phap", offset=epoch)
    assert "date is not set" in line
    assert center.footprint() == before, "a refused issue stored something"
    assert "PAUSED" in center.qms("clock", offset=epoch).stdout
    trust = center.qms("clock", "trust", offset=epoch)
    assert trust.returncode != 0 and "cannot be right" in trust.stderr and "Traceback" not in trust.stderr

    called = center.ok("counter", "2", "next", offset=epoch)
    assert called["number"] == "A0001" and called["called_at"].startswith(today.isoformat())
    assert not center.rows("SELECT id FROM tickets WHERE id LIKE '1970%' OR issued_at LIKE '1970%'")

    synced = center.ok("ticket", "issue", "tu-phap", offset=morning + 60)  # the time syncs
    assert synced["number"] == "A0003"
    assert center.rows("SELECT COUNT(*) FROM outbox WHERE type = 'ticket_no_show'") == [(0,)]
    assert_numbers_unique_per_day(center)


@needs_faketime
def test_cli_clock_back_5_minutes_across_midnight_keeps_the_new_day(tmp_path):
    """As today: a clock 5 minutes fast crosses midnight early; NTP sets it back; nothing repeats.

    The config allows a 10-minute step so the test can reach 00:02 within seconds of 23:57.
    """
    center = Center(tmp_path, clock={"max_step_s": 600})
    evening = offset_to(23, 57)
    first = [center.ok("ticket", "issue", "tu-phap", offset=evening) for _ in range(2)]
    day1 = first[0]["id"][:8]
    fast = evening + 5 * 60  # 00:02 on the next day
    after_midnight = center.ok("ticket", "issue", "tu-phap", offset=fast)
    day2 = after_midnight["id"][:8]
    assert day2 != day1 and after_midnight["number"] == "A0001", "the new day's numbering starts"

    corrected = evening + 60  # NTP: it is still 23:58 of the first day
    again = [center.ok("ticket", "issue", "tu-phap", offset=corrected) for _ in range(2)]
    assert [t["number"] for t in again] == ["A0002", "A0003"] and {t["id"][:8] for t in again} == {day2}
    # a clock a little behind the store's day still finds today's numbers
    assert center.ok("counter", "2", "call", "A0003", offset=corrected)["number"] == "A0003"
    assert len(center.rows("SELECT id FROM tickets")) == 5
    assert_numbers_unique_per_day(center)


@needs_faketime
def test_cli_technician_confirms_a_clock_that_really_moved(tmp_path):
    center = Center(tmp_path)
    morning = offset_to(9)
    center.install(morning)
    center.ok("ticket", "issue", "tu-phap", offset=morning)
    later = morning + 3 * 3600  # the clock really was 3 hours slow; the technician set it right
    center.refused("ticket", "issue", "tu-phap", offset=later)
    trust = center.qms("clock", "trust", offset=later)
    assert trust.returncode == 0 and len(trust.stdout.strip().splitlines()) == 1 and "issuing is allowed" in trust.stdout
    assert center.ok("ticket", "issue", "tu-phap", offset=later)["number"] == "A0002"


# --------------------------------------------------------------------------- the hub under a lying clock


def set_offset(clock_file: Path, offset: int) -> None:
    """Move the hub's clock: replace the file libfaketime re-reads (atomically: never seen half-written)."""
    tmp = clock_file.with_suffix(".tmp")
    tmp.write_text(f"{offset:+d}\n")
    os.replace(tmp, clock_file)


@pytest.fixture
def hub_process(tmp_path, broker) -> Iterator[tuple[Center, Path, BusClient, BusClient]]:
    """``qms hub`` whose clock follows a file, a kiosk and a counter pad on a real mosquitto."""
    center = Center(tmp_path)
    clock_file = tmp_path / "faketime"
    set_offset(clock_file, offset_to(9))
    center.install(offset_to(9))
    log = (tmp_path / "hub.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "qms.cli", "--config", str(center.config), "--data-dir",
                             str(center.data), "--broker", broker.url, "hub"], cwd=ROOT,
                            env=faketime_env(timestamp_file=clock_file), stdout=log, stderr=subprocess.STDOUT)
    kiosk = BusClient(broker.url, SITE, "kiosk-1", Role.KIOSK).start()
    pad = BusClient(broker.url, SITE, "counter-2", Role.COUNTER).start()
    try:
        online: dict[str, bool] = {}
        pad.subscribe(pad.topics.status(HUB_CLIENT_ID), lambda _t, p: online.update(hub=p.get("online")))
        assert wait_for(lambda: online.get("hub") is True, 20), (tmp_path / "hub.log").read_text()
        yield center, clock_file, kiosk, pad
    finally:
        kiosk.close(1.0)
        pad.close(1.0)
        proc.terminate()
        assert proc.wait(15) == 0
        log.close()


@needs_faketime
def test_hub_clock_a_day_ahead_and_back(hub_process):
    center, clock_file, kiosk, pad = hub_process
    expired: list[dict[str, Any]] = []
    pad.subscribe(pad.topics.event(EventType.TICKET_NO_SHOW), lambda _t, p: expired.append(p))
    answers = [kiosk.request("issue_ticket", {"service": "tu-phap"}) for _ in range(3)]
    assert all(a["ok"] for a in answers), (answers, (center.data.parent / "hub.log").read_text())
    issued = [a["result"]["ticket"] for a in answers]
    assert [t["number"] for t in issued] == ["A0001", "A0002", "A0003"]
    today = issued[0]["id"][:8]

    morning = int(clock_file.read_text())
    set_offset(clock_file, morning + DAY)  # the hub's clock jumps a day ahead
    refused = kiosk.request("issue_ticket", {"service": "tu-phap"})
    assert refused["ok"] is False and refused["error"]["code"] == ErrorCode.CLOCK_UNTRUSTED
    assert "qms clock trust" in refused["error"]["message"]
    called = pad.request("call_next", {"counter": "2"})
    assert called["ok"] and called["result"]["ticket"]["number"] == "A0001"

    set_offset(clock_file, morning)  # and is corrected
    again = kiosk.request("issue_ticket", {"service": "tu-phap"})
    assert again["ok"] and again["result"]["ticket"]["number"] == "A0004"
    assert again["result"]["ticket"]["id"].startswith(today)
    assert pad.request("call_next", {"counter": "2"})["result"]["ticket"]["number"] == "A0002"
    assert expired == [] and center.rows("SELECT COUNT(*) FROM outbox WHERE type = 'ticket_no_show'") == [(0,)]
    assert center.rows("SELECT COUNT(*) FROM tickets WHERE status = 'waiting'") == [(2,)]
    assert_numbers_unique_per_day(center)


# --------------------------------------------------------------------------- reboots (the boot reading injected)


class Board:
    """A board's wall clock and boot reading, both set by the test."""

    def __init__(self, wall: datetime) -> None:
        self.wall, self.boot_id, self.uptime = wall, "boot-1", 100.0

    def run(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.uptime += seconds

    def reboot(self, wall: datetime) -> None:
        self.wall, self.boot_id, self.uptime = wall, f"boot-{int(self.boot_id[5:]) + 1}", 20.0

    def reading(self) -> BootReading:
        return BootReading(self.boot_id, self.uptime)


def test_reboot_far_ahead_is_refused_and_a_normal_morning_is_not(tmp_path):
    board = Board(local(2026, 11, 23, 16, 0))
    guard = ClockGuard(ClockPolicy(), boot=board.reading)
    with Store(tmp_path / "q.sqlite3", make_site(end=999), clock=lambda: board.wall, guard=guard) as store:
        store.run("issue_ticket", {"service": "tu-phap"})
        board.reboot(local(2027, 1, 5, 8, 0))  # a bad NTP answer weeks ahead after a power cut
        refused = store.run("issue_ticket", {"service": "tu-phap"}, request_id="kiosk-1/r1")
        assert refused.response["error"]["code"] == ErrorCode.CLOCK_UNTRUSTED and len(store.tickets()) == 1
        board.reboot(local(2026, 11, 24, 7, 30))  # the next morning
        assert store.run("issue_ticket", {"service": "tu-phap"}, request_id="kiosk-1/r1").ok, (
            "a refusal for the clock is not remembered against the request id")
        assert [t.number for t in store.tickets()] == ["A001", "A001"]
        assert [t.day.isoformat() for t in store.tickets()] == ["2026-11-23", "2026-11-24"]


def test_call_by_number_while_the_clock_is_behind_the_stores_day(tmp_path):
    """Without a guard too: the day a ticket is looked up in never goes back."""
    clock = {"now": local(2026, 11, 24, 0, 1)}
    with Store(tmp_path / "q.sqlite3", make_site(end=999), clock=lambda: clock["now"]) as store:
        for _ in range(4):
            store.run("issue_ticket", {"service": "tu-phap"})
        clock["now"] = local(2026, 11, 23, 23, 58)
        called = store.run("call_ticket", {"counter": "2", "number": "A004"})
        assert called.ok, called.response
        assert called.response["result"]["ticket"]["id"] == "20261124-tu-phap-4"


def test_an_unreadable_reference_falls_back_to_the_newest_event(tmp_path):
    wall = {"now": local(2026, 11, 23, 9, 0)}
    with Store(tmp_path / "q.sqlite3", make_site(), clock=lambda: wall["now"]) as store:
        store.run("issue_ticket", {"service": "tu-phap"})
        store.set_meta("clock_ref", "{not json")
        ref = store.clock_ref()
        assert ref is not None and ref.wall == local(2026, 11, 23, 9, 0) and not ref.exact
