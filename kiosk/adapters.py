"""Small adapters for the app: Kivy's clock as the view-model's scheduler, the PIN check thread, device facts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from qms.config.pin import verify_pin

from .ports import Cancel

Post = Callable[[Callable[[], None]], None]


class KivyScheduler:
    """``Scheduler`` on Kivy's clock (UI thread)."""

    def schedule(self, fn: Callable[[], None], delay: float) -> Cancel:
        """Run ``fn`` once after ``delay`` seconds."""
        from kivy.clock import Clock

        event = Clock.schedule_once(lambda _dt: fn(), delay)
        return event.cancel

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()


def kivy_post(fn: Callable[[], None]) -> None:
    """Run ``fn`` on the Kivy thread (from any thread)."""
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: fn(), 0)


class ThreadedPinChecker:
    """Verifies the PIN hash on a thread (PBKDF2 takes ~0.1 s on a Pi); posts the answer."""

    def __init__(self, pin_hash: str | None, post: Post) -> None:
        self.pin_hash = pin_hash
        self.post = post

    def __call__(self, pin: str, done: Callable[[bool], None]) -> None:
        def work() -> None:
            ok = bool(self.pin_hash) and verify_pin(pin, self.pin_hash or "")
            self.post(lambda: done(ok))

        threading.Thread(target=work, name="kiosk-pin", daemon=True).start()


def ip_address() -> str:
    """This device's LAN address (the one a route to the Internet would use), or 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


