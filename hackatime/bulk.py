"""Storing a large batch of one user's heartbeats at once (the importer's): the same identity and
the same stored gaps as live ingest, worked out from one read of the batch's time span instead
of the index probes that live ingest's statement and triggers make for every row.

In one `BEGIN IMMEDIATE` transaction: read the user's stored rows between the batch's first and
last time, its stored predecessor and the time of its stored successor; drop the heartbeats
already stored (or repeated in the batch); merge the rest with the stored rows in (time_ms, id)
order, where a new row comes after every stored one of its time because it gets a larger id;
insert the new rows with their gaps set, which the gap triggers leave alone (schema.sql); and
set the gaps of the stored rows whose successor changed. The one new row with no successor at
all (the user's latest) is inserted last without a gap, and the triggers give it NULL as they
would. The write lock is held from the first read to the commit, so a server writing to the
same database meanwhile waits, then sees every gap right.
"""

from __future__ import annotations

import heapq
import operator
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import orjson

from hackatime import ingest
from hackatime.db import Database
from hackatime.heartbeats import PLACEHOLDERS, Heartbeat

# From the index alone (heartbeats_user_time holds time_ms and gap_next_ms).
_STORED_IN_SPAN = """
SELECT time_ms, id, gap_next_ms FROM heartbeats
WHERE user_id = ? AND time_ms BETWEEN ? AND ?
ORDER BY time_ms, id
"""
# Only a stored row at the time of a new one can be the same heartbeat.
_STORED_IDENTITIES = f"""
SELECT {", ".join(ingest.IDENTITY_COLUMNS)} FROM heartbeats
WHERE user_id = ? AND time_ms IN (SELECT value FROM json_each(?))
"""
_PREDECESSOR = """
SELECT id, time_ms, gap_next_ms FROM heartbeats WHERE user_id = ? AND time_ms < ?
ORDER BY time_ms DESC, id DESC LIMIT 1
"""
_SUCCESSOR_TIME = "SELECT min(time_ms) FROM heartbeats WHERE user_id = ? AND time_ms > ?"
_SET_GAP = "UPDATE heartbeats SET gap_next_ms = ? WHERE id = ?"
_INSERT = f"""
INSERT INTO heartbeats (created_at_ms, gap_next_ms, {", ".join(ingest.ROW_COLUMNS[:-1])},
    user_agent_id)
VALUES (?, ?, {", ".join("?" for _ in ingest.ROW_COLUMNS[:-1])},
    (SELECT id FROM user_agents WHERE value = ?))
"""
_by_time = operator.attrgetter("time_ms")


async def store_batch(db: Database, user_id: int, heartbeats: list[Heartbeat]) -> int:
    """Store the heartbeats not stored yet; how many were new (see the module's docstring)."""
    if not heartbeats:
        return 0
    if _has_placeholder(heartbeats):
        # `<<LAST_PROJECT>>` and friends resolve against what comes before them: live ingest's
        # statement does that.
        return await ingest.store_now(db, user_id, heartbeats)
    await ingest.add_user_agents(db, heartbeats)
    batch = sorted(heartbeats, key=_by_time)
    return await db.transaction(lambda conn: _store_sorted(conn, user_id, batch))


def _has_placeholder(heartbeats: list[Heartbeat]) -> bool:
    return any(
        placeholder in set(map(operator.attrgetter(column), heartbeats))
        for column, placeholder in PLACEHOLDERS.items()
    )


def _store_sorted(conn: sqlite3.Connection, user_id: int, batch: list[Heartbeat]) -> int:
    first_ms, last_ms = batch[0].time_ms, batch[-1].time_ms
    stored = conn.execute(_STORED_IN_SPAN, (user_id, first_ms, last_ms)).fetchall()
    known: set[tuple[Any, ...]] = set()
    shared_times = {row[0] for row in stored}.intersection(map(_by_time, batch))
    if shared_times:
        times = orjson.dumps(sorted(shared_times)).decode()
        known.update(conn.execute(_STORED_IDENTITIES, (user_id, times)))
    new: list[Heartbeat] = []
    for heartbeat in batch:
        key = ingest.identity(heartbeat)
        if key not in known:
            known.add(key)
            new.append(heartbeat)
    if not new:
        return 0
    predecessor = conn.execute(_PREDECESSOR, (user_id, first_ms)).fetchone()
    successor_ms = conn.execute(_SUCCESSOR_TIME, (user_id, last_ms)).fetchone()[0]
    span_first_ms, gaps, changed = _gaps(stored, new, successor_ms)
    if predecessor is not None:
        predecessor_id, predecessor_ms, predecessor_gap = predecessor
        if predecessor_gap != span_first_ms - predecessor_ms:
            changed.append((span_first_ms - predecessor_ms, predecessor_id))
    created_at_ms = int(time.time() * 1000)
    conn.executemany(
        _INSERT,
        [
            (created_at_ms, gap, *ingest.row_values(user_id, heartbeat))
            for heartbeat, gap in zip(new, gaps, strict=True)
        ],
    )
    conn.executemany(_SET_GAP, changed)
    return len(new)


def _gaps(
    stored: list[Any], new: list[Heartbeat], successor_ms: int | None
) -> tuple[int, list[int | None], list[tuple[int | None, int]]]:
    """The time of the span's first row; each new row's gap, in order; and (gap, id) for each
    stored row of the span whose gap changes."""
    merged = list(_merged(stored, new))
    next_times = [entry[0] for entry in merged[1:]]
    next_times.append(successor_ms)
    new_gaps: list[int | None] = []
    changed: list[tuple[int | None, int]] = []
    for (time_ms, is_new, key, stored_gap), next_ms in zip(merged, next_times, strict=True):
        gap = None if next_ms is None else next_ms - time_ms
        if is_new:
            new_gaps.append(gap)
        elif gap != stored_gap:
            changed.append((gap, key))
    return merged[0][0], new_gaps, changed


def _merged(stored: list[Any], new: list[Heartbeat]) -> Iterator[tuple[int, int, int, Any]]:
    """(time_ms, 0 stored / 1 new, id or place, stored gap) in (time_ms, id) order: a new row
    gets a larger id than every stored one, and the new rows are inserted in this order."""
    if not stored:
        return ((heartbeat.time_ms, 1, place, None) for place, heartbeat in enumerate(new))
    return heapq.merge(
        ((time_ms, 0, stored_id, gap) for time_ms, stored_id, gap in stored),
        ((heartbeat.time_ms, 1, place, None) for place, heartbeat in enumerate(new)),
    )
