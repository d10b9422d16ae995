"""Which device may ask for what: the hub checks every request's client id against its role.

Client ids name the device and its role: ``kiosk-1``, ``display-1``, ``counter-3`` (counter 3's
pad), ``rating-3`` (the rating tablet of counter 3), ``monitor-*`` (technicians' tools) and ``hub``.
The broker's ACL (``mqtt_bus/acl.py``) already stops a device from publishing another's request
topic; this check stops a device from asking for an action outside its job.
"""

from __future__ import annotations

from typing import Any

from mqtt_bus.contract import HUB_CLIENT_ID, Role

COUNTER_ACTIONS = frozenset({"call_next", "call_ticket", "recall", "complete", "no_show", "transfer", "pause",
                             "resume", "sign_in", "undo", "set_dossier"})
READ_ONLY = frozenset({"snapshot", "clock", "events_since"})  # all a display may ask
KIOSK = READ_ONLY | {"issue_ticket", "reprint"}  # reprint: the kiosk's technician screen
RATING = READ_ONLY | {"rate"}
COUNTER = READ_ONLY | COUNTER_ACTIONS | {"rate", "issue_ticket", "reprint"}


def role_of(client_id: str) -> tuple[str, str | None]:
    """``("counter", "3")`` for ``counter-3``; ``("unknown", None)`` for names outside the scheme."""
    if client_id == HUB_CLIENT_ID:
        return Role.HUB, None
    kind, sep, rest = client_id.partition("-")
    if sep and rest and kind in (Role.KIOSK, Role.DISPLAY, Role.COUNTER, Role.RATING, Role.MONITOR):
        return kind, rest
    return "unknown", None


def refusal(client_id: str, action: str, args: Any) -> str | None:
    """None when ``client_id`` may run ``action`` with ``args``; otherwise why not."""
    role, ident = role_of(client_id)
    if role in (Role.HUB, Role.MONITOR):
        return None
    allowed = {Role.KIOSK: KIOSK, Role.DISPLAY: READ_ONLY, Role.COUNTER: COUNTER,
               Role.RATING: RATING}.get(role, frozenset())
    if action not in allowed:
        return (f"client {client_id!r} ({role}) may not {action}; "
                "device ids are kiosk-N, display-N, counter-ID, rating-ID or monitor-NAME")
    if role == Role.COUNTER and action in COUNTER_ACTIONS and isinstance(args, dict):
        counter = args.get("counter")
        if counter is not None and str(counter) != ident:
            return f"pad {client_id!r} may act only for counter {ident}, not {counter}"
    return None
