"""What the citizen is told: please wait, the ticket (printed or to remember), and failures."""

from __future__ import annotations

from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget

from mqtt_bus.contract import ErrorCode

from ..menu import icon_path
from ..opening import day_text, next_opening, service_hours
from ..wording import ahead_text, counters_text, wait_text
from .frame import Env, header, page
from .theme import AMBER, GREEN, NAVY, NAVY_DARK, PAPER, RED, WHITE
from .widgets import Tile, bar, paint, text

NBSP = "\u00a0"


def _done_bar(env: Env, label_key: str = "ticket.done") -> Widget:
    m = env.m
    box = bar(m.nav_h + m.px(40), WHITE, padding=[m.px(24), m.px(20)])
    holder = AnchorLayout()
    holder.add_widget(Tile(env.t(label_key), "home", m.px(48), qid="done", on_tap=env.vm.home, bg=NAVY,
                           horizontal=True, icon_share=0.25, radius=m.px(20),
                           size_hint=(0.8 if m.portrait else 0.45, 1)))
    box.add_widget(holder)
    return box


def issuing(env: Env) -> Widget:
    """The hub is slow: say so (no buttons: the request is in flight)."""
    m = env.m
    body = BoxLayout(orientation="vertical", padding=[m.px(80)] * 4, spacing=m.px(40))
    body.add_widget(Image(source=icon_path("ticket"), color=NAVY, fit_mode="contain"))
    body.add_widget(text(env.t("issuing"), m.px(64), NAVY, bold=True, size_hint_y=0.6))
    return page(env, header(env, env.t("welcome.take"), "ticket"), body, None)


def ticket(env: Env) -> Widget:
    """The number, very large; where to go; how long; and whether to take the paper or remember."""
    vm, m = env.vm, env.m
    tk = vm.ticket or {}
    lang = vm.lang
    failed = vm.print_state == "failed"
    service_line = vm.site.service_name(vm.service, lang) if vm.service else ""
    proc_line = vm.site.procedure_name(vm.procedure, lang)

    number_box = BoxLayout(orientation="vertical", padding=[m.px(20)] * 4, spacing=m.px(6))
    number_box.add_widget(text(env.t("ticket.remember") if failed else env.t("ticket.your_number"), m.px(54),
                               RED if failed else NAVY, bold=True, size_hint_y=0.3))
    panel = BoxLayout(padding=[m.px(20), 0])
    paint(panel, AMBER, radius=m.px(36), border=RED if failed else None, border_w=m.px(8))
    big = text(str(tk.get("number", "")), m.px(330 if m.portrait else 300), NAVY_DARK, bold=True)
    big.qid = "number"
    panel.add_widget(big)
    number_box.add_widget(panel)
    prio = vm.site.priority_name(vm.priority, lang)
    if prio:
        number_box.add_widget(text(prio, m.px(40), NAVY, bold=True, size_hint_y=0.18))

    names = vm.site.counter_names(vm.service, lang)
    details = BoxLayout(orientation="vertical", padding=[m.px(30), m.px(10)], spacing=m.px(10))
    details.add_widget(text(service_line, m.px(44), NAVY, bold=True, size_hint_y=0.7))
    if proc_line:
        details.add_widget(text(proc_line, m.px(38), NAVY, size_hint_y=0.7))
    keep_together = [n.replace(" ", NBSP) for n in names]  # wrap between counter names, not inside one
    counters = text(env.t("ticket.counters", counters=counters_text(keep_together, lang)), m.px(56), NAVY_DARK,
                    bold=True)
    counters.qid = "counters"
    details.add_widget(counters)
    details.add_widget(text(ahead_text(tk.get("ahead"), lang), m.px(44), NAVY, size_hint_y=0.6))
    details.add_widget(text(wait_text(tk.get("est_wait_s"), lang), m.px(44), NAVY, size_hint_y=0.6))

    body = BoxLayout(orientation="vertical" if m.portrait else "horizontal", padding=[m.px(24)] * 4,
                     spacing=m.px(24))
    number_box.size_hint = (1, 1.25) if m.portrait else (1.05, 1)
    body.add_widget(number_box)
    body.add_widget(details)

    outer = BoxLayout(orientation="vertical")
    outer.add_widget(body)
    outer.add_widget(_print_band(env))
    return page(env, header(env, vm.site.center_name(lang)), outer, _done_bar(env))


def _print_band(env: Env) -> Widget:
    """Printing… / please take your ticket (green) / the printer failed: remember the number (red)."""
    vm, m = env.vm, env.m
    state = vm.print_state
    color, icon, key = {
        "printed": (GREEN, "ticket", "ticket.take"),
        "failed": (RED, "printer_off", "ticket.no_paper"),
    }.get(state, (NAVY, "printer", "ticket.printing"))
    band = BoxLayout(size_hint_y=None, height=m.px(200 if state == "failed" else 150),
                     padding=[m.px(40), m.px(16)], spacing=m.px(30))
    band.qid = f"print-{state}"
    paint(band, color)
    band.add_widget(Image(source=icon_path(icon), color=WHITE, size_hint_x=None, width=m.px(120),
                          fit_mode="contain"))
    lines = BoxLayout(orientation="vertical")
    lines.add_widget(text(env.t(key), m.px(56), WHITE, bold=True, halign="left"))
    if state == "failed":
        lines.add_widget(text(env.t("ticket.still_called"), m.px(40), WHITE, halign="left", size_hint_y=0.7))
    band.add_widget(lines)
    return band


def failure(env: Env) -> Widget:
    """The ticket could not be issued: what happened, and where to go now."""
    vm, m = env.vm, env.m
    hub_down = vm.screen == "hub_down"
    title = env.t("hub_down.title" if hub_down else "refused.title")
    if hub_down:
        reason = env.t("hub_down.body")
    else:
        code = vm.error_code
        known = code in (ErrorCode.SERVICE_CLOSED, ErrorCode.QUOTA_REACHED, ErrorCode.RANGE_EXHAUSTED,
                         ErrorCode.CLOCK_UNTRUSTED, ErrorCode.RATE_LIMITED)
        reason = env.t(f"error.{code}") if known else env.t("error.other", code=code)
        hours = vm.site.hours_text(vm.service) if code == ErrorCode.SERVICE_CLOSED and vm.service else ""
        if hours:
            reason += "\n" + env.t("error.hours", hours=hours)
            now = vm.local_now()
            opens = next_opening(service_hours(vm.site, vm.service), now)
            if opens is not None and opens > now:  # when to come back, not "it is over"
                reason += f"\n{env.t('closed.opens')} {opens:%H:%M}, {day_text(opens, now.date(), vm.lang)}"
    body = BoxLayout(orientation="vertical", padding=[m.px(60), m.px(40)], spacing=m.px(30))
    why = text(reason, m.px(52), NAVY, size_hint_y=0.8)
    why.qid = "reason"
    body.add_widget(why)
    desk = BoxLayout(orientation="vertical" if m.portrait else "horizontal", spacing=m.px(30),
                     padding=[m.px(30)] * 4)
    paint(desk, WHITE, radius=m.px(30), border=NAVY, border_w=m.px(5))
    desk.add_widget(Image(source=icon_path("desk"), color=NAVY, fit_mode="contain",
                          size_hint=(1, 0.9) if m.portrait else (0.35, 1)))
    go = text(env.t("guidance"), m.px(72), NAVY_DARK, bold=True)
    go.qid = "guidance"
    desk.add_widget(go)
    body.add_widget(desk)
    paint(body, PAPER)
    return page(env, header(env, title, "warning", color=RED), body, _done_bar(env, "home"))
