"""The SQLite store: the one source of truth.

Every command runs in one ``BEGIN IMMEDIATE`` transaction that loads the live state, runs the
pure engine, writes the changed rows and appends the events to the ``outbox`` (site-wide ``seq``);
``run_batch`` runs several commands in one transaction, as if one by one. A command's rows are staged
(``_Writes``) and written with the others' just before the commit, one statement a table.
Request ids make commands idempotent: a repeated id returns the first answer and changes nothing.
Answers are kept for the retention window (``prune``); refusals, which changed nothing, only briefly
(long enough that a late duplicate of a refused request cannot run after the device has moved on).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from mqtt_bus.contract import payload_text
from queue_core import (
    Engine,
    ErrorCode,
    QueueError,
    QueueState,
    SiteDef,
    Ticket,
    counter_view,
    run_action,
    service_view,
)
from queue_core.actions import check_args
from queue_core.model import FINAL_STATUSES
from queue_core.rows import state_from_rows, ticket_from_row

from .clock import (
    CLOCK_FLOOR,
    CLOCK_REF_KEY,
    UNTRUSTED_HINT,
    BootReading,
    ClockGuard,
    ClockRef,
    Verdict,
    read_boot,
)
from .schema import migrate

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Command = tuple[str, dict[str, Any] | None, str | None]
"""One command of a batch: ``(action, args, request_id)``."""

#: The newest ``seq``: the outbox's, or the sequence a restore carried over from the store it replaced.
NEWEST_SEQ = ("SELECT MAX(COALESCE((SELECT MAX(seq) FROM outbox), 0), "
              "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0))")


def utc_now() -> datetime:
    """The wall clock, as an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass
class Reply:
    """A command's answer: the contract response, the events it appended, and whether it was replayed."""

    response: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    replayed: bool = False

    @property
    def ok(self) -> bool:
        """True when the command succeeded."""
        return bool(self.response.get("ok"))


def _ts(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat()


TICKET_COLUMNS = (
    "id", "number", "service", "day", "day_index", "priority", "status", "procedure", "lang", "issued_at",
    "queued_at", "called_at", "finished_at", "counter", "call_count", "transfers", "rating", "officer",
    "transferred_from", "to_counter", "dossier",
)
"""The ``tickets`` table's columns: each is named as the :class:`Ticket` field it stores."""
DAY = TICKET_COLUMNS.index("day")


TICKET_UPSERT = (f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))}) "
                 f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in TICKET_COLUMNS[1:])}")
"""A ticket written in place: its row keeps its rowid and its page. ``INSERT OR REPLACE`` deleted the old row
and appended a new one at the end of the table at every change (issue, call, complete, rate), leaving holes:
40 % of the table's pages were empty space after a simulated year (bench/bench_retention.py)."""

_TICKET_ENCODE: dict[str, Callable[[Any], Any]] = {
    "day": date.isoformat, "status": attrgetter("value"),
    "issued_at": _ts, "queued_at": _ts, "called_at": _ts, "finished_at": _ts,
}
"""The columns not stored as the field's value itself, and how they are stored (the others: as they are)."""
_TICKET_FIELDS = attrgetter(*TICKET_COLUMNS)  # a ticket's field values, in column order
_ENCODE_AT = tuple((TICKET_COLUMNS.index(name), encode) for name, encode in _TICKET_ENCODE.items())


def _ticket_row(t: Ticket) -> list[Any]:
    """The parameters of :data:`TICKET_UPSERT` for ``t``, by column name (half a microsecond more than a
    hand-written tuple)."""
    row = list(_TICKET_FIELDS(t))
    for i, encode in _ENCODE_AT:
        row[i] = encode(row[i])
    return row


@dataclass
class Marks:
    """The small tables' values before a command (``Store._marks``): what to write after it is compared to them."""

    counters: dict[str, tuple[Any, ...]]
    days: dict[str, tuple[Any, ...]]
    recent: dict[str, tuple[float, ...]]


COUNTER_REPLACE = ("INSERT OR REPLACE INTO counters (id, status, ticket_id, normal_streak, officer, last_call_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)")


