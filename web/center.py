"""Center mode: the config pages, versions with rollback, and the devices' health."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from qms.config import ConfigError
from qms.config.history import VERSIONS_DIR

from . import configedit
from .auth import TECHNICIAN_ROLE, may, require
from .configedit import Outcome
from .health import Snapshot
from .sections import MANAGER, SECTIONS, Section, text_of
from .versions import History

bp = Blueprint("center", __name__)


def _settings() -> Any:
    return current_app.extensions["qms"]


def _history() -> History:
    s = _settings()
    return History(s.data_dir / VERSIONS_DIR, s.config_path)


def _read_text() -> str:
    return _settings().config_path.read_text(encoding="utf-8")


def fingerprint(text: str) -> str:
    """A short hash of the file's text: a form carries it, so a save over someone else's change is refused."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _doc_or_problems() -> tuple[Any, list[str]]:
    """The current document, and the file's problems (if it was broken by hand)."""
    text = _read_text()
    g.base = fingerprint(text)
    try:
        doc = configedit.load(text)
    except ConfigError as err:
        return None, [str(p) for p in err.problems]
    return doc, configedit.validate(text).general


def _section(name: str) -> Section:
    section = SECTIONS.get(name)
    if section is None:
        abort(404)
    return section


def _now() -> datetime:
    """Now in the center's time zone (the board's own when the config cannot say)."""
    try:
        zone = str(configedit.get_at(configedit.load(_read_text()), ("site", "timezone")) or "")
        return datetime.now(ZoneInfo(zone))
    except (ConfigError, ValueError, OSError, ZoneInfoNotFoundError):
        return datetime.now().astimezone()


def _save(outcome: Outcome, summary: str) -> int | None:
    """Save a valid outcome as a new version; None when nothing changed."""
    if not outcome.changed or outcome.text is None:
        return None
    number = _history().save(outcome.text, g.user.name, summary, _now())
    hook = _settings().on_save
    if hook is not None:  # live apply (docs/web.md): tell the hub and devices; a failure never undoes the save
        try:
            hook(outcome.text, number)
        except Exception:
            current_app.logger.exception("on_save hook failed for version %s", number)
    return number


@bp.route("/")
@require(MANAGER)
def home() -> Any:
    """Overview: the center, what each page holds, the latest versions."""
    doc, problems = _doc_or_problems()
    counts = {}
    if doc is not None:
        services = doc.get("services") or []
        counts = {"services": len(services), "procedures": sum(len(s.get("procedures") or []) for s in services),
                  "counters": len(doc.get("counters") or []), "priorities": len(doc.get("priorities") or [])}
    site_name = text_of((doc or {}).get("site", {}).get("name")) if doc is not None else ""
    return render_template("home.html", sections=SECTIONS.values(), counts=counts, problems=problems,
                           site_name=site_name, versions=_history().list()[:5])


@bp.route("/<name>", methods=["GET", "POST"])
@require(MANAGER)
def section(name: str) -> Any:
    """A list page, or a singleton form (GET shows it, POST saves it)."""
    sec = _section(name)
    if not may(sec.role):
        abort(403)
    doc, problems = _doc_or_problems()
    if doc is None:
        return render_template("broken.html", problems=problems), 409
    if not sec.is_single:
        if request.method == "POST":
            abort(405)
        return render_template("list.html", section=sec, rows=sec.rows(doc), problems=problems)
    loc = sec.single_loc or ()
    return _form(sec, doc, loc, problems, adding=False, key=None)


@bp.route("/<name>/new", methods=["GET", "POST"])
@require(MANAGER)
def add(name: str) -> Any:
    """Add an item to a list."""
    sec, doc, problems = _list_section(name)
    if doc is None:
        return render_template("broken.html", problems=problems), 409
    return _form(sec, doc, None, problems, adding=True, key=None)


def _list_section(name: str) -> tuple[Any, Any, Any]:
    """A list section the user may edit, with the config document (None when broken) and its problems."""
    sec = _section(name)
    if not may(sec.role) or sec.is_single:
        abort(403 if not may(sec.role) else 404)
    doc, problems = _doc_or_problems()
    return sec, doc, problems


