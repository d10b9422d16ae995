"""The site config file, as typed models. The field descriptions are the documentation."""

from __future__ import annotations

import zoneinfo
from difflib import get_close_matches
from functools import cache
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .checks import cross_check
from .errors import Problems, format_path
from .fields import (
    BrokerUrl,
    DateSpec,
    HolidaySpec,
    Id,
    LangCode,
    PeriodSpec,
    PinHash,
    PrinterUrl,
    Text,
    TextList,
    WebUrl,
    Weekday,
    Whole,
    fail,
    quoted,
)
from .reading import SiteConfigReading


class Model(BaseModel):
    """Base of every config section: unknown keys are errors, numbers are accepted as text."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, str_strip_whitespace=True)


# ---- site ---------------------------------------------------------------------------------------


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class SiteInfo(Model):
    """Who this center is."""

    id: Id = Field(description="Short id of the center, used as the MQTT topic root qms/v1/{id}; [a-z0-9-].")
    name: Text = Field(description="Full name of the center, printed on tickets and shown on screens.")
    timezone: str = Field("Asia/Ho_Chi_Minh", description="IANA time zone of the center.")
    languages: list[LangCode] = Field(
        ["vi", "en"], min_length=1, description="Languages offered on the kiosk; the first is the default."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            close = get_close_matches(value, sorted(_timezones()), n=1, cutoff=0.8)
            hint = f' or did you mean "{close[0]}"?' if close else ""
            raise fail(f'unknown time zone {quoted(value)}; Vietnam uses "Asia/Ho_Chi_Minh"{hint}') from None
        return value

    @field_validator("languages")
    @classmethod
    def _has_vi(cls, value: list[str]) -> list[str]:
        if "vi" not in value:
            raise fail('must include "vi" (every text has a Vietnamese version)')
        dup = sorted({x for x in value if value.count(x) > 1})
        if dup:
            raise fail(f"language {quoted(dup[0])} is listed twice")
        return value


# ---- hours and queue ----------------------------------------------------------------------------


class OpeningHoursCfg(Model):
    """Days and periods when tickets are given."""

    weekdays: list[Weekday] = Field(
        ["mon", "tue", "wed", "thu", "fri"],
        min_length=1,
        description="Open days: mon tue wed thu fri sat sun (thứ Hai … Chủ nhật).",
    )
    periods: list[PeriodSpec] = Field(
        min_length=1, description='Opening periods of each open day, e.g. ["07:30-11:30", "13:30-17:00"].'
    )

    @model_validator(mode="after")
    def _no_overlap(self) -> OpeningHoursCfg:
        ordered = sorted(enumerate(self.periods), key=lambda ip: ip[1][0])
        for (_, a), (j, b) in pairwise(ordered):
            if b[0] < a[1]:
                raise Problems([(("periods", j), "overlaps another period; periods must not overlap")])
        return self


class CenterHoursCfg(OpeningHoursCfg):
    """The center's opening hours."""

    enforce: bool = Field(
        True, description="true: the kiosk gives no tickets outside opening hours; false: it always does."
    )
    holidays: list[HolidaySpec] = Field(
        [],
        description='Closed dates (ngày nghỉ lễ), one per entry: "2027-09-02 Quốc khánh" or a range '
        '"2027-02-05..2027-02-10 Tết Nguyên đán"; the name is shown on the kiosk.',
    )
    extra_days: list[DateSpec] = Field(
        [], description='Working days outside weekdays (ngày làm bù), e.g. ["2027-02-20"], with the same periods.'
    )


class QueueCfg(Model):
    """How citizens are called."""

    policy: Literal["strict", "ratio", "ageing"] = Field(
        "ratio",
        description="strict: priority citizens always first; ratio: ratio_normal normal calls between two "
        "priority calls; ageing: priority citizens get ageing_bonus_min minutes of head start.",
    )
    ratio_normal: Whole = Field(2, ge=1, le=20, description="ratio: normal calls between two priority calls.")
    ageing_bonus_min: Whole = Field(15, ge=0, le=240, description="ageing: head start of a priority citizen.")
    max_recalls: Whole = Field(
        2, ge=0, le=10, description="How often a counter may call the same ticket again."
    )
    default_service_min: float = Field(
        5, gt=0, le=240, description="Minutes per citizen used for the wait estimate before there is history."
    )
    estimate_window: Whole = Field(
        20, ge=1, le=500, description="How many recent services per service the wait estimate averages."
    )
    preferred_max_wait_min: float = Field(
        20, ge=0, le=480, description="A counter calls its first (preferred) service first, unless a citizen of "
        "another of its services has waited this long: then the longest waiting goes first. 0: first come, "
        "first served across the counter's services.",
    )
    staffed_window_min: float = Field(
        15, ge=1, le=480, description="Wait estimates count an open counter as staffed while an officer is signed "
        "in, a citizen is at it, or for this long after its last call.",
    )


