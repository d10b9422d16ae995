"""Device health: every board's retained ``status/{id}`` and ``state/device/{id}``, read as a monitor.

The web app logs in like ``qms doctor`` (``monitor-*``, never a service's login), reads the retained
messages for a moment and disconnects. Each device gets a row with the fix ``qms doctor`` would give.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from mqtt_bus.contract import HUB_CLIENT_ID, Role
from qms.doctor import CLOCK_FIX, MAX_CLOCK_OFFSET_S, offset_words

WEB_MONITOR_ID = "monitor-web"
SERVICE_OF = {Role.HUB: "qms-hub", Role.KIOSK: "qms-kiosk", Role.DISPLAY: "qms-display",
              Role.COUNTER: "qms-counter-pad", Role.RATING: "qms-rating"}
PRINTER_FIX = {
    "paper_low": "sắp hết giấy: chuẩn bị cuộn mới / paper is low: have a new roll ready",
    "paper_out": "hết giấy: lắp cuộn giấy mới, đóng nắp / out of paper: load a new roll and close the cover",
    "cover_open": "nắp máy in đang mở: đóng nắp / the printer cover is open: close it",
    "offline": "máy in không trả lời: kiểm tra nguồn, cáp, rồi `qms doctor` trên kiosk / the printer does not answer: "
               "check power and cable, then run `qms doctor` on the kiosk",
    "error": "máy in báo lỗi: tắt, bật lại máy in; xem `qms printer status` trên kiosk / the printer reports an error: "
             "switch it off and on; see `qms printer status` on the kiosk",
}

AUDIO_FIX = {
    "no_device": "phòng chờ không có tiếng (không có thiết bị âm thanh) / the hall is silent (no audio device)",
    "no_pack": "phòng chờ không có tiếng (thiếu gói giọng đọc) / the hall is silent (no voice pack)",
}


@dataclass
class Device:
    """What the broker retains about one board."""

    id: str
    online: bool | None = None
    role: str = ""
    version: str = ""
    last_seen: str = ""
    audio_state: str = ""  # ok, loading, no_device, no_pack, off (a display's status)
    audio_detail: str = ""
    printer: str = ""
    printer_detail: str = ""
    fault: str = ""
    clock_offset_s: float | None = None  # this board's clock minus the hub's, measured by the board (clock_probe)
    clock_checked: str = ""  # the board's time of that measurement
    fixes: list[str] = field(default_factory=list)

    @property
    def clock_text(self) -> str:
        """ "nhanh 75.0 giây / 75.0 s ahead of the hub", "khớp giờ / in step with the hub", "—" when not measured."""
        if self.id == HUB_CLIENT_ID:
            return "chuẩn / reference"
        if self.clock_offset_s is None:
            return "—"
        vi, en = offset_words(self.clock_offset_s)
        return f"{vi} / {en} the hub"

    @property
    def ok(self) -> bool:
        """Online and nothing to fix."""
        return bool(self.online) and not self.fixes


def _offset(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _fixes(d: Device) -> list[str]:
    out = []
    service = SERVICE_OF.get(d.role, "")  # type: ignore[call-overload]
    if d.online is False:
        how = f"`sudo systemctl start {service}`, its log: `journalctl -u {service}`" if service else "start it"
        out.append(f"thiết bị ngoại tuyến: kiểm tra nguồn và mạng, rồi {how}; chạy `qms doctor` trên máy đó / the "
                   f"device is offline: check power and network, then {how}; run `qms doctor` on that board")
    if d.fault:
        out.append(d.fault)
    if d.printer in PRINTER_FIX:
        out.append(PRINTER_FIX[d.printer])
    if d.clock_offset_s is not None and abs(d.clock_offset_s) > MAX_CLOCK_OFFSET_S:
        out.append(f"đồng hồ lệch hơn {MAX_CLOCK_OFFSET_S:g} giây so với hub / the clock is more than "
                   f"{MAX_CLOCK_OFFSET_S:g} s off the hub's: {CLOCK_FIX}")
    if d.online and d.audio_state in AUDIO_FIX:
        out.append(f"{AUDIO_FIX[d.audio_state]}: {d.audio_detail}" if d.audio_detail else AUDIO_FIX[d.audio_state])
    return out


def _audio(value: Any) -> tuple[str, str]:
    """(state, detail) of a status's ``audio``: the display's ``{"state", "detail"}`` (docs/protocol.md) or a text."""
    if isinstance(value, dict):
        return str(value.get("state") or ""), str(value.get("detail") or "")
    return "", "" if value is None else str(value)


def collect(status: dict[str, dict[str, Any]], devices: dict[str, dict[str, Any]]) -> list[Device]:
    """Rows from retained ``status`` payloads and ``state/device`` payloads, hub first, monitors left out."""
    rows: dict[str, Device] = {}
    for cid, p in status.items():
        role = str(p.get("role", ""))
        if role == Role.MONITOR or cid.startswith("monitor-"):
            continue
        fault = p.get("fault") if isinstance(p.get("fault"), dict) else None
        audio_state, audio_detail = _audio(p.get("audio"))
        rows[cid] = Device(cid, online=bool(p.get("online")), role=role, version=str(p.get("version", "") or ""),
                           last_seen=str(p.get("ts", "") or ""), audio_state=audio_state, audio_detail=audio_detail,
                           fault=f"{fault.get('message', '')}" if fault else "",
                           clock_offset_s=_offset(p.get("clock_offset_s")),
                           clock_checked=str(p.get("clock_checked", "") or ""))
    for did, p in devices.items():
        d = rows.setdefault(did, Device(did, role="?"))
        if p.get("kind", "printer") == "printer":
            d.printer, d.printer_detail = str(p.get("state", "")), str(p.get("detail", "") or "")
            d.last_seen = max(d.last_seen, str(p.get("ts", "") or ""))
    for d in rows.values():
        d.fixes = _fixes(d)
    return sorted(rows.values(), key=lambda d: (d.id != HUB_CLIENT_ID, d.role, d.id))


@dataclass
class Snapshot:
    """The health page's data: rows, or why there are none."""

    devices: list[Device]
    error: str = ""
    taken: str = ""


