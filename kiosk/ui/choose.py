"""The citizen's path: welcome, field (lĩnh vực), procedure (thủ tục), priority."""

from __future__ import annotations

from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget

from qms.config.to_core import to_opening_hours
from ui_kit.i18n import language_meta

from ..menu import Item, icon_path, priority_items, procedure_items, service_items
from ..wording import t
from .frame import Env, header, nav_bar, page, tile_grid
from .theme import AMBER, AMBER_DARK, GREEN, NAVY, NAVY_DARK, PAPER, RED, WHITE
from .widgets import LongPress, Tile, bar, paint, text

ADMIN_LONG_PRESS_S = 3.0
HINT_MM = 8.0  # the hint above the pictograms: capital letters at least this tall, readable at 1 m
CAP_HEIGHT = 0.68  # DejaVu Sans Bold: capital "H" ink height / font size is 0.70; a little margin


def welcome(env: Env) -> Widget:
    """Center name (long press: technician), time, the one big button, languages."""
    vm, m = env.vm, env.m
    top = bar(m.header_h * (1.6 if m.portrait else 1.25), NAVY, padding=[m.px(36), m.px(16)], spacing=m.px(24),
              orientation="vertical" if m.portrait else "horizontal")
    door = LongPress(ADMIN_LONG_PRESS_S, vm.open_admin, orientation="vertical")
    door.qid = "center_name"
    door.add_widget(text(vm.site.center_name(vm.lang), m.px(46), WHITE, bold=True,
                         halign="center" if m.portrait else "left"))
    top.add_widget(door)
    clock = text("", m.px(40), WHITE, size_hint_x=None if not m.portrait else 1, width=m.px(420),
                 size_hint_y=0.55 if m.portrait else 1)
    env.hooks["clock"] = clock
    top.add_widget(clock)

    if vm.closed is not None:
        return page(env, top, _closed(env), _languages(env))
    with_priority = vm.priority_on_welcome
    body = BoxLayout(orientation="vertical", padding=[m.px(60), m.px(24 if with_priority else 30)],
                     spacing=m.px(20 if with_priority else 30))
    body.add_widget(text(env.t("welcome.greeting"), m.px(72 if not with_priority else 60), NAVY, bold=True,
                         size_hint_y=0.6))
    holder = AnchorLayout(size_hint_y=1.6)
    tall = (480 if with_priority else 560) if m.portrait else (200 if with_priority else 360)
    if vm.hub_fault:  # the hub is up but cannot serve: no button to tap, staff must come
        body.add_widget(_fault(env, holder, tall))
        return page(env, top, body, _languages(env))
    ready = vm.hub_ready
    holder.add_widget(Tile(env.t("welcome.take" if ready else "welcome.connecting"), "ticket",
                           m.px(100 if ready else 80), qid="take", on_tap=vm.take_number,
                           bg=AMBER, fg=NAVY_DARK, pressed_bg=AMBER_DARK, horizontal=not m.portrait,
                           icon_share=0.3 if not m.portrait else 0.5, radius=m.px(40), locked=not ready,
                           size_hint=(0.9 if m.portrait else 0.66, None), height=m.px(tall)))
    body.add_widget(holder)
    if with_priority:
        body.add_widget(_priority_row(env))
    else:
        body.add_widget(text(env.t("welcome.hint"), m.px(44), NAVY, size_hint_y=0.45))
    notice = _notice(env)
    if notice is not None:
        body.add_widget(notice)
    return page(env, top, body, _languages(env))


def _fault(env: Env, holder: AnchorLayout, tall: float) -> Widget:
    """In place of the big button: "system fault, please wait for staff"."""
    m = env.m
    band = BoxLayout(size_hint=(0.9 if m.portrait else 0.8, None), height=m.px(tall), padding=[m.px(40), m.px(20)])
    paint(band, RED, radius=m.px(40))
    band.add_widget(text(env.t("welcome.fault_notice"), m.px(64), WHITE, bold=True))
    band.qid = "fault"
    holder.add_widget(band)
    return holder


