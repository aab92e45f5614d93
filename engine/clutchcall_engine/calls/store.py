"""Where calls are kept: the `CallStore` interface and its default, `SqliteCallStore`.

A store holds each call as its generated `Call` DTO (protobuf binary) beside the columns it is
queried by, the per-tenant idempotency keys, and a per-call event sequence. Status changes go
through `transition`, which enforces the IDL's CallStatus state machine as generated
(`CallStatus.can_transition`), inside the same transaction that writes the new state.

A server database (Postgres, ...) implements `CallStore` with the same semantics; the tests in
tests/calls/test_store.py are written against the interface so they can run against it too.
"""

from __future__ import annotations

import abc
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from clutchcall import Call, CallStatus
from clutchcall.errors import DecodeError


class StoreError(Exception):
    """The store cannot do what was asked; the message says what and where."""


class IdempotencyConflict(StoreError):
    """An idempotency key was reused with a different request."""

    def __init__(self, tenant: str, key: str, sid: str) -> None:
        super().__init__(f"idempotency key {key!r} of tenant {tenant!r} was used for call {sid} with another request")
        self.sid = sid


class InvalidTransition(StoreError):
    """The IDL's CallStatus state machine does not allow the move."""

    def __init__(self, sid: str, from_: int, to: int) -> None:
        super().__init__(f"call {sid}: {status_name(from_)} cannot move to {status_name(to)}")
        self.from_status = from_
        self.to_status = to


class CallNotFound(StoreError):
    def __init__(self, sid: str) -> None:
        super().__init__(f"no call {sid}")


def status_name(status: int) -> str:
    member = CallStatus.from_number(status)
    return member.json_name if isinstance(member, CallStatus) else f"status {status}"


@dataclass(frozen=True)
class Transition:
    """The outcome of a status change: the call before and after, and the change's event sequence number."""

    before: Call
    after: Call
    sequence: int


@dataclass(frozen=True)
class Page:
    calls: list[Call]
    next_cursor: int | None
    """Pass as `before` to get the next (older) page; None on the last page."""


Mutation = Callable[[Call], None]
"""Edits a call in place (status, end reason, timestamps, ...)."""


class CallStore(abc.ABC):
    """The call records of every tenant. Methods are synchronous and each is one atomic step."""

    @abc.abstractmethod
    def create(
        self, call: Call, idempotency_key: str = "", fingerprint: bytes = b"", now_ms: int = 0
    ) -> tuple[Call, bool]:
        """Store a new call and return it with True. With an idempotency key the tenant already used: the call
        stored then and False (when the fingerprint matches) or IdempotencyConflict; keys are kept for the
        store's retention.
        """

    @abc.abstractmethod
    def replay(self, tenant: str, idempotency_key: str, fingerprint: bytes) -> Call | None:
        """The call an idempotency key already made (IdempotencyConflict if it was for another request), or None.
        A read only: `create` decides atomically; this lets a retry be answered before any quota is checked."""

    @abc.abstractmethod
    def get(self, sid: str) -> Call | None:
        """The call with this sid, whichever tenant owns it (tenant checks belong to the caller)."""

    @abc.abstractmethod
    def transition(self, sid: str, to: int, mutate: Mutation | None = None) -> Transition:
        """Move a call to status `to` (raising InvalidTransition unless the IDL allows it, CallNotFound if
        there is no such call), apply `mutate` to the new state, store it, and count one event.
        """

    @abc.abstractmethod
    def update(self, sid: str, mutate: Mutation) -> Call:
        """Edit fields other than the status; a status change made by `mutate` is refused."""

    @abc.abstractmethod
    def next_event(self, sid: str) -> int:
        """Count one event of the call that is not a status change (e.g. DTMF); returns its sequence number."""

    @abc.abstractmethod
    def list_page(self, tenant: str, statuses: Sequence[int], limit: int, before: int | None = None) -> Page:
        """The tenant's calls, newest first, `limit` at most, only these statuses (all when empty)."""

    @abc.abstractmethod
    def live(self) -> list[Call]:
        """Every call not in a terminal state (to end them after a crash)."""

    @abc.abstractmethod
    def close(self) -> None: ...


