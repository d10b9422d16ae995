"""Named actions with checked arguments: the one entry used by the hub, the CLI and tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .engine import Engine, Outcome
from .errors import ErrorCode, QueueError
from .model import NORMAL, QueueState

# action -> (required args with types, optional args with types)
ARG_SPECS: dict[str, tuple[dict[str, type], dict[str, type]]] = {
    "issue_ticket": ({"service": str}, {"priority": str, "procedure": str, "lang": str}),
    "call_next": ({"counter": str}, {}),
    "call_ticket": ({"counter": str, "number": str}, {}),
    "recall": ({"counter": str}, {}),
    "complete": ({"counter": str}, {}),
    "no_show": ({"counter": str}, {}),
    "transfer": ({"counter": str}, {"service": str, "to_counter": str}),
    "pause": ({"counter": str}, {}),
    "resume": ({"counter": str}, {}),
    "sign_in": ({"counter": str}, {"officer": str}),
    "rate": ({"ticket": str, "score": int}, {}),
    "events_since": ({"after": int}, {"limit": int}),
    "undo": ({"counter": str, "ticket": str}, {}),
    "reprint": ({}, {"ticket": str, "number": str, "kiosk": str}),
    "set_dossier": ({"counter": str, "dossier": str}, {"ticket": str}),
}

READ_ONLY_ACTIONS = frozenset({"snapshot", "clock", "events_since"})
"""Actions that only read (answered by the hub or the store, not the engine): ``snapshot`` → the
retained state; ``clock`` → ``{"now": ISO time}`` (the hub's clock); ``events_since`` → missed events."""
EVENTS_SINCE_MAX = 200
"""``events_since`` returns at most this many events per answer (its default ``limit``)."""


def events_since_args(args: Any) -> tuple[int, int]:
    """``(after, limit)`` of an ``events_since`` request; ``QueueError(ErrorCode.BAD_REQUEST)`` naming the problem."""
    clean = check_args("events_since", args)
    after, limit = clean["after"], clean.get("limit", EVENTS_SINCE_MAX)
    if after < 0:
        raise QueueError(ErrorCode.BAD_REQUEST, f"events_since: 'after' must be a seq >= 0 (0 for the oldest), got {after}")
    if not 1 <= limit <= EVENTS_SINCE_MAX:
        raise QueueError(ErrorCode.BAD_REQUEST, f"events_since: 'limit' must be 1..{EVENTS_SINCE_MAX}, got {limit}")
    return after, limit


def check_action(action: str) -> None:
    """Raise ``QueueError(ErrorCode.UNKNOWN_ACTION)`` listing the valid actions unless ``action`` is one."""
    if action not in READ_ONLY_ACTIONS and action not in ARG_SPECS:
        valid = ", ".join(sorted({*ARG_SPECS, *READ_ONLY_ACTIONS}))
        raise QueueError(ErrorCode.UNKNOWN_ACTION, f"unknown action {action!r}; valid actions: {valid}")


def check_args(action: str, args: Any) -> dict[str, Any]:
    """Validate ``args`` for ``action``; raise ``QueueError(ErrorCode.BAD_REQUEST)`` naming the problem."""
    check_action(action)
    if action not in ARG_SPECS:
        raise QueueError(ErrorCode.BAD_REQUEST, f"{action} is not a command")
    if not isinstance(args, dict):
        raise QueueError(ErrorCode.BAD_REQUEST, f"{action}: 'args' must be a JSON object")
    required, optional = ARG_SPECS[action]
    clean: dict[str, Any] = {}
    for name, kind in {**required, **optional}.items():
        if name not in args or (name in optional and args[name] is None):
            if name in required:
                raise QueueError(ErrorCode.BAD_REQUEST, f"{action}: missing argument {name!r}")
            continue
        value = args[name]
        if kind is str and isinstance(value, int) and not isinstance(value, bool) and name in ("counter", "to_counter"):
            value = str(value)  # counter 3 and "3" mean the same
        if not isinstance(value, kind) or isinstance(value, bool):
            raise QueueError(ErrorCode.BAD_REQUEST,
                             f"{action}: argument {name!r} must be {kind.__name__}, got {type(value).__name__}")
        if isinstance(value, str) and not (0 < len(value) <= 200):
            raise QueueError(ErrorCode.BAD_REQUEST, f"{action}: argument {name!r} must be 1..200 characters")
        if isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise QueueError(ErrorCode.BAD_REQUEST, f"{action}: argument {name!r} is not valid text (lone surrogate)")
        clean[name] = value
    unknown = sorted(set(args) - set(required) - set(optional))
    if any(0xD800 <= ord(c) <= 0xDFFF for name in unknown for c in name):
        raise QueueError(ErrorCode.BAD_REQUEST, f"{action}: an argument name is not valid text (lone surrogate)")
    if unknown:
        raise QueueError(ErrorCode.BAD_REQUEST, f"{action}: unknown argument(s) {', '.join(unknown)}")
    return clean


def run_action(engine: Engine, state: QueueState, now: datetime, action: str, args: Any) -> Outcome:
    """Run one named action; raises ``QueueError`` for every refusal."""
    clean = check_args(action, args)
    if action in READ_ONLY_ACTIONS:
        raise QueueError(ErrorCode.BAD_REQUEST, f"{action} only reads: ask the hub (or the store) for it")
    handler: Callable[..., Outcome] = getattr(engine, action)
    if action == "issue_ticket":
        clean.setdefault("priority", NORMAL)
    return handler(state, now, **clean)