def _priority_row(env: Env) -> Widget:
    """Priority citizens start here with their own pictogram: still three taps to a ticket."""
    vm, m = env.vm, env.m
    font = max(m.px(36), HINT_MM * env.px_per_mm / CAP_HEIGHT)  # never below 8 mm capitals
    hint_h = font * 1.17 * (3 if m.portrait else 2) + m.px(8)  # the whole sentence, never shrunk
    box = BoxLayout(orientation="vertical", size_hint_y=None, height=m.px(240 if m.portrait else 140) + hint_h,
                    spacing=m.px(10))
    hint = text(env.t("welcome.priority"), font, NAVY, bold=True, size_hint_y=None, height=hint_h, min_font=font,
                fewer_lines=1)
    hint.qid = "priority_hint"
    box.add_widget(hint)
    row = BoxLayout(spacing=m.px(24))
    for item in priority_items(vm.site, vm.lang):
        row.add_widget(Tile(item.label, item.icon, m.px(34), qid=f"welcome-priority-{item.id}",
                            on_tap=lambda pid=item.id: vm.take_number(pid), bg=GREEN, fg=WHITE,
                            pressed_bg=NAVY_DARK, horizontal=not m.portrait, icon_share=0.35 if not m.portrait
                            else 0.5, radius=m.px(24), locked=not vm.hub_ready))
    box.add_widget(row)
    return box


def _closed(env: Env) -> Widget:
    """Closed now: why, and the next opening time in large type (no button to tap)."""
    vm, m = env.vm, env.m
    title, time, day = vm.opening_texts()
    body = BoxLayout(orientation="vertical", padding=[m.px(60), m.px(30)], spacing=m.px(20))
    head = text(title, m.px(76), NAVY_DARK, bold=True, size_hint_y=0.5)
    head.qid = "closed_title"
    body.add_widget(head)
    if time:
        body.add_widget(text(env.t("closed.opens"), m.px(56), NAVY, size_hint_y=0.3))
        panel = BoxLayout(orientation="vertical", padding=[m.px(30), m.px(10)], size_hint_y=1.2)
        paint(panel, WHITE, radius=m.px(40), border=NAVY, border_w=m.px(6))
        big = text(time, m.px(300 if m.portrait else 240), NAVY_DARK, bold=True)
        big.qid = "opens_time"
        panel.add_widget(big)
        when = text(day, m.px(72), NAVY, bold=True, size_hint_y=0.4)
        when.qid = "opens_day"
        panel.add_widget(when)
        body.add_widget(panel)
    hours = to_opening_hours(vm.site.config.hours)
    if hours is not None:
        line = text(env.t("closed.hours", hours=hours.describe()), m.px(44), NAVY, size_hint_y=0.25)
        line.qid = "closed_hours"
        body.add_widget(line)
    notice = _notice(env)
    if notice is not None:
        body.add_widget(notice)
    return body


def _notice(env: Env) -> Widget | None:
    vm, m = env.vm, env.m
    if language_meta(vm.lang).get("sample"):
        key, color = "welcome.sample_lang", NAVY_DARK
    elif not vm.printer_ready:
        key, color = "welcome.printer_notice", RED
    else:
        return None
    band = BoxLayout(size_hint_y=0.45, padding=[m.px(24), m.px(8)])
    paint(band, color, radius=m.px(16))
    band.add_widget(text(env.t(key), m.px(40), WHITE, bold=True))
    band.qid = "notice"
    return band


def _languages(env: Env) -> Widget:
    vm, m = env.vm, env.m
    row = bar(m.nav_h + m.px(100), WHITE, orientation="vertical", padding=[m.px(30), m.px(12)],
              spacing=m.px(8))
    row.add_widget(text(env.t("welcome.language"), m.px(34), NAVY, size_hint_y=0.35))
    buttons = BoxLayout(spacing=m.px(24))
    buttons.add_widget(Widget(size_hint_x=0.05))
    for code in vm.site.languages:
        chosen = code == vm.lang
        buttons.add_widget(Tile(t("lang_name", code), "globe" if chosen else None, m.px(46), qid=f"lang-{code}",
                                on_tap=lambda c=code: vm.choose_language(c), bg=NAVY if chosen else WHITE,
                                fg=WHITE if chosen else NAVY, pressed_bg=PAPER if not chosen else NAVY_DARK,
                                border=None if chosen else NAVY, horizontal=True, icon_share=0.2,
                                radius=m.px(20)))
    buttons.add_widget(Widget(size_hint_x=0.05))
    row.add_widget(buttons)
    return row