class PriorityCfg(Model):
    """A kind of priority citizen (normal citizens need no entry)."""

    id: Id = Field(description='Id of the priority kind; "normal" is reserved.')
    name: Text = Field(description="Label on the kiosk button.")
    icon: str | None = Field(None, description="Icon name for the kiosk.")

    @field_validator("id")
    @classmethod
    def _not_normal(cls, value: str) -> str:
        if value == "normal":
            raise fail('"normal" is reserved for citizens without priority; choose another id')
        return value


# ---- services -----------------------------------------------------------------------------------


class NumbersCfg(Model):
    """Ticket numbering of one service; numbers restart every day."""

    start: Whole = Field(1, ge=0, le=999_999, description="First number of the day.")
    end: Whole = Field(999, ge=0, le=999_999, description="Last number of the day.")
    pad: Whole = Field(3, ge=1, le=6, description="Digits printed, e.g. 3 gives A007.")
    wrap: bool = Field(
        False, description="After end: true starts again at start; false stops giving tickets."
    )

    @model_validator(mode="after")
    def _consistent(self) -> NumbersCfg:
        if self.end < self.start:
            raise Problems([(("end",), f"end ({self.end}) is smaller than start ({self.start}); raise end")])
        digits = len(str(self.end))
        if self.pad < digits:
            raise Problems(
                [
                    (
                        ("pad",),
                        f"pad {self.pad} is too small for end {self.end}; use pad: {digits} or lower end",
                    )
                ]
            )
        return self


class ProcedureCfg(Model):
    """One administrative procedure (thủ tục) of a service."""

    id: Id = Field(description="Id of the procedure, unique in the whole file.")
    name: Text = Field(description="Name shown on the kiosk.")
    icon: str | None = Field(None, description="Icon name for the kiosk.")
    documents: TextList | None = Field(
        None, description="Papers to bring, shown on the kiosk and the ticket."
    )
    portal_url: WebUrl | None = Field(None, description="Page of the procedure on the public service portal.")
    service_min: float | None = Field(
        None, gt=0, le=480, description="Usual minutes per citizen, for wait estimates before there is history; "
        "empty = the service's service_min, else queue.default_service_min.",
    )


class ServiceCfg(Model):
    """A service (lĩnh vực): its own ticket letter, numbers and procedures."""

    id: Id = Field(description="Id of the service, used in topics and reports.")
    prefix: str = Field(description="Ticket letter: one capital letter A-Z, different for each service.")
    name: Text = Field(description="Name on the kiosk button, the ticket and the hall display.")
    icon: str | None = Field(None, description="Icon name for the kiosk.")
    numbers: NumbersCfg = Field(default_factory=NumbersCfg, description="Ticket numbering.")
    daily_quota: Whole | None = Field(None, ge=1, description="Most tickets per day; empty = no limit.")
    hours: OpeningHoursCfg | None = Field(None, description="Own opening hours; empty = the center's.")
    procedures: list[ProcedureCfg] = Field([], description="Procedures of this service.")
    service_min: float | None = Field(
        None, gt=0, le=480, description="Usual minutes per citizen, for wait estimates before there is history; "
        "empty = queue.default_service_min.",
    )

    @field_validator("prefix")
    @classmethod
    def _one_letter(cls, value: str) -> str:
        if len(value) != 1 or not ("A" <= value <= "Z"):
            hint = f'; did you mean "{value.upper()}"?' if len(value) == 1 and "a" <= value <= "z" else ""
            raise fail(f"prefix must be one capital letter A-Z, got {quoted(value)}{hint}")
        return value


class CounterCfg(Model):
    """A counter (quầy) and the services it calls, in order of preference."""

    id: Id = Field(description='Id of the counter, e.g. "1"; used in topics and on the counter pad.')
    name: Text = Field(description="Name shown on the hall display and spoken by the announcer.")
    services: list[Id] = Field(min_length=1, description="Service ids called here, most important first.")
    officers: list[str] = Field([], description="Names of the officers who usually work here.")
    status: Literal["open", "paused", "closed"] = Field("open", description="Status at start of day.")


# ---- devices ------------------------------------------------------------------------------------


