"""The kiosk's state machine, without a window: welcome → field → procedure → [priority] → ticket.

Screens bind to its Kivy properties and call its methods; it talks to the hub, the printer and
the speaker only through the ports in :mod:`kiosk.ports`, so tests drive it with fakes and a
manual clock. Every method runs on the UI thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)

from mqtt_bus.contract import ErrorCode
from ui_kit.site_view import SiteView

from .menu import needs_procedure_step, only_procedure, priority_items
from .opening import Closed, center_closed, closed_services, closed_title, day_text, spoken_time
from .ports import (
    Cancel,
    Choice,
    HubPort,
    PinChecker,
    PrinterPort,
    PrintResult,
    Response,
    Scheduler,
    SpeakerPort,
)
from .wording import counters_text, recorded_prompt, spoken_number, t

log = logging.getLogger(__name__)
SCREENS = ("welcome", "field", "procedure", "priority", "issuing", "ticket", "hub_down", "refused", "pin", "admin")
CHOOSING = ("field", "procedure", "priority")
FINISHED = ("ticket", "hub_down", "refused")  # the next touch is probably the next citizen's
PRINTABLE = ("ok", "paper_low")


@dataclass(frozen=True)
class KioskSettings:
    """Timings and switches (from ``config.kiosk`` plus fixed kiosk constants)."""

    idle_timeout_s: float = 45
    ask_priority: bool = True
    priority_on_welcome: bool = False  # the config's default is true: pictograms on the welcome screen
    admin_pin_hash: str | None = None
    result_s: float = 15  # the ticket screen goes home by itself
    remember_s: float = 30  # longer when the number must be written down
    message_s: float = 20  # hub-down and refusal screens
    issuing_delay_s: float = 0.4  # show "please wait" only when the hub is slow
    paper_first_s: float = 0.15  # the UI waits this long for the printer to get going
    request_watchdog_s: float = 12  # beyond the bus's own timeout and retries
    print_watchdog_s: float = 20
    tap_guard_s: float = 0.3  # taps right after a screen change belong to the previous screen
    pin_attempts: int = 5
    pin_lockout_s: float = 60
    enforce_hours: bool = False  # the app sets the hub's rule (hours.enforce, off with --any-time)
    screen_diagonal_in: float = 21.5  # the touchscreen's size: text heights in millimetres
    closed_prompt_s: float = 8  # a tap on the closed screen repeats the spoken opening time at most this often


class KioskViewModel(EventDispatcher):
    """State of the citizen kiosk."""

    screen = OptionProperty("welcome", options=SCREENS)
    lang = StringProperty("vi")
    busy = BooleanProperty(False)
    service = StringProperty("")
    procedure = StringProperty("")
    priority = StringProperty("normal")
    ticket = ObjectProperty(None, allownone=True)
    print_state = OptionProperty("none", options=("none", "printing", "printed", "failed"))
    error_code = StringProperty("")
    error_detail = StringProperty("")
    printer_state = StringProperty("unknown")
    printer_detail = StringProperty("")
    connected = BooleanProperty(False)
    hub_online = ObjectProperty(None, allownone=True)
    hub_fault = ObjectProperty(None, allownone=True)  # {"code", "message"}: the hub is up but cannot serve
    pin = StringProperty("")
    pin_message = StringProperty("")
    pin_checking = BooleanProperty(False)
    admin_message = StringProperty("")
    last_number = StringProperty("")
    info = DictProperty({})
    closed = ObjectProperty(None, allownone=True)  # a Closed while no service takes tickets (hours enforced)
    closed_now = ObjectProperty((), allownone=False)  # ids of services outside their hours now
    site_version = NumericProperty(0)  # counts configs applied live (``set_site``): every screen redraws

    def __init__(self, site: SiteView, hub: HubPort, printer: PrinterPort, speaker: SpeakerPort,
                 scheduler: Scheduler, settings: KioskSettings, *, pin_checker: PinChecker | None = None,
                 on_exit: Callable[[str], None] | None = None, info: dict[str, str] | None = None,
                 local_now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.site = site
        self.hub = hub
        self.printer = printer
        self.speaker = speaker
        self.clock = scheduler
        self.settings = settings
        self.pin_checker = pin_checker
        self.on_exit = on_exit
        self.lang = site.default_lang
        self.info = dict(info or {})
        self._changed_at = -1e9
        self._timer: Cancel | None = None
        self._later: Cancel | None = None
        self._rid: str | None = None
        self._choice: Choice | None = None
        self._pin_failures = 0
        self._locked_until = 0.0
        tz = ZoneInfo(site.config.site.timezone)
        self.local_now = local_now or (lambda: datetime.now(tz))
        self._closed_said = -1e9
        self.refresh_hours()

    # -- status from the adapters ---------------------------------------------------------------
    def set_site(self, site: SiteView) -> None:
        """A new config from the hub's catalogue (live apply): redraw the screen shown.

        A citizen mid-way keeps going; one whose service or procedure is gone starts again at home.
        """
        self.site = site
        services = {s.id: s for s in site.config.services}
        gone = (self.service and self.service not in services) or (
            self.procedure and self.service in services
            and self.procedure not in {p.id for p in services[self.service].procedures})
        if gone and self.screen in ("procedure", "priority"):
            self._home(keep_lang=True)
        self.refresh_hours()
        self.site_version += 1

    def set_connected(self, connected: bool) -> None:
        """The broker connection changed."""
        self.connected = connected

    def set_hub_online(self, online: bool | None) -> None:
        """The hub's retained status changed."""
        self.hub_online = online

    def set_hub_fault(self, fault: dict[str, str] | None) -> None:
        """The hub announces a fault (the welcome screen asks citizens to wait for staff), or its end."""
        self.hub_fault = fault

    def set_printer_status(self, status: dict[str, str]) -> None:
        """The printer's state changed (a ``state/device`` payload)."""
        self.printer_state = status.get("state", "error")
        self.printer_detail = status.get("detail", "")

    def refresh_hours(self) -> None:
        """Recompute what is closed now (the screen calls this every second; cheap)."""
        if not self.settings.enforce_hours:
            closed, services = None, ()
        else:
            local = self.local_now()
            closed, services = center_closed(self.site, local), tuple(closed_services(self.site, local))
        if closed != self.closed:
            log.info("kiosk: %s", f"closed ({closed.reason}), opens {closed.opens}" if closed else "open")
            self.closed = closed
            if closed is not None and self.screen == "welcome":
                self._say_closed()
        if services != tuple(self.closed_now):
            self.closed_now = services

    @property
    def hub_ready(self) -> bool:
        """The hub link is connected and the hub not known to be down: the big button works.

        (The link's own state, as ``_issue`` checks it; ``connected`` changes with it and redraws.)
        """
        return bool(self.hub.connected) and self.hub_online is not False

    def opening_texts(self) -> tuple[str, str, str]:
        """For the closed screen: title, the opening time ("07:30"), its day ("hôm nay")."""
        closed: Closed | None = self.closed
        if closed is None:
            return "", "", ""
        title = closed_title(closed, self.lang)
        if closed.opens is None:
            return title, "", ""
        return title, f"{closed.opens:%H:%M}", day_text(closed.opens, self.local_now().date(), self.lang)

    def _say_closed(self) -> None:
        self._closed_said = self.clock.now()
        closed: Closed | None = self.closed
        if closed is None:
            return
        title = closed_title(closed, self.lang)
        if closed.opens is None:
            self._say("say.closed_unknown", title=title)
        else:
            self._say("say.closed", title=title, time=spoken_time(closed.opens, self.lang),
                      day=day_text(closed.opens, self.local_now().date(), self.lang))

    @property
    def printer_ready(self) -> bool:
        """True unless the printer is known to be unable to print."""
        return self.printer_state in (*PRINTABLE, "unknown")

    # -- navigation -----------------------------------------------------------------------------
    def _accept(self) -> bool:
        """A tap counts unless a request is in flight or the screen has just changed under the finger."""
        return not self.busy and self.clock.now() - self._changed_at >= self.settings.tap_guard_s

    def touched(self) -> None:
        """Any touch on the screen: the citizen is still there (the request watchdog stays armed).

        On the closed screen a touch says again when the center opens.
        """
        if not self.busy:
            self._arm_timer()
        if (self.closed is not None and self.screen == "welcome"
                and self.clock.now() - self._closed_said >= self.settings.closed_prompt_s):
            self._say_closed()

    def choose_language(self, code: str) -> None:
        """A language button on the welcome screen."""
        if code in self.site.languages and self._accept():
            self.lang = code
            self._arm_timer()
            if self.closed is not None:
                self._say_closed()
            else:
                self._say("say.welcome")

    @property
    def priority_on_welcome(self) -> bool:
        """True when the welcome screen offers the priority pictograms (no question later)."""
        return self.settings.ask_priority and self.settings.priority_on_welcome and bool(
            priority_items(self.site, self.lang))

    def take_number(self, priority: str = "normal") -> None:
        """The big "Lấy số thứ tự" button, or a priority pictogram on the welcome screen."""
        if (self.screen != "welcome" or self.hub_fault or self.closed is not None or not self.hub_ready
                or not self._accept()):
            return
        known = {item.id for item in priority_items(self.site, self.lang)}
        self.priority = priority if priority in known else "normal"
        self._go("field")

    def choose_service(self, service_id: str) -> None:
        """A field (lĩnh vực) button."""
        if self.screen != "field" or service_id in self.closed_now or not self._accept():
            return
        self.service, self.procedure = service_id, ""
        if needs_procedure_step(self.site, service_id):
            self._go("procedure")
        else:
            self.procedure = only_procedure(self.site, service_id)
            self._after_procedure()

    def choose_procedure(self, procedure_id: str) -> None:
        """A procedure (thủ tục) button."""
        if self.screen == "procedure" and self._accept():
            self.procedure = procedure_id
            self._after_procedure()

    def not_sure(self) -> None:
        """ "Không biết chọn gì?": a ticket for the guidance desk at once."""
        guidance = self.site.guidance_service
        if guidance and self.screen in CHOOSING and self._accept():
            self.service, self.procedure = guidance, ""
            self._issue()

    def choose_priority(self, priority_id: str) -> None:
        """A priority button, or "normal" for "Không / No"."""
        if self.screen == "priority" and self._accept():
            self.priority = priority_id or "normal"
            self._issue()

    def clear_priority(self) -> None:
        """Undo the priority pictogram chosen on the welcome screen (the citizen goes on as normal)."""
        if self.screen in ("field", "procedure") and self.priority != "normal" and self._accept():
            self.priority = "normal"
            self._arm_timer()

    def _after_procedure(self) -> None:
        if self.settings.ask_priority and not self.priority_on_welcome and priority_items(self.site, self.lang):
            self._go("priority")
        else:
            self._issue()

    def back(self) -> None:
        """One step back (Home from the first step and from results)."""
        if not self._accept():
            return
        if self.screen == "priority" and needs_procedure_step(self.site, self.service):
            self._go("procedure")
        elif self.screen in ("procedure", "priority"):
            self._go("field")
        else:
            self._home(keep_lang=self.screen not in FINISHED)

    def home(self) -> None:
        """Home: start again; the language stays mid-way, and resets once this citizen is done."""
        if self._accept():
            self._home(keep_lang=self.screen not in FINISHED)

    def _home(self, keep_lang: bool) -> None:
        self.service, self.procedure, self.priority = "", "", "normal"
        self.ticket, self.print_state, self.error_code, self.error_detail = None, "none", "", ""
        self.pin, self.pin_message, self.admin_message = "", "", ""
        if not keep_lang:
            self.lang = self.site.default_lang
        self._go("welcome")

    def _go(self, screen: str) -> None:
        self.screen = screen
        self._changed_at = self.clock.now()
        self._arm_timer()
        prompt = {"field": "say.field", "procedure": "say.procedure", "priority": "say.priority"}.get(screen)
        if prompt:
            self._say(prompt)

    # -- timers -------------------------------------------------------------------------------------
    def _arm_timer(self) -> None:
        if self._timer:
            self._timer()
            self._timer = None
        s = self.settings
        delay: float | None = None
        if self.screen in (*CHOOSING, "pin", "admin"):
            delay = s.idle_timeout_s
        elif self.screen == "welcome":
            delay = s.idle_timeout_s if self.lang != self.site.default_lang else None
        elif self.screen in ("hub_down", "refused"):
            delay = s.message_s
        elif self.screen == "ticket":
            delay = {"printed": s.result_s, "failed": s.remember_s}.get(self.print_state, s.print_watchdog_s)
        if delay is not None:
            self._timer = self.clock.schedule(self._timed_out, delay)

    def _timed_out(self) -> None:
        self._timer = None
        if not self.busy:
            self._home(keep_lang=False)

    # -- issuing ----------------------------------------------------------------------------------
    def _issue(self) -> None:
        choice = Choice(self.service, self.procedure, self.priority or "normal", self.lang)
        if not self.hub.connected or self.hub_online is False:
            self._fail("hub_down", "not_connected" if not self.hub.connected else "hub_offline")
            return
        self.busy = True
        self._choice = choice
        rid = self._rid = uuid.uuid4().hex
        if self._timer:
            self._timer()
            self._timer = None
        self._later = self.clock.schedule(lambda: self._slow(rid), self.settings.issuing_delay_s)
        self._timer = self.clock.schedule(lambda: self._answered(rid, TimeoutError("no answer")),
                                          self.settings.request_watchdog_s)
        self.hub.issue(choice, rid, lambda response: self._answered(rid, response))

    def _slow(self, rid: str) -> None:
        if self._rid == rid and self.busy:
            self.screen = "issuing"
            self._changed_at = self.clock.now()

    def _answered(self, rid: str, response: Response) -> None:
        if rid != self._rid:
            return  # an answer to a request we gave up on
        self._rid = None
        for cancel in (self._later, self._timer):
            if cancel:
                cancel()
        self._later = self._timer = None
        if isinstance(response, dict) and response.get("ok"):
            self._issued(response["result"]["ticket"])  # still busy until the ticket is on screen
            return
        self.busy = False
        if isinstance(response, Exception):
            self._fail("hub_down", type(response).__name__)
        elif (response.get("error") or {}).get("code") == ErrorCode.STORE_FAULT:  # up but cannot serve: as if down
            self._fail("hub_down", ErrorCode.STORE_FAULT)
        else:
            error = response.get("error") or {}
            self._fail("refused", str(error.get("code") or ErrorCode.INTERNAL_ERROR), str(error.get("message") or ""))

    def _fail(self, screen: str, code: str, detail: str = "") -> None:
        self.error_code, self.error_detail = code, detail
        self._go(screen)
        self._say("say.hub_down" if screen == "hub_down"
                  else "say.clock_untrusted" if code == ErrorCode.CLOCK_UNTRUSTED else "say.refused")

    def _issued(self, ticket: dict[str, Any]) -> None:
        """Paper first: the printer renders while the UI waits (the citizen waits for paper, not pixels).

        The ticket screen follows when the job is done or after ``paper_first_s``, whichever is first;
        the buttons stay disabled meanwhile.
        """
        self.ticket = ticket
        self.last_number = str(ticket.get("number", ""))
        self.print_state = "printing"
        choice = self._choice or Choice(self.service, self.procedure, self.priority, self.lang)
        tid = ticket.get("id")

        def show() -> None:
            if self._later:
                self._later()
                self._later = None
            if self.ticket is ticket and self.screen != "ticket":
                self.busy = False
                self._go("ticket")

        def printed(result: PrintResult) -> None:
            show()
            self._printed(tid, result)

        self._later = self.clock.schedule(show, self.settings.paper_first_s)
        self.printer.print_ticket(ticket, choice, printed)

    def _printed(self, ticket_id: object, result: PrintResult) -> None:
        if result.status:
            self.set_printer_status(result.status)
        if self.screen != "ticket" or not self.ticket or self.ticket.get("id") != ticket_id:
            return
        self.print_state = "printed" if result.ok else "failed"
        self._arm_timer()
        number = spoken_number(self.last_number, self.lang)
        if result.ok:
            counters = counters_text(self.site.counter_names(self.service, self.lang), self.lang)
            self._say("say.ticket", number=number, counters=counters)
        else:
            self._say("say.remember", number=number)

    def _say(self, key: str, **values: object) -> None:
        """A prompt in the citizen's language: the language folder's recording when it has one."""
        clip = None if values else recorded_prompt(f"kiosk.{key}", self.lang)
        if clip:
            self.speaker.say(t(key, self.lang, **values), self.lang, clip=clip)
        else:
            self.speaker.say(t(key, self.lang, **values), self.lang)

    # -- technician screen --------------------------------------------------------------------------
    def open_admin(self) -> None:
        """The hidden long press: ask for the PIN (nothing happens when no PIN is configured)."""
        if self.settings.admin_pin_hash and self.screen == "welcome" and not self.busy:
            self.pin, self.pin_message = "", ""
            self._go("pin")

    def pin_digit(self, digit: str) -> None:
        """A key of the PIN pad."""
        if self.screen == "pin" and digit.isdigit() and len(self.pin) < 12 and not self.pin_checking:
            self.pin += digit
            self.pin_message = ""
            self._arm_timer()

    def pin_erase(self) -> None:
        """Clear the PIN typed so far."""
        self.pin = ""
        self._arm_timer()

    def pin_submit(self) -> None:
        """Check the PIN (off the UI thread)."""
        if self.screen != "pin" or self.pin_checking or not self.pin:
            return
        wait = self._locked_until - self.clock.now()
        if wait > 0:
            self.pin, self.pin_message = "", t("pin.locked", self.lang, s=int(wait) + 1)
            return
        pin, self.pin = self.pin, ""
        self.pin_checking = True
        self.pin_message = t("pin.checking", self.lang)
        checker = self.pin_checker or (lambda _pin, done: done(False))
        checker(pin, self._pin_checked)

    def _pin_checked(self, ok: bool) -> None:
        self.pin_checking = False
        if self.screen != "pin":
            return
        if ok:
            self._pin_failures = 0
            self.pin_message = ""
            self._go("admin")
            return
        self._pin_failures += 1
        if self._pin_failures >= self.settings.pin_attempts:
            self._pin_failures = 0
            self._locked_until = self.clock.now() + self.settings.pin_lockout_s
            self.pin_message = t("pin.locked", self.lang, s=int(self.settings.pin_lockout_s))
        else:
            self.pin_message = t("pin.wrong", self.lang)
        self._arm_timer()

    def admin_test_print(self) -> None:
        """Print the test page."""
        self._admin_print(self.printer.test_print, "admin.test_done")

    def admin_reprint(self) -> None:
        """Print the last ticket again."""
        self._admin_print(self.printer.reprint_last, "admin.reprint_done")

    def _admin_print(self, action: Callable[[Callable[[PrintResult], None]], None], ok_key: str) -> None:
        if self.screen != "admin":
            return
        self.admin_message = t("admin.working", self.lang)
        self._arm_timer()

        def done(result: PrintResult) -> None:
            if result.status:
                self.set_printer_status(result.status)
            self.admin_message = t(ok_key, self.lang) if result.ok else t("admin.print_failed", self.lang,
                                                                           detail=result.message)
        action(done)

    def admin_exit(self, how: str) -> None:
        """Restart or quit the app (only from the technician screen)."""
        if self.screen == "admin" and self.on_exit is not None:
            self.on_exit(how)

    def admin_close(self) -> None:
        """Leave the technician screen."""
        if self.screen in ("admin", "pin"):
            self._home(keep_lang=False)
