"""The store shared by several processes, and killed in the middle of a burst."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from hub.store import Store
from tests.factories import make_site

ROOT = Path(__file__).resolve().parents[2]


def worker(db: Path, count: int, name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.integration.store_worker", str(db), str(count), name],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_issue_500_each_on_one_store(tmp_path):
    db = tmp_path / "queue.sqlite3"
    Store(db, make_site(end=99999)).close()
    procs = [worker(db, 500, "p1"), worker(db, 500, "p2")]
    outputs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    acknowledged = [line.split() for out, _ in outputs for line in out.splitlines()]
    assert len(acknowledged) == 1000
    numbers = sorted(int(n[1:]) for _, n in acknowledged)
    assert numbers == list(range(1, 1001)), "numbers must be distinct with no gaps"
    store = Store(db, make_site(end=99999))
    seqs = [e["seq"] for e in store.events_after(0, limit=5000)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) == 1000
    assert store.integrity_check() == "ok"


def test_sigkill_mid_burst_loses_no_acknowledged_ticket_and_repeats_no_number(tmp_path):
    db = tmp_path / "queue.sqlite3"
    Store(db, make_site(end=99999)).close()
    rng = random.Random(7)
    acknowledged: list[tuple[str, str]] = []
    for round_ in range(5):
        proc = worker(db, 100000, f"r{round_}")
        time.sleep(rng.uniform(0.3, 0.9))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        acknowledged += [tuple(line.split()) for line in out.splitlines() if len(line.split()) == 2]
    assert len(acknowledged) > 50
    store = Store(db, make_site(end=99999))
    stored = {t.id: t.number for t in store.tickets()}
    for ticket_id, number in acknowledged:
        assert stored.get(ticket_id) == number, f"acknowledged {ticket_id} lost"
    numbers = list(stored.values())
    assert len(numbers) == len(set(numbers)), "a number was given twice"
    assert sorted(int(n[1:]) for n in numbers) == list(range(1, len(numbers) + 1))
    seqs = [e["seq"] for e in store.events_after(0, limit=len(numbers) + 10)]
    assert seqs == sorted(set(seqs)) and len(seqs) == len(numbers)
    assert store.integrity_check() == "ok"
    # and the store keeps working after the crashes
    assert store.run("issue_ticket", {"service": "tu-phap"}).ok
    assert os.path.exists(db)
