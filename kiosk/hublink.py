"""The kiosk on MQTT: ``issue_ticket`` requests, the hub's status, and the printer's retained state."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from mqtt_bus.client import BusClient
from mqtt_bus.contract import HUB_CLIENT_ID
from ui_kit.bridge import UiBus, on_ui_thread

from .ports import Choice, Response

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 2.0  # per attempt; the hub answers in milliseconds when it is up
REQUEST_RETRIES = 1  # the retry reuses the request id: never two tickets


class HubLink:
    """``HubPort`` over a ``UiBus``; tells ``on_change(connected, hub_online)`` on the UI thread."""

    def __init__(self, client: BusClient, on_change: Callable[[bool, bool | None], None] | None = None,
                 timeout: float = REQUEST_TIMEOUT_S, retries: int = REQUEST_RETRIES,
                 on_fault: Callable[[dict[str, str] | None], None] | None = None) -> None:
        self.bus = bus = UiBus(client, on_connection=self._connection_changed)
        self.on_change = on_change
        self.timeout, self.retries = timeout, retries
        self._hub_online: bool | None = None
        self.on_fault = on_fault  # the hub is up but cannot serve (its status's "fault"), on the UI thread
        self._hub_fault: dict[str, str] | None = None
        self._printer_status: dict[str, str] | None = None
        self._lock = threading.Lock()
        bus.subscribe(bus.topics.status(HUB_CLIENT_ID), self._hub_status)

    @property
    def connected(self) -> bool:
        """Connected to the broker now."""
        return self.bus.connected

    @property
    def hub_online(self) -> bool | None:
        """The hub's last announced presence (None until heard)."""
        return self._hub_online

    @property
    def hub_fault(self) -> dict[str, str] | None:
        """``{"code", "message"}`` while the online hub announces a fault (e.g. a damaged store), else None."""
        return self._hub_fault

    def issue(self, choice: Choice, request_id: str, done: Callable[[Response], None]) -> None:
        """``issue_ticket`` with this request id; a failure to send is reported like a timeout."""
        try:
            self.bus.request("issue_ticket", choice.args(), done, request_id=request_id,
                             timeout=self.timeout, retries=self.retries)
        except Exception as exc:  # closed client, duplicate id: the citizen must still get an answer
            log.warning("issue_ticket not sent: %s", exc)
            on_ui_thread(done)(exc)

    def publish_printer(self, status: dict[str, str]) -> None:
        """Retained ``state/device/{client id}`` for the technician (from any thread)."""
        with self._lock:
            self._printer_status = dict(status)
        self._publish_printer()

    def _publish_printer(self) -> None:
        with self._lock:
            status = self._printer_status
        if status is None:
            return
        client = self.bus.client
        try:
            client.publish_json(client.topics.state_device(client.client_id), status, retain=True)
        except Exception:
            log.exception("printer state not published")

    def _connection_changed(self, connected: bool) -> None:
        if connected:
            self._publish_printer()  # a broker restarted without persistence forgets retained state
        self._notify()

    def _hub_status(self, _topic: str, payload: dict[str, Any]) -> None:
        online = payload.get("online")
        self._hub_online = bool(online) if isinstance(online, bool) else None
        fault = payload.get("fault") if online is True else None
        self._hub_fault = ({"code": str(fault.get("code", "")), "message": str(fault.get("message", ""))}
                           if isinstance(fault, dict) else None)
        if self.on_fault is not None:
            self.on_fault(self._hub_fault)
        self._notify()

    def _notify(self) -> None:
        if self.on_change is not None:
            self.on_change(self.connected, self._hub_online)

    def start(self) -> HubLink:
        """Connect in the background."""
        self.bus.start()
        return self

    def close(self) -> None:
        """Disconnect (offline status)."""
        self.bus.close()