def read_retained(url: str, site: str, client_id: str = WEB_MONITOR_ID, wait_s: float = 1.0,
                  connect_s: float = 3.0, tz: tzinfo | None = None) -> Snapshot:
    """Connect to the broker as ``client_id``, gather the retained status and device state, disconnect."""
    from mqtt_bus.client import BusClient

    status: dict[str, dict[str, Any]] = {}
    devices: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    client = BusClient(url, site, client_id, Role.MONITOR, reconnect_delay=(0.2, 0.5))
    topics = client.topics

    def keep(into: dict[str, dict[str, Any]]) -> Callable[[str, dict], None]:
        def handler(topic: str, payload: dict) -> None:
            try:
                ident = topics.parse(topic).id
            except ValueError:
                return
            with lock:
                into[ident] = payload
        return handler

    on_status, on_device = keep(status), keep(devices)

    client.subscribe(topics.status_all, on_status)
    client.subscribe(topics.state_devices_all, on_device)
    client.start()
    try:
        if not client.wait_connected(connect_s):
            return Snapshot([], "không kết nối được máy chủ MQTT / cannot connect to the broker (check the hub board "
                            "and the monitor-web login: `sudo qms credentials --extra monitor-web:monitor`)")
        time.sleep(wait_s)
    finally:
        client.close(timeout=1.0)
    with lock:
        return Snapshot(collect(status, devices), taken=datetime.now(tz).astimezone(tz).isoformat(timespec="seconds"))


Reader = Callable[[], Snapshot]


def hub_request(url: str, site: str, action: str, args: dict[str, Any], client_id: str = WEB_MONITOR_ID,
                connect_s: float = 3.0, timeout_s: float = 3.0) -> dict[str, Any]:
    """Ask the hub for ``action`` as the monitor ``client_id`` (a printer test page, a reprint); its response.

    A broker or hub that does not answer gives an ``ok: false`` response with a plain message.
    """
    from mqtt_bus.client import BusClient, RequestTimeout

    client = BusClient(url, site, client_id, Role.MONITOR, reconnect_delay=(0.2, 0.5))
    client.start()
    try:
        if not client.wait_connected(connect_s):
            return {"ok": False, "error": {"code": "no_broker", "message": "không kết nối được máy chủ MQTT / "
                                           "cannot connect to the broker"}}
        return client.request(action, args, timeout=timeout_s, retries=1)
    except RequestTimeout:
        return {"ok": False, "error": {"code": "timeout", "message": "máy chủ hub không trả lời / the hub does not "
                                       "answer (sudo systemctl status qms-hub)"}}
    finally:
        client.close(timeout=1.0)
