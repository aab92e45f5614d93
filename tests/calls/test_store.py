"""SqliteCallStore: migrations, WAL, idempotency across reopen, crash consistency under kill -9, paging, and the
CallStatus state machine checked against the IR (the compiler's reading of the IDL), not against the generated
table the store itself uses.
"""

from __future__ import annotations

import itertools
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from clutchcall import Call, CallStatus, EndReason
from clutchcall_engine.calls.store import (
    MIGRATIONS,
    CallNotFound,
    IdempotencyConflict,
    InvalidTransition,
    SqliteCallStore,
    StoreError,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from apirpc_compiler.ir.model import IR


def _call(sid: str, tenant: str = "acme", status: int = CallStatus.DIALING) -> Call:
    return Call(sid=sid, tenant_id=tenant, status=status, to="+14155550100", from_="+14155550199", created_at_ms=1)


def test_fresh_store_is_wal_at_the_latest_schema(tmp_path: Path) -> None:
    store = SqliteCallStore(tmp_path / "calls.db")
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    db = sqlite3.connect(tmp_path / "calls.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]


def test_migration_adds_to_an_existing_store_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    store = SqliteCallStore(path)
    store.create(_call("CA1"))
    store.close()
    extra = "ALTER TABLE calls ADD COLUMN note TEXT; CREATE INDEX calls_note ON calls (note)"
    store = SqliteCallStore(path, migrations=(*MIGRATIONS, extra))
    assert store.schema_version == len(MIGRATIONS) + 1
    assert store.get("CA1") == _call("CA1")
    store.close()
    # Reopening at that version runs nothing again (a second ALTER would fail).
    assert SqliteCallStore(path, migrations=(*MIGRATIONS, extra)).schema_version == len(MIGRATIONS) + 1


def test_failed_migration_rolls_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    SqliteCallStore(path).close()
    broken = "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1)"
    with pytest.raises(StoreError, match=f"migration to schema version {len(MIGRATIONS) + 1} failed.*no_such_table"):
        SqliteCallStore(path, migrations=(*MIGRATIONS, broken))
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0


def test_store_newer_than_the_engine_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    SqliteCallStore(path, migrations=(*MIGRATIONS, "CREATE TABLE later (x INTEGER)")).close()
    with pytest.raises(StoreError, match=f"schema version {len(MIGRATIONS) + 1} is newer than this engine knows"):
        SqliteCallStore(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the call store"):
        SqliteCallStore(path)


def test_idempotency_key_gives_the_same_call_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    store = SqliteCallStore(path)
    first, _ = store.create(_call("CA1"), "key-1", b"request-a", now_ms=1000)
    store.close()
    store = SqliteCallStore(path)
    again, created = store.create(_call("CA2"), "key-1", b"request-a", now_ms=2000)
    assert not created
    assert again.sid == first.sid == "CA1"
    assert store.get("CA2") is None
    with pytest.raises(IdempotencyConflict, match=r"key-1.*CA1"):
        store.create(_call("CA3"), "key-1", b"request-b", now_ms=3000)
    # Keys are per tenant: another tenant's identical key is a new call.
    assert store.create(_call("CA4", tenant="globex"), "key-1", b"request-a", now_ms=3000)[0].sid == "CA4"


def test_idempotency_keys_expire_after_retention_and_are_counted(tmp_path: Path) -> None:
    store = SqliteCallStore(tmp_path / "calls.db", idempotency_retention_ms=1000)
    store.create(_call("CA1"), "k", b"x", now_ms=0)
    assert store.create(_call("CA2"), "k", b"x", now_ms=999)[0].sid == "CA1"
    assert store.create(_call("CA3"), "k", b"x", now_ms=1001)[0].sid == "CA3"
    assert store.idempotency_keys_expired == 1


def test_duplicate_sid_is_refused(tmp_path: Path) -> None:
    store = SqliteCallStore(tmp_path / "calls.db")
    store.create(_call("CA1"))
    with pytest.raises(StoreError, match="sid CA1 already exists"):
        store.create(_call("CA1"))


def test_paging_newest_first_filtered_by_tenant_and_status(tmp_path: Path) -> None:
    store = SqliteCallStore(tmp_path / "calls.db")
    for i in range(25):
        store.create(_call(f"CA{i:02}", tenant="acme" if i % 2 == 0 else "globex"))
    store.transition("CA04", CallStatus.FAILED)
    seen: list[str] = []
    cursor: int | None = None
    while True:
        page = store.list_page("acme", [], 5, cursor)
        seen += [c.sid for c in page.calls]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"CA{i:02}" for i in range(24, -1, -2)]
    assert [c.sid for c in store.list_page("acme", [CallStatus.FAILED], 10).calls] == ["CA04"]
    assert store.list_page("acme", [CallStatus.FAILED, CallStatus.DIALING], 100).next_cursor is None
    assert len(store.list_page("acme", [CallStatus.FAILED, CallStatus.DIALING], 100).calls) == 13
    assert store.list_page("nobody", [], 10).calls == []


def test_transition_applies_mutation_and_counts_events(tmp_path: Path) -> None:
    store = SqliteCallStore(tmp_path / "calls.db")
    store.create(_call("CA1"))

    def answered(call: Call) -> None:
        call.answered_at_ms = 42

    t = store.transition("CA1", CallStatus.IN_PROGRESS, answered)
    assert (t.before.status, t.after.status, t.after.answered_at_ms, t.sequence) == (1, 3, 42, 1)
    assert store.next_event("CA1") == 2
    t = store.transition("CA1", CallStatus.COMPLETED)
    assert t.sequence == 3
    assert store.get("CA1") == t.after
    with pytest.raises(CallNotFound):
        store.transition("CA9", CallStatus.COMPLETED)
    with pytest.raises(StoreError, match="use transition"):
        store.update("CA1", lambda c: setattr(c, "status", CallStatus.FAILED))


def test_live_lists_only_non_terminal_calls(tmp_path: Path) -> None:
    store = SqliteCallStore(tmp_path / "calls.db")
    for sid, status in (("CA1", CallStatus.DIALING), ("CA2", CallStatus.RINGING), ("CA3", CallStatus.IN_PROGRESS)):
        store.create(_call(sid, status=status))
    store.transition("CA2", CallStatus.NO_ANSWER)
    assert [c.sid for c in store.live()] == ["CA1", "CA3"]


def _ir_machine(ir: IR) -> tuple[set[int], dict[int, set[int]]]:
    """CallStatus's initial states and edges as numbers, from the IR (the compiler's reading of the IDL)."""
    enum = next(e for e in ir["enums"] if e["name"] == "CallStatus")
    machine = enum["transitions"]
    assert machine is not None
    number = {v["name"]: v["number"] for v in enum["values"]}
    edges = {number[k]: {number[t] for t in targets} for k, targets in machine["edges"].items()}
    return {number[n] for n in machine["initial"]}, edges


_MACHINE_STORE: list[SqliteCallStore] = []
_MACHINE_SIDS = itertools.count()


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 7), moves=st.lists(st.integers(-1, 8), max_size=8))
def test_transitions_follow_the_ir_exactly(
    ir: IR, tmp_path_factory: pytest.TempPathFactory, start: int, moves: list[int]
) -> None:
    initial, edges = _ir_machine(ir)
    if not _MACHINE_STORE:  # one store for every example (a file per example costs more than the test)
        _MACHINE_STORE.append(SqliteCallStore(tmp_path_factory.mktemp("sm") / "calls.db"))
    store = _MACHINE_STORE[0]
    sid = f"CA{next(_MACHINE_SIDS)}"
    store.create(_call(sid, status=start))
    current = start
    for to in moves:
        allowed = to in edges.get(current, set())
        if allowed:
            t = store.transition(sid, to, lambda c: setattr(c, "end_reason", EndReason.BUSY))
            assert (t.before.status, t.after.status) == (current, to)
            current = to
        else:
            with pytest.raises(InvalidTransition):
                store.transition(sid, to)
        stored = store.get(sid)
        assert stored is not None and stored.status == current
    # Terminal states have no way out; the initial ones are those the IR names.
    assert all(not edges[s] for s in edges if CallStatus.is_terminal(s))
    assert {int(s) for s in CallStatus if CallStatus.is_initial(s)} == initial