class QrCfg(Model):
    """The QR code on the ticket."""

    content: Literal["portal", "tracking", "none"] = Field(
        "portal",
        description="portal: the procedure's portal_url (else portal_url below); tracking: tracking_url; "
        "none: no QR code.",
    )
    portal_url: WebUrl | None = Field("https://dichvucong.gov.vn", description="Fallback portal page.")
    tracking_url: str | None = Field(
        None,
        description='Address where a citizen follows the queue; "{ticket}" is replaced by the ticket id.',
    )

    @model_validator(mode="after")
    def _tracking_needs_url(self) -> QrCfg:
        if self.content == "tracking" and not self.tracking_url:
            raise Problems([(("tracking_url",), 'needed when content is "tracking"; set it or use "portal"')])
        return self


class PrinterCfg(Model):
    """The kiosk's ticket printer (a device may override it with --printer)."""

    url: PrinterUrl = Field(
        "virtual://", description="serial://, tcp://, usb://, file://, virtual:// or none://."
    )
    width_mm: Literal[58, 80] = Field(80, description="Paper width in millimetres.")
    mode: Literal["hybrid", "glyphs", "text", "raster"] = Field(
        "hybrid", description="hybrid: Vietnamese as images, number and QR native (recommended); "
        "glyphs: accented letters downloaded to the printer, ~2 KB a ticket (if the test page reads right)."
    )
    qr: QrCfg = Field(default_factory=QrCfg, description="QR code on the ticket.")
    footer: Text | None = Field(None, description="Line at the bottom of each ticket.")


class KioskCfg(Model):
    """The citizen kiosk."""

    idle_timeout_s: Whole = Field(45, ge=5, le=600, description="Seconds before an unused screen goes home.")
    voice: bool = Field(True, description="Speak instructions to the citizen.")
    ask_priority: bool = Field(True, description="Ask whether the citizen has priority.")
    priority_on_welcome: bool = Field(
        True,
        description="true: priority citizens tap their pictogram on the welcome screen instead of the big "
        "button, so everyone gets a ticket in three taps; false: a priority question after the procedure.",
    )
    admin_pin_hash: PinHash | None = Field(
        None, description="Hash of the admin PIN (python -m qms.config.pin PIN); empty = admin screen off."
    )
    screen_diagonal_in: float = Field(
        21.5, ge=7, le=100, description="Touchscreen diagonal in inches (sizes the hint lines in millimetres)."
    )


class DisplayCfg(Model):
    """The hall display and announcer."""

    notice: Text | None = Field(None, description="Scrolling notice at the bottom of the display.")
    history: Whole = Field(6, ge=0, le=20, description="Recent calls listed on the display.")
    announce_repeat: Whole = Field(2, ge=1, le=5, description="How many times each call is spoken.")
    announce_mode: Literal["digits", "number"] = Field(
        "digits", description='digits: "A không không bảy"; number: "A bảy".'
    )
    announce_missed_s: Whole = Field(
        60, ge=0, le=3600, description="A call the display missed (broker crash, dropped link) and fetched "
        "afterwards is announced only if its counter still shows it and it is at most this many seconds old; "
        "0: never announce missed calls (the board still shows them).",
    )
    announce_policy: Literal["smart", "fifo"] = Field(
        "smart", description="smart: before speaking, drop calls no longer current (the counter moved on, "
        "paused, no-show); a backlog is said once each in one sentence with one chime; a recall is always said. "
        "fifo: every call in arrival order, with chime and repeats (the old way).",
    )


# ---- the whole file -----------------------------------------------------------------------------

DEFAULT_PRIORITIES = [
    PriorityCfg(
        id="elderly", name=Text({"vi": "Người cao tuổi (từ 60 tuổi)", "en": "Elderly (60+)"}), icon="elderly"
    ),
    PriorityCfg(
        id="disabled", name=Text({"vi": "Người khuyết tật", "en": "Person with disability"}), icon="disabled"
    ),
    PriorityCfg(
        id="pregnant", name=Text({"vi": "Phụ nữ mang thai", "en": "Pregnant woman"}), icon="pregnant"
    ),
]


class RateCfg(Model):
    """A token bucket: ``per_second`` on average, up to ``burst`` at once."""

    per_second: float = Field(20.0, gt=0, le=100_000, description="Average requests per second.")
    burst: Whole = Field(40, ge=1, le=100_000, description="Requests allowed at once after a quiet spell.")


