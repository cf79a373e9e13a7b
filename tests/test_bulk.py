"""Bulk storing (the importer's batches): against random stored histories, overlapping or not,
with duplicates among them and within them, and with a server's live ingest writing to the same
file meanwhile, every stored gap equals the window-function form and no heartbeat is stored
twice: the same outcome as live ingest's statement."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hackatime import bulk, ingest, users
from hackatime.db import Database
from hackatime.heartbeats import Heartbeat
from tests.conftest import Account
from tests.helpers import stored_heartbeats
from tests.oracle import stored_gaps, window_gaps

T0_MS = 1_700_000_000_000

# Few times, entities and line numbers: ties, and heartbeats equal to stored ones, are common.
_BEAT = st.builds(
    Heartbeat,
    time_ms=st.integers(0, 40).map(lambda step: T0_MS + step * 30_000),
    entity=st.sampled_from(["/a/main.py", "/a/lib.rs"]),
    type=st.just("file"),
    category=st.just("coding"),
    project=st.sampled_from([None, "app"]),
    lineno=st.sampled_from([None, 1]),
    is_write=st.sampled_from([None, True, False]),
    user_agent=st.sampled_from([None, "vim-wakatime/1.0"]),
)
_ROUNDS = 40
_BATCHES = st.lists(st.lists(_BEAT, min_size=1, max_size=12), max_size=4)


def _identities(path: Path, user_id: int) -> Counter[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        columns = ", ".join((*ingest.IDENTITY_COLUMNS, "identity_key"))
        sql = f"SELECT {columns} FROM heartbeats WHERE user_id = ?"
        return Counter(tuple(row) for row in conn.execute(sql, (user_id,)))
    finally:
        conn.close()


async def _store_all(
    path: Path, stored: list[list[Heartbeat]], imported: list[list[Heartbeat]], *, use_bulk: bool
) -> list[int]:
    """A history stored by live ingest for two users (the other's rows interleave in time),
    then the imported batches for the first; how many of each batch were new."""
    db = Database(path)
    await db.open()
    try:
        ada, _ = await users.create_user(db, "ada")
        other, _ = await users.create_user(db, "other")
        for batch in stored:
            await ingest.store(db, ada.id, batch)
            await ingest.store(db, other.id, batch[::-1])
        store = bulk.store_batch if use_bulk else ingest.store_now
        return [await store(db, ada.id, batch) for batch in imported]
    finally:
        await db.close()


async def _compare(stored: list[list[Heartbeat]], imported: list[list[Heartbeat]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        bulk_path, live_path = Path(folder) / "bulk.db", Path(folder) / "live.db"
        new = await _store_all(bulk_path, stored, imported, use_bulk=True)
        assert new == await _store_all(live_path, stored, imported, use_bulk=False)
        for user_id in (1, 2):
            assert stored_gaps(bulk_path, user_id) == window_gaps(bulk_path, user_id)
            assert _identities(bulk_path, user_id) == _identities(live_path, user_id)
        assert max(_identities(bulk_path, 1).values(), default=1) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=_BATCHES, imported=_BATCHES)
def test_gaps_and_duplicates_as_live_ingest_over_any_history(
    stored: list[list[Heartbeat]], imported: list[list[Heartbeat]]
) -> None:
    asyncio.run(_compare(stored, imported))


def _minute(minute: int, **fields: Any) -> Heartbeat:
    return Heartbeat(
        time_ms=T0_MS + minute * 60_000,
        entity="/a/main.py",
        type="file",
        category="coding",
        **fields,
    )


async def test_a_batch_between_stored_rows_takes_their_gaps(db: Database, alice: Account) -> None:
    await ingest.store(db, alice.user.id, [_minute(0), _minute(10)])
    assert await bulk.store_batch(db, alice.user.id, [_minute(7), _minute(2), _minute(2)]) == 2
    rows = await stored_heartbeats(db, alice.user.id)
    assert [(row["time_ms"] - T0_MS) // 60_000 for row in rows] == [0, 2, 7, 10]
    assert [row["gap_next_ms"] for row in rows] == [120_000, 300_000, 180_000, None]


async def test_placeholders_resolve_as_in_live_ingest(db: Database, alice: Account) -> None:
    await ingest.store(db, alice.user.id, [_minute(0, project="app")])
    batch = [
        _minute(1, project="<<LAST_PROJECT>>", dependencies=("os", "re")),
        _minute(2, project="cli"),
    ]
    assert await bulk.store_batch(db, alice.user.id, batch) == 2
    rows = await stored_heartbeats(db, alice.user.id)
    assert [row["project"] for row in rows] == ["app", "app", "cli"]
    assert [row["dependencies"] for row in rows] == [None, '["os","re"]', None]
    assert [row["gap_next_ms"] for row in rows] == [60_000, 60_000, None]


async def test_live_ingest_through_another_connection_meanwhile(tmp_path: Path) -> None:
    """A server writing the same user's heartbeats through its own connection while the import
    runs: SQLite serialises the two writers, and every gap ends right."""
    path = tmp_path / "shared.db"
    server, importer = Database(path), Database(path)
    await server.open()
    await importer.open()
    try:
        ada, _ = await users.create_user(server, "ada")

        async def live() -> None:
            for step in range(_ROUNDS):
                # Live heartbeats land between and on the imported ones.
                await ingest.store(server, ada.id, [_minute(step * 3 + 1), _minute(step * 2)])
                await asyncio.sleep(0)

        async def imported() -> None:
            for step in range(_ROUNDS):
                batch = [_minute(step * 3 + offset, lineno=offset) for offset in range(4)]
                await bulk.store_batch(importer, ada.id, batch)

        await asyncio.gather(live(), imported())
        assert stored_gaps(path, ada.id) == window_gaps(path, ada.id)
        assert max(_identities(path, ada.id).values()) == 1
    finally:
        await importer.close()
        await server.close()


async def test_a_batch_that_fails_leaves_nothing_and_the_triggers_in_place(
    db: Database, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ingest.store(db, alice.user.id, [_minute(0), _minute(10)])
    # Fails after the triggers are dropped and the new rows inserted.
    monkeypatch.setattr(bulk, "_SET_GAP", "UPDATE no_such_table SET x = ?")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await bulk.store_batch(db, alice.user.id, [_minute(5)])
    assert [row["time_ms"] for row in await stored_heartbeats(db, alice.user.id)] == [
        T0_MS,
        T0_MS + 600_000,
    ]
    # Live ingest still has its triggers: the row landing between takes its gaps.
    await ingest.store(db, alice.user.id, [_minute(4)])
    rows = await stored_heartbeats(db, alice.user.id)
    assert [row["gap_next_ms"] for row in rows] == [240_000, 360_000, None]
