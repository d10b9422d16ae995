"""Fairness between devices: per-client request queues served in turn, rate limits, issue limits.

One flooding device must not delay the others. The MQTT network thread only parses the topic,
asks the client's token bucket and appends to that client's own bounded queue (``FairQueue.offer``);
the worker takes one request from each client in turn. A request over the rate is not queued: the
first one each second is handed to the worker as a refusal to answer (``rate_limited``); the rest
are dropped and counted, and the counts are logged in one line now and then (``DropLog``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mqtt_bus.contract import ErrorCode, Role

from .authz import role_of

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Seconds on a monotonic clock (``time.monotonic``; tests pass their own)."""

REFUSAL_INTERVAL_S = 1.0
"""At most one ``rate_limited`` answer per client per this many seconds; the rest are dropped silently."""


@dataclass(frozen=True)
class Rate:
    """A token bucket's shape: ``per_s`` requests per second on average, up to ``burst`` at once."""

    per_s: float
    burst: int


@dataclass(frozen=True)
class Limits:
    """The hub's fairness settings (``security`` in the site config)."""

    device_rate: Rate = Rate(20.0, 40)
    monitor_rate: Rate = Rate(500.0, 1000)  # the hub's own tools and technicians' monitors
    per_client_queue: int = 100
    issue_per_minute: int = 10  # 0: no limit

    def rate_for(self, client_id: str) -> Rate:
        """The rate of one client, by its role."""
        return self.monitor_rate if role_of(client_id)[0] in (Role.HUB, Role.MONITOR) else self.device_rate


@dataclass
class TokenBucket:
    """A classic token bucket (starts full)."""

    rate: Rate
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        if self.tokens < 0:
            self.tokens, self.stamp = float(self.rate.burst), now
        self.tokens = min(float(self.rate.burst), self.tokens + (now - self.stamp) * self.rate.per_s)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def full(self, now: float) -> bool:
        """True when the bucket would be full at ``now`` (the client has been quiet)."""
        return self.tokens < 0 or self.tokens + (now - self.stamp) * self.rate.per_s >= self.rate.burst

    def wait_s(self) -> float:
        """Seconds until the next token (after a refused ``take``)."""
        return max(0.0, (1.0 - self.tokens) / self.rate.per_s) if self.rate.per_s > 0 else math.inf


@dataclass
class Queued:
    """One request waiting for the worker; ``refuse_wait_s`` set: answer ``rate_limited`` instead of running it."""

    client_id: str
    raw: bytes
    refuse_wait_s: float | None = None


@dataclass
class _Client:
    bucket: TokenBucket
    pending: deque[Queued] = field(default_factory=deque)
    last_refusal: float = -math.inf
    dropped: int = 0  # over the rate, not answered, since the last log line
    overflowed: int = 0  # queue full, since the last log line


