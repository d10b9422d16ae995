"""``qms counter-pad`` and ``qms rating`` as real processes on a real broker and hub."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mqtt_bus.contract import Role
from tests.integration.hub_helpers import SITE, wait_for
from tests.ui import test_counter_pad as shared
from tests.ui.test_counter_pad import stored

kiosk = shared.kiosk  # fixture (ctx and hub come from the conftest)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def launch(ctx, broker):
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        env = {**os.environ, "QMS_HEADLESS": "1", "QMS_CONFIG": str(ctx.config_path),
               "QMS_DATA_DIR": str(ctx.data_dir), "QMS_BROKER": broker.url}
        p = subprocess.Popen([sys.executable, "-m", "qms.cli", *args], cwd=ROOT, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(10)


def lines_of(proc: subprocess.Popen) -> queue.Queue:
    q: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [q.put(line.rstrip("\n")) for line in proc.stdout], daemon=True).start()
    return q


def wait_line(q: queue.Queue, text: str, timeout: float = 10) -> list[str]:
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            seen.append(q.get(timeout=0.1))
        except queue.Empty:
            continue
        if text in seen[-1]:
            return seen
    raise AssertionError(f"{text!r} not printed; got {seen}")


def test_keypad_only_counter_reads_keys_from_stdin(launch, hub, kiosk):
    for _ in range(3):
        assert kiosk.request("issue_ticket", {"service": "tu-phap"})["ok"]
    pad = launch("counter-pad", "--counter", "2", "--no-screen", "--beep", "off", "--officer", "Lê Thị Thu Hà")
    out = lines_of(pad)
    wait_line(out, "✓ Quầy số 2")
    pad.stdin.write("+")
    pad.stdin.flush()
    wait_line(out, "Đã gọi số A001")
    assert stored(hub, "A001").status == "called" and stored(hub, "A001").officer == "Lê Thị Thu Hà"
    # a USB barcode scanner types into the same console: its burst (with "-", Vắng mặt on the keypad, and
    # digits + Enter, a call by number) is one dossier code, never keypad commands
    pad.stdin.write("000.00.25.H37-251201-0007\n")
    pad.stdin.flush()
    wait_line(out, "Đã gắn mã hồ sơ 000.00.25.H37-251201-0007 cho số A001")
    assert stored(hub, "A001").status == "called" and stored(hub, "A001").dossier == "000.00.25.H37-251201-0007"
    assert stored(hub, "A002").status == "waiting"
    time.sleep(0.3)  # a person's next key comes later than a scanner's
    pad.stdin.write("3\n")
    pad.stdin.close()  # end of input: the pad waits for the answer, then exits
    wait_line(out, "Đã gọi số A003")
    assert pad.wait(10) == 0, pad.stderr.read()
    assert stored(hub, "A003").status == "called" and stored(hub, "A001").status == "done"


def test_pad_and_rating_windows_start_and_connect(launch, hub, make_client, broker):
    monitor = make_client(broker.url, "monitor-1", Role.MONITOR, site=SITE)
    online: dict[str, bool] = {}
    monitor.subscribe(monitor.topics.status_all, lambda t, p: online.__setitem__(t.rsplit("/", 1)[1], p["online"]))
    pad = launch("counter-pad", "--counter", "2", "--officer", "Phạm Minh Tuấn")
    tablet = launch("rating", "--counter", "2", "--lang", "en")
    officer = lambda: next(c["officer"] for c in hub.store.snapshot()["counters"] if c["counter"] == "2")  # noqa: E731
    assert wait_for(lambda: officer() == "Phạm Minh Tuấn", 15), pad.stderr.read() if pad.poll() is not None else ""
    assert wait_for(lambda: online.get("rating-2") is True and online.get("counter-2") is True, 10)
    assert pad.poll() is None and tablet.poll() is None


def test_unknown_counter_is_a_one_line_error(launch):
    p = launch("counter-pad", "--counter", "9", "--no-screen")
    assert p.wait(20) == 2
    assert "no counter '9' in the config; counters: 1, 2, 3, 4, 5, 6" in p.stderr.read()