# Each migration runs once, in order, in its own transaction; the index + 1 is the schema version it
# produces. Never edit a released migration: append a new one.
MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE calls (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order: the paging cursor
        sid TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        status INTEGER NOT NULL,
        event_seq INTEGER NOT NULL DEFAULT 0,   -- CallEvent.sequence of the call's last event
        call BLOB NOT NULL                      -- the Call DTO, protobuf binary
    );
    CREATE INDEX calls_by_tenant ON calls (tenant, seq);
    CREATE INDEX calls_by_tenant_status ON calls (tenant, status, seq);
    CREATE TABLE idempotency_keys (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint BLOB NOT NULL,
        sid TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (tenant, key)
    ) WITHOUT ROWID;
    CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at_ms);
    """,
)

_TERMINAL: Final = tuple(sorted(int(s) for s in CallStatus if CallStatus.is_terminal(s)))


class SqliteCallStore(CallStore):
    """One SQLite file in WAL mode. A committed write survives the engine being killed (WAL with
    synchronous=NORMAL loses nothing on a process crash; `synchronous="FULL"` also survives power loss).

    Not thread-safe: the engine calls it from its event loop only.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        idempotency_retention_ms: int = 24 * 3600 * 1000,
        synchronous: str = "NORMAL",
        migrations: Sequence[str] = MIGRATIONS,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise StoreError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
        self.path = Path(path)
        self.idempotency_retention_ms = idempotency_retention_ms
        self.idempotency_keys_expired = 0
        """Keys forgotten because they outlived the retention (the bound on that table)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves so each method is one transaction.
            self._db = sqlite3.connect(self.path, isolation_level=None)
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"{self.path}: cannot use WAL mode (got {mode})")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute("PRAGMA busy_timeout=5000")
            self.schema_version = self._migrate(migrations)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot open the call store: {e}") from None

    def _migrate(self, migrations: Sequence[str]) -> int:
        db = self._db
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT version FROM schema_version").fetchone()
        version = 0 if row is None else int(row[0])
        if version > len(migrations):
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this engine knows ({len(migrations)})"
            )
        for number in range(version + 1, len(migrations) + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                # executescript would commit first; run the migration's statements one by one instead.
                for statement in _statements(migrations[number - 1]):
                    db.execute(statement)
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
                db.execute("COMMIT")
            except sqlite3.Error as e:
                db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: migration to schema version {number} failed: {e}") from None
            version = number
        return version

    def _write(self) -> _Transaction:
        return _Transaction(self._db)

    def create(
        self, call: Call, idempotency_key: str = "", fingerprint: bytes = b"", now_ms: int = 0
    ) -> tuple[Call, bool]:
        with self._write() as db:
            if idempotency_key:
                db.execute(
                    "DELETE FROM idempotency_keys WHERE created_at_ms < ?", (now_ms - self.idempotency_retention_ms,)
                )
                self.idempotency_keys_expired += db.execute("SELECT changes()").fetchone()[0]
                row = db.execute(
                    "SELECT fingerprint, sid FROM idempotency_keys WHERE tenant = ? AND key = ?",
                    (call.tenant_id, idempotency_key),
                ).fetchone()
                if row is not None:
                    if bytes(row[0]) != fingerprint:
                        raise IdempotencyConflict(call.tenant_id, idempotency_key, row[1])
                    stored = self._get(db, row[1])
                    if stored is None:
                        raise StoreError(f"idempotency key {idempotency_key!r} names call {row[1]}, which is gone")
                    return stored, False
                db.execute(
                    "INSERT INTO idempotency_keys (tenant, key, fingerprint, sid, created_at_ms) VALUES (?,?,?,?,?)",
                    (call.tenant_id, idempotency_key, fingerprint, call.sid, now_ms),
                )
            try:
                db.execute(
                    "INSERT INTO calls (sid, tenant, status, call) VALUES (?, ?, ?, ?)",
                    (call.sid, call.tenant_id, int(call.status), call.encode()),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"a call with sid {call.sid} already exists") from None
        return call, True

    def replay(self, tenant: str, idempotency_key: str, fingerprint: bytes) -> Call | None:
        row = self._db.execute(
            "SELECT fingerprint, sid FROM idempotency_keys WHERE tenant = ? AND key = ?", (tenant, idempotency_key)
        ).fetchone()
        if row is None:
            return None
        if bytes(row[0]) != fingerprint:
            raise IdempotencyConflict(tenant, idempotency_key, row[1])
        return self._get(self._db, row[1])

    def _get(self, db: sqlite3.Connection, sid: str) -> Call | None:
        row = db.execute("SELECT call FROM calls WHERE sid = ?", (sid,)).fetchone()
        return None if row is None else _decode(sid, row[0])

    def get(self, sid: str) -> Call | None:
        return self._get(self._db, sid)

    def transition(self, sid: str, to: int, mutate: Mutation | None = None) -> Transition:
        with self._write() as db:
            before = self._get(db, sid)
            if before is None:
                raise CallNotFound(sid)
            if not CallStatus.can_transition(before.status, to):
                raise InvalidTransition(sid, before.status, to)
            after = Call.decode(before.encode())
            after.status = CallStatus.from_number(to)
            if mutate is not None:
                mutate(after)
                if after.status != to:
                    raise StoreError(f"call {sid}: a transition's mutation must not change the status")
            sequence = db.execute(
                "UPDATE calls SET status = ?, call = ?, event_seq = event_seq + 1 WHERE sid = ? RETURNING event_seq",
                (int(to), after.encode(), sid),
            ).fetchone()[0]
        return Transition(before, after, int(sequence))

    def update(self, sid: str, mutate: Mutation) -> Call:
        with self._write() as db:
            call = self._get(db, sid)
            if call is None:
                raise CallNotFound(sid)
            status = call.status
            mutate(call)
            if call.status != status:
                raise StoreError(f"call {sid}: update cannot change the status; use transition")
            db.execute("UPDATE calls SET call = ? WHERE sid = ?", (call.encode(), sid))
        return call

    def next_event(self, sid: str) -> int:
        with self._write() as db:
            row = db.execute(
                "UPDATE calls SET event_seq = event_seq + 1 WHERE sid = ? RETURNING event_seq", (sid,)
            ).fetchone()
            if row is None:
                raise CallNotFound(sid)
        return int(row[0])

    def list_page(self, tenant: str, statuses: Sequence[int], limit: int, before: int | None = None) -> Page:
        where: list[str] = ["tenant = ?"]
        args: list[str | int] = [tenant]
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            args += [int(s) for s in statuses]
        if before is not None:
            where.append("seq < ?")
            args.append(before)
        rows = self._db.execute(
            f"SELECT seq, sid, call FROM calls WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?",
            (*args, limit + 1),
        ).fetchall()
        calls = [_decode(sid, blob) for _, sid, blob in rows[:limit]]
        return Page(calls, int(rows[limit - 1][0]) if len(rows) > limit else None)

    def live(self) -> list[Call]:
        rows = self._db.execute(
            f"SELECT sid, call FROM calls WHERE status NOT IN ({','.join('?' * len(_TERMINAL))}) ORDER BY seq",
            _TERMINAL,
        ).fetchall()
        return [_decode(sid, blob) for sid, blob in rows]

    def close(self) -> None:
        self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _statements(script: str) -> list[str]:
    """A migration script's statements (our migrations hold no ';' inside literals or triggers)."""
    return [s for s in script.split(";") if any(line.split("--", 1)[0].strip() for line in s.splitlines())]


def _decode(sid: str, blob: bytes) -> Call:
    try:
        return Call.decode(blob)
    except DecodeError as e:
        raise StoreError(f"call {sid}: the stored record is corrupt: {e}") from None
