"""Live config: a new site definition swapped in between two requests, removed services retired.

The hub gets a ``ConfigSource`` (``qms.hub_service.ConfigWatcher``): a cheap call that returns a new
valid config when the file changed, else None. The worker applies it between two batches, so no request
sees half a config. Numbers issued today stay valid (numbering lives in the store, per service and day).

A service removed from the config while it still has waiting or called tickets is *retired*: it stays
in the hub's site definition until those tickets are served, its counters (of the config it was
removed from; every counter when none of them is left) keep calling it after their own services, and
the hub refuses new tickets for it. Its tickets stay in the store, so ``qms report`` lists them. The hub
drops it once its last ticket is finished (``Hub._drop_served_retired``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from queue_core import ServiceDef, SiteDef


@dataclass(frozen=True)
class SiteUpdate:
    """A new valid config: the core's site definition and the retained ``config`` payload."""

    site: SiteDef
    catalogue: dict[str, Any]


ConfigSource = Callable[[], "SiteUpdate | None"]
"""Returns a new valid config once after the file changed, else None (called often: must be cheap)."""


def _prefix_of(number: str) -> str:
    """The letters of a printed number (``B012`` -> ``B``), for a retired service no config describes."""
    return "".join(c for c in number if not c.isdigit()) or "?"


def with_retired(new: SiteDef, old: SiteDef, open_services: dict[str, str],
                 former_names: Mapping[str, str] | None = None) -> tuple[SiteDef, frozenset[str]]:
    """``new`` plus the services of ``open_services`` it lacks, and the ids of those retired services.

    ``open_services``: ``{service id: a number of one of its open tickets}`` (waiting or called, any day).
    A service neither config defines (the hub restarted after the change) is named from ``former_names``
    (``{id: name}`` of earlier config versions), else by its id.
    """
    retired = [sid for sid in open_services if sid not in new.services]
    if not retired:
        return new, frozenset()
    services = dict(new.services)
    extra: dict[str, list[str]] = {cid: [] for cid in new.counters}
    for sid in retired:
        definition = old.services.get(sid) or ServiceDef(id=sid, prefix=_prefix_of(open_services[sid]),
                                                         name=(former_names or {}).get(sid) or sid)
        services[sid] = replace(definition, daily_quota=None, hours=None)  # no hours: its citizens are inside
        servers = [cid for cid, c in old.counters.items() if sid in c.services and cid in new.counters]
        for cid in servers or list(new.counters):
            extra[cid].append(sid)
    counters = {cid: replace(c, services=(*c.services, *extra[cid])) if extra[cid] else c
                for cid, c in new.counters.items()}
    return replace(new, services=services, counters=counters), frozenset(retired)


def removed(old: Iterable[str], new: Iterable[str]) -> list[str]:
    """Ids in ``old`` and not in ``new``, in ``old``'s order (retained state to clear)."""
    keep = set(new)
    return [i for i in old if i not in keep]
