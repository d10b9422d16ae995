"""Mosquitto SIGKILLed mid-burst (with the shipped persistence settings): the hall display fetches the
events it missed (``events_since``) and announces every call at most once, in ``seq`` order (the smart
queue leaves out only a call its counter replaced before its turn).

Real parts: mosquitto, a ``qms hub`` process, ``qms counter 6 next`` CLI processes on the same store
while the broker is down, counter pads and a kiosk over MQTT, and the display's real glue (view-model,
MQTT feed, announcer writing WAV files) headless in this process.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ui_kit.boot import prepare

os.environ.setdefault("QMS_HEADLESS", "1")
prepare(size=(640, 360))

from kivy.clock import Clock  # noqa: E402  (after prepare)

from devices.voice import FileSinkBackend  # noqa: E402
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker  # noqa: E402
from mqtt_bus.client import BusClient  # noqa: E402
from mqtt_bus.contract import EventType, Role  # noqa: E402
from qms.context import AppContext  # noqa: E402
from queue_display.app import Display  # noqa: E402
from queue_display.settings import DisplaySettings  # noqa: E402
from queue_display.voice import Voice  # noqa: E402
from tests.install.site_broker import DEBIAN_DEFAULT, DROP_IN  # noqa: E402
from tests.reliability.helpers import ROOT, StoreProbe  # noqa: E402
from tests.reliability.hub_forkserver import HubForkServer  # noqa: E402
from tests.voice_fakes import make_tone_pack  # noqa: E402

PADS = ("1", "2", "3", "4", "5")  # counter 6 is worked from the CLI while the broker is down
ROUNDS = 6
KILL_IN_ROUNDS = (2, 4)
TICKETS = {"tu-phap": 20, "dat-dai": 10, "xa-hoi": 8, "kinh-te": 4}
WAV_NAME = re.compile(r"^\d{4}-(\d+)_([A-Z]\d+)_counter(\w+)\.wav$")


def shipped_persistence() -> list[str]:
    """The persistence lines of the installed broker (Debian's default + config/mosquitto/qms.conf)
    that the embedded broker lacks."""
    text = DROP_IN.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.startswith("autosave")]
    assert lines and "persistence true" in DEBIAN_DEFAULT, "the installed broker keeps persistence on with autosave"
    return lines


def pump_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the Kivy clock (this thread is the display's UI thread) until ``check()``; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        Clock.tick()
        time.sleep(0.005)


class Link:
    """The display's network cable: a TCP relay to the broker that can be unplugged and plugged back."""

    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.plugged = threading.Event()
        self.plugged.set()
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return  # closed
            try:
                if not self.plugged.is_set():
                    raise OSError("unplugged")
                up = socket.create_connection(("127.0.0.1", self.broker_port), timeout=1)
            except OSError:
                conn.close()
                continue
            with self._lock:
                self._socks += [conn, up]
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def unplug(self) -> None:
        """Drop the live connection and refuse new ones."""
        self.plugged.clear()
        with self._lock:
            socks, self._socks = self._socks, []
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def plug(self) -> None:
        """Let the display connect again."""
        self.plugged.set()

    def close(self) -> None:
        self.unplug()
        self.server.close()


@pytest.fixture
def persistent_broker(tmp_path) -> Iterator[EmbeddedBroker]:
    """mosquitto with the shipped persistence settings, in a temp dir, on a free port."""
    try:
        b = EmbeddedBroker(tmp_path / "mosquitto", extra_config=shipped_persistence()).start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    yield b
    b.stop()


def cli_call(config: Path, data_dir: Path, counter: str) -> dict[str, Any]:
    """``qms counter COUNTER next`` as a real process on the hub's store."""
    proc = subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(config), "--data-dir", str(data_dir),
                           "counter", counter, "next"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_sigkilled_broker_mid_burst_every_call_announced_once_in_order(tmp_path, persistent_broker, roomy_site):
    broker = persistent_broker
    ctx = AppContext(config_path=roomy_site, data_dir=tmp_path / "data")
    site = ctx.site.site
    settings = DisplaySettings.from_config(ctx.config)
    sink = FileSinkBackend(tmp_path / "spoken")
    voice = Voice(settings, sink, lambda: make_tone_pack(tmp_path / "pack"))
    link = Link(broker.port)
    display = Display(settings, BusClient(f"mqtt://127.0.0.1:{link.port}", site, "display-1", Role.DISPLAY), "vi",
                      voice=voice)
    vm = display.vm
    kiosk = BusClient(broker.url, site, "kiosk-1", Role.KIOSK)
    pads = {c: BusClient(broker.url, site, f"counter-{c}", Role.COUNTER) for c in PADS}
    fetches: list[dict[str, Any] | Exception] = []  # the hub's answers to the display's events_since
    vm.events_fetched = lambda answer, apply=vm.events_fetched: (fetches.append(answer), apply(answer))
    hubs = HubForkServer(roomy_site, ctx.data_dir, broker.url, tmp_path / "hub.log")
    probe: StoreProbe | None = None
    clients = [kiosk, *pads.values()]
    try:
        hubs.start()
        display.start()
        for c in clients:
            c.start()
        assert all(c.wait_connected(5) for c in clients)
        for service, count in TICKETS.items():
            for _ in range(count):
                assert kiosk.request("issue_ticket", {"service": service}, timeout=10)["ok"]
        probe = StoreProbe(ctx.store_path)

        def caught_up() -> bool:
            board = vm.board
            return (vm.connected and board.event_seq >= probe.seq_gaps()[2] and not board.held
                    and board.fetching is None)

        def published_seq() -> int:
            row = probe.conn.execute("SELECT value FROM meta WHERE key = 'published_seq'").fetchone()
            return int(row[0]) if row else 0

        pump_until(caught_up, 10, "the display to see the issued tickets")
        cli_calls: list[dict[str, Any]] = []
        for round_no in range(ROUNDS):
            answers: dict[str, dict[str, Any] | BaseException] = {}

            def call(counter: str, answers: dict[str, Any] = answers) -> None:
                try:
                    answers[counter] = pads[counter].request("call_next", {"counter": counter}, timeout=4, retries=4)
                except BaseException as exc:  # reported by the main thread
                    answers[counter] = exc

            threads = [threading.Thread(target=call, args=(c,), daemon=True) for c in PADS]
            for t in threads:
                t.start()
            late_display = round_no == KILL_IN_ROUNDS[-1]
            if round_no in KILL_IN_ROUNDS:  # a power cut of the broker while the pads' calls are under way
                time.sleep(0.005 * round_no)
                broker.kill()
                if late_display:  # this time the display's link comes back only after the hub published all
                    link.unplug()
                cli_calls.append(cli_call(roomy_site, ctx.data_dir, "6"))  # committed while nobody can hear
                broker.start()
            pump_until(lambda ts=threads: not any(t.is_alive() for t in ts), 60, "every pad's call to be answered")
            for counter, answer in answers.items():
                assert isinstance(answer, dict) and answer["ok"] and answer["result"]["ticket"], (counter, answer)
            if late_display:
                pump_until(lambda: published_seq() >= probe.seq_gaps()[2], 20, "the hub to publish every event")
                before = vm.fetched_count
                link.plug()
            pump_until(caught_up, 20, f"the display to hold every event up to the store's newest after round {round_no}")
            if late_display:  # the CLI call (and the pads' calls not heard before the cut) were sent while it was away
                assert vm.fetched_count - before >= 1, "the CLI call at least was fetched, not heard"

        assert all(c["status"] == "called" and c["counter"] == "6" for c in cli_calls)
        events = [json.loads(text) for _, text in sorted(probe.payloads_between(0, 10**9).items())]
        called = [(e["seq"], e["ticket"]["number"], e["counter"]) for e in events if e["type"] == EventType.TICKET_CALLED]
        assert len(called) == len(PADS) * ROUNDS + len(KILL_IN_ROUNDS)
        last_calls = {c[2]: c for c in called}.values()  # each counter's newest call: never superseded

        def spoken_now() -> list[tuple[int, str, str]]:
            found = [(int(m[1]), m[2], m[3]) for p in list(sink.written) if (m := WAV_NAME.match(p.name))]
            return [k for k, _g in itertools.groupby(found)]  # a repetition of the same call is one call

        pump_until(lambda: voice.wait_ready(0) and voice.wait_idle(0) and set(last_calls) <= set(spoken_now()), 60,
                   "the announcer to speak every current call")
        spoken = spoken_now()
        assert spoken == [c for c in called if c in spoken] and len(set(spoken)) == len(spoken), \
            "every call announced at most once, in seq order"
        # the smart queue (issue 20) leaves out only a call its counter had already replaced
        assert all(any(o[2] == c[2] and o[0] > c[0] for o in called) for c in called if c not in spoken), \
            (spoken, called)
        assert len(fetches) >= len(KILL_IN_ROUNDS), "after each broker crash the display asked events_since"
        assert all(isinstance(a, dict) and a["ok"] for a in fetches), fetches
        print(f"events_since answered {len(fetches)} time(s); {vm.fetched_count} missed event(s) recovered; "
              f"{len(spoken)} of {len(called)} calls spoken in order (the rest replaced before their turn)")

        snapshot = {c["counter"]: (c["status"], (c["ticket"] or {}).get("number") or "")
                    for c in json.loads(cli_status(roomy_site, ctx.data_dir))["counters"]}
        pump_until(lambda: {r["id"]: (r["status"], r["number"]) for r in vm.counters} == snapshot, 10,
                   "the board to show the store's counters")
        assert vm.hero_number == called[-1][1]
    finally:
        if probe is not None:
            probe.close()
        hubs.close()
        display.close()
        link.close()
        for c in clients:
            c.close(timeout=1.0)


def cli_status(config: Path, data_dir: Path) -> str:
    """``qms status`` as a real process."""
    proc = subprocess.run([sys.executable, "-m", "qms.cli", "--config", str(config), "--data-dir", str(data_dir),
                           "status"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
