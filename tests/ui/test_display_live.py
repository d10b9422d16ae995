"""The hall display against a REAL mosquitto and hub: calls from counter pads reach the board, the
announcer and the LED boards in order, once each, and a broker restart mid-way heals within 3 s."""

from __future__ import annotations

import pytest

from devices.led import FakeTransport, GenericAscii7Seg, LedBoards
from devices.voice import FileSinkBackend
from mqtt_bus.contract import Role
from qms.hub_service import start_hub
from queue_display.app import Display
from queue_display.settings import DisplaySettings
from queue_display.voice import Voice
from testkit.kivy_harness import pump, pump_until, screenshot, show, window
from tests.integration.hub_helpers import wait_for
from tests.voice_fakes import make_tone_pack, spoken_numbers
from ui_kit.fonts import register_fonts

TICKETS = ["tu-phap"] * 4 + ["chung-thuc"] * 2 + ["dat-dai"] * 2 + ["xa-hoi", "kinh-te"]
CALLS = ["1", "2", "4", "5", "6", "1", "3", "2", "4", "3"]  # every call finds someone waiting


@pytest.fixture
def display(ctx, broker, hub, make_client, tmp_path):
    register_fonts()
    window()
    settings = DisplaySettings.from_config(ctx.config)
    sink = FileSinkBackend(tmp_path / "spoken")
    voice = Voice(settings, sink, lambda: make_tone_pack(tmp_path / "pack"))
    leds = LedBoards(FakeTransport(), GenericAscii7Seg())
    client = make_client(broker.url, "display-1", Role.DISPLAY, site=ctx.site.site, start=False)
    d = Display(settings, client, "vi", voice=voice, leds=leds)
    d.sink = sink  # type: ignore[attr-defined]
    show(d.build_screen(), size=(1920, 1080))
    d.start()
    yield d
    d.close()


def board_matches(display: Display, snapshot: dict) -> bool:
    """The board shows what the store holds: every counter's status and number, every waiting count."""
    vm = display.vm
    rows = {r["id"]: (r["status"], r["number"]) for r in vm.counters}
    want = {c["counter"]: (c["status"], "" if c["status"] in ("paused", "closed")  # nobody shown as served
                           else (c["ticket"] or {}).get("number") or "") for c in snapshot["counters"]}
    waiting = {w["id"]: w["waiting"] for w in vm.waiting}
    return vm.connected and rows == want and waiting == {s["service"]: s["waiting"] for s in snapshot["services"]}


def test_ten_calls_with_a_broker_restart_in_the_middle(ctx, broker, hub, display, make_client, tmp_path):
    vm = display.vm
    spoken_order: list[str] = []
    connection_seen: list[bool] = []
    vm.bind(on_call=lambda _vm, event: spoken_order.append(event["ticket"]["number"]),
            connected=lambda _vm, value: connection_seen.append(value))
    assert pump_until(lambda: vm.connected and len(vm.waiting) == 8 and vm.waiting[0]["waiting"] == 0, 5), \
        "the board builds itself from the retained state"
    site = ctx.site.site
    kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=site)
    pads = {c: make_client(broker.url, f"counter-{c}", Role.COUNTER, site=site) for c in sorted(set(CALLS))}
    assert all(c.wait_connected(5) for c in [kiosk, *pads.values()])
    for service in TICKETS:
        assert kiosk.request("issue_ticket", {"service": service}, timeout=3)["ok"]
    assert pump_until(lambda: sum(w["waiting"] or 0 for w in vm.waiting) == 10, 3)

    called: list[str] = []
    for i, counter in enumerate(CALLS):
        if i == 5:
            broker.restart()
            assert pump_until(lambda: False in connection_seen, 2), "the board noticed the lost connection"
            assert pump_until(lambda: board_matches(display, hub.store.snapshot()), 3), "healed within 3 s"
            assert wait_for(lambda: all(p.is_connected for p in pads.values()), 5)
        reply = pads[counter].request("call_next", {"counter": counter}, timeout=3)
        assert reply["ok"] and reply["result"]["ticket"], (i, counter, called, reply)
        number = reply["result"]["ticket"]["number"]
        called.append(number)
        assert pump_until(lambda n=number: vm.hero_number == n, 3), f"{number} shown as the current call"
        assert vm.hero_counter == f"đến Quầy số {counter}"

    assert spoken_order == called, "each call reached the board once, in order"
    assert pump_until(lambda: board_matches(display, hub.store.snapshot()), 3)
    assert [r["number"] for r in vm.recent] == list(reversed(called[:-1]))[: display.settings.history]
    screenshot(display.screen, "display-live", tmp_path)

    # the announcer spoke each call once, in order; only a call its counter had replaced may be left out
    assert display.voice.wait_ready(5) and display.voice.wait_idle(30)
    spoken = spoken_numbers(display.sink.written)
    assert spoken == [n for n in called if n in spoken] and len(set(spoken)) == len(spoken), spoken
    assert called[-1] in spoken
    assert all(CALLS[i] in CALLS[i + 1:] for i, n in enumerate(called) if n not in spoken), (spoken, called)
    # the LED boards follow the retained counter state
    snapshot = hub.store.snapshot()
    want = {c["counter"]: (c["ticket"] or {}).get("number", "") for c in snapshot["counters"]}
    assert wait_for(lambda: display.leds.shown == want, 3), (display.leds.shown, want)
    pump(0.05)


