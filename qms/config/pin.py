"""The kiosk admin PIN, stored only as a salted PBKDF2-SHA256 hash.

Format: ``pbkdf2_sha256$<iterations>$<salt, base64>$<hash, base64>``.
Run ``python -m qms.config.pin 2468`` to print the hash of a new PIN for the config file.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 120_000
"""Work factor: about 0.1 s on a Raspberry Pi 4, unnoticeable at the admin screen."""

_PIN_RE = re.compile(r"^[0-9]{4,12}$")
_HASH_RE = re.compile(r"^pbkdf2_sha256\$([0-9]{1,7})\$([A-Za-z0-9+/=]{8,})\$([A-Za-z0-9+/=]{43,44})$")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(pin: str, salt: bytes, iterations: int) -> bytes:
    import hashlib  # here: it loads OpenSSL (~3 MB), which the kiosk needs only when a PIN is typed

    return hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, iterations)


def hash_pin(pin: str, *, iterations: int = ITERATIONS) -> str:
    """Hash a PIN of 4-12 digits with a fresh random salt."""
    if not _PIN_RE.match(pin):
        raise ValueError("a PIN is 4 to 12 digits")
    salt = os.urandom(16)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(_derive(pin, salt, iterations))}"


def is_pin_hash(hashed: str) -> bool:
    """True when ``hashed`` has the shape :func:`hash_pin` produces."""
    m = _HASH_RE.match(hashed)
    return bool(m) and int(m.group(1)) > 0


def verify_pin(pin: str, hashed: str) -> bool:
    """True when ``pin`` matches ``hashed``; False for a wrong PIN or a malformed hash."""
    m = _HASH_RE.match(hashed)
    if not m or int(m.group(1)) <= 0:
        return False
    try:
        salt = base64.b64decode(m.group(2), validate=True)
        expected = base64.b64decode(m.group(3), validate=True)
    except (binascii.Error, ValueError):
        return False
    actual = _derive(pin, salt, int(m.group(1)))
    import hmac

    return hmac.compare_digest(actual, expected)


def main(argv: list[str] | None = None) -> int:
    """Print the hash of the PIN given as the only argument."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not _PIN_RE.match(args[0]):
        print("usage: python -m qms.config.pin PIN   (4 to 12 digits)", file=sys.stderr)
        return 2
    print(hash_pin(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
