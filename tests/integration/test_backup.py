"""Backup while another process keeps writing; restore brings the data back; restore refuses a busy store."""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hub.store import Store
from qms import backup
from qms.backup import BackupError, StoreInUse, backup_store, hub_lock, in_use_reasons, inspect, restore_store
from tests.factories import make_site

ROOT = Path(__file__).resolve().parents[2]
SITE = make_site(end=99999)


def writer(db: Path) -> subprocess.Popen:
    """Another process issuing tickets on the store as fast as it can (prints each one)."""
    return subprocess.Popen([sys.executable, "-m", "tests.integration.store_worker", str(db), "1000000", "w"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def wait_lines(proc: subprocess.Popen, n: int) -> None:
    for _ in range(n):
        assert proc.stdout is not None and proc.stdout.readline(), "writer died"


def consistent(path: Path) -> int:
    """Assert a copy is one instant of the store: numbers 1..n, one event and one request per ticket."""
    with Store(path, SITE) as store:
        assert store.integrity_check() == "ok"
        numbers = sorted(int(t.number[1:]) for t in store.tickets())
        assert numbers == list(range(1, len(numbers) + 1))
        assert [e["seq"] for e in store.events_after(0, limit=10**6)] == list(range(1, len(numbers) + 1))
        requests = store._conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        assert requests == len(numbers)
    return len(numbers)


@pytest.fixture
def store_path(tmp_path) -> Path:
    path = tmp_path / "data" / "queue.sqlite3"
    Store(path, SITE).close()
    return path


def test_backups_taken_while_another_process_writes_are_consistent_and_restore_brings_one_back(
        store_path, tmp_path):
    proc = writer(store_path)
    try:
        wait_lines(proc, 30)
        copies = []
        for i in range(3):
            copies.append(backup_store(store_path, tmp_path / f"b{i}.sqlite3"))
            wait_lines(proc, 20)
    finally:
        proc.kill()
        proc.wait()
    counts = [consistent(c.path) for c in copies]
    assert counts == [c.tickets for c in copies] and counts == sorted(counts) and counts[0] >= 30
    assert counts[0] < counts[1] < counts[2]  # the writer kept writing between the backups
    for c in copies:  # one self-contained file each
        assert not Path(f"{c.path}-wal").exists() and not Path(f"{c.path}.part").exists()
    live = consistent(store_path)
    assert live > counts[2]

    with pytest.raises(StoreInUse, match=r"changed \d+ s ago"):  # the writer stopped a moment ago
        restore_store(copies[0].path, store_path, store_path.parent)
    info, previous = restore_store(copies[0].path, store_path, store_path.parent, force=True)
    assert info.tickets == counts[0] and consistent(store_path) == counts[0]
    assert previous is not None and previous.name.startswith("queue.sqlite3.bak-")
    assert consistent(previous) == live  # nothing is lost: the replaced store is kept
    with Store(store_path, SITE) as store:  # the queue goes on from the restored state
        ticket = store.run("issue_ticket", {"service": "tu-phap"}).response["result"]["ticket"]
        # seq goes on from the replaced store's (displays keep accepting state); the number from the backup's
        assert int(ticket["number"][1:]) == counts[0] + 1 and store.last_seq() == live + 1


def test_restore_into_a_store_opened_by_another_connection_is_seen_by_it(store_path, tmp_path):
    with Store(store_path, SITE) as store:
        for _ in range(3):
            store.run("issue_ticket", {"service": "tu-phap"})
        saved = backup_store(store_path, tmp_path)  # a folder: a dated file inside it
        assert saved.path.parent == tmp_path and saved.path.name.startswith("queue-") and saved.tickets == 3
        for _ in range(4):
            store.run("issue_ticket", {"service": "tu-phap"})
        restore_store(saved.path, store_path, store_path.parent, force=True)
        assert len(store.tickets()) == 3
        assert store.run("issue_ticket", {"service": "tu-phap"}).response["result"]["ticket"]["number"] == "A004"


def test_restore_refuses_while_another_process_holds_the_store_or_a_hub_lock_exists(store_path, tmp_path):
    saved = backup_store(store_path, tmp_path / "b.sqlite3")
    holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
                               "c.execute('SELECT 1 FROM tickets').fetchall(); print('open', flush=True); "
                               "time.sleep(30)", str(store_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        reasons = in_use_reasons(store_path, store_path.parent, recent_s=0)
        assert any(f"process {holder.pid}" in r for r in reasons), reasons
        with pytest.raises(StoreInUse, match="systemctl stop qms-hub"):
            restore_store(saved.path, store_path, store_path.parent, recent_s=0)
    finally:
        holder.kill()
        holder.wait()
    assert in_use_reasons(store_path, store_path.parent, recent_s=0) == []
    lock = store_path.parent / "hub.lock"
    for pid, why in ((holder.pid, "is gone"), (os.getpid(), "is not a qms hub")):  # a power cut's leftover
        lock.write_text(f"{pid}\n")
        assert in_use_reasons(store_path, store_path.parent, recent_s=0) == []
        state = hub_lock(store_path, store_path.parent)
        assert state.state == "stale" and why in state.note


def test_bad_inputs_say_what_is_wrong(store_path, tmp_path):
    with pytest.raises(BackupError, match="no store at"):
        backup_store(tmp_path / "nowhere" / "queue.sqlite3", tmp_path / "b.sqlite3")
    with pytest.raises(BackupError, match="USB stick"):
        backup_store(store_path, tmp_path / "missing-folder" / "b.sqlite3")
    with pytest.raises(BackupError, match="not be the store itself"):
        backup_store(store_path, store_path)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackupError, match="not a readable qms store"):
        restore_store(junk, store_path, store_path.parent, force=True)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE x (y)")
    with pytest.raises(BackupError, match="not a qms store"):
        inspect(other)
    before = store_path.read_bytes()
    with pytest.raises(BackupError):
        restore_store(tmp_path / "absent.sqlite3", store_path, store_path.parent, force=True)
    assert store_path.read_bytes() == before and not list(store_path.parent.glob("*.bak-*"))


def test_backup_and_restore_verbs(store_path, tmp_path, capsys):
    class Ctx:
        data_dir = store_path.parent
        site = SITE

    Ctx.store_path = store_path
    with Store(store_path, SITE) as store:
        store.run("issue_ticket", {"service": "tu-phap"})
    parser = argparse.ArgumentParser()
    backup.add_backup_arguments(parser)
    assert backup.run_backup(Ctx, parser.parse_args([str(tmp_path / "b.sqlite3")])) == 0
    assert "✓ backup" in capsys.readouterr().out
    parser = argparse.ArgumentParser()
    backup.add_restore_arguments(parser)
    assert backup.run_restore(Ctx, parser.parse_args([str(tmp_path / "b.sqlite3")])) == 1
    err = capsys.readouterr().err
    assert err.startswith("qms: the store looks in use") and "--force" in err
    assert backup.run_restore(Ctx, parser.parse_args([str(tmp_path / "b.sqlite3"), "--force"])) == 0
    out = capsys.readouterr().out
    assert "✓ restored" in out and "1 tickets" in out and ".bak-" in out
