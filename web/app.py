"""The Flask application: ``create_app(WebSettings(...))``.

Today it has one mode, ``center``: the administration of this center's config, its versions and the
devices' health. A ``province`` mode (issue 17: a read-only dashboard over PostgreSQL) is meant to be a
second set of blueprints chosen by :attr:`WebSettings.mode`, sharing the accounts, login, layout and
error pages of this module.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from .accounts import Accounts, LoginLimiter
from .health import Snapshot
from .messages import vietnamese

MODES = ("center", "province")  # province: read-only over PostgreSQL (web/province.py, issue 17)


@dataclass
class WebSettings:
    """Everything the app needs; ``qms web`` fills it from the board's settings."""

    config_path: Path
    data_dir: Path
    mode: str = "center"
    health: Callable[[], Snapshot] | None = None  # reads the broker (None: "not configured")
    idle_minutes: int = 30  # a session ends after this long without a request
    max_hours: int = 12  # and at the latest this long after the login
    secure_cookies: bool = False  # true behind TLS
    login_limit: int = 5  # failed logins per address and per user name in 5 minutes
    on_save: Callable[[str, int], None] | None = None  # called with the new text and version after each save
    device_request: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None  # (action, args) -> the hub's answer
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def web_dir(self) -> Path:
        """``<data dir>/web``: accounts, the session key and the versions."""
        return self.data_dir / "web"


def _secret_key(path: Path) -> bytes:
    """The session signing key, made once (0600)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key


def create_app(settings: WebSettings) -> Flask:
    """The web app for ``settings``."""
    if settings.mode not in MODES:
        raise ValueError(f"unknown web mode {settings.mode!r}; known: {', '.join(MODES)}")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings.web_dir / "secret_key"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="qms_session",
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    app.extensions["qms"] = settings
    app.extensions["qms_accounts"] = Accounts(settings.web_dir / "accounts.json")
    app.extensions["qms_limiter"] = LoginLimiter(limit=settings.login_limit)
    app.extensions["qms_lock"] = threading.Lock()

    from . import auth

    app.register_blueprint(auth.bp)
    if settings.mode == "province":
        from . import province, province_pages

        app.register_blueprint(province.bp)
        app.register_blueprint(province_pages.bp)  # a page per center, the province's report, CSV
    else:
        from . import center

        app.register_blueprint(center.bp)
        from . import ratings

        app.register_blueprint(ratings.bp)  # /api/ratings and /ratings.csv: ratings with their dossier codes
        from . import center_reports

        app.register_blueprint(center_reports.bp)  # /queue (live queue, today) and /report (+ .csv, .png, .xlsx)
    app.context_processor(lambda: {"mode": settings.mode})
    app.before_request(auth.load_user)
    app.context_processor(auth.template_globals)
    app.jinja_env.filters["vi"] = vietnamese

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        return _error_page(exc.code or 500), exc.code or 500

    @app.errorhandler(Exception)
    def any_error(exc: Exception) -> tuple[str, int]:
        app.logger.exception("error on %s", request.path)
        return _error_page(500), 500

    @app.after_request
    def headers(resp: Any) -> Any:
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:")
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    return app


ERRORS = {  # code: (title, Vietnamese text, English text)
    400: ("Yêu cầu không hợp lệ", "Không hiểu được yêu cầu. Hãy quay lại và thử lần nữa.",
          "The request could not be understood. Go back and try again."),
    403: ("Không có quyền", "Tài khoản của bạn không được mở trang này. Hỏi cán bộ kỹ thuật nếu cần.",
          "Your account may not open this page. Ask the technician if you need it."),
    404: ("Không tìm thấy trang", "Trang này không có. Dùng thanh menu để tìm điều bạn cần.",
          "This page does not exist. Use the menu to find what you need."),
    405: ("Không thực hiện được", "Không làm được việc này ở đây. Hãy dùng các nút trên trang.",
          "This action is not possible here. Use the buttons on the page."),
    413: ("Dữ liệu quá lớn", "Dữ liệu gửi lên quá lớn.", "What you sent is too large."),
    500: ("Đã có lỗi", "Máy chủ gặp lỗi; chưa có gì bị thay đổi. Hãy thử lại, hoặc báo cán bộ kỹ thuật.",
          "Something went wrong on the hub board; nothing was changed. Try again, or ask the technician to look "
          "at the log (`journalctl -u qms-web`)."),
}


def _error_page(code: int) -> str:
    title, vi, en = ERRORS.get(code, ERRORS[500] if code >= 500 else ERRORS[400])
    g.setdefault("user", None)
    return render_template("error.html", code=code, title_vi=title, text_vi=vi, text_en=en)