def _body_height(env: Env, header_scale: float = 1.0) -> float:
    m = env.m
    return m.height - m.header_h * header_scale - (m.nav_h + m.px(40))


def _not_sure(env: Env) -> Widget:
    m = env.m
    if not env.vm.site.guidance_service:
        return Widget()
    return Tile(env.t("not_sure"), "question", m.px(40), qid="not_sure", on_tap=env.vm.not_sure,
                bg=AMBER, fg=NAVY_DARK, pressed_bg=AMBER_DARK, horizontal=True, icon_share=0.2,
                radius=m.px(20), subtitle=env.t("not_sure.hint") if not m.portrait else "")


CHOSEN_H = 170  # the "you have priority" band


def _chosen(env: Env) -> Widget | None:
    """The priority pictogram chosen on the welcome screen, its name, and an undo button."""
    vm, m = env.vm, env.m
    if vm.priority == "normal" or not vm.priority:
        return None
    item = next((i for i in priority_items(vm.site, vm.lang) if i.id == vm.priority), None)
    if item is None:
        return None
    band = bar(m.px(CHOSEN_H), GREEN, padding=[m.px(30), m.px(14)], spacing=m.px(24))
    band.qid = "chosen_priority"
    band.add_widget(Image(source=icon_path(item.icon), color=WHITE, size_hint_x=None, width=m.px(130),
                          fit_mode="contain"))
    lines = BoxLayout(orientation="vertical")
    lines.add_widget(text(env.t("chosen.priority"), m.px(38), WHITE, halign="left", size_hint_y=0.8))
    name = text(item.label, m.px(50), WHITE, bold=True, halign="left")
    name.qid = "chosen_name"
    lines.add_widget(name)
    band.add_widget(lines)
    band.add_widget(Tile(env.t("chosen.undo"), "back", m.px(36), qid="undo_priority", on_tap=vm.clear_priority,
                         bg=WHITE, fg=NAVY, pressed_bg=PAPER, border=NAVY, horizontal=True, icon_share=0.25,
                         radius=m.px(20), size_hint_x=None, width=m.px(400 if m.portrait else 460)))
    return band


def _with_chosen(env: Env, grid_of: object, available_h: float) -> Widget:
    """The grid, under the priority band when a priority was chosen."""
    chosen = _chosen(env)
    if chosen is None:
        return grid_of(available_h)  # type: ignore[operator]
    box = BoxLayout(orientation="vertical")
    box.add_widget(chosen)
    box.add_widget(grid_of(available_h - chosen.height))  # type: ignore[operator]
    return box


def field(env: Env) -> Widget:
    """Choose the service (lĩnh vực): every service as a tile; those closed now greyed with their hours."""
    vm = env.vm
    closed = set(vm.closed_now)

    def style(item: Item) -> dict:
        if item.id not in closed:
            return {}
        return {"locked": True, "subtitle": env.t("field.closed", hours=vm.site.hours_text(item.id))}

    body = _with_chosen(env, lambda h: tile_grid(env, service_items(vm.site, vm.lang), vm.choose_service,
                                                 "service-", h, style=style), _body_height(env))
    return page(env, header(env, env.t("field.title"), "touch"), body, nav_bar(env, middle=_not_sure(env)))


def procedure(env: Env) -> Widget:
    """Choose the procedure (thủ tục) of the chosen service."""
    vm = env.vm
    items = procedure_items(vm.site, vm.service, vm.lang)
    body = _with_chosen(env, lambda h: tile_grid(env, items, vm.choose_procedure, "procedure-", h, font=40),
                        _body_height(env, 1.45))
    top = header(env, env.t("procedure.title"), "touch", subtitle=vm.site.service_name(vm.service, vm.lang))
    return page(env, top, body, nav_bar(env, middle=_not_sure(env)))


def priority(env: Env) -> Widget:
    """Priority citizens (elderly, disability, pregnant), and a clear "No"."""
    vm = env.vm
    items = [*priority_items(vm.site, vm.lang), Item("normal", env.t("priority.no"), "person")]

    def style(item: Item) -> dict:
        return {"bg": GREEN, "pressed_bg": NAVY_DARK} if item.id == "normal" else {}

    grid = tile_grid(env, items, vm.choose_priority, "priority-", _body_height(env), font=44, style=style)
    return page(env, header(env, env.t("priority.title"), "question"), grid, nav_bar(env))
