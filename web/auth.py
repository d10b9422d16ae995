"""Login, logout, sessions that expire, CSRF tokens and the role check of every page."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for

from .accounts import Account

bp = Blueprint("auth", __name__)

RANK = {"manager": 1, "technician": 2}
TECHNICIAN_ROLE = "technician"


def _settings() -> Any:
    return current_app.extensions["qms"]


def load_user() -> Any:
    """Before each request: the logged-in account (``g.user``), ending idle or old sessions; the CSRF check."""
    g.user = None
    user, role = session.get("user"), session.get("role")
    now = time.time()
    if user and role in RANK:
        s = _settings()
        idle = now - float(session.get("seen", 0))
        age = now - float(session.get("since", 0))
        found = current_app.extensions["qms_accounts"].find(user)  # removed or changed since the login
        if idle > s.idle_minutes * 60 or age > s.max_hours * 3600 or found is None:
            session.clear()
            session["expired"] = True
        else:
            g.user = Account(user, found.role, "", found.site)
            session["seen"] = now
    if request.method == "POST" and request.endpoint != "auth.login":
        token = request.form.get("csrf", "")
        if not token or not secrets.compare_digest(token, session.get("csrf", "")):
            abort(400)
    return None


def csrf_token() -> str:
    """This session's token for forms."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def may(role: str) -> bool:
    """The logged-in account has at least ``role``."""
    return g.user is not None and RANK[g.user.role] >= RANK[role]


def template_globals() -> dict[str, Any]:
    """Names every template may use."""
    return {"csrf_token": csrf_token, "user": g.get("user"), "may": may}


def require(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A page for ``role`` and above: to the login page when logged out, 403 for a lower role."""
    def deco(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                return redirect(url_for("auth.login", next=request.path))
            if not may(role):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return deco


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for(_settings().mode + ".home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; failed logins are limited per address and per user name."""
    error, wait = "", 0
    expired = session.pop("expired", False)
    if request.method == "POST":
        name = request.form.get("username", "").strip()[:40]
        password = request.form.get("password", "")[:200]
        limiter = current_app.extensions["qms_limiter"]
        keys = (f"ip:{request.remote_addr}", f"user:{name.lower()}")
        wait = limiter.wait_s(*keys)
        if wait > 0:
            error = (f"Quá nhiều lần đăng nhập sai; thử lại sau {int(wait) + 1} giây / Too many failed logins; "
                     f"try again in {int(wait) + 1} s")
        else:
            account = current_app.extensions["qms_accounts"].check(name, password)
            if account is None:
                limiter.failed(*keys)
                error = "Sai tên đăng nhập hoặc mật khẩu / Wrong user name or password"
            else:
                limiter.succeeded(keys[1])
                session.clear()
                now = time.time()
                session.update(user=account.name, role=account.role, since=now, seen=now)
                csrf_token()
                return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, expired=expired), (429 if wait > 0 else 401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """End the session."""
    session.clear()
    return redirect(url_for("auth.login"))