def test_commands_made_while_the_broker_or_hub_is_down_reach_the_board(ctx, broker, hub, display, make_client):
    vm = display.vm
    site = ctx.site.site
    kiosk, pad = make_client(broker.url, "kiosk-1", Role.KIOSK, site=site), make_client(broker.url, "counter-2",
                                                                                       Role.COUNTER, site=site)
    for _ in range(3):
        assert kiosk.request("issue_ticket", {"service": "tu-phap"}, timeout=3)["ok"]
    assert pad.request("call_next", {"counter": "2"}, timeout=3)["result"]["ticket"]["number"] == "A001"
    assert pump_until(lambda: vm.hero_number == "A001" and vm.connected, 3)

    broker.kill()  # a power cut of the broker; the CLI keeps working on the store meanwhile
    assert pump_until(lambda: not vm.connected, 3)
    assert vm.alert == "Mất kết nối — đang kết nối lại"
    with ctx.open_store() as store:
        assert store.run("call_next", {"counter": "2"}).ok
        assert store.run("pause", {"counter": "3"}).ok
    broker.start()
    assert pump_until(lambda: board_matches(display, hub.store.snapshot()), 3), "converged within 3 s"
    assert vm.hero_number == "A002" and vm.alert == ""
    assert [r["status"] for r in vm.counters if r["id"] == "3"] == ["paused"]
    assert display.voice.wait_ready(5) and display.voice.wait_idle(30)
    spoken = spoken_numbers(display.sink.written)
    assert spoken in (["A001"], ["A001", "A002"]), "nothing twice (A002 only if its event came after reconnecting)"

    hub.stop()  # the hub's retained status says offline
    assert pump_until(lambda: vm.alert.startswith("Máy chủ tạm ngừng"), 3)
    with ctx.open_store() as store:  # the CLI works while the hub is down
        assert store.run("call_next", {"counter": "2"}).ok
    again = start_hub(ctx, broker.url, poll_interval=0.05)
    try:
        assert pump_until(lambda: board_matches(display, again.store.snapshot()) and vm.alert == "", 3), \
            "a restarted hub brings the board up to date"
        assert vm.hero_number == "A003"
    finally:
        again.stop()
        again.store.close()


def test_audio_state_in_the_retained_status_and_a_printer_mark(ctx, broker, hub, display, make_client):
    """Issue 14 point 9: the pads read ``audio`` from the display's retained status; a printer's
    ``state/device`` out of paper is marked on the board until fixed."""
    vm = display.vm
    assert display.voice.wait_ready(5)
    kiosk = make_client(broker.url, "kiosk-1", Role.KIOSK, site=ctx.site.site)
    assert kiosk.wait_connected(5)
    seen: list[dict] = []
    kiosk.subscribe(kiosk.topics.status("display-1"), lambda _topic, payload: seen.append(payload))
    assert wait_for(lambda: any(p.get("online") and p.get("audio", {}).get("state") == "ok" for p in seen), 5), seen
    audio = next(p["audio"] for p in reversed(seen) if "audio" in p)
    assert set(audio) == {"state", "detail"} and "file" in audio["detail"]
    assert pump_until(lambda: vm.audio["state"] == "ok", 2) and vm.marks == ""
    device = kiosk.topics.state_device("kiosk-1")
    kiosk.publish_json(device, {"kind": "printer", "state": "paper_out", "detail": "", "ts": "2026-11-23T09:00:00"},
                       retain=True)
    assert pump_until(lambda: vm.marks == "Máy in kiosk-1: hết giấy", 3)
    kiosk.publish_json(device, {"kind": "printer", "state": "ok", "detail": "", "ts": "2026-11-23T09:01:00"},
                       retain=True)
    assert pump_until(lambda: vm.marks == "", 3)
