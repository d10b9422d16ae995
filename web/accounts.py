"""Web accounts: ``<data dir>/web/accounts.json`` (0600), passwords hashed with scrypt, and a login limiter.

In province mode an account may be bound to one center (``site``): that center's manager sees only its page;
an account without a site is the province's and sees every center.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROLES = ("manager", "technician")
"""manager: content (procedures, hours, officers, notices ...); technician: everything, devices too."""

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (constant time)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=len(digest) // 2,
                             n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


_DUMMY_HASH = hash_password(secrets.token_hex(8))


@dataclass(frozen=True)
class Account:
    """One login of the web app."""

    name: str
    role: str
    created: str
    site: str | None = None  # province mode: the one center this account may see (None: every center)


class Accounts:
    """The account file. Every change rewrites it atomically with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise AccountError(f"cannot read {self.path}: {exc}") from None
        users = data.get("users", {}) if isinstance(data, dict) else {}
        return users if isinstance(users, dict) else {}

    def _write(self, users: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"users": users}, f, ensure_ascii=False, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def list(self) -> list[Account]:
        """Every account, by name."""
        return [Account(n, u.get("role", "?"), u.get("created", ""), u.get("site"))
                for n, u in sorted(self._read().items())]

    def add(self, name: str, role: str, password: str, site: str | None = None) -> Account:
        """Add (or replace the password, role and center of) ``name``; ``site``: bound to that center."""
        name = name.strip()
        if not name or len(name) > 40 or not all(c.isalnum() or c in "._-" for c in name):
            raise AccountError("the user name must be 1-40 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"role must be one of: {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
        if site is not None and (not site or len(site) > 64 or not all(c.isalnum() or c in "._-" for c in site)):
            raise AccountError("the site must be a site id: 1-64 letters, digits, '.', '_' or '-'")
        with self._lock:
            users = self._read()
            created = datetime.now(UTC).isoformat(timespec="seconds")
            users[name] = {"role": role, "hash": hash_password(password), "created": created}
            if site is not None:
                users[name]["site"] = site
            self._write(users)
        return Account(name, role, created, site)

    def remove(self, name: str) -> None:
        """Remove ``name`` (AccountError if unknown)."""
        with self._lock:
            users = self._read()
            if name not in users:
                raise AccountError(f"no user {name!r}")
            del users[name]
            self._write(users)

    def role_of(self, name: str) -> str | None:
        """The role of ``name`` now (None: no such account, or the file cannot be read)."""
        found = self.find(name)
        return None if found is None else found.role

    def find(self, name: str) -> Account | None:
        """``name``'s account as it is now, without its password (None: no such account or a bad file)."""
        try:
            user = self._read().get(name)
        except AccountError:
            return None
        if not isinstance(user, dict) or user.get("role") not in ROLES:
            return None
        return Account(name, user["role"], user.get("created", ""), user.get("site"))

    def check(self, name: str, password: str) -> Account | None:
        """The account when the password is right, else None (same work either way)."""
        user = self._read().get(name)
        ok = verify_password(password, user["hash"] if user else _DUMMY_HASH)
        if not (user and ok) or user.get("role") not in ROLES:
            return None
        return Account(name, user["role"], user.get("created", ""), user.get("site"))


class LoginLimiter:
    """At most ``limit`` failed logins per client address and per user name in ``window_s`` seconds."""

    def __init__(self, limit: int = 5, window_s: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def wait_s(self, *keys: str) -> float:
        """Seconds until another try is allowed (0: allowed now)."""
        now = self.clock()
        with self._lock:
            waits = [q[0] + self.window_s - now for k in keys if len(q := self._trim(k, now)) >= self.limit]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        """Count one failed login for each key."""
        now = self.clock()
        with self._lock:
            for k in keys:
                self._trim(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of these keys."""
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)
