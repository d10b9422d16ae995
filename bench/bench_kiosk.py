"""Kiosk figures against a real mosquitto and hub, headless:

    python bench/bench_kiosk.py [--tickets 200] [--starts 3]    (--tickets 0: the cold starts only)

1. cold start: `qms kiosk` launched as a process until its first screen is drawn (goal <= 3 s), and the
   RSS of that process at its first screen (goal <= 150 MB), with the part that is the software OpenGL
   renderer's code (llvmpipe: libLLVM + swrast_dri, ~62 MB here; the Pi's V3D driver does not run it);
2. memory: RSS after every 50 tickets issued by simulated taps (flat after 50). The bench's kiosk runs
   in a process of its own that imports no hub (but pytest, through Kivy's touch helper).
3. latency: finger lifted from the last choice -> first byte of the ticket at an ESC/POS printer
   on a pseudo-terminal (the real python-escpos Serial path; goal median <= 150 ms), split into
   tap -> hub answer and hub answer -> first byte.

Where the RSS goes (``BENCH_KIOSK_TRACE=1`` prints it at tickets 0-5, 10, 20, ...): the first ~20 tickets
add ~60 MB (4 MB of it the printer's fonts and layout, measured alone), then nothing. Python's own objects
stay flat (~94,000 objects, ~350,000 small blocks from ticket 1 on); the growth is native memory, ``[heap]``
+45 MB and anonymous maps +17 MB: the textures of each screen drawn for the first time (with software
OpenGL, llvmpipe keeps every texture in the process's memory) and the font rasterisers' caches. It stops
once every screen has been drawn: not a leak. On the Pi, V3D keeps textures in GPU buffers.

``--what-if-cache`` memoises the printer's text rendering in the kiosk process, to show what a cache
in devices/printer would give (the product does not patch it).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["QMS_HEADLESS"] = "1"

from figures import figure  # noqa: E402  (bench/figures.py; this script's folder is on sys.path)

from qms.context import AppContext  # noqa: E402  (the kiosk process imports no hub: its RSS is its own)

OK_REPLY = 0x12  # DLE EOT 1/2/3/4: online, no error, paper present


class PtyPrinter:
    """An ESC/POS printer on a pty: answers status queries, notes when a job's first byte arrives."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.first_byte_at: float | None = None
        self.bytes = 0
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def arm(self) -> None:
        """Wait for the next job."""
        self.first_byte_at = None

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            chunk = os.read(self.master, 65536)
            now = time.perf_counter()
            self.bytes += len(chunk)
            rest, i = bytearray(), 0
            while i < len(chunk):
                if chunk[i:i + 2] == b"\x10\x04" and i + 2 < len(chunk):
                    os.write(self.master, bytes([OK_REPLY]))
                    i += 3
                else:
                    rest.append(chunk[i])
                    i += 1
            if rest and self.first_byte_at is None:
                self.first_byte_at = now

    def close(self) -> None:
        self._stop.set()
        time.sleep(0.1)
        os.close(self.master)
        os.close(self.slave)


def config_file(folder: Path) -> Path:
    """The commune center, always open, no per-kiosk issue limit (the bench taps far faster than citizens)."""
    from testkit.sites import roomy_config

    return roomy_config(folder)


