"""SHA-256 without loading OpenSSL: CPython's own implementation when it has one (as ``random`` does).

``hashlib`` loads OpenSSL's libcrypto on import (~3.3 MB resident in the kiosk, issue 15); the devices
hash only their config file (the config cache's key, the catalogue's version). Same digests as
``hashlib.sha256``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

sha256: Callable[..., Any]
try:
    from _sha256 import sha256  # CPython 3.11
except ImportError:  # pragma: no cover  (other interpreters and versions)
    try:
        from _sha2 import sha256  # CPython 3.12+
    except ImportError:
        from hashlib import sha256


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data``, as 64 hex digits."""
    return sha256(data).hexdigest()
