"""The names of the QMS contract (docs/protocol.md) besides its topics (``topics.py``), written once.

- :data:`HUB_CLIENT_ID` and :class:`Role`: who is on the bus, defined here.
- :class:`EventType` and :class:`ErrorCode`: re-exported from ``queue_core``, which makes the events
  and raises the errors and may import nothing of the project; this is where devices import them.
- :class:`FaultCode`: why the hub's retained status carries ``fault``, defined here.

Every name is a ``StrEnum`` (or a ``str``): it equals its text and serialises to JSON as that text,
so payloads, topics and the store are byte-for-byte what the bare strings gave.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from queue_core.errors import ErrorCode
from queue_core.events import EVENT_TYPES, EventType

__all__ = ["EVENT_TYPES", "HUB_CLIENT_ID", "ErrorCode", "EventType", "FaultCode", "Role"]


class Role(StrEnum):
    """A device's role: the prefix of its client id ``{role}-{id}`` (``kiosk-1``, ``counter-3``; the hub's is
    :data:`HUB_CLIENT_ID`), which ``hub/authz.py`` checks; and, but for ``rating`` (which logs in and
    announces itself as ``counter``), its broker ACL role (``acl.ROLES``) and its ``status`` payload's ``role``.
    """

    HUB = "hub"  # the one responder: reads every request, writes everything
    KIOSK = "kiosk"  # issues tickets; also writes its printer's ``state/device/{id}``
    DISPLAY = "display"  # the hall display: reads state and events, asks only read-only actions
    COUNTER = "counter"  # an officer's pad acting for its own counter (``counter-{counter id}``)
    RATING = "rating"  # a counter's rating tablet (``rating-{counter id}``); logs in with the counter ACL
    MONITOR = "monitor"  # technicians' tools (``qms doctor``): read everything, act for any counter


HUB_CLIENT_ID = "hub"
"""The hub's client id (and broker user name): its role's name, with no ``-{id}``."""


class FaultCode(StrEnum):
    """``fault.code`` of the hub's retained ``status/hub`` while it is up but cannot serve (``store_fault``)."""

    STORE_MISSING = "store_missing"  # the store is gone or empty although this board had one
    STORE_CORRUPT = "store_corrupt"  # SQLite cannot read the store
    STORE_FOREIGN = "store_foreign"  # the store belongs to another site or another board
    STORE_NEWER = "store_newer"  # the store was written by a newer qms


def payload_text(obj: dict[str, Any]) -> str:
    """A payload as the wire carries it: compact JSON, non-ASCII as is (UTF-8 on the wire), strict (no NaN)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_payload(obj: dict[str, Any]) -> bytes:
    """:func:`payload_text` as UTF-8 bytes, as published."""
    return payload_text(obj).encode("utf-8")
