"""Wiring: the view-model with its real adapters (MQTT, printer, voice), and the Kivy App."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.core.window import Window

from devices.printer import PrinterMonitor, PrinterService, parse_printer_url
from mqtt_bus.client import BusClient
from mqtt_bus.clock_probe import ClockProbe
from mqtt_bus.contract import Role
from mqtt_bus.version import VERSION
from qms.context import AppContext
from ui_kit.live_config import LiveConfig

from .adapters import KivyScheduler, ThreadedPinChecker, ip_address, kivy_post
from .cli_args import DEFAULT_CLIENT_ID
from .hublink import REQUEST_TIMEOUT_S, HubLink
from .menu import kiosk_view
from .printing import KioskPrinter, printer_defaults
from .reprint import Reprints
from .ui.root import KioskRoot
from .viewmodel import KioskSettings, KioskViewModel
from .voice import SilentSpeaker, Speaker

if TYPE_CHECKING:
    from qms.config import SiteConfig

log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    """Everything one kiosk runs; ``close()`` stops it all."""

    vm: KioskViewModel
    link: HubLink
    service: PrinterService
    printer: KioskPrinter
    monitor: PrinterMonitor
    speaker: Speaker | SilentSpeaker

    def root(self) -> KioskRoot:
        """A new root widget over the view-model."""
        return KioskRoot(self.vm, tz=ZoneInfo(self.vm.site.config.site.timezone))

    def close(self) -> None:
        """Stop polling, printing, speaking; publish offline status and disconnect."""
        self.monitor.stop()
        self.printer.close()
        self.speaker.stop()
        self.link.close()


def settings_from(ctx: AppContext, **overrides: Any) -> KioskSettings:
    """Kiosk settings from ``config.kiosk`` (tests and the bench shorten timings with ``overrides``)."""
    k = ctx.plain_config.kiosk
    base = KioskSettings(idle_timeout_s=k.idle_timeout_s, ask_priority=k.ask_priority,
                         priority_on_welcome=k.priority_on_welcome, admin_pin_hash=k.admin_pin_hash,
                         enforce_hours=ctx.site.enforce_hours,  # hours.enforce, off with --any-time
                         screen_diagonal_in=k.screen_diagonal_in)
    return replace(base, **overrides)


def build_kiosk(ctx: AppContext, broker_url: str, *, client_id: str = DEFAULT_CLIENT_ID, voice: bool = True,
                monitor_interval: float = 2.0, request_timeout: float = REQUEST_TIMEOUT_S,
                **overrides: Any) -> Kiosk:
    """Create and start the kiosk's parts (the MQTT client connects in the background)."""
    cfg = ctx.plain_config  # read-only, no pydantic (a warm config cache)
    site = kiosk_view(cfg)
    spec = parse_printer_url(ctx.printer_url, defaults=printer_defaults(cfg.printer.width_mm, cfg.printer.mode))
    service = PrinterService(spec)
    printer = KioskPrinter(service, site, kivy_post)
    speaker: Speaker | SilentSpeaker = Speaker() if voice and cfg.kiosk.voice else SilentSpeaker()
    client = BusClient(broker_url, ctx.site.site, client_id, Role.KIOSK, transport="lean")  # paho for mqtts://
    ClockProbe(client).start()  # clock_offset_s in status/{client_id}, for the web app's devices page
    settings = settings_from(ctx, **overrides)
    info = {"client_id": client_id, "version": VERSION, "ip": ip_address(), "broker": str(client.address),
            "printer": spec.url}
    vm_ref: list[KioskViewModel] = []

    def connection(connected: bool, hub_online: bool | None) -> None:
        if vm_ref:
            vm_ref[0].set_connected(connected)
            vm_ref[0].set_hub_online(hub_online)

    def fault(hub_fault: dict[str, str] | None) -> None:
        if vm_ref:
            vm_ref[0].set_hub_fault(hub_fault)

    link = HubLink(client, on_change=connection, timeout=request_timeout, on_fault=fault)
    vm = KioskViewModel(site, link, printer, speaker, KivyScheduler(), settings,
                        pin_checker=ThreadedPinChecker(settings.admin_pin_hash, kivy_post), info=info)
    vm_ref.append(vm)

    def printer_changed(status: dict[str, str]) -> None:  # any thread
        log.info("printer %s: %s", status.get("state"), status.get("detail"))
        link.publish_printer(status)
        kivy_post(lambda: vm.set_printer_status(status))

    def new_config(config: SiteConfig) -> None:  # on the UI thread: a saved change, without a restart
        view = kiosk_view(config)
        printer.site = view
        vm.set_site(view)

    vm.live_config = LiveConfig(link.bus, cfg, new_config, origin=ctx.config_origin)  # type: ignore[attr-defined]

    def commanded(_topic: str, payload: dict[str, Any]) -> None:  # the hub's command/{kiosk id} (docs/protocol.md)
        if payload.get("command") == "printer_test":
            log.warning("test page asked by %s through the hub", payload.get("by"))
            printer.test_print(lambda result: log.info("test page: %s", "printed" if result.ok else result.message))

    link.bus.subscribe(link.bus.topics.command(client_id), commanded)
    vm.reprints = Reprints(link.bus, printer, client_id)  # type: ignore[attr-defined]  # technician screen
    service.add_listener(printer_changed)
    monitor = PrinterMonitor(service, interval=monitor_interval).start()
    link.start()
    return Kiosk(vm, link, service, printer, monitor, speaker)


class KioskApp(App):
    """The citizen kiosk. In kiosk mode the window cannot be closed from the keyboard."""

    title = "QMS kiosk"

    def __init__(self, kiosk: Kiosk, kiosk_mode: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.kiosk_mode = kiosk_mode
        self.exit_request: str | None = None
        kiosk.vm.on_exit = self.request_exit

    def build(self) -> KioskRoot:
        Window.clearcolor = (1, 1, 1, 1)
        Window.bind(on_request_close=self._on_request_close)
        return self.kiosk.root()

    def on_start(self) -> None:
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: log.info("kiosk: first screen drawn (%s)", self.kiosk.vm.screen), 0)

    def _on_request_close(self, *_: object, **__: object) -> bool:
        """True keeps the window open: only the technician screen may close the app."""
        return self.kiosk_mode and self.exit_request is None

    def request_exit(self, how: str) -> None:
        """``restart`` or ``quit``, from the technician screen."""
        log.warning("technician asked to %s the kiosk", how)
        self.exit_request = how
        self.stop()

    def on_stop(self) -> None:
        root = self.root
        if isinstance(root, KioskRoot):
            root.stop()