class SecurityCfg(Model):
    """Who may ask the hub for what."""

    check_clients: bool = Field(
        True,
        description="true: the hub refuses requests outside a device's job, judged by its client id "
        "(kiosk-N issues tickets, counter-ID acts only for its counter, display-N only reads, monitor-NAME "
        "may do anything); false: any client may ask for anything (a closed test network only).",
    )
    request_rate: RateCfg = Field(
        default_factory=RateCfg,
        description="Requests each device (kiosk, pad, display) may send the hub: per_second on average, burst "
        "at once. Beyond it the device gets rate_limited (at most once a second) and the rest are dropped, "
        "so one flooding device cannot delay the others.",
    )
    monitor_request_rate: RateCfg = Field(
        default_factory=lambda: RateCfg(per_second=500, burst=1000),
        description="The same for the hub's own client and monitor-NAME tools (generous).",
    )
    request_queue: Whole = Field(
        100, ge=10, le=10_000,
        description="Requests of one device that may wait in the hub at once; more are dropped (the device retries).",
    )
    issue_per_minute: Whole = Field(
        10, ge=0, le=10_000,
        description="Most tickets one device (kiosk-N, or a pad) may issue over MQTT in any 60 s; the next gets "
        "rate_limited (the kiosk says: please wait a moment). A citizen pressing twice is fine. 0 = no limit. "
        "The CLI on the hub (qms ticket issue) is not limited.",
    )


class StoreCfg(Model):
    """How long the hub keeps its logs."""

    retention_days: Whole = Field(
        30, ge=0, le=3650,
        description="Days the hub keeps published events (the outbox, which devices may fetch again); older "
        "ones are pruned every 10 minutes, unpublished ones never. Tickets (the reports' data) are always kept. "
        "0 = keep forever (the store then grows ~400 MB a year).",
    )
    request_retention_days: Whole = Field(
        3, ge=1, le=3650,
        description="Days the hub keeps the answers of devices' requests, so that a retry with the same id gets "
        "the first answer (devices retry within a minute; 3 days covers a long weekend). Needs retention_days > 0.",
    )


class ClockCfg(Model):
    """When the hub trusts its board's clock (a Raspberry Pi has no real-time clock)."""

    max_step_s: Whole = Field(
        120, ge=5, le=3600,
        description="Seconds the clock may run ahead of the real time elapsed since the newest event on the "
        "same boot; more is a jump and issuing pauses (clock_untrusted) until it is corrected or confirmed "
        "with `qms clock trust`.",
    )
    max_back_s: Whole = Field(
        900, ge=0, le=86400,
        description="Seconds the clock may be behind the newest event (an NTP correction; time is held at the "
        "newest event); further behind, issuing pauses.",
    )
    max_gap_days: Whole = Field(
        14, ge=1, le=366,
        description="After a reboot: days the clock may be past the newest event (Tết closes ~10 days); "
        "further, issuing pauses until `qms clock trust`.",
    )


class SiteConfig(SiteConfigReading, Model):
    """One center's config file (config/commune.yaml)."""

    site: SiteInfo = Field(description="Who this center is.")
    broker: BrokerUrl = Field("embedded", description='"embedded" or "mqtt://[user:password@]host[:port]".')
    hours: CenterHoursCfg | None = Field(None, description="Opening hours; empty = always open.")
    queue: QueueCfg = Field(default_factory=QueueCfg, description="How citizens are called.")
    priorities: list[PriorityCfg] = Field(
        default_factory=lambda: [p.model_copy() for p in DEFAULT_PRIORITIES],
        description='Priority kinds (elderly, disabled, pregnant, ...); "normal" is implicit.',
    )
    services: list[ServiceCfg] = Field(min_length=1, description="Services, in kiosk order.")
    counters: list[CounterCfg] = Field(min_length=1, description="Counters.")
    guidance_service: Id | None = Field(
        None, description='Service of the "Không biết chọn gì? / Not sure" button; empty = no such button.'
    )
    printer: PrinterCfg = Field(default_factory=PrinterCfg, description="Ticket printer.")
    kiosk: KioskCfg = Field(default_factory=KioskCfg, description="Citizen kiosk.")
    display: DisplayCfg = Field(default_factory=DisplayCfg, description="Hall display.")
    security: SecurityCfg = Field(default_factory=SecurityCfg, description="Who may ask the hub for what.")
    store: StoreCfg = Field(default_factory=StoreCfg, description="How long the hub keeps its logs.")
    clock: ClockCfg = Field(default_factory=ClockCfg, description="When the hub trusts the board's clock.")

    @model_validator(mode="after")
    def _cross_check(self, info: ValidationInfo) -> SiteConfig:
        where = (info.context or {}).get("where", format_path)
        problems = cross_check(self, where)
        if problems:
            raise Problems(problems)
        return self
