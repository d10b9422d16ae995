"""While the hub announces a store fault: the kiosk asks citizens to wait for staff, the pad shows the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from counter.desk import Desk
from counter.pad_app import build_pad, connect
from kiosk.hublink import HubLink
from kiosk.menu import kiosk_view
from kiosk.ui.root import KioskRoot
from kiosk.viewmodel import KioskSettings, KioskViewModel
from mqtt_bus.contract import FaultCode, Role
from qms.backup import backup_store, restore_store
from qms.config import default_config_path, load_config
from qms.hub_service import start_hub
from testkit.kivy_harness import find_by_id, pump, pump_until, screenshot, show, tap, window
from tests.integration.hub_helpers import SITE
from tests.kiosk_fakes import FakeHub, FakePrinter, ManualClock, RecordingSpeaker
from tests.ui.test_kiosk_screens import FIXED, problems, settle
from ui_kit.fonts import register_fonts

FAULT = {"code": FaultCode.STORE_CORRUPT, "message": "the store /var/lib/qms/queue.sqlite3 is damaged (file is not a "
                                             "database); it is left as it is: restore the newest automatic backup: "
                                             "sudo -u qms qms restore /var/lib/qms/backups/queue-2026-11-29T230000"
                                             ".sqlite3"}
SHOTS = Path(os.environ.get("QMS_SHOTS", "")) if os.environ.get("QMS_SHOTS") else None


@pytest.fixture(autouse=True)
def keep_window_size():
    size = tuple(window().size)
    yield
    window().size = size


@pytest.mark.parametrize(("lang", "size", "words"), [
    ("vi", (1080, 1920), "Hệ thống đang gặp sự cố, xin vui lòng chờ cán bộ hỗ trợ"),
    ("en", (1920, 1080), "System fault, please wait for staff"),
])
def test_kiosk_welcome_asks_citizens_to_wait_while_the_hub_has_a_fault(tmp_path, lang, size, words):
    register_fonts()
    cfg = load_config(default_config_path())
    hub = FakeHub()
    vm = KioskViewModel(kiosk_view(cfg), hub, FakePrinter(), RecordingSpeaker(), ManualClock(),
                        KioskSettings(admin_pin_hash=cfg.kiosk.admin_pin_hash, tap_guard_s=0))
    vm.set_connected(True)
    vm.set_hub_online(True)
    vm.set_printer_status({"state": "ok", "detail": "ready"})
    vm.lang = lang
    vm.set_hub_fault(FAULT)
    root = show(KioskRoot(vm, now=lambda tz: FIXED), size)
    try:
        settle()
        band = find_by_id(root, "fault")
        assert any(getattr(w, "text", "") == words for w in band.walk(restrict=True))
        assert not [w for w in root.walk(restrict=True) if getattr(w, "qid", "") == "take"]
        assert not problems(root)
        screenshot(root, f"kiosk-fault-{lang}", SHOTS or tmp_path)
        tap(band)
        vm.take_number()  # even a stray call does not start a ticket
        assert vm.screen == "welcome"
        vm.set_hub_fault(None)  # restored: the button is back
        settle()
        tap(find_by_id(root, "take"))
        assert vm.screen == "field"
    finally:
        root.stop()
        window().remove_widget(root)


def test_counter_pad_shows_the_hub_fault_with_its_fix_until_the_store_is_restored(ctx, broker, make_client,
                                                                                  tmp_path):
    with ctx.open_store() as store:  # this board had a store (the data dir's marker says so) ...
        store.run("issue_ticket", {"service": "tu-phap"})
    saved = backup_store(ctx.store_path, tmp_path / "good.sqlite3")
    for path in ctx.data_dir.glob("queue.sqlite3-*"):
        path.unlink()
    ctx.store_path.write_bytes(b"")  # ... and now it is empty
    hub = start_hub(ctx, broker.url, poll_interval=0.05)
    root = None
    try:
        assert hub.store is None and hub.fault is not None and hub.fault.code == FaultCode.STORE_MISSING
        faults: list[dict | None] = []
        link = HubLink(make_client(broker.url, "kiosk-1", Role.KIOSK, site=SITE, start=False), on_fault=faults.append)
        link.start()
        root = build_pad(Desk.from_config(ctx.config, "2"), "vi")
        connect(root, make_client(broker.url, "counter-2", Role.COUNTER, site=SITE, start=False))
        show(root, size=(800, 480))
        assert pump_until(lambda: root.vm.hub_fault is not None and bool(faults), 5)
        assert faults[-1] is not None and faults[-1]["code"] == FaultCode.STORE_MISSING and link.hub_fault == faults[-1]
        pump(0.1)
        banner = root.vm.banner
        assert banner.startswith("Máy chủ lỗi dữ liệu (store_missing)") and "qms restore" in banner and not root.vm.can_act
        screenshot(root, "counter-store-fault-vi", SHOTS or tmp_path)
        restore_store(saved.path, ctx.store_path, ctx.data_dir, site=SITE)
        assert pump_until(lambda: root.vm.can_act, 10), root.vm.banner
        assert root.vm.banner == "" and hub.fault is None and hub.store is not None
        assert pump_until(lambda: faults[-1] is None, 5)  # the kiosk's take-a-number button comes back
    finally:
        if root is not None:
            window().remove_widget(root)
        hub.stop()
        if hub.store is not None:
            hub.store.close()