_WRITER = textwrap.dedent(
    """
    import sys
    from clutchcall import Call, CallStatus
    from clutchcall_engine.calls.store import SqliteCallStore

    store = SqliteCallStore(sys.argv[1])
    i = 0
    while True:
        sid = f"CA{i:06}"
        store.create(Call(sid=sid, tenant_id="acme", status=CallStatus.DIALING), f"key-{i}", b"f", now_ms=i)
        if i % 3 == 0:
            store.transition(sid, CallStatus.RINGING)
        print(sid, flush=True)  # acknowledged only after the commit
        i += 1
    """
)


def test_kill_9_mid_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = [proc.stdout.readline().strip() for _ in range(400)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    acknowledged += [line.strip() for line in proc.stdout if line.strip()]
    store = SqliteCallStore(path)
    assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for n, sid in enumerate(acknowledged):
        call = store.get(sid)
        assert call is not None, sid
        assert call.status == (CallStatus.RINGING if n % 3 == 0 else CallStatus.DIALING)
        assert store.create(Call(sid="other", tenant_id="acme"), f"key-{n}", b"f", now_ms=n)[0].sid == sid


_PAGING_STORE: list[SqliteCallStore] = []


@settings(max_examples=100, deadline=None)
@given(
    calls=st.lists(st.tuples(st.sampled_from(["acme", "globex"]), st.sampled_from([1, 2, 3])), max_size=40),
    page_size=st.integers(1, 12),
    statuses=st.lists(st.sampled_from([1, 2, 3]), max_size=3, unique=True),
)
def test_pages_cover_the_filtered_calls_exactly_once_newest_first(
    tmp_path_factory: pytest.TempPathFactory, calls: list[tuple[str, int]], page_size: int, statuses: list[int]
) -> None:
    run_id = next(_MACHINE_SIDS)  # tenants are made unique per example so examples share one store
    if not _PAGING_STORE:
        _PAGING_STORE.append(SqliteCallStore(tmp_path_factory.mktemp("paging") / "calls.db"))
    store = _PAGING_STORE[0]
    sids = []
    for i, (tenant, status) in enumerate(calls):
        sid = f"P{run_id}-{i}"
        store.create(_call(sid, tenant=f"{tenant}{run_id}", status=status))
        sids.append((sid, f"{tenant}{run_id}", status))
    expected = [
        sid
        for sid, tenant, status in reversed(sids)
        if tenant == f"acme{run_id}" and (not statuses or status in statuses)
    ]
    seen: list[str] = []
    cursor: int | None = None
    for _ in range(len(calls) + 2):
        page = store.list_page(f"acme{run_id}", statuses, page_size, cursor)
        assert len(page.calls) <= page_size
        seen += [c.sid for c in page.calls]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert cursor is None and seen == expected
