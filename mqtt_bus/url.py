"""Broker URLs: ``mqtt://[user:pass@]host[:port]`` and ``mqtts://`` (TLS).

The special value ``embedded`` (start a private mosquitto) is handled by callers, see
:class:`mqtt_bus.broker.EmbeddedBroker`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

EXAMPLE = "mqtt://counter-3:secret@192.168.1.10:1883"
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerAddress:
    """Where and how to reach the broker."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def url(self, *, hide_password: bool = True) -> str:
        """The URL back, with the password replaced by ``***`` unless asked otherwise."""
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + ("***" if hide_password else quote(self.password, safe=""))
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{auth}{host}:{self.port}"

    def __str__(self) -> str:
        return self.url()


def _bad(url: str, problem: str) -> ValueError:
    return ValueError(f"bad broker URL {url!r}: {problem}; expected e.g. {EXAMPLE!r} (or 'embedded')")


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse a broker URL into a :class:`BrokerAddress`; ValueError names the problem."""
    if not isinstance(url, str) or not url.strip():
        raise _bad(str(url), "it is empty")
    url = url.strip()
    if url == "embedded":
        raise _bad(url, "'embedded' must be resolved by the caller (start an EmbeddedBroker)")
    if "://" not in url:
        raise _bad(url, "missing scheme 'mqtt://' or 'mqtts://'")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _bad(url, f"unsupported scheme {parts.scheme!r} (use mqtt or mqtts)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise _bad(url, "unexpected path, query or fragment after host:port")
    host = parts.hostname
    if not host:
        raise _bad(url, "missing host")
    try:
        port = parts.port
    except ValueError:
        raise _bad(url, "port must be a number between 1 and 65535") from None
    if port is None:
        if parts.netloc.endswith(":"):
            raise _bad(url, "empty port")
        port = DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise _bad(url, "port must be a number between 1 and 65535")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if username == "":
        if password:
            raise _bad(url, "password given without a user name")
        username = password = None
    return BrokerAddress(host=host, port=port, username=username, password=password, tls=scheme == "mqtts")
