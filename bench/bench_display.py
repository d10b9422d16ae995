"""Hall display figures, headless:

    python bench/bench_display.py [--events 20000] [--calls 100]

1. reducer: microseconds per MQTT message through ``queue_display.board`` (pure Python);
2. board update: one call event through the view-model and the Kivy screen, one frame drawn;
3. latency: ``call_next`` from a counter client -> the number on the board, through a real mosquitto
   and hub (median, p99; goal p99 <= 300 ms), and the process RSS afterwards. The center is open at
   any hour and the hub's per-device limits are off (:data:`UNLIMITED`): the tickets are issued in a burst.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["QMS_HEADLESS"] = "1"

from figures import figure  # noqa: E402  (bench/figures.py; this script's folder is on sys.path)

from mqtt_bus.contract import EventType, Role  # noqa: E402
from testkit.sites import UNLIMITED, roomy_config  # noqa: E402
from testkit.stats import percentile  # noqa: E402
from ui_kit.boot import prepare  # noqa: E402

prepare(size=(1920, 1080))


def call_event(seq: int, counter: str) -> dict:
    return {"seq": seq, "ts": f"2026-11-23T09:{seq // 60 % 60:02d}:{seq % 60:02d}.000+07:00", "type": EventType.TICKET_CALLED,
            "counter": counter, "ticket": {"id": f"t{seq}", "number": f"A{seq % 1000:03d}", "service": "tu-phap",
                                           "call_count": 1, "status": "called"}}


def bench_reducer(n: int) -> None:
    from queue_display.board import BoardState, apply_event, apply_state, fresh_call

    board = BoardState(history=6)
    t0 = time.perf_counter()
    for seq in range(1, n + 1):
        counter = str(seq % 6 + 1)
        event = call_event(seq, counter)
        fresh_call(board, event)
        board = apply_event(board, event)
        board = apply_state(board, "counter", {"counter": counter, "name": f"Quầy số {counter}", "status": "open",
                                               "ticket": event["ticket"], "seq": seq})
    per = (time.perf_counter() - t0) / (2 * n) * 1e6
    print(f"reducer: {per:.1f} µs per message ({2 * n} messages: an event and its counter state each)")


def bench_screen(n: int) -> None:
    from kivy.base import EventLoop

    from qms.config import load_config
    from queue_display.screen import BoardScreen
    from queue_display.settings import DisplaySettings
    from queue_display.viewmodel import BoardViewModel
    from ui_kit.fonts import register_fonts

    register_fonts()
    EventLoop.ensure_window()
    settings = DisplaySettings.from_config(load_config(ROOT / "config" / "commune.yaml"))
    vm = BoardViewModel(settings, "vi", flash_seconds=0.1)
    screen = BoardScreen(vm)
    EventLoop.window.add_widget(screen)
    EventLoop.idle()
    times = []
    for seq in range(1, n + 1):
        t0 = time.perf_counter()
        vm.apply_event(call_event(seq, str(seq % 6 + 1)))
        EventLoop.idle()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"board update (view-model + screen + one frame, offscreen): median {statistics.median(times):.1f} ms, "
          f"p99 {percentile(times, 99):.1f} ms over {n} calls")
    EventLoop.window.remove_widget(screen)
    screen.close()
    vm.stop()


def bench_latency(calls: int) -> None:
    from kivy.base import EventLoop

    from mqtt_bus.broker import EmbeddedBroker
    from mqtt_bus.client import BusClient
    from qms.context import AppContext
    from qms.hub_service import start_hub
    from queue_display.app import Display
    from queue_display.settings import DisplaySettings

    with tempfile.TemporaryDirectory(prefix="qms-bench-display-") as tmp:
        print("latency set-up: config/commune.yaml with 4-digit numbers, opening hours not enforced and the hub's"
              f" per-device limits off ({', '.join(f'{k}={v}' for k, v in UNLIMITED.items())}): {calls} tickets are"
              " issued in a burst first")
        ctx = AppContext(config_path=roomy_config(Path(tmp)), data_dir=Path(tmp) / "data")
        broker = EmbeddedBroker(Path(tmp) / "mosquitto").start()
        hub = start_hub(ctx, broker.url, poll_interval=0.05)
        display = Display(DisplaySettings.from_config(ctx.config),
                          BusClient(broker.url, ctx.site.site, "display-1", Role.DISPLAY), "vi")
        EventLoop.window.add_widget(display.build_screen())
        display.start()
        pad = BusClient(broker.url, ctx.site.site, "counter-2", Role.COUNTER).start()
        try:
            assert pad.wait_connected(5) and hub.bus.wait_connected(5)
            for _ in range(calls):
                answer = pad.request("issue_ticket", {"service": "tu-phap"})
                assert answer["ok"], answer
            times = []
            for _ in range(calls):
                t0 = time.perf_counter()
                number = pad.request("call_next", {"counter": "2"})["result"]["ticket"]["number"]
                while display.vm.hero_number != number:
                    EventLoop.idle()
                    if time.perf_counter() - t0 > 5:
                        raise RuntimeError(f"{number} never reached the board")
                times.append((time.perf_counter() - t0) * 1000)
            print(f"call_next -> number on the board (real mosquitto + hub): median {statistics.median(times):.0f} ms,"
                  f" p99 {percentile(times, 99):.0f} ms over {calls} calls (goal p99 <= 300 ms)")
            p99 = percentile(times, 99)
            figure("display", "hall display: `call_next` → number on the board, median / p99 (software rendering)",
                   f"{statistics.median(times):.0f} ms / {p99:.0f} ms", "p99 ≤ 300 ms", p99 <= 300)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS of this process (board, hub and bench together): {rss:.0f} MB")
        finally:
            pad.close()
            display.close()
            hub.stop()
            hub.store.close()
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--calls", type=int, default=100)
    ns = parser.parse_args()
    bench_reducer(ns.events)
    bench_screen(min(ns.calls * 2, 300))
    bench_latency(ns.calls)


if __name__ == "__main__":
    main()