@dataclass
class _Writes:
    """The rows commands changed, not yet written: written together before the transaction commits.

    One ``executemany`` a table instead of a statement a row: a rush's 50 ``call_next`` wrote ~550
    statements one by one (a savepoint, the tickets, the counter, the day, the service times, each event, the
    answer, the clock reference, a release), ~60 % of the store's time (bench/bench_hub.py). A row changed
    twice (a ticket, a service's times) is written once, as it is last. ``next_seq``: the outbox's next
    ``seq`` once read (None: read it).
    """

    tickets: dict[str, list[Any]] = field(default_factory=dict)
    counters: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    days: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    times: dict[str, tuple[str, str]] = field(default_factory=dict)
    events: list[tuple[int, str, str, str]] = field(default_factory=list)
    requests: dict[str, tuple[str, str, str, str | None]] = field(default_factory=dict)
    clock_ref: str | None = None
    next_seq: int | None = None

    def merge(self, other: _Writes) -> None:
        """Add a later command's rows (``other``) to these."""
        self.tickets.update(other.tickets)
        self.counters.update(other.counters)
        self.days.update(other.days)
        self.times.update(other.times)
        self.events += other.events
        self.requests.update(other.requests)
        self.clock_ref = other.clock_ref if other.clock_ref is not None else self.clock_ref
        self.next_seq = other.next_seq

    def write(self, conn: sqlite3.Connection) -> None:
        """Write the rows (in the caller's transaction) and forget them; ``next_seq`` stays."""
        if self.tickets:
            conn.executemany(TICKET_UPSERT, self.tickets.values())
            # the report's summary of a past day is no longer what its tickets say (qms/report_days.py)
            conn.executemany("DELETE FROM report_days WHERE day = ?", {(row[DAY],) for row in self.tickets.values()})
        if self.counters:
            conn.executemany(COUNTER_REPLACE, self.counters.values())
        if self.days:
            conn.executemany("INSERT OR REPLACE INTO service_days VALUES (?, ?, ?, ?, ?, ?)", self.days.values())
        if self.times:
            conn.executemany("INSERT OR REPLACE INTO service_times VALUES (?, ?)", self.times.values())
        if self.events:
            conn.executemany("INSERT INTO outbox (seq, ts, type, payload) VALUES (?, ?, ?, ?)", self.events)
        if self.requests:
            conn.executemany("INSERT INTO requests VALUES (?, ?, ?, ?)", self.requests.values())
        if self.clock_ref is not None:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (CLOCK_REF_KEY, self.clock_ref))
        for rows in (self.tickets, self.counters, self.days, self.times, self.requests):
            rows.clear()
        self.events = []
        self.clock_ref = None


@dataclass
class _BatchMemo:
    """Read once per batch instead of once per command: nothing else writes the store inside its transaction.

    ``boot``: the boot clock (two ``/proc`` files and a syscall; the batch lasts milliseconds, the clock
    tolerances are minutes); ``ref``: the clock reference as the batch last wrote it (unset: read it);
    ``fresh``: memory was checked against the file (``PRAGMA data_version``) in this transaction;
    ``marks``: the small tables as written so far. Each command compares only the counters it may change (the
    one it names and those its events name): comparing all 50 (200) counters per command was O(counters²)
    per batch, a third of a rush's store time. The batch compares all of them once before it commits.
    ``done``: the rows of the commands run so far, not yet written; ``answers``: the stored answers to the
    batch's request ids, read with one query.
    """

    boot: BootReading | None = None
    ref: ClockRef | None = None
    ref_known: bool = False
    fresh: bool = False
    marks: Marks | None = None
    done: _Writes = field(default_factory=_Writes)
    answers: dict[str, str] = field(default_factory=dict)