@bp.route("/<name>/<key>", methods=["GET", "POST"])
@require(MANAGER)
def edit(name: str, key: str) -> Any:
    """Edit one item of a list."""
    sec, doc, problems = _list_section(name)
    if doc is None:
        return render_template("broken.html", problems=problems), 409
    loc = sec.locate(doc, key)
    if loc is None:
        abort(404)
    return _form(sec, doc, loc, problems, adding=False, key=key)


@bp.route("/<name>/<key>/delete", methods=["POST"])
@require(MANAGER)
def delete(name: str, key: str) -> Any:
    """Delete one item, if the file stays valid without it."""
    sec = _section(name)
    if not may(sec.role) or sec.is_single:
        abort(403 if not may(sec.role) else 404)
    with current_app.extensions["qms_lock"]:
        old = _read_text()
        loc = sec.locate(configedit.load(old), key)
        if loc is None:
            abort(404)
        outcome = configedit.remove(old, loc[:-1], int(loc[-1]))
        if outcome.ok:
            number = _save(outcome, f"xoá / deleted {name} {key}")
            flash(f"Đã xoá / Deleted {key} (phiên bản / version {number})", "ok")
            return redirect(url_for("center.section", name=name))
    flash("Không xoá được / Not deleted: " + "; ".join(outcome.general), "error")
    return redirect(url_for("center.edit", name=name, key=key))


def _form(sec: Section, doc: Any, loc: Any, problems: list[str], adding: bool, key: str | None) -> Any:
    fields = sec.fields(doc, loc)
    values = configedit.form_values(doc, loc, fields)
    outcome = Outcome(None)
    status = 200
    if request.method == "POST":
        with current_app.extensions["qms_lock"]:
            old = _read_text()
            if request.form.get("base") != fingerprint(old):  # changed since this form was shown
                return _stale(sec, doc, loc, fields, adding, key, problems)
            prepare = (lambda d: sec.append(d, request.form)) if adding else None

            def tidy(d: Any, at: Any) -> None:
                if sec.after:
                    sec.after(d, at)

            outcome = _apply(old, loc, fields, prepare, tidy)
            if outcome.ok:
                what = request.form.get("id") or key or sec.name
                verb = "thêm / added" if adding else "sửa / changed"
                number = _save(outcome, f"{verb} {sec.name} {what}".strip())
                if number is None:
                    flash("Không có thay đổi / Nothing changed", "ok")
                else:
                    flash(f"Đã lưu phiên bản {number} / Saved as version {number}", "ok")
                return redirect(url_for("center.section", name=sec.name))
        values = {**values, **{k: request.form.get(k, "") for k in request.form}}
        for f in fields:
            if f.kind == "checks":
                values[f.key] = request.form.getlist(f.key)
            elif f.kind == "bool":
                values[f.key] = f.key in request.form
        status = 422
    return render_template("form.html", section=sec, fields=fields, values=values, errors=outcome.errors,
                           general=outcome.general, adding=adding, key=key, problems=problems), status


def _stale(sec: Section, doc: Any, loc: Any, fields: list[configedit.Field], adding: bool, key: str | None,
           problems: list[str]) -> Any:
    """The form again with what was typed, the file's new fingerprint, and why nothing was saved."""
    values = {**configedit.form_values(doc, loc, fields), **{k: request.form.get(k, "") for k in request.form}}
    for f in fields:
        if f.kind == "checks":
            values[f.key] = request.form.getlist(f.key)
    general = ["Tệp cấu hình vừa được thay đổi (người khác, hoặc một trang khác) sau khi bạn mở trang này; chưa "
               "lưu gì. Kiểm tra lại rồi bấm Lưu. / The config file was changed (by someone else, or another page) "
               "after you opened this form; nothing was saved. Check the values and save again."]
    return render_template("form.html", section=sec, fields=fields, values=values, errors={}, general=general,
                           adding=adding, key=key, problems=problems), 409


