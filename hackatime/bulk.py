"""Storing a large batch of one user's heartbeats at once (the importer's): the same identity and
the same stored gaps as live ingest, worked out from one read of the batch's time span instead
of the index probes that live ingest's statement and gap triggers make for every row.

In one `BEGIN IMMEDIATE` transaction: read the user's stored rows between the batch's first and
last time, its stored predecessor and the time of its stored successor; drop the heartbeats
already stored (or repeated in the batch); merge the rest with the stored rows in (time_ms, id)
order, where a new row comes after every stored one of its time because it gets a larger id;
insert the new rows with their gaps set, and set the gaps of the stored rows whose successor
changed. The gap triggers (schema.sql) are dropped for the inserts and re-created from their
own stored text before the commit: every gap they would touch is set here, and a trigger costs
SQLite a sub-program per inserted row even when it changes nothing (it halved the insert rate).
The write lock is held from the first read to the commit, so no other connection ever sees the
table without its triggers or a gap half-done: a server writing the same user meanwhile waits,
then finds both as always; a failure rolls all of it back.
"""

from __future__ import annotations

import dataclasses
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
# Only a stored row at the time of a new one can be the same heartbeat; its identity then equals
# the new one's (is_write's True equals the stored 1).
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
_GAP_TRIGGERS = ("heartbeats_gap_of_new_row", "heartbeats_gap_of_predecessor")
_STORED_TRIGGERS = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)"
# A Row: a heartbeat as this module takes it, Heartbeat's fields in their order with the
# dependencies as the column's JSON text; a tuple binds as it is, and crosses between processes
# for half the cost of a Heartbeat.
Row = tuple[Any, ...]
_FIELDS = tuple(each.name for each in dataclasses.fields(Heartbeat))
_AT = {name: index for index, name in enumerate(_FIELDS)}
_INSERT = f"""
INSERT INTO heartbeats (created_at_ms, gap_next_ms, user_id, identity_key, {
    ", ".join("user_agent_id" if name == "user_agent" else name for name in _FIELDS)
})
VALUES (?, ?, ?, ?, {
    ", ".join(
        "(SELECT id FROM user_agents WHERE value = ?)" if name == "user_agent" else "?"
        for name in _FIELDS
    )
})
"""
_fields_of = operator.attrgetter(*_FIELDS)
row_time = operator.itemgetter(_AT["time_ms"])
_identity = operator.itemgetter(*(_AT[column] for column in ingest.IDENTITY_COLUMNS))
_user_agent = operator.itemgetter(_AT["user_agent"])
_DEPENDENCIES_AT = _AT["dependencies"]


def row(heartbeat: Heartbeat) -> Row:
    """The heartbeat as a Row."""
    values = list(_fields_of(heartbeat))
    dependencies = values[_DEPENDENCIES_AT]
    if dependencies is not None:
        values[_DEPENDENCIES_AT] = orjson.dumps(dependencies).decode()
    return tuple(values)


def _heartbeat(made: Row) -> Heartbeat:
    values = list(made)
    dependencies = values[_DEPENDENCIES_AT]
    if dependencies is not None:
        values[_DEPENDENCIES_AT] = tuple(orjson.loads(dependencies))
    return Heartbeat(*values)


async def store_batch(db: Database, user_id: int, heartbeats: list[Heartbeat]) -> int:
    """Store the heartbeats not stored yet; how many were new (see the module's docstring)."""
    return await store_rows(db, user_id, [row(heartbeat) for heartbeat in heartbeats])


async def store_rows(db: Database, user_id: int, rows: list[Row]) -> int:
    """store_batch for heartbeats already made rows (`row`)."""
    if not rows:
        return 0
    if _has_placeholder(rows):
        # `<<LAST_PROJECT>>` and friends resolve against what comes before them: live ingest's
        # statement does that.
        return await ingest.store_now(db, user_id, [_heartbeat(each) for each in rows])
    await ingest.add_user_agents(db, map(_user_agent, rows))
    batch = sorted(rows, key=row_time)
    return await db.transaction(lambda conn: _store_sorted(conn, user_id, batch))


def _has_placeholder(rows: list[Row]) -> bool:
    return any(
        placeholder in set(map(operator.itemgetter(_AT[column]), rows))
        for column, placeholder in PLACEHOLDERS.items()
    )


def _store_sorted(conn: sqlite3.Connection, user_id: int, batch: list[Row]) -> int:
    first_ms, last_ms = row_time(batch[0]), row_time(batch[-1])
    stored = conn.execute(_STORED_IN_SPAN, (user_id, first_ms, last_ms)).fetchall()
    known: set[tuple[Any, ...]] = set()
    shared_times = {stored_row[0] for stored_row in stored}.intersection(map(row_time, batch))
    if shared_times:
        times = orjson.dumps(sorted(shared_times)).decode()
        known.update(conn.execute(_STORED_IDENTITIES, (user_id, times)))
    new: list[Row] = []
    for each in batch:
        key = _identity(each)
        if key not in known:
            known.add(key)
            new.append(each)
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
    triggers = conn.execute(_STORED_TRIGGERS, _GAP_TRIGGERS).fetchall()
    for name, _ in triggers:
        # A name from _GAP_TRIGGERS, as stored.
        conn.execute(f"DROP TRIGGER {name}")
    conn.executemany(
        _INSERT,
        [
            (created_at_ms, gap, user_id, ingest.identity_key_of(_identity(each)), *each)
            for each, gap in zip(new, gaps, strict=True)
        ],
    )
    conn.executemany(_SET_GAP, changed)
    for _, sql in triggers:
        conn.execute(sql)
    return len(new)


def _gaps(
    stored: list[Any], new: list[Row], successor_ms: int | None
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


def _merged(stored: list[Any], new: list[Row]) -> Iterator[tuple[int, int, int, Any]]:
    """(time_ms, 0 stored / 1 new, id or place, stored gap) in (time_ms, id) order: a new row
    gets a larger id than every stored one, and the new rows are inserted in this order."""
    if not stored:
        return ((row_time(each), 1, place, None) for place, each in enumerate(new))
    return heapq.merge(
        ((time_ms, 0, stored_id, gap) for time_ms, stored_id, gap in stored),
        ((row_time(each), 1, place, None) for place, each in enumerate(new)),
    )
