"""A store that is never silently replaced: empty, cut short, smashed, foreign; the hub's fault; safe restore.

Real ``qms`` processes on real files, and a real ``qms hub`` on a real mosquitto.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from mqtt_bus.contract import HUB_CLIENT_ID, ErrorCode, FaultCode, Role
from qms.backup import backup_store
from qms.hub_service import start_hub
from tests.integration.hub_helpers import SITE

ROOT = Path(__file__).resolve().parents[2]
VERBS = (("ticket", "issue", "tu-phap"), ("counter", "2", "next"), ("status",), ("report",))


def qms(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qms.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


@pytest.fixture
def env(tmp_path, always_open_config) -> dict[str, str]:
    return {"QMS_CONFIG": str(always_open_config), "QMS_DATA_DIR": str(tmp_path / "data")}


def issue(env: dict[str, str], n: int = 1) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        done = qms(env, "ticket", "issue", "tu-phap")
        assert done.returncode == 0, done.stderr
        out.append(json.loads(done.stdout))
    return out


def store_of(env: dict[str, str]) -> Path:
    return Path(env["QMS_DATA_DIR"]) / "queue.sqlite3"


def checkpoint(store: Path) -> None:
    """Fold the WAL into the file, as after a clean stop, so the file alone is the whole store."""
    with closing(sqlite3.connect(store)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.with_name(store.name + "-wal").unlink(missing_ok=True)
    store.with_name(store.name + "-shm").unlink(missing_ok=True)


def empty(store: Path) -> None:
    store.write_bytes(b"")


def cut_short(store: Path) -> None:
    data = store.read_bytes()
    store.write_bytes(data[: len(data) // 3])


def smash_header(store: Path) -> None:
    data = bytearray(store.read_bytes())
    data[:100] = b"\xff" * 100
    store.write_bytes(bytes(data))


def smash_schema_page(store: Path) -> None:
    data = bytearray(store.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[100:page_size] = b"\xab" * (page_size - 100)  # page 1 after the header: the schema's b-tree
    store.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [empty, cut_short, smash_header, smash_schema_page])
def test_every_verb_refuses_a_damaged_store_in_one_line_and_leaves_it_as_it_is(env, damage):
    issue(env, 3)
    assert qms(env, "backup", "--auto").returncode == 0
    issue(env, 1)  # A004: handed out after the backup, then lost with the store
    seq_lost = json.loads(qms(env, "status").stdout)["services"][0]["seq"]
    store = store_of(env)
    checkpoint(store)
    damage(store)
    before = store.read_bytes()
    newest = sorted((store.parent / "backups").glob("queue-*.sqlite3"))[-1]
    for verb in VERBS:
        done = qms(env, *verb)
        assert done.returncode == 7, (verb, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert f"qms restore {newest}" in done.stderr, done.stderr
        assert ("[store_missing]" if damage is empty else "[store_corrupt]") in done.stderr
        assert store.read_bytes() == before, verb
    doctor = qms(env, "doctor", "--json", "--skip", "broker,hub,printer,audio")
    check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "store")
    assert check["status"] == "fail" and f"qms restore {newest}" in check["fix"], check
    assert store.read_bytes() == before
    restored = qms(env, "restore", str(newest))
    assert restored.returncode == 0, restored.stderr
    assert issue(env)[0]["number"] == "A004"  # lost with the store: the backup cannot know it
    with closing(sqlite3.connect(store)) as conn:  # the lost store's seq is unknown: seq jumps past it
        assert conn.execute("SELECT MAX(seq) FROM outbox").fetchone()[0] > seq_lost
    kept = list(store.parent.glob("queue.sqlite3.bak-*"))
    assert [p.read_bytes() for p in kept if not p.name.endswith(("-wal", "-shm"))] == [before]


def test_a_missing_store_is_refused_once_the_board_had_one(env):
    issue(env)
    for path in store_of(env).parent.glob("queue.sqlite3*"):
        path.unlink()
    done = qms(env, "ticket", "issue", "tu-phap")
    assert done.returncode == 7 and "is missing but this board had one" in done.stderr, done.stderr
    assert not store_of(env).exists()
    assert qms(env, "backup", "--auto").returncode == 1  # nothing to back up
    (store_of(env).parent / "store.id").unlink()  # the marker gone too: a fresh board starts a new store ...
    assert qms(env, "status").returncode == 0
    assert qms(env, "backup", "--auto").returncode == 0
    (store_of(env).parent / "store.id").unlink()
    for path in store_of(env).parent.glob("queue.sqlite3*"):
        path.unlink()
    done = qms(env, "status")  # ... but not where automatic backups show there was one
    assert done.returncode == 7 and "holds automatic backups" in done.stderr and "qms restore" in done.stderr


def test_a_store_of_another_site_is_refused(env, tmp_path, always_open_config):
    issue(env)
    other = tmp_path / "other.yaml"
    other.write_text(always_open_config.read_text(encoding="utf-8").replace(f"id: {SITE}", "id: xa-khac", 1),
                     encoding="utf-8")
    done = qms({**env, "QMS_CONFIG": str(other)}, "status")
    assert done.returncode == 7 and "[store_foreign]" in done.stderr and "'xa-da-huoai'" in done.stderr


def test_a_store_from_a_newer_qms_is_refused_in_one_line(env):
    issue(env)
    with closing(sqlite3.connect(store_of(env))) as conn:
        conn.execute("PRAGMA user_version = 99")
    done = qms(env, "status")
    assert done.returncode == 7 and "[store_newer]" in done.stderr and "upgrade qms" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_auto_backups_keep_the_newest(env, tmp_path):
    issue(env)
    made = []
    for _ in range(5):
        done = qms(env, "backup", "--auto", "--keep", "3")
        assert done.returncode == 0, done.stderr
        made.append(done.stdout.split()[2].rstrip(":"))
    kept = sorted(str(p) for p in (store_of(env).parent / "backups").glob("queue-*.sqlite3"))
    assert kept == sorted(made)[-3:] == made[-3:]
    assert qms({**env, "QMS_BACKUP_KEEP": "zero"}, "backup", "--auto").stderr.count("\n") == 1


def test_restore_refuses_a_same_day_older_backup_and_keeps_seq_growing(env, tmp_path):
    issue(env, 2)
    backup = tmp_path / "early.sqlite3"
    assert qms(env, "backup", str(backup)).returncode == 0
    issue(env, 3)  # A003..A005 handed out after the backup
    seq_before = json.loads(qms(env, "status").stdout)["services"][0]["seq"]
    refused = qms(env, "restore", str(backup))
    assert refused.returncode == 1 and "A005 (tu-phap)" in refused.stderr and "A002 (tu-phap)" in refused.stderr
    assert "--force" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    (store_of(env).parent / "hub.lock").write_text("999999\n")  # a power cut's leftover: no such process
    done = qms(env, "restore", "--force", str(backup))
    assert done.returncode == 0, done.stderr
    assert "hub.lock is stale" in done.stdout and not (store_of(env).parent / "hub.lock").exists()
    status = json.loads(qms(env, "status").stdout)
    assert all(s["seq"] >= seq_before for s in status["services"])
    called = json.loads(qms(env, "counter", "1", "next").stdout)
    with closing(sqlite3.connect(store_of(env))) as conn:
        newest = conn.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
    assert called["number"] == "A001" and newest > seq_before
    marker = json.loads((store_of(env).parent / "store.id").read_text())
    with closing(sqlite3.connect(store_of(env))) as conn:
        assert dict(conn.execute("SELECT key, value FROM meta WHERE key = 'store_uuid'"))["store_uuid"] == \
            marker["store_uuid"]


def hub_process(env: dict[str, str], url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qms.cli", "--broker", url, "hub"], cwd=ROOT,
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class HubStatus:
    """The retained ``status/hub`` as a kiosk sees it."""

    def __init__(self, client: Any) -> None:
        self.latest: dict[str, Any] = {}
        self.changed = threading.Condition()
        client.subscribe(client.topics.status(HUB_CLIENT_ID), self._got)

    def _got(self, _topic: str, payload: dict[str, Any]) -> None:
        with self.changed:
            self.latest = payload
            self.changed.notify_all()

    def wait(self, check: Any, timeout: float = 15.0) -> dict[str, Any]:
        with self.changed:
            assert self.changed.wait_for(lambda: check(self.latest), timeout), self.latest
            return self.latest


def test_hub_with_a_damaged_store_stays_up_says_so_and_recovers_after_restore(env, tmp_path, broker, make_client):
    issue(env, 2)
    backup = tmp_path / "good.sqlite3"
    assert qms(env, "backup", str(backup)).returncode == 0
    store = store_of(env)
    checkpoint(store)
    smash_header(store)
    before = store.read_bytes()
    hub = hub_process(env, broker.url)
    try:
        kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
        status = HubStatus(kiosk)
        faulty = status.wait(lambda s: s.get("online") and "fault" in s)
        assert faulty["fault"]["code"] == FaultCode.STORE_CORRUPT and "qms restore" in faulty["fault"]["message"]
        answer = kiosk.request("issue_ticket", {"service": "tu-phap"}, timeout=2, retries=3)
        assert answer["ok"] is False and answer["error"]["code"] == ErrorCode.STORE_FAULT, answer
        assert hub.poll() is None and store.read_bytes() == before
        done = qms(env, "restore", str(backup))  # the hub holds no damaged file open: restore may go ahead
        assert done.returncode == 0 and "waiting for a usable store" in done.stdout, done.stderr + done.stdout
        status.wait(lambda s: s.get("online") and "fault" not in s)
        answer = kiosk.request("issue_ticket", {"service": "tu-phap"}, timeout=2, retries=3)
        assert answer["ok"] and answer["result"]["ticket"]["number"] == "A003", answer
        refused = qms(env, "restore", "--force", str(backup))
        assert refused.returncode == 1 and f"a hub (process {hub.pid}) is running" in refused.stderr
    finally:
        hub.terminate()
        _, err = hub.communicate(timeout=15)
    assert "Traceback" not in err.decode(), err.decode()[-2000:]


def test_a_store_damaged_under_the_running_hub_becomes_its_fault_and_a_restore_ends_it(ctx, broker, make_client,
                                                                                       tmp_path):
    hub = start_hub(ctx, broker.url, poll_interval=0.05)
    try:
        kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE)
        status = HubStatus(kiosk)
        for _ in range(8):  # under security.issue_per_minute (10)
            assert kiosk.request("issue_ticket", {"service": "tu-phap"}, timeout=2)["ok"]
        saved = backup_store(ctx.store_path, tmp_path / "good.sqlite3")
        checkpoint(ctx.store_path)
        data = bytearray(ctx.store_path.read_bytes())
        page_size = int.from_bytes(data[16:18], "big")
        data[page_size:] = b"\xab" * (len(data) - page_size)  # every page but the first
        ctx.store_path.write_bytes(bytes(data))
        answer = kiosk.request("issue_ticket", {"service": "tu-phap"}, timeout=2)
        assert answer["ok"] is False and answer["error"]["code"] == ErrorCode.STORE_FAULT, answer
        assert status.wait(lambda s: "fault" in s)["fault"]["code"] == FaultCode.STORE_CORRUPT
        assert hub.store is None  # closed: nothing holds the damaged file open
        env = {"QMS_CONFIG": str(ctx.config_path), "QMS_DATA_DIR": str(ctx.data_dir)}
        done = qms(env, "restore", str(saved.path))
        assert done.returncode == 0, done.stderr
        status.wait(lambda s: s.get("online") and "fault" not in s)
        answer = kiosk.request("issue_ticket", {"service": "tu-phap"}, timeout=2)
        assert answer["ok"] and answer["result"]["ticket"]["number"] == "A009", answer
    finally:
        hub.stop()
        if hub.store is not None:
            hub.store.close()