class Store:
    """One process's handle on the store file. Thread-safe; several processes may share the file."""

    def __init__(self, path: str | Path, site: SiteDef, clock: Clock = utc_now, busy_timeout_s: float = 30.0,
                 guard: ClockGuard | None = None):
        """``guard`` judges the wall clock (hub/clock.py); without one the clock is believed as it reads."""
        self.path = Path(path)
        self.site = site
        self.engine = Engine(site)
        self.clock = clock
        self.guard = guard
        self._lock = threading.RLock()
        self._cache: QueueState | None = None
        self._cache_version = -1
        self._extra_ids: list[str] = []  # finished tickets _live_state loaded for the command running now
        self._batch: _BatchMemo | None = None  # what the commands of the running batch share (run_batch)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=busy_timeout_s)
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            migrate(self._conn)
        except BaseException:
            self._conn.close()  # a damaged file: hold nothing open (restore replaces it)
            raise

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for the store guard's checks (``hub/store_guard.py``)."""
        return self._conn

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction on the store's connection, under its lock: for the hub's upkeep outside the
        queue's commands (the report's day summaries, hub/retention.py), never for tickets."""
        return self._transaction()

    # ------------------------------------------------------------------ state
    def _load(self, conn: sqlite3.Connection) -> QueueState:
        """The live state from the tables: the open tickets, the counters and the service days."""
        return state_from_rows(self.site, conn.execute("SELECT * FROM tickets WHERE status IN ('waiting', 'called')"),
                               conn.execute("SELECT * FROM counters"), conn.execute("SELECT * FROM service_days"),
                               conn.execute("SELECT * FROM service_times"))

    @staticmethod
    def _save(writes: _Writes, before: Marks, after: QueueState, events: list[Any],
              counters: set[str] | None = None) -> list[str]:
        """Stage what the command changed: the tickets its events name, and the small tables; ``before`` is
        brought up to date with what was staged. ``counters``: compare only those (None: all); the
        counters staged are returned."""
        for tid in sorted({e.ticket["id"] for e in events if e.ticket}):
            writes.tickets[tid] = _ticket_row(after.tickets[tid])
        written = []
        for cid in after.counters if counters is None else sorted(counters & after.counters.keys()):
            c = after.counters[cid]
            if before.counters.get(cid) != (now := tuple(vars(c).values())):
                before.counters[cid] = now
                written.append(cid)
                writes.counters[cid] = (c.id, c.status.value, c.ticket_id, c.normal_streak, c.officer,
                                        _ts(c.last_call_at))
        for sid, d in after.days.items():
            if before.days.get(sid) != (day := tuple(vars(d).values())):
                before.days[sid] = day
                writes.days[sid] = (sid, d.day.isoformat(), d.last_number, d.issued, d.cycle, d.last_called)
        for sid, recent in after.recent_service_s.items():
            if before.recent.get(sid) != (times := tuple(recent)):
                before.recent[sid] = times
                writes.times[sid] = (sid, json.dumps(recent))
        return written

    @staticmethod
    def _marks(state: QueueState) -> Marks:
        """The values of everything but the tickets (tickets are tracked through the events), to compare after.

        Field values as tuples: with the comparison after, a quarter of the time of copying 50 counters (``copy.copy``).
        """
        return Marks(counters={k: tuple(vars(c).values()) for k, c in state.counters.items()},
                     days={k: tuple(vars(d).values()) for k, d in state.days.items()},
                     recent={k: tuple(v) for k, v in state.recent_service_s.items()})

    def _live_state(self, conn: sqlite3.Connection, extra_ticket: str | None,
                    extra_number: tuple[str, bool] | None = None) -> QueueState:
        """The live state, from memory unless another connection committed since it was read.

        ``extra_ticket`` (an id) and ``extra_number`` (``(number, any status)``: the newest finished
        tickets with that number) add finished tickets a command needs (rate, undo, call-back, reprint).
        """
        memo = self._batch
        if memo is not None and (self._cache is None or extra_ticket or extra_number):
            memo.done.write(conn)  # what the batch's commands before changed, in the file before it is read
        if self._cache is None or memo is None or not memo.fresh:
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if self._cache is None or version != self._cache_version:
                self._cache = self._load(conn)
                self._cache_version = version
            if memo is not None:
                memo.fresh = True
        state = self._cache
        assert state is not None
        rows: list[sqlite3.Row] = []
        if extra_ticket and extra_ticket not in state.tickets:
            rows += conn.execute("SELECT * FROM tickets WHERE id = ?", (extra_ticket,)).fetchall()
        if extra_number is not None:
            number, any_status = extra_number
            rows += conn.execute("SELECT * FROM tickets WHERE number = ? AND status IN (?, ?) "
                                 "ORDER BY day DESC, issued_at DESC LIMIT 8",
                                 (number.strip().upper(), "no_show", "done" if any_status else "no_show")).fetchall()
        self._extra_ids = []
        for row in rows:
            if row["service"] in self.site.services and row["id"] not in state.tickets:
                state.tickets[row["id"]] = ticket = ticket_from_row(row)
                self._extra_ids.append(row["id"])
                if state.waiting_index is not None:
                    state.waiting_index.add(ticket)  # known to the index: no comparison of every id
        return state

    @staticmethod
    def _extras(action: str, args: Any) -> tuple[str | None, tuple[str, bool] | None]:
        """The finished tickets ``action`` may need loaded: an id, and a number with "any status"."""
        if action not in ("rate", "undo", "reprint", "call_ticket", "set_dossier"):
            return None, None
        try:
            args = check_args(action, args)  # nothing unchecked reaches SQLite (e.g. a lone surrogate)
        except QueueError:
            return None, None  # the command itself answers bad_request
        ticket = args.get("ticket") if action in ("rate", "undo", "reprint", "set_dossier") else None
        number = args.get("number") if action in ("call_ticket", "reprint") else None
        return (ticket if isinstance(ticket, str) else None,
                (number, action == "reprint") if isinstance(number, str) and ticket is None else None)

    def _forget_finished(self, state: QueueState, events: list[Any]) -> None:
        """Drop the finished tickets from memory: the extras loaded for this command and those it finished.

        Memory holds only open tickets between commands, so these are the only candidates (no scan of all).
        """
        for tid in [*self._extra_ids, *(e.ticket["id"] for e in events if e.ticket)]:
            ticket = state.tickets.get(tid)
            if ticket is not None and ticket.status in FINAL_STATUSES:
                del state.tickets[tid]
                if state.waiting_index is not None:
                    state.waiting_index.forget(tid)
        self._extra_ids = []

    # --------------------------------------------------------------- commands
    def run(self, action: str, args: dict[str, Any] | None = None, request_id: str | None = None,
            now: datetime | None = None) -> Reply:
        """Run one action durably; never raises ``QueueError`` (it becomes an ``ok: false`` reply)."""
        try:
            with self._transaction() as conn:
                writes = _Writes()
                reply = self._run_in(conn, action, args, request_id, now, writes)
                writes.write(conn)
        except BaseException:
            self._cache = None  # memory may now differ from the file: read it again next time
            raise
        return reply

    def run_batch(self, commands: Sequence[Command]) -> list[Reply | Exception]:
        """Run several actions in one transaction (one fsync), in order; one result per command.

        Each command keeps its own idempotency record and answer, exactly as :meth:`run` would give
        it run alone after the ones before it. A command failing with an unexpected exception (a bug)
        is returned as that exception and nothing of it is written (its rows were only staged); the
        others still commit.
        An ``sqlite3.Error`` (disk full, damaged file) rolls the whole batch back and is raised:
        nothing of it was stored, so the caller may run each command alone as before.
        """
        results: list[Reply | Exception] = []
        try:
            with self._transaction() as conn:
                self._batch = memo = _BatchMemo(answers=self._answers(conn, [c[2] for c in commands]))
                try:
                    for action, args, request_id in commands:
                        writes = _Writes(next_seq=memo.done.next_seq)
                        try:
                            results.append(self._run_in(conn, action, args, request_id, None, writes))
                        except sqlite3.Error:
                            raise
                        except Exception as exc:  # a bug in one command: drop its rows, stage nothing of it
                            self._cache = None  # its half-done changes are in memory: read the state again
                            memo.done.write(conn)  # (from the file, with the commands before it)
                            # and the clock reference
                            self._batch = memo = _BatchMemo(boot=memo.boot, done=memo.done, answers=memo.answers)
                            results.append(exc)
                        else:
                            memo.done.merge(writes)
                    if memo.marks is not None and self._cache is not None:
                        missed = self._save(memo.done, memo.marks, self._cache, [])
                        if missed:  # a command changed a counter it did not name: written now, and said
                            log.warning("counters %s changed outside the command that changed them", missed)
                    memo.done.write(conn)
                finally:
                    self._batch = None
        except BaseException:
            self._cache = None
            raise
        return results

    @staticmethod
    def _answers(conn: sqlite3.Connection, request_ids: Sequence[str | None]) -> dict[str, str]:
        """The stored answers (JSON text) to those of ``request_ids`` already run, in one query."""
        ids = [rid for rid in request_ids if rid is not None]
        found: dict[str, str] = {}
        for at in range(0, len(ids), 500):  # (SQLite's limit on parameters is 999 or more)
            chunk = ids[at:at + 500]
            found.update(conn.execute(f"SELECT id, response FROM requests WHERE id IN ({', '.join('?' * len(chunk))})",
                                      chunk).fetchall())
        return found

    def _judge(self, conn: sqlite3.Connection, when: datetime) -> tuple[Verdict, BootReading]:
        """The clock guard's verdict on ``when`` (a batch reads the boot clock and the reference once)."""
        assert self.guard is not None
        memo = self._batch
        if memo is None:
            return self.guard.judge(when, self._clock_ref(conn))
        if not memo.ref_known:
            memo.ref, memo.ref_known = self._clock_ref(conn), True
        verdict, memo.boot = self.guard.judge(when, memo.ref, memo.boot)
        return verdict, memo.boot

    def _write_clock_ref(self, writes: _Writes, ref: ClockRef) -> None:
        writes.clock_ref = ref.to_json()
        if self._batch is not None:
            self._batch.ref, self._batch.ref_known = ref, True

    def _run_in(self, conn: sqlite3.Connection, action: str, args: dict[str, Any] | None, request_id: str | None,
                now: datetime | None, writes: _Writes) -> Reply:
        """One action inside the caller's transaction, its rows staged in ``writes``; the finished tickets are
        then dropped from memory."""
        args = {} if args is None else args
        if request_id is not None:
            seen = self._recorded(conn, request_id)
            if seen is not None:
                return Reply(json.loads(seen), replayed=True)
        when = now or self.clock()
        verdict, boot = self._judge(conn, when) if self.guard and now is None else (None, None)
        if verdict is not None and not verdict.trusted and action == "issue_ticket":
            return Reply(self._untrusted_response(request_id, verdict.reason))  # nothing stored
        when = verdict.now if verdict is not None else when
        state = self._live_state(conn, *self._extras(action, args))
        memo = self._batch
        if memo is None:
            before, scope = self._marks(state), None
        else:  # a batch: the marks of the commands before, and only the counters this one may change
            before = memo.marks = memo.marks or self._marks(state)
            named = args.get("counter") if isinstance(args, dict) else None
            scope = {named} if isinstance(named, str) else set()
        changed: list[Any] = []
        try:
            outcome = run_action(self.engine, state, when, action, args)
        except QueueError as err:  # the engine refuses before changing anything
            response: dict[str, Any] = {"ok": False, "error": err.as_dict()}
            events: list[dict[str, Any]] = []
        else:
            changed = outcome.events
            if scope is not None:
                scope.update(e.counter for e in outcome.events if e.counter)
            self._save(writes, before, state, outcome.events, scope)
            events = self._append_events(conn, outcome.events, writes)
            response = {"ok": True, "result": outcome.result}
            if verdict is not None and boot is not None and events:
                self._write_clock_ref(writes, verdict.next_ref(boot))
        if request_id is not None:
            response = {"id": request_id, **response}
            writes.requests[request_id] = (request_id, action[:64], json.dumps(response, ensure_ascii=False),
                                           _ts(when))
        self._forget_finished(state, changed)
        return Reply(response, events)

    def _recorded(self, conn: sqlite3.Connection, request_id: str) -> str | None:
        """The stored answer (JSON text) to ``request_id``: staged or read with the batch, or from the file."""
        memo = self._batch
        if memo is None:
            return self._answers(conn, [request_id]).get(request_id)
        staged = memo.done.requests.get(request_id)
        return staged[2] if staged is not None else memo.answers.get(request_id)

    @staticmethod
    def _untrusted_response(request_id: str | None, reason: str) -> dict[str, Any]:
        error = {"code": ErrorCode.CLOCK_UNTRUSTED, "message": f"{reason}; {UNTRUSTED_HINT}"}
        head = {} if request_id is None else {"id": request_id}
        return {**head, "ok": False, "error": error}

    @staticmethod
    def _clock_ref(conn: sqlite3.Connection) -> ClockRef | None:
        """The trusted time of the newest event (a store from before trusted time: its newest event's ts)."""
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (CLOCK_REF_KEY,)).fetchone()
        if row is not None:
            with suppress(ValueError, KeyError, TypeError):  # unreadable: judge against the newest event
                return ClockRef.from_json(row["value"])
        newest = conn.execute("SELECT ts FROM outbox ORDER BY seq DESC LIMIT 1").fetchone()
        return None if newest is None else ClockRef(datetime.fromisoformat(newest["ts"]))

    def clock_ref(self) -> ClockRef | None:
        """The trusted time of the newest event, as the next command will judge the clock against."""
        with self._lock:
            return self._clock_ref(self._conn)

    def clock_verdict(self) -> Verdict | None:
        """Whether an issue now would be allowed and the time it would use (None: no guard)."""
        return None if self.guard is None else self.guard.judge(self.clock(), self.clock_ref())[0]

    def trust_clock(self) -> ClockRef:
        """A technician's confirmation: the wall clock now becomes the store's reference (returned)."""
        wall = self.clock()
        if wall < CLOCK_FLOOR:
            raise ValueError(f"the board's clock reads {wall:%Y-%m-%d %H:%M}, which cannot be right; set the date "
                             "first (e.g. `sudo date -s '2026-12-01 08:00'`), then run `qms clock trust` again")
        boot = (self.guard.boot if self.guard else read_boot)()
        ref = ClockRef(wall, boot.boot_id, boot.uptime_s, exact=True)
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (CLOCK_REF_KEY, ref.to_json()))
        return ref

    def _append_events(self, conn: sqlite3.Connection, events: list[Any], writes: _Writes) -> list[dict[str, Any]]:
        """Stage ``events`` for the outbox, each stored as the exact JSON text the hub publishes.

        The ``seq`` is taken here, not from ``AUTOINCREMENT`` after an insert (the payload holds its own
        ``seq``); read once a transaction. The caller holds the write lock; ``sqlite_sequence`` (bumped by
        every insert) keeps a ``seq`` from being used twice after pruning.
        """
        if not events:
            return []
        seq = writes.next_seq
        if seq is None:
            seq = conn.execute(NEWEST_SEQ).fetchone()[0] + 1
        out = []
        for event in events:
            ts = event.ts.astimezone(self.site.tz).isoformat(timespec="milliseconds")
            body = event.payload(seq, ts)
            writes.events.append((seq, ts, event.type, payload_text(body)))
            out.append(body)
            seq += 1
        writes.next_seq = seq
        return out

    # ------------------------------------------------------------------ retention
    def prune(self, before: datetime, published_seq: int, limit: int = 500,
              requests_before: datetime | None = None, refusals_before: datetime | None = None) -> tuple[int, int]:
        """Delete up to ``limit`` request answers and outbox events older than ``before``; (requests, events).

        ``requests_before`` (default ``before``): the cutoff of the request answers, kept for retries only;
        ``refusals_before`` (default ``requests_before``): the cutoff of the ``ok: false`` answers.

        Never an event the hub has not published (``seq > published_seq``) and never the newest one
        (``MAX(seq)`` is the site's last seq; AUTOINCREMENT keeps counting past deleted rows anyway).
        Tickets are kept, and so are ``ticket_transferred`` events (few: the report's legs of transferred
        tickets, qms/report_legs.py). One short transaction per call: call again while it returns non-zero counts.
        """
        event_cutoff = before.astimezone(self.site.tz).isoformat(timespec="milliseconds")
        requests_before = requests_before or before
        with self._transaction() as conn:
            requests = conn.execute(
                "DELETE FROM requests WHERE rowid IN (SELECT rowid FROM requests WHERE created_at < ? LIMIT ?)",
                (_ts(requests_before), limit)).rowcount
            if refusals_before is not None and refusals_before > requests_before:
                requests += conn.execute(
                    "DELETE FROM requests WHERE rowid IN (SELECT rowid FROM requests WHERE created_at < ? "
                    "AND json_extract(response, '$.ok') = 0 LIMIT ?)", (_ts(refusals_before), limit)).rowcount
            events = conn.execute(
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq <= ? AND ts < ? "
                "AND seq < (SELECT MAX(seq) FROM outbox) AND type != 'ticket_transferred' ORDER BY seq LIMIT ?)",
                (published_seq, event_cutoff, limit)).rowcount
        return requests, events

    # ------------------------------------------------------------------ reads
    def recorded_response(self, request_id: str) -> dict[str, Any] | None:
        """The stored first answer to ``request_id`` (None when it was never run, or pruned)."""
        with self._lock:
            answer = self._answers(self._conn, [request_id]).get(request_id)
        return None if answer is None else json.loads(answer)

    def last_seq(self) -> int:
        """The newest event's ``seq`` (0 before the first event)."""
        with self._lock:
            row = self._conn.execute(NEWEST_SEQ).fetchone()
        return row[0] or 0

    def events_after(self, seq: int, limit: int = 500) -> list[dict[str, Any]]:
        """Events with ``seq`` greater than ``seq``, oldest first."""
        return [event for event, _ in self.stored_events_after(seq, limit)]

    def stored_events_after(self, seq: int, limit: int = 500) -> list[tuple[dict[str, Any], str]]:
        """Like :meth:`events_after`, each event with its stored JSON text (published as it is)."""
        with self._lock:
            rows = self._conn.execute("SELECT payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                                      (seq, limit)).fetchall()
        return [(json.loads(r["payload"]), r["payload"]) for r in rows]

    def get_meta(self, key: str) -> str | None:
        """A value of the ``meta`` table."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row["value"]

    def set_meta(self, key: str, value: str, durable: bool = True) -> None:
        """Set a value of the ``meta`` table.

        ``durable=False``: no fsync of its own (4 ms on an SD card, the store's lock held meanwhile); the
        value reaches the disk with the next durable commit, and a power cut before that may lose it.
        For values that are only a hint, such as how far the hub has published (it then publishes again).
        """
        with self._lock:
            if not durable:
                self._conn.execute("PRAGMA synchronous = NORMAL")
            try:
                with self._transaction() as conn:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous = FULL")

    def snapshot(self, counters: set[str] | None = None, services: set[str] | None = None) -> dict[str, Any]:
        """``{"site", "seq", "services", "counters"}``: retained state payloads consistent with one ``seq``.

        ``counters`` / ``services`` limit the payloads to those ids (all when None).
        """
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                state = self._live_state(self._conn, None)
                seq = self._conn.execute(NEWEST_SEQ).fetchone()[0] or 0
            finally:
                self._conn.execute("COMMIT")
        now = self.clock()
        return {
            "site": self.site.site,
            "seq": seq,
            "services": [{**service_view(self.site, state, s, now), "seq": seq} for s in self.site.services
                         if services is None or s in services],
            "counters": [{**counter_view(self.site, state, c, now), "seq": seq} for c in self.site.counters
                         if counters is None or c in counters],
        }

    def set_site(self, site: SiteDef) -> None:
        """Serve ``site`` from the next command on (a reloaded config; ``hub/reload.py``)."""
        with self._lock:
            self.site = site
            self.engine = Engine(site)
            self._cache = None  # the live state is read again for the new services and counters

    def open_services(self) -> dict[str, str]:
        """``{service id: a number}`` of every service with waiting or called tickets (any day)."""
        with self._lock:
            rows = self._conn.execute("SELECT service, MIN(number) AS number FROM tickets "
                                      "WHERE status IN ('waiting', 'called') GROUP BY service").fetchall()
        return {row["service"]: row["number"] for row in rows}

    def ticket(self, ticket_id: str) -> Ticket | None:
        """One ticket by id, whatever its status."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return None if row is None else ticket_from_row(row)

    def tickets(self, where: str = "1", params: tuple[Any, ...] = ()) -> list[Ticket]:
        """Tickets matching an SQL condition (for reports and tests), oldest first."""
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM tickets WHERE {where} ORDER BY issued_at, id",
                                      params).fetchall()
        return [ticket_from_row(r) for r in rows]

    def integrity_check(self) -> str:
        """SQLite's own verdict: ``ok`` or the first problem."""
        with self._lock:
            return self._conn.execute("PRAGMA integrity_check").fetchone()[0]