def _apply(old: str, loc: Any, fields: list[configedit.Field], prepare: Any, tidy: Any) -> Outcome:
    doc = configedit.load(old)
    if prepare is not None:
        loc = prepare(doc)
    configedit.write_fields(doc, loc, fields, request.form, adding=prepare is not None)
    tidy(doc, loc)
    if prepare is not None:
        configedit.keep_blank_line_last(doc, loc)
    outcome = configedit.validate(configedit.dump(doc), loc, fields)
    if outcome.ok:
        outcome.changed = outcome.text != old
    return outcome


# ---- versions ---------------------------------------------------------------------------------------


@bp.route("/versions")
@require(MANAGER)
def versions() -> Any:
    """Every saved version, newest first."""
    history = _history()
    history.record_current(_now())  # a hand edit shows up as its own version
    items = history.list()
    return render_template("versions.html", versions=items, current=items[0].number if items else None)


@bp.route("/versions/<int:number>")
@require(MANAGER)
def version(number: int) -> Any:
    """What version ``number`` changed."""
    history = _history()
    try:
        meta, diff = history.get(number), history.diff(number)
    except KeyError:
        abort(404)
    numbers = history.numbers()
    return render_template("version.html", v=meta, diff=diff, current=numbers[-1] if numbers else None)


@bp.route("/versions/<int:number>/restore", methods=["POST"])
@require(MANAGER)
def restore(number: int) -> Any:
    """Go back to version ``number``: its text is saved again as a new version, if it is valid."""
    history = _history()
    with current_app.extensions["qms_lock"]:
        try:
            text = history.text(number)
        except KeyError:
            abort(404)
        outcome = configedit.validate(text)
        if not outcome.ok:
            flash(f"Phiên bản {number} không hợp lệ, không khôi phục / Version {number} is not valid, not restored: "
                  + "; ".join(outcome.general), "error")
            return redirect(url_for("center.version", number=number))
        outcome.changed = text != _read_text()
        new = _save(outcome, f"khôi phục phiên bản / restored version {number}")
    if new is None:
        flash(f"Tệp đã giống phiên bản {number} / The file already equals version {number}", "ok")
    else:
        flash(f"Đã quay lại phiên bản {number} (lưu thành phiên bản {new}) / Back to version {number} "
              f"(saved as version {new})", "ok")
    return redirect(url_for("center.versions"))


# ---- devices ----------------------------------------------------------------------------------------


@bp.route("/devices")
@require(TECHNICIAN_ROLE)
def devices() -> Any:
    """Every board's retained status with the fix to apply."""
    reader = _settings().health
    snap = reader() if reader else Snapshot([], "chưa cấu hình máy chủ MQTT / no broker configured for the web app")
    return render_template("devices.html", snap=snap)


@bp.route("/devices/<kiosk>/<any('test-page', reprint):what>", methods=["POST"])
@require(TECHNICIAN_ROLE)
def kiosk_action(kiosk: str, what: str) -> Any:
    """A printer test page, or a reprint of today's number, on one kiosk: a request through the hub."""
    if not kiosk.startswith("kiosk-") or len(kiosk) > 64:
        abort(404)
    send = _settings().device_request
    if send is None:
        flash("chưa cấu hình máy chủ MQTT / no broker configured for the web app", "error")
        return redirect(url_for("center.devices"))
    if what == "test-page":
        answer = send("printer_test", {"kiosk": kiosk})
        done = f"Đã gửi lệnh in trang thử tới {kiosk} / Test page sent to {kiosk}"
    else:
        number = request.form.get("number", "").strip().upper()
        if not number or len(number) > 16:
            flash("Nhập số phiếu cần in lại, ví dụ A012 / Type the number to reprint, e.g. A012", "error")
            return redirect(url_for("center.devices"))
        answer = send("reprint", {"number": number, "kiosk": kiosk})
        done = f"Đã gửi lệnh in lại {number} tới {kiosk} / Reprint of {number} sent to {kiosk}"
    if answer.get("ok"):
        flash(done, "ok")
    else:
        error = answer.get("error") or {}
        flash(f"Không gửi được / Not sent ({error.get('code', '?')}): {error.get('message', '')}", "error")
    return redirect(url_for("center.devices"))
