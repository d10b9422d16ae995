"""The counter pad's state and actions, as Kivy properties: screens bind to it, tests drive it.

It talks to the hub only through a bus with ``subscribe(topic, handler)`` and
``request(action, args, done, request_id=...)`` whose callbacks arrive on the UI thread
(:class:`ui_kit.bridge.UiBus`, or a fake in tests).
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    AliasProperty,
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from mqtt_bus.contract import HUB_CLIENT_ID
from queue_core.engine import DOSSIER_CODE
from ui_kit.i18n import tr

from .alerts import display_alert, printer_alert
from .desk import Desk
from .present import describe_ticket, done_text, error_text

log = logging.getLogger(__name__)

UNDO_S = 10.0
"""How long the pad offers to undo a no-show or a complete (the hub accepts it for 30 s)."""

class Bus(Protocol):
    """What the view-models need of :class:`ui_kit.bridge.UiBus`."""

    topics: Any

    def subscribe(self, topic_filter: str, handler: Callable[[str, dict], None]) -> None: ...

    def request(self, action: str, args: dict[str, Any], done: Callable[[Any], None],
                request_id: str | None = None, timeout: float = 3.0, retries: int = 2) -> str: ...


class CounterViewModel(EventDispatcher):
    """One counter: its retained state, the waiting counts, the link, and the officer's actions.

    Events: ``on_result(action, ok, text)`` after every answer (for beeps and logs) and
    ``on_completed(ticket)`` when ``complete`` succeeded (the pad then asks for a rating).
    """

    lang = StringProperty("vi")
    counter_name = StringProperty("")
    officer = StringProperty("")
    status = StringProperty("")  # open / paused / closed; "" until the state arrives
    ticket = ObjectProperty(None, allownone=True)  # TICKET payload of the citizen being served
    waiting = DictProperty()  # service id -> waiting count
    busy = BooleanProperty(False)
    connected = BooleanProperty(False)
    hub_online = BooleanProperty(False)
    hub_fault = ObjectProperty(None, allownone=True)  # {"code", "message"} while the hub cannot serve
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    waiting_rows = ListProperty()  # [(service name, count)] in the counter's order
    alerts = DictProperty()  # "printer/kiosk-1" or "display/display-1" -> the line shown on every pad
    undo_ticket = ObjectProperty(None, allownone=True)  # {"id", "number", "action"} while undo is offered
    undo_left = NumericProperty(0)  # whole seconds left to undo

    # ticket card texts
    number_text = StringProperty("")
    detail_text = StringProperty("")
    priority_text = StringProperty("")
    since_text = StringProperty("")
    calls_text = StringProperty("")
    dossier_text = StringProperty("")  # "Mã hồ sơ: ..." of the current ticket, or that it has none

    __events__ = ("on_result", "on_completed", "on_restored")

    def __init__(self, desk: Desk, lang: str = "vi", *, request_timeout: float = 3.0, retries: int = 2,
                 repeat_guard_s: float = 0.8, clock: Callable[[], float] = time.monotonic,
                 undo_s: float = UNDO_S, **kw: Any) -> None:
        super().__init__(**kw)
        self.desk = desk
        self.counter_id = desk.counter_id
        self.request_timeout, self.retries = request_timeout, retries
        self.repeat_guard_s = repeat_guard_s
        self.undo_s = undo_s
        self._undo_deadline = 0.0
        self._undo_ticker: Any = None
        self._clock = clock
        self._last_sent: tuple[str, float] = ("", float("-inf"))  # action, when
        self._unanswered: tuple[str, str] | None = None  # (action+args key, request id) of a timed-out request
        self._seq = {"counter": -1}
        self.bus: Bus | None = None
        self.bind(lang=self._refresh_texts, ticket=self._refresh_texts, waiting=self._refresh_texts)
        self.lang = lang
        self._refresh_texts()

    # -- derived -----------------------------------------------------------------------------------
    def _get_can_act(self) -> bool:
        return self.connected and self.hub_online and not self.hub_fault and not self.busy

    can_act = AliasProperty(_get_can_act, bind=("connected", "hub_online", "hub_fault", "busy"), cache=True)

    def _get_can_call(self) -> bool:
        return self.can_act and self.status not in ("paused", "closed")

    can_call = AliasProperty(_get_can_call, bind=("can_act", "status"), cache=True)
    """Gọi tiếp is possible: linked and the counter is not paused or closed."""

    def _get_alert_text(self) -> str:
        return "\n".join(self.alerts[k] for k in sorted(self.alerts))

    alert_text = AliasProperty(_get_alert_text, bind=("alerts",), cache=True)
    """Every device problem, one per line, until the device reports it fixed."""

    def _get_undo_text(self) -> str:
        undo = self.undo_ticket
        if not undo:
            return ""
        return tr(f"counter.undo.{undo['action']}", self.lang, number=undo["number"])

    undo_text = AliasProperty(_get_undo_text, bind=("undo_ticket", "lang"), cache=True)

    def _get_banner(self) -> str:
        if not self.connected:
            return tr("counter.banner.offline", self.lang)
        if not self.hub_online:
            return tr("counter.banner.hub_offline", self.lang)
        if self.hub_fault:
            return tr("counter.banner.store_fault", self.lang, code=self.hub_fault.get("code", ""),
                      fix=self.hub_fault.get("fix") or self.hub_fault.get("message", ""))
        return ""

    banner = AliasProperty(_get_banner, bind=("connected", "hub_online", "hub_fault", "lang"), cache=True)

    def _refresh_texts(self, *_: Any) -> None:
        lang = self.lang
        self.counter_name = self.desk.name(lang)
        t = describe_ticket(self.ticket, self.desk.site, lang)
        self.number_text, self.detail_text, self.priority_text = t.number, t.detail, t.priority
        self.since_text, self.calls_text = t.since, t.calls
        code = (self.ticket or {}).get("dossier")
        self.dossier_text = (tr("counter.dossier.label", lang, code=code) if code
                             else tr("counter.dossier.none", lang) if self.ticket else "")
        self.waiting_rows = [(self.desk.site.service_name(s, lang), int(self.waiting.get(s, 0)))
                             for s in self.desk.counter_services]

    def set_desk(self, desk: Desk) -> None:
        """A new config from the hub's catalogue (live apply): new names and services, redrawn at once."""
        added = [s for s in desk.counter_services if s not in self.desk.counter_services]
        self.desk = desk
        if self.bus is not None:
            for service in added:
                self.bus.subscribe(self.bus.topics.state_service(service), self.on_service_state)
        self._refresh_texts()

    # -- the link ----------------------------------------------------------------------------------
    def attach(self, bus: Bus, connected: bool = False) -> None:
        """Listen to this counter's state, its services' waiting counts and the hub's presence."""
        self.bus = bus
        t = bus.topics
        bus.subscribe(t.state_counter(self.counter_id), self.on_counter_state)
        for service in self.desk.counter_services:
            bus.subscribe(t.state_service(service), self.on_service_state)
        bus.subscribe(t.status(HUB_CLIENT_ID), self.on_hub_status)
        bus.subscribe(t.state_devices_all, self.on_device_state)
        bus.subscribe(t.status_all, self.on_device_status)
        self.connected = connected

    def set_connected(self, connected: bool) -> None:
        """The broker link went up or down."""
        self.connected = connected

    def on_counter_state(self, _topic: str, payload: dict[str, Any]) -> None:
        """Retained ``state/counter/{id}``: status, officer, current ticket."""
        if payload.get("counter") != self.counter_id or not self._fresh("counter", payload):
            return
        self.apply_counter(payload)

    def apply_counter(self, counter: dict[str, Any]) -> None:
        """Show a COUNTER payload (from the retained state or a pause/resume/sign_in answer)."""
        self.status = str(counter.get("status") or "")
        self.officer = str(counter.get("officer") or "")
        if "ticket" in counter:
            self.ticket = counter["ticket"]

    def on_service_state(self, _topic: str, payload: dict[str, Any]) -> None:
        """Retained ``state/service/{id}``: how many wait."""
        service = payload.get("service")
        if service in self.desk.counter_services and self._fresh(f"service/{service}", payload):
            self.waiting[service] = int(payload.get("waiting") or 0)

    def on_hub_status(self, _topic: str, payload: dict[str, Any]) -> None:
        """Retained ``status/hub``: is anybody answering requests?"""
        online = bool(payload.get("online"))
        fault = payload.get("fault") if online else None
        fault = {k: str(fault.get(k, "")) for k in ("code", "message", "fix")} if isinstance(fault, dict) else None
        if online and (not self.hub_online or (self.hub_fault and not fault)):
            self._seq.clear()  # a (re)started hub or a restored store: take its state as it is
        self.hub_online = online
        self.hub_fault = fault

    def on_device_state(self, topic: str, payload: dict[str, Any]) -> None:
        """Retained ``state/device/{id}``: a kiosk printer's paper and link."""
        device = self._topic_id(topic)
        if device is not None:
            self._set_alert(f"printer/{device}", printer_alert(device, payload, self.lang))

    def on_device_status(self, topic: str, payload: dict[str, Any]) -> None:
        """Retained ``status/{client_id}`` of every device: a display gone or silent."""
        client = self._topic_id(topic)
        if client is not None and client.startswith("display-"):
            self._set_alert(f"display/{client}", display_alert(client, payload, self.lang))

    def _topic_id(self, topic: str) -> str | None:
        try:
            return self.bus.topics.parse(topic).id if self.bus is not None else None
        except (ValueError, AttributeError):
            return None

    def _set_alert(self, key: str, text: str | None) -> None:
        if text:
            if self.alerts.get(key) != text:
                self.alerts[key] = text
                log.warning("device alert: %s", text)
        elif key in self.alerts:
            del self.alerts[key]
            log.info("device alert cleared: %s", key)

    def _fresh(self, key: str, payload: dict[str, Any]) -> bool:
        seq = payload.get("seq")
        if not isinstance(seq, int):
            return True
        if seq < self._seq.get(key, -1):
            return False
        self._seq[key] = seq
        return True

    # -- actions -----------------------------------------------------------------------------------
    def call_next(self) -> bool:
        """Gọi tiếp (refused here while the counter is paused or closed)."""
        if self.status in ("paused", "closed"):
            self._say(tr("counter.msg.paused_no_call", self.lang), error=True)
            self.dispatch("on_result", "call_next", False, self.message)
            return False
        return self.send("call_next")

    def recall(self) -> bool:
        """Gọi lại."""
        return self.send("recall")

    def no_show(self) -> bool:
        """Vắng mặt."""
        return self.send("no_show")

    def complete(self) -> bool:
        """Xong (then the citizen may rate)."""
        return self.send("complete")

    def transfer(self, service: str) -> bool:
        """Chuyển the current ticket to ``service``."""
        return self.send("transfer", {"service": service})

    def transfer_to_counter(self, counter: str) -> bool:
        """Chuyển the current ticket to one counter (it keeps its service when that counter serves it)."""
        return self.send("transfer", {"to_counter": counter})

    def undo(self) -> bool:
        """Hoàn tác: take back the no-show or complete just made (offered ``undo_s`` seconds)."""
        undo = self.undo_ticket
        if not undo:
            return False
        return self.send("undo", {"ticket": undo["id"]})

    def reprint(self, number: str) -> bool:
        """In lại: ask a kiosk printer to print today's ticket ``number`` again."""
        return self.send("reprint", {"number": number}, with_counter=False)

    def set_dossier(self, code: str) -> bool:
        """Gắn mã hồ sơ: tie a dossier code (typed or scanned) to the current ticket, else to the ticket
        just finished here while its undo is offered (the officer scans the receipt after Xong)."""
        code = code.strip()
        if not DOSSIER_CODE.fullmatch(code):
            self._say(error_text("invalid_dossier", "", self.lang), error=True)
            self.dispatch("on_result", "set_dossier", False, self.message)
            return False
        if self.ticket:
            return self.send("set_dossier", {"dossier": code})
        if self.undo_ticket and self.undo_ticket.get("action") == "complete":
            return self.send("set_dossier", {"dossier": code, "ticket": self.undo_ticket["id"]})
        self._say(tr("counter.error.dossier_no_ticket", self.lang, code=code), error=True)
        self.dispatch("on_result", "set_dossier", False, self.message)
        return False

    def call_number(self, number: str) -> bool:
        """Gọi số: call a waiting ticket by its number (``A012``)."""
        return self.send("call_ticket", {"number": number})

    def toggle_pause(self) -> bool:
        """Tạm dừng / Tiếp tục."""
        return self.send("resume" if self.status in ("paused", "closed") else "pause")

    def sign_in(self, officer: str | None) -> bool:
        """Record who works here (None signs out)."""
        name = (officer or "").strip()
        return self.send("sign_in", {"officer": name} if name else {})

    def send(self, action: str, extra: dict[str, Any] | None = None, with_counter: bool = True) -> bool:
        """Send one request for this counter; False when refused locally (busy, offline, repeated tap).

        A request that timed out is sent again with the SAME id when the officer repeats it, so the
        hub answers the first attempt instead of calling a second citizen.
        """
        if self.busy:
            return False
        if self.bus is None or not (self.connected and self.hub_online):
            self._say(self.banner or error_text("offline", "", self.lang), error=True)
            self.dispatch("on_result", action, False, self.message)
            return False
        now = self._clock()
        if self._last_sent[0] == action and now - self._last_sent[1] < self.repeat_guard_s:
            log.info("%s ignored: the same action again within %.1f s (a double tap)", action, self.repeat_guard_s)
            return False
        self._last_sent = (action, now)
        args = {"counter": self.counter_id, **(extra or {})} if with_counter else dict(extra or {})
        key = json.dumps([action, args], sort_keys=True)
        rid = self._unanswered[1] if self._unanswered and self._unanswered[0] == key else uuid.uuid4().hex
        self.busy = True
        try:
            self.bus.request(action, args, lambda answer: self._answered(action, args, key, rid, answer),
                             request_id=rid, timeout=self.request_timeout, retries=self.retries)
        except Exception as exc:  # closed bus, id still pending: never leave the pad stuck
            log.warning("%s not sent: %s", action, exc)
            self.busy = False
            self._say(error_text("offline", "", self.lang), error=True)
            self.dispatch("on_result", action, False, self.message)
            return False
        return True

    def _answered(self, action: str, args: dict[str, Any], key: str, rid: str, answer: Any) -> None:
        self.busy = False
        if isinstance(answer, Exception):
            self._unanswered = (key, rid)
            self._say(error_text("timeout", str(answer), self.lang), error=True)
            self.dispatch("on_result", action, False, self.message)
            return
        self._unanswered = None
        if not answer.get("ok"):
            err = answer.get("error") or {}
            self._say(error_text(str(err.get("code")), str(err.get("message") or ""), self.lang,
                                 number=args.get("number", ""), counter=self.counter_id), error=True)
            self.dispatch("on_result", action, False, self.message)
            return
        result = answer.get("result") or {}
        self._apply_result(action, result)
        self._say(done_text(action, result, self.desk.site, self.lang))
        self.dispatch("on_result", action, True, self.message)
        if action in ("complete", "no_show") and result.get("ticket"):
            self._offer_undo(action, result["ticket"])
        elif action == "undo":
            self._clear_undo()
            self.dispatch("on_restored", result.get("ticket") or {})
        elif action not in ("reprint", "sign_in", "set_dossier"):
            self._clear_undo()  # the counter moved on: the hub would refuse it now
        if action == "complete" and result.get("ticket"):
            self.dispatch("on_completed", result["ticket"])

    def _apply_result(self, action: str, result: dict[str, Any]) -> None:
        if "counter" in result:
            self.apply_counter(result["counter"])
        elif action in ("call_next", "call_ticket", "recall", "undo"):
            self.ticket = result.get("ticket")  # None: nobody waiting (call_next finished the last one)
        elif action in ("complete", "no_show", "transfer"):
            self.ticket = None
        elif action == "set_dossier" and self.ticket and (result.get("ticket") or {}).get("id") == self.ticket.get("id"):
            self.ticket = result["ticket"]

    # -- undo --------------------------------------------------------------------------------------
    def _offer_undo(self, action: str, ticket: dict[str, Any]) -> None:
        self._clear_undo()
        if self.undo_s <= 0:
            return
        self.undo_ticket = {"id": ticket.get("id"), "number": ticket.get("number", ""), "action": action}
        self._undo_deadline = time.monotonic() + self.undo_s
        self.undo_left = math.ceil(self.undo_s)
        self._undo_ticker = Clock.schedule_interval(self._undo_tick, min(0.25, self.undo_s / 4))

    def _undo_tick(self, *_: Any) -> None:
        left = self._undo_deadline - time.monotonic()
        self.undo_left = max(0, math.ceil(left))
        if left <= 0:
            self._clear_undo()

    def _clear_undo(self) -> None:
        if self._undo_ticker is not None:
            self._undo_ticker.cancel()
            self._undo_ticker = None
        self.undo_ticket = None
        self.undo_left = 0

    def _say(self, text: str, error: bool = False) -> None:
        self.message, self.message_is_error = text, error

    def say(self, text: str, error: bool = False) -> None:
        """Show a message of our own (e.g. the digits typed on a keypad)."""
        self._say(text, error)

    def on_result(self, action: str, ok: bool, text: str) -> None:
        """Default handler (Kivy needs one per event)."""

    def on_completed(self, ticket: dict[str, Any]) -> None:
        """Default handler."""

    def on_restored(self, ticket: dict[str, Any]) -> None:
        """Default handler (an undo succeeded; ``ticket`` is called here again)."""