class FairQueue:
    """Per-client bounded queues served round-robin, guarded by per-client token buckets."""

    def __init__(self, rate_for: Callable[[str], Rate], per_client: int = 100, clock: Clock | None = None) -> None:
        self.rate_for = rate_for
        self.per_client = per_client
        self.clock = clock or time.monotonic
        self._clients: dict[str, _Client] = {}
        self._turns: deque[str] = deque()  # clients with pending requests, in serving order
        self._cond = threading.Condition()
        self._closed = False

    def offer(self, client_id: str, raw: bytes) -> bool:
        """Queue a request from the network thread; False when it was dropped (over the rate or queue full)."""
        now = self.clock()
        with self._cond:
            client = self._clients.get(client_id)
            if client is None:
                client = self._clients[client_id] = _Client(TokenBucket(self.rate_for(client_id)))
            if client.bucket.take(now):
                item = Queued(client_id, raw)
            elif now - client.last_refusal >= REFUSAL_INTERVAL_S:
                client.last_refusal = now
                item = Queued(client_id, raw, refuse_wait_s=client.bucket.wait_s())
            else:
                client.dropped += 1
                return False
            if len(client.pending) >= self.per_client:
                client.overflowed += 1
                return False
            if not client.pending:
                self._turns.append(client_id)
            client.pending.append(item)
            self._cond.notify()
            return True

    def take(self, timeout: float | None = None) -> Queued | None:
        """The next request, one client after another; None when closed or after ``timeout`` seconds."""
        with self._cond:
            while not self._turns:
                if self._closed or not self._cond.wait(timeout):
                    return None
            client_id = self._turns.popleft()
            client = self._clients[client_id]
            item = client.pending.popleft()
            if client.pending:
                self._turns.append(client_id)  # back of the line: the others go first
            return item

    def close(self) -> None:
        """Wake the worker for good."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def pending(self) -> int:
        """Requests waiting in all queues."""
        with self._cond:
            return sum(len(c.pending) for c in self._clients.values())

    def forget_idle(self) -> int:
        """Forget clients with nothing pending, nothing to report and a full bucket (memory stays bounded
        by the devices active lately, whatever client ids a broker without ACL lets through); how many."""
        now = self.clock()
        with self._cond:
            idle = [cid for cid, c in self._clients.items()
                    if not c.pending and not c.dropped and not c.overflowed and c.bucket.full(now)
                    and now - c.last_refusal >= REFUSAL_INTERVAL_S]
            for cid in idle:
                del self._clients[cid]
            return len(idle)

    def clients(self) -> int:
        """Clients the queue currently tracks."""
        with self._cond:
            return len(self._clients)

    def take_drop_counts(self) -> dict[str, tuple[int, int]]:
        """``{client: (dropped over the rate, dropped because its queue was full)}`` since the last call."""
        with self._cond:
            out = {cid: (c.dropped, c.overflowed) for cid, c in self._clients.items() if c.dropped or c.overflowed}
            for cid in out:
                self._clients[cid].dropped = self._clients[cid].overflowed = 0
            return out


class DropLog:
    """Logs the drop counts at most once per ``interval_s``: one line per flooding client, not per request."""

    def __init__(self, queue: FairQueue, interval_s: float = 10.0) -> None:
        self.queue = queue
        self.interval_s = interval_s
        self.next_at = -math.inf
        self.totals: dict[str, int] = {}

    def maybe_log(self, force: bool = False) -> None:
        """Call often; logs (and resets) the counts when there are any and the interval has passed."""
        now = self.queue.clock()
        if now < self.next_at and not force:
            return
        counts = self.queue.take_drop_counts()
        self.queue.forget_idle()
        if counts:
            self.next_at = now + self.interval_s
        for client_id, (over_rate, overflow) in sorted(counts.items()):
            self.totals[client_id] = self.totals.get(client_id, 0) + over_rate + overflow
            log.warning("client %s is flooding the hub: dropped %d requests over its rate limit and %d over its "
                        "queue of %d (total %d)", client_id, over_rate, overflow, self.queue.per_client,
                        self.totals[client_id])


class IssueLimit:
    """At most ``per_minute`` tickets issued per client in any 60 s (a citizen pressing twice is fine)."""

    WINDOW_S = 60.0

    def __init__(self, per_minute: int, clock: Clock | None = None) -> None:
        self.per_minute = per_minute
        self.clock = clock or time.monotonic
        self._issued: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, client_id: str) -> float:
        """0 when ``client_id`` may issue now, else the seconds until it may."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            times = self._issued.get(client_id)
            if times is None:
                return 0.0
            while times and now - times[0] >= self.WINDOW_S:
                times.popleft()
            return 0.0 if len(times) < self.per_minute else self.WINDOW_S - (now - times[0])

    def record(self, client_id: str) -> None:
        """Count one ticket issued for ``client_id``."""
        if self.per_minute > 0:
            with self._lock:
                self._issued.setdefault(client_id, deque()).append(self.clock())


def rate_limited(request_id: Any, wait_s: float, what: str) -> dict[str, Any]:
    """The ``rate_limited`` answer, saying how long to wait."""
    wait = max(1, math.ceil(wait_s))
    return {"id": request_id, "ok": False,
            "error": {"code": ErrorCode.RATE_LIMITED, "message": f"{what}; please wait {wait} s and try again",
                      "details": {"retry_after_s": wait}}}
