"""The kiosk against a REAL mosquitto and hub, driven by taps on an offscreen window.

Covers: three taps to a ticket that is in the store and on (virtual) paper; Back, Home and the idle
timeout; a double tap; hub gone, broker gone; paper out (virtual printer and a pty ESC/POS fake);
the technician's long press, PIN and test print.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.app import Kiosk, build_kiosk
from kiosk.ui import choose
from mqtt_bus.broker import BrokerUnavailable, EmbeddedBroker
from mqtt_bus.client import BusClient
from mqtt_bus.contract import Role
from qms.context import AppContext
from qms.hub_service import start_hub
from testkit.kivy_harness import find_by_id, pump, pump_until, show, tap, window
from tests.integration.test_printer_pty import FakePrinter
from ui_kit.fonts import register_fonts

ROOT = Path(__file__).resolve().parents[2]
SITE = "xa-da-huoai"
GUARD = 0.1  # the kiosk ignores taps this soon after a screen change (0.3 s in service; shorter here)
SETTLE = GUARD + 0.05


def _config(folder: Path, site: str = SITE) -> Path:
    text = (ROOT / "config" / "commune.yaml").read_text(encoding="utf-8")
    text = text.replace("enforce: true", "enforce: false", 1).replace(f"id: {SITE}", f"id: {site}", 1)
    path = folder / f"{site}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    """One mosquitto and one hub for the module (each test uses its own kiosk client id)."""
    register_fonts()
    base = tmp_path_factory.mktemp("kiosk-world")
    try:
        broker = EmbeddedBroker(base / "mosquitto").start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    config = _config(base)
    hub = start_hub(AppContext(config_path=config, data_dir=base / "hub"), broker.url, poll_interval=0.05)
    assert hub.bus.wait_connected(5)
    yield {"broker": broker, "hub": hub, "config": config, "base": base}
    hub.stop()
    hub.store.close()
    broker.stop()


_made: list[Kiosk] = []


@pytest.fixture
def make_kiosk(world, tmp_path, request):
    """``make_kiosk(**overrides)`` -> (kiosk, root shown in the window, virtual printer folder)."""
    def make(printer: str | None = None, broker_url: str | None = None, config: Path | None = None,
             size: tuple[int, int] = (1280, 800), **overrides):
        paper = tmp_path / "paper"
        overrides.setdefault("tap_guard_s", GUARD)
        ctx = AppContext(config_path=config or world["config"], data_dir=tmp_path / "data",
                         printer_option=printer or f"virtual://{paper}")
        kiosk = build_kiosk(ctx, broker_url or world["broker"].url, client_id=f"kiosk-t{len(_made)}",
                            voice=False, monitor_interval=0.2, **overrides)
        _made.append(kiosk)
        before = tuple(window().size)
        root = show(kiosk.root(), size)

        def finish() -> None:
            root.stop()
            kiosk.close()
            window().remove_widget(root)
            window().size = before
        request.addfinalizer(finish)
        return kiosk, root, paper
    return make


def ready(kiosk: Kiosk) -> bool:
    return pump_until(lambda: kiosk.vm.connected and kiosk.vm.hub_online is True
                      and kiosk.vm.printer_state != "unknown", 5)


def press(root, qid: str, settle: float = SETTLE) -> None:
    pump(settle)
    tap(find_by_id(root, qid))


def tickets(world, number: str | None = None) -> list:
    store = world["hub"].store
    return store.tickets("number = ?", (number,)) if number else store.tickets()


def test_three_taps_give_a_printed_ticket_in_the_store(world, make_kiosk):
    kiosk, root, paper = make_kiosk()
    assert ready(kiosk)
    before = len(tickets(world))
    press(root, "welcome-priority-elderly")  # tap 1: an elderly citizen touches their pictogram
    press(root, "service-tu-phap")  # tap 2
    press(root, "procedure-khai-sinh")  # tap 3
    assert pump_until(lambda: kiosk.vm.print_state == "printed", 5)
    number = kiosk.vm.ticket["number"]
    assert find_by_id(root, "number").text == number
    assert "Quầy số 2" in find_by_id(root, "counters").text.replace("\u00a0", " ")
    [stored] = tickets(world, number)
    assert (stored.service, stored.procedure, stored.priority, stored.lang) == ("tu-phap", "khai-sinh", "elderly",
                                                                               "vi")
    assert len(tickets(world)) == before + 1
    assert list(paper.glob(f"*-{number}.png")), "the virtual printer saved no ticket"
    press(root, "done")
    assert pump_until(lambda: kiosk.vm.screen == "welcome", 2)


def test_back_home_and_idle_timeout(world, make_kiosk):
    kiosk, root, _ = make_kiosk(idle_timeout_s=2.0)
    vm = kiosk.vm
    assert ready(kiosk)
    press(root, "lang-en")
    press(root, "take")
    press(root, "service-chung-thuc")
    assert vm.screen == "procedure"
    press(root, "back")
    assert pump_until(lambda: vm.screen == "field", 1)
    press(root, "service-chung-thuc")
    assert vm.screen == "procedure"
    press(root, "home")
    assert pump_until(lambda: vm.screen == "welcome", 1) and vm.lang == "en"
    press(root, "take")
    assert vm.screen == "field"
    assert pump_until(lambda: vm.screen == "welcome", 5)  # nobody touched anything for 2 s
    assert vm.lang == "vi"


def test_double_tap_issues_one_ticket(world, make_kiosk):
    kiosk, root, _ = make_kiosk(tap_guard_s=0.3)  # the service value
    assert ready(kiosk)
    press(root, "take", 0.35)
    press(root, "service-kinh-te", 0.35)
    before = len(tickets(world))
    pump(0.35)
    button = find_by_id(root, "procedure-dang-ky-ho-kinh-doanh")
    tap(button)
    tap(button)  # the same finger again, 50 ms later
    kiosk.vm.choose_procedure("dang-ky-ho-kinh-doanh")  # and a third time, straight at the view-model
    assert pump_until(lambda: kiosk.vm.print_state == "printed", 5)
    pump(0.3)
    assert len(tickets(world)) == before + 1


def test_no_hub_answers_shows_the_guidance_desk(world, make_kiosk, tmp_path):
    lonely = _config(tmp_path, "xa-khong-hub")  # a site no hub serves
    kiosk, root, _ = make_kiosk(config=lonely, request_timeout=0.4)
    assert pump_until(lambda: kiosk.vm.connected, 5)
    press(root, "take")
    press(root, "not_sure")
    assert pump_until(lambda: kiosk.vm.screen == "hub_down", 4)
    assert find_by_id(root, "guidance").text == "Xin mời Ông/Bà đến bàn hướng dẫn"
    assert any("bàn hướng dẫn" in s for s in kiosk.speaker.spoken)


def test_broker_gone_is_said_at_once(world, make_kiosk, tmp_path):
    try:
        own = EmbeddedBroker(tmp_path / "own-mosquitto").start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    kiosk, root, _ = make_kiosk(broker_url=own.url)
    try:
        assert pump_until(lambda: kiosk.vm.connected, 5)
        press(root, "take")  # the citizen started while the system was up
        own.stop()
        assert pump_until(lambda: not kiosk.vm.connected, 5)
        press(root, "service-tra-ket-qua")  # one procedure only: this tap asks for the ticket
        assert pump_until(lambda: kiosk.vm.screen == "hub_down", 1)
        assert kiosk.vm.error_code == "not_connected"
        press(root, "done")
        assert pump_until(lambda: kiosk.vm.screen == "welcome", 1)
        pump(0.1)
        take = find_by_id(root, "take")  # before any tap, the welcome screen says it is reconnecting
        assert take.disabled and take.label.text == "Hệ thống đang kết nối, xin chờ"
        press(root, "take")
        assert kiosk.vm.screen == "welcome"
    finally:
        own.stop()


def _watch_device(url: str, client_id: str) -> tuple[BusClient, dict]:
    seen: dict = {}
    got = threading.Event()
    watcher = BusClient(url, SITE, f"watch-{client_id}", Role.MONITOR)

    def on_state(topic: str, payload: dict) -> None:
        seen[topic.rsplit("/", 1)[-1]] = payload
        got.set()

    watcher.subscribe(watcher.topics.state_device(client_id), on_state)
    watcher.start()
    return watcher, seen


def test_paper_out_still_issues_and_tells_the_technician(world, make_kiosk, tmp_path):
    paper = tmp_path / "paper"
    paper.mkdir()
    (paper / "STATE").write_text("paper_out")
    kiosk, root, _ = make_kiosk()
    client_id = kiosk.link.bus.client.client_id
    assert ready(kiosk) and kiosk.vm.printer_state == "paper_out"
    assert find_by_id(root, "notice")  # warned before the citizen starts
    press(root, "take")
    press(root, "service-tu-phap")
    press(root, "procedure-ket-hon")
    assert pump_until(lambda: kiosk.vm.print_state == "failed", 5)
    number = kiosk.vm.ticket["number"]
    assert tickets(world, number), "the ticket must be issued even without paper"
    assert find_by_id(root, "number").text == number
    assert find_by_id(root, "print-failed")
    assert any("Hãy ghi nhớ số này" in s for s in kiosk.speaker.spoken)
    assert not list(paper.glob("*.png"))
    watcher, seen = _watch_device(world["broker"].url, client_id)
    try:
        assert pump_until(lambda: seen.get(client_id, {}).get("state") == "paper_out", 5)
        assert seen[client_id]["kind"] == "printer"
        (paper / "STATE").write_text("ok")  # the technician changes the roll
        assert pump_until(lambda: seen[client_id]["state"] == "ok", 5)
    finally:
        watcher.close()


def test_paper_out_on_a_serial_escpos_printer(world, make_kiosk, tmp_path):
    fake = FakePrinter(tmp_path / "ttyPRINTER").plug()
    try:
        fake.state = "paper_out"
        kiosk, root, _ = make_kiosk(printer=f"serial://{fake.link}?baudrate=115200")
        assert ready(kiosk) and kiosk.vm.printer_state == "paper_out"
        press(root, "take")
        press(root, "not_sure")
        assert pump_until(lambda: kiosk.vm.print_state == "failed", 5)
        assert tickets(world, kiosk.vm.ticket["number"])
        sent = bytes(fake.received)  # only status queries (DLE EOT n), however many the poll sent meanwhile
        assert sent and not re.sub(rb"\x10\x04[\x01-\x04]", b"", sent), sent[:80]
        fake.state = "ok"
        assert pump_until(lambda: kiosk.vm.printer_state == "ok", 3)
        press(root, "done")
        press(root, "take")
        press(root, "not_sure")
        assert pump_until(lambda: kiosk.vm.print_state == "printed", 5)
        assert len(fake.received) > 1000  # the ticket went down the serial line
    finally:
        fake.unplug()


def test_technician_long_press_pin_and_test_print(world, make_kiosk, monkeypatch):
    monkeypatch.setattr(choose, "ADMIN_LONG_PRESS_S", 0.5)
    kiosk, root, paper = make_kiosk()
    vm = kiosk.vm
    assert ready(kiosk)
    root.rebuild()
    tap(find_by_id(root, "center_name"))  # a short tap does nothing
    pump(0.7)
    assert vm.screen == "welcome"
    door = find_by_id(root, "center_name")
    from kivy.tests.common import UnitTestTouch

    touch = UnitTestTouch(*door.to_window(*door.center))
    touch.touch_down()
    assert pump_until(lambda: vm.screen == "pin", 2)
    touch.touch_up()
    for key in ("pin-1", "pin-2", "pin-3", "pin-4", "pin-ok"):
        press(root, key)
    assert pump_until(lambda: vm.pin_message == "Sai mã PIN", 3)
    for key in ("pin-2", "pin-4", "pin-6", "pin-8", "pin-ok"):
        press(root, key)
    assert pump_until(lambda: vm.screen == "admin", 3)
    assert find_by_id(root, "admin-hub").text == "đang chạy"
    assert find_by_id(root, "admin-printer").text.startswith("sẵn sàng")
    press(root, "admin-test")
    assert pump_until(lambda: vm.admin_message == "Đã in trang thử.", 10)
    assert list(paper.glob("*test-page.png"))
    press(root, "admin-close")
    assert pump_until(lambda: vm.screen == "welcome", 1)