def cold_starts(config: Path, data: Path, broker_url: str,
                runs: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds from launching `qms kiosk` to its log line "first screen drawn", and the RSS (MB) of that
    process a second later, and how much of that is the software OpenGL renderer's code. The runs share a data dir: from the second on, the config is read from its
    cache (qms/config/cache.py), as on every start of a kiosk whose config did not change."""
    env = dict(os.environ, QMS_HEADLESS="1", PYTHONPATH=str(ROOT))
    times, rss, gl = [], [], []
    for n in range(runs):
        cmd = [sys.executable, "-m", "qms.cli", "--config", str(config), "--data-dir", str(data / "start"),
               "--broker", broker_url, "--printer", f"virtual://{data}/paper-start", "kiosk", "--windowed",
               "--no-voice", "--client-id", f"kiosk-start{n}"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        assert proc.stderr is not None
        elapsed = None
        for line in proc.stderr:
            if "first screen drawn" in line:
                elapsed = time.perf_counter() - t0
                break
        time.sleep(1.0)  # the first frames settle
        rss.append(rss_mb(proc.pid))
        gl.append(software_gl_mb(proc.pid))
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if elapsed is None:
            raise SystemExit(f"the kiosk did not start: {' '.join(cmd)}")
        times.append(elapsed)
    return times, rss, gl


NOISE_MB = 5.0  # RSS moves up to ±3 MB between checkpoints with nothing kept (Python objects counted: flat)
SOFTWARE_GL = ("libLLVM", "swrast_dri", "libgallium")  # llvmpipe's code: not run with the Pi's V3D driver


def software_gl_mb(pid: int | str) -> float:
    """Resident MB of the software OpenGL renderer's libraries in a process (``/proc/PID/smaps``)."""
    total, counting = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if "-" in line.split(" ", 1)[0]:  # a mapping's first line: "start-end perms offset dev inode path"
            counting = any(name in line for name in SOFTWARE_GL)
        elif counting and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total / 1024


def rss_split(pid: int | str = "self") -> dict[str, float]:
    """Resident MB by kind of mapping: ``heap`` (brk: small mallocs, Python objects), ``anon`` (mmap'd blocks:
    large mallocs, the GL driver's buffers), ``gl`` (the software renderer's code), ``files`` (other code)."""
    out = {"heap": 0.0, "anon": 0.0, "gl": 0.0, "files": 0.0}
    kind = "files"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if "-" in head[0] and len(head) >= 5:
            path = head[5] if len(head) > 5 else ""
            kind = ("heap" if path == "[heap]" else "anon" if not path or path.startswith("[")
                    else "gl" if any(name in path for name in SOFTWARE_GL) else "files")
        elif line.startswith("Rss:"):
            out[kind] += int(line.split()[1]) / 1024
    return out


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_tickets(ctx: AppContext, broker_url: str, printer: PtyPrinter, count: int) -> dict[str, list[float]]:
    """Issue ``count`` tickets with simulated taps; latencies (s) and RSS (MB) every 50."""
    from kiosk.lean import start_lean
    from ui_kit.boot import prepare

    start_lean(ctx.cache_dir, broker_url)  # as `qms kiosk` does (kiosk/main.py)
    prepare(size=(1080, 1920))
    from kivy.tests.common import UnitTestTouch

    from testkit.kivy_harness import find_by_id, pump, pump_until, show, window

    window()
    rss_window = rss_mb()  # Python + Kivy + SDL + offscreen GL, before any kiosk code
    from kiosk.app import build_kiosk
    from ui_kit.fonts import register_fonts

    register_fonts()
    kiosk = build_kiosk(ctx, broker_url, client_id="kiosk-bench", voice=False, tap_guard_s=0.02)
    root = show(kiosk.root(), (1080, 1920))
    vm = kiosk.vm
    if not pump_until(lambda: vm.connected and vm.hub_online and vm.printer_state == "ok", 10):
        raise SystemExit("kiosk not ready (broker, hub or printer)")
    pump(0.3)
    answered: list[float] = []
    vm.bind(ticket=lambda _vm, t: answered.append(time.perf_counter()) if t else None)
    routes = [("tu-phap", "khai-sinh"), ("chung-thuc", "chung-thuc-chu-ky"), ("dat-dai", "phep-xay-dung"),
              ("tra-ket-qua", None)]
    out: dict[str, list[float]] = {"total": [], "hub": [], "print": [], "rss": [], "rss_start": [rss_mb()],
                                     "rss_window": [rss_window]}

    def tap(qid: str) -> float:
        pump(0.03)
        w = find_by_id(root, qid)
        touch = UnitTestTouch(*w.to_window(*w.center))
        touch.touch_down()
        t0 = time.perf_counter()
        touch.touch_up()  # on_release: the choice is confirmed here
        return t0

    if os.environ.get("BENCH_KIOSK_TRACE"):
        split = ", ".join(f"{k} {v:.1f}" for k, v in rss_split().items())
        print(f"  trace    0: RSS {rss_mb():.1f} MB ({split})", flush=True)
    for n in range(1, count + 1):
        service, procedure = routes[n % len(routes)]
        tap("take")
        last = f"procedure-{procedure}" if procedure else f"service-{service}"
        if procedure:
            tap(f"service-{service}")
        pump(0.03)
        printer.arm()
        answered.clear()
        t0 = tap(last)  # the third tap confirms the choice (priority pictograms are on the welcome screen)
        if not pump_until(lambda: printer.first_byte_at is not None and vm.print_state == "printed", 10):
            raise SystemExit(f"ticket {n} not printed (screen {vm.screen}, print {vm.print_state})")
        first = printer.first_byte_at
        assert first is not None
        out["total"].append(first - t0)
        if answered:
            out["hub"].append(answered[0] - t0)
            out["print"].append(first - answered[0])
        tap("done")
        if os.environ.get("BENCH_KIOSK_TRACE") and (n in (1, 2, 3, 4, 5, 10, 20, 30, 40) or n % 50 == 0):
            pump(0.2)
            gc.collect()
            split = ", ".join(f"{k} {v:.1f}" for k, v in rss_split().items())
            print(f"  trace {n:4d}: RSS {rss_mb():.1f} MB ({split}), {len(sys.modules)} modules, "
                  f"{len(gc.get_objects()):,} objects, {sys.getallocatedblocks():,} Python blocks", flush=True)
        if n % 50 == 0:
            pump(0.2)
            gc.collect()
            out["rss"].append(rss_mb())
            print(f"  {n:4d} tickets: RSS {out['rss'][-1]:.1f} MB", flush=True)
    root.stop()
    kiosk.close()
    out["modules"] = sorted({m.split(".")[0] for m in sys.modules if sys.modules[m] is not None})
    return out


def what_if_render_cache() -> None:
    """--what-if-cache: memoise the printer's text measuring and line rendering (both pure), to show
    what such a cache in devices/printer would give. Not how the product runs."""
    import functools

    from devices.printer import lowering as render

    render.text_width = functools.lru_cache(maxsize=8192)(render.text_width)
    render._lower_text = functools.lru_cache(maxsize=1024)(render._lower_text)


def child(args: argparse.Namespace) -> None:
    """The kiosk process: taps through ``args.tickets`` tickets, prints its figures as JSON."""
    import json

    if args.what_if_cache:
        what_if_render_cache()

    printer = PtyPrinter()
    ctx = AppContext(config_path=Path(args.config), data_dir=Path(args.data),
                     printer_option=f"serial://{printer.path}?baudrate=115200")
    out = run_tickets(ctx, args.broker, printer, args.tickets)
    printer.close()
    print("RESULT " + json.dumps(out), flush=True)
    if os.environ.get("BENCH_KIOSK_TRACE"):
        print("modules: " + " ".join(out["modules"]), flush=True)


def in_child(config: Path, data: Path, broker_url: str, tickets: int, what_if: bool) -> dict[str, list[float]]:
    """Run ``child()`` in a fresh process (broker and hub stay here): RSS is the kiosk's own."""
    import json

    cmd = [sys.executable, __file__, "--child", "--tickets", str(tickets), "--config", str(config),
           "--data", str(data), "--broker", broker_url, *(["--what-if-cache"] if what_if else [])]
    log = data.parent / "kiosk-child.log"
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True,
                                env=dict(os.environ, QMS_HEADLESS="1"))
        assert proc.stdout is not None
        result = None
        try:
            for line in proc.stdout:
                if line.startswith("RESULT "):
                    result = json.loads(line[7:])
                else:
                    print(line, end="", flush=True)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    if result is None:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-30:])
        raise SystemExit(f"the kiosk process failed (exit {proc.returncode}):\n{tail}")
    return result


def ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--what-if-cache", action="store_true",
                        help="memoise the printer's text rendering in the kiosk process (what a cache in "
                             "devices/printer would give)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--broker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.child:
        child(args)
        return
    from mqtt_bus.broker import EmbeddedBroker
    from qms.hub_service import start_hub

    with tempfile.TemporaryDirectory(prefix="bench-kiosk-") as tmp:
        base = Path(tmp)
        broker = EmbeddedBroker(base / "mosquitto").start()
        config = config_file(base)
        hub = start_hub(AppContext(config_path=config, data_dir=base / "hub"), broker.url, poll_interval=0.05)
        try:
            hub.bus.wait_connected(5)
            starts, start_rss, start_gl = cold_starts(config, base, broker.url, args.starts)
            print(f"cold start to first screen: first {starts[0]:.2f} s, median {statistics.median(starts):.2f} s "
                  f"over {len(starts)} launches (goal <= 3 s)")
            if not args.tickets:  # --tickets 0: the cold starts only
                print(f"`qms kiosk` processes at their first screen: RSS {', '.join(f'{r:.1f}' for r in start_rss)} MB"
                      f" (first: config validated; then from the config cache); of which the software OpenGL "
                      f"renderer's code: {statistics.median(start_gl):.0f} MB")
                return
            print(f"issuing {args.tickets} tickets by simulated taps (portrait 1080x1920, pty ESC/POS printer):")
            out = in_child(config, base / "kiosk", broker.url, args.tickets, args.what_if_cache)
        finally:
            hub.stop()
            hub.store.close()
            broker.stop()
    rss = out["rss"]
    growth = rss[-1] - rss[0] if len(rss) > 1 else 0.0
    print(f"RSS at the first screen: {out['rss_start'][0]:.1f} MB; after {args.tickets} tickets: {rss[-1]:.1f} MB; "
          f"growth after the first 50: {growth:+.1f} MB (goal <= 150 MB, no growth)")
    print(f"  of which Python + Kivy + SDL + offscreen GL before any kiosk code: {out['rss_window'][0]:.1f} MB")
    print(f"`qms kiosk` processes at their first screen: RSS {', '.join(f'{r:.0f}' for r in start_rss)} MB "
          f"(first: config validated; then from the config cache); of which the software OpenGL renderer's code "
          f"(libLLVM, swrast_dri, not run on the Pi's V3D): {statistics.median(start_gl):.0f} MB")
    print(f"tap -> first byte at the printer: median {ms(out['total'], 0.5)} ms, p90 {ms(out['total'], 0.9)} ms, "
          f"max {ms(out['total'], 1.0)} ms (goal median <= 150 ms)")
    print(f"  of which tap -> hub answer: median {ms(out['hub'], 0.5)} ms; answer -> first byte: median "
          f"{ms(out['print'], 0.5)} ms (printer status query + rendering the ticket)")
    first_screen = statistics.median(start_rss[1:] or start_rss)
    figure("kiosk", "cold start of `qms kiosk` to its first screen, median", f"{statistics.median(starts):.1f} s",
           "≤ 3 s", statistics.median(starts) <= 3)
    figure("kiosk", "kiosk RSS at its first screen (`qms kiosk`, software OpenGL here)",
           f"{first_screen:.0f} MB ({statistics.median(start_gl):.0f} MB of it llvmpipe's code)", "≤ 150 MB",
           first_screen <= 150)
    figure("kiosk", f"kiosk RSS after 50 / {args.tickets} tickets (bench process: + pytest, taps)",
           f"{rss[0]:.0f} / {rss[-1]:.0f} MB ({growth:+.1f} MB)", f"no growth after 50 (RSS noise ±{NOISE_MB:g} MB)",
           growth <= NOISE_MB)
    figure("kiosk", "tap on the last choice → first byte at the printer, median / p90",
           f"{ms(out['total'], 0.5)} ms / {ms(out['total'], 0.9)} ms", "median ≤ 150 ms",
           float(ms(out["total"], 0.5)) <= 150)


if __name__ == "__main__":
    main()
