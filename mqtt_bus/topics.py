"""MQTT topic names of the QMS contract, built and parsed in one place.

Every topic lives under ``qms/v1/{site}`` (see docs/protocol.md)::

    status/{client_id}        request/{client_id}       response/{client_id}
    state/counter/{id}        state/service/{id}        state/device/{id}
    event/{type}              config
"""

from __future__ import annotations

from typing import NamedTuple

PROTOCOL_PREFIX = "qms/v1"

#: Kinds returned by :meth:`Topics.parse`; state kinds keep their sub-level.
KINDS = (
    "status",
    "request",
    "response",
    "state/counter",
    "state/service",
    "state/device",
    "event",
)
_SIMPLE = {"status", "request", "response", "event"}
_STATE = {"counter", "service", "device"}


def validate_id(value: str, what: str = "id") -> str:
    """Return *value* if it can be one topic level, else raise ValueError."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty")
    bad = [c for c in "/+#\0" if c in value]
    if bad:
        raise ValueError(
            f"{what} {value!r} must not contain {' or '.join(repr(c) for c in bad)} "
            "(it is one MQTT topic level)"
        )
    return value


def topic_matches(topic_filter: str, topic: str) -> bool:
    """True when ``topic`` matches the subscription ``topic_filter`` (MQTT 3.1.1 §4.7): ``+`` is one level,
    ``#`` the rest (its parent level too); a filter starting with a wildcard does not match a ``$`` topic."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    levels = topic.split("/")
    parts = topic_filter.split("/")
    for i, part in enumerate(parts):
        if part == "#":
            return True
        if i >= len(levels) or part not in ("+", levels[i]):
            return False
    return len(levels) == len(parts)


class ParsedTopic(NamedTuple):
    """A topic split back into its contract kind and its last level."""

    kind: str
    id: str


class Topics:
    """Topic builder for one site: ``Topics("xa-demo").request("kiosk-1")``."""

    def __init__(self, site: str) -> None:
        self.site = validate_id(site, "site")
        self.root = f"{PROTOCOL_PREFIX}/{site}"

    def __repr__(self) -> str:
        return f"Topics({self.site!r})"

    def _t(self, *levels: str) -> str:
        return "/".join((self.root, *levels))

    # -- concrete topics -------------------------------------------------------------------------
    def status(self, client_id: str) -> str:
        return self._t("status", validate_id(client_id, "client_id"))

    def request(self, client_id: str) -> str:
        return self._t("request", validate_id(client_id, "client_id"))

    def response(self, client_id: str) -> str:
        return self._t("response", validate_id(client_id, "client_id"))

    def state_counter(self, counter_id: str) -> str:
        return self._t("state", "counter", validate_id(counter_id, "counter id"))

    def state_service(self, service_id: str) -> str:
        return self._t("state", "service", validate_id(service_id, "service id"))

    def state_device(self, device_id: str) -> str:
        return self._t("state", "device", validate_id(device_id, "device id"))

    def event(self, event_type: str) -> str:
        return self._t("event", validate_id(event_type, "event type"))

    def command(self, client_id: str) -> str:
        """A command from the hub to one device (``printer_test`` for a kiosk); only the hub writes it."""
        return self._t("command", validate_id(client_id, "client_id"))

    @property
    def config(self) -> str:
        """The hub's retained catalogue (docs/protocol.md, "Live config"); only the hub writes it."""
        return self._t("config")

    # -- wildcard filters ------------------------------------------------------------------------
    @property
    def all(self) -> str:
        """Everything of this site."""
        return self._t("#")

    @property
    def requests_all(self) -> str:
        return self._t("request", "+")

    @property
    def responses_all(self) -> str:
        return self._t("response", "+")

    @property
    def status_all(self) -> str:
        return self._t("status", "+")

    @property
    def events_all(self) -> str:
        return self._t("event", "+")

    @property
    def state_all(self) -> str:
        return self._t("state", "#")

    @property
    def state_counters_all(self) -> str:
        return self._t("state", "counter", "+")

    @property
    def state_services_all(self) -> str:
        return self._t("state", "service", "+")

    @property
    def state_devices_all(self) -> str:
        return self._t("state", "device", "+")

    # -- parsing ---------------------------------------------------------------------------------
    def parse(self, topic: str) -> ParsedTopic:
        """Split *topic* into ``(kind, id)``; ValueError if it is not a contract topic of this site.

        ``parse("qms/v1/x/state/counter/c1") == ("state/counter", "c1")``.
        """
        prefix = self.root + "/"
        if not topic.startswith(prefix):
            raise ValueError(f"topic {topic!r} is outside the site root {self.root!r}")
        levels = topic[len(prefix):].split("/")
        if len(levels) == 2 and levels[0] in _SIMPLE:
            kind, ident = levels
        elif len(levels) == 3 and levels[0] == "state" and levels[1] in _STATE:
            kind, ident = f"state/{levels[1]}", levels[2]
        else:
            raise ValueError(f"topic {topic!r} is not a known QMS topic (kinds: {', '.join(KINDS)})")
        try:
            validate_id(ident, "topic id")
        except ValueError as exc:
            raise ValueError(f"topic {topic!r}: {exc}") from None
        return ParsedTopic(kind, ident)
