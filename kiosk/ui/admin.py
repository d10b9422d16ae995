"""The technician's screens: PIN pad, then printer/broker/hub state and maintenance buttons."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from .frame import Env, header, nav_bar, page
from .reprint_panel import open_reprint
from .theme import GREEN, NAVY, NAVY_DARK, PAPER, RED, WHITE, Rgba
from .widgets import Tile, paint, text

GOOD = ("ok", "connected", "online")
WARN = ("paper_low", "unknown")


def _state_color(state: str) -> Rgba:
    if state in GOOD:
        return GREEN
    return NAVY if state in WARN else RED


def pin_dots(typed: str) -> str:
    """What the PIN field shows: one dot per digit, never the digits."""
    return "  ".join("●" * len(typed)) if typed else "–"


def pin(env: Env) -> Widget:
    """A 3x4 digit pad; the PIN is checked off the UI thread."""
    vm, m = env.vm, env.m
    body = BoxLayout(orientation="vertical" if m.portrait else "horizontal", padding=[m.px(40), m.px(20)],
                     spacing=m.px(30))
    typed = BoxLayout(orientation="vertical", size_hint=(1, 0.3) if m.portrait else (1, 1))
    shown = env.hooks["pin_shown"] = text(pin_dots(vm.pin), m.px(72), NAVY, bold=True)
    shown.qid = "pin_shown"
    typed.add_widget(shown)
    message = env.hooks["pin_message"] = text(vm.pin_message, m.px(40), RED, size_hint_y=0.6)
    message.qid = "pin_message"
    typed.add_widget(message)
    body.add_widget(typed)
    pad = GridLayout(cols=3, spacing=m.px(16), size_hint=(1, 1) if m.portrait else (None, 1), width=m.px(760))
    keys = [*"123456789", "clear", "0", "ok"]
    for key in keys:
        if key == "clear":
            tile = Tile(env.t("pin.clear"), None, m.px(44), qid="pin-clear", on_tap=vm.pin_erase, bg=WHITE, fg=NAVY,
                        pressed_bg=PAPER, border=NAVY, radius=m.px(16))
        elif key == "ok":
            tile = Tile(env.t("pin.ok"), None, m.px(44), qid="pin-ok", on_tap=vm.pin_submit, bg=GREEN,
                        radius=m.px(16))
        else:
            tile = Tile(key, None, m.px(64), qid=f"pin-{key}", on_tap=lambda k=key: vm.pin_digit(k),
                        radius=m.px(16))
        pad.add_widget(tile)
    body.add_widget(pad)
    return page(env, header(env, env.t("pin.title"), "lock"), body, nav_bar(env))


def _row(env: Env, label: str, value: str, state: str | None = None, qid: str = "") -> Widget:
    m = env.m
    row = BoxLayout(spacing=m.px(20), padding=[m.px(20), m.px(4)])
    paint(row, WHITE, radius=m.px(12))
    row.add_widget(text(label, m.px(34), NAVY, halign="left", size_hint_x=0.8))
    value_label = text(value, m.px(34), _state_color(state) if state else NAVY_DARK, bold=True, halign="left")
    value_label.qid = qid
    row.add_widget(value_label)
    return row


def admin(env: Env) -> Widget:
    """Printer, broker and hub state; test print, reprint, restart, quit."""
    vm, m = env.vm, env.m
    hub_state = {True: "online", False: "hub_offline"}.get(vm.hub_online, "unknown")
    broker_state = "connected" if vm.connected else "disconnected"
    info = vm.info
    printer_value = env.t(f"state.{vm.printer_state}")
    if vm.printer_detail:
        printer_value += f" — {vm.printer_detail}"
    rows = BoxLayout(orientation="vertical", spacing=m.px(10))
    rows.add_widget(_row(env, env.t("admin.printer"), printer_value, vm.printer_state, "admin-printer"))
    rows.add_widget(_row(env, env.t("admin.broker"), f"{env.t('state.' + broker_state)} ({info.get('broker', '')})",
                         broker_state, "admin-broker"))
    rows.add_widget(_row(env, env.t("admin.hub"), env.t(f"state.{hub_state}"), hub_state, "admin-hub"))
    rows.add_widget(_row(env, env.t("admin.ip"), info.get("ip", "")))
    rows.add_widget(_row(env, env.t("admin.device"), info.get("client_id", "")))
    rows.add_widget(_row(env, env.t("admin.version"), info.get("version", "")))
    rows.add_widget(_row(env, env.t("admin.last"), vm.last_number or "–"))
    message = text(vm.admin_message, m.px(36), NAVY_DARK, bold=True, size_hint_y=0.8)
    message.qid = "admin_message"
    rows.add_widget(message)

    actions = GridLayout(cols=1 if not m.portrait else 2, spacing=m.px(16))
    for qid, key, action, color in (
        ("admin-test", "admin.test_print", vm.admin_test_print, NAVY),
        ("admin-reprint", "admin.reprint", vm.admin_reprint, NAVY),
        ("admin-reprint-number", "admin.reprint_number", lambda: open_reprint(env), NAVY),
        ("admin-restart", "admin.restart", lambda: vm.admin_exit("restart"), RED),
        ("admin-quit", "admin.quit", lambda: vm.admin_exit("quit"), RED),
    ):
        actions.add_widget(Tile(env.t(key), None, m.px(40), qid=qid, on_tap=action, bg=color, radius=m.px(16)))

    body = BoxLayout(orientation="vertical" if m.portrait else "horizontal", spacing=m.px(30),
                     padding=[m.px(30)] * 4)
    rows.size_hint = (1.6, 1) if not m.portrait else (1, 1.6)
    body.add_widget(rows)
    body.add_widget(actions)
    close = Tile(env.t("admin.close"), "home", m.px(44), qid="admin-close", on_tap=vm.admin_close, bg=WHITE,
                 fg=NAVY, pressed_bg=PAPER, border=NAVY, horizontal=True, icon_share=0.25, radius=m.px(20))
    bottom = BoxLayout(size_hint_y=None, height=m.nav_h + m.px(40), padding=[m.px(24), m.px(20)])
    paint(bottom, WHITE)
    bottom.add_widget(Widget())
    bottom.add_widget(close)
    bottom.add_widget(Widget())
    return page(env, header(env, env.t("admin.title"), "printer"), body, bottom)
