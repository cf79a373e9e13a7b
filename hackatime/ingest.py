"""Storing heartbeats: once each, placeholders resolved, concurrent batches written together.

`store` queues a request's batch; one task per database writes whatever is queued as a single
`INSERT … SELECT` statement, so one transaction and one sync to disk serve every request that
arrived while the previous write was under way. Each request is answered only after the
statement holding its rows has committed. The triggers in schema.sql keep each row's
`gap_next_ms` right (see durations.py).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import operator
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import orjson

from hackatime.db import Database
from hackatime.errors import ServiceUnavailable
from hackatime.heartbeats import PLACEHOLDERS, Heartbeat
from hackatime.languages import language_for_entity

_log = logging.getLogger(__name__)

# What makes two heartbeats the same one: a resent heartbeat matches on all of these. Columns
# that may be NULL compare with IS. Both statements below are built from this one list.
_IDENTITY = (
    ("time_ms", "="),
    ("entity", "="),
    ("type", "="),
    ("category", "="),
    ("project", "IS"),
    ("branch", "IS"),
    ("language", "IS"),
    ("is_write", "IS"),
    ("lineno", "IS"),
    ("cursorpos", "IS"),
)

IDENTITY_COLUMNS = tuple(column for column, _ in _IDENTITY)
_identity = operator.attrgetter(*IDENTITY_COLUMNS)


def _same_as(prefix: str) -> str:
    return " AND ".join(f"h.{column} {op} {prefix}{column}" for column, op in _IDENTITY)


def _stored_copies(prefix: str, select: str) -> list[str]:
    """`select` over the stored rows `h` that are the heartbeat `{prefix}`, in two queries: one
    probe of heartbeats_identity on its identity key, then compared column by column (a
    collision of keys costs a comparison, never a heartbeat); and the rows stored without a key
    (written before migration 0005, or by hand), compared the same way among the few sharing
    the time."""
    return [
        f"SELECT {select} FROM heartbeats h WHERE h.user_id = {prefix}user_id"
        f" AND h.time_ms = {prefix}time_ms AND h.identity_key {key} AND {_same_as(prefix)}"
        for key in (f"= {prefix}identity_key", "IS NULL")
    ]


def identity_key(heartbeat: Heartbeat) -> int:
    """A 64-bit fingerprint of the columns that make a heartbeat the same one (_IDENTITY)."""
    return identity_key_of(_identity(heartbeat))


def identity_key_of(values: Sequence[Any]) -> int:
    """identity_key from the values of IDENTITY_COLUMNS, in that order."""
    digest = hashlib.blake2b(orjson.dumps(_as_stored(values)), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _as_stored(values: Sequence[Any]) -> list[Any]:
    # is_write True is stored as 1: the same heartbeat either way.
    return [int(value) if isinstance(value, bool) else value for value in values]


# What a write binds for each heartbeat, in this order: its user, its fields as they are, then
# the two stored in another form (dependencies as JSON, user_agent as user_agent_id) with the
# identity key between them.
_PLAIN_FIELDS = tuple(
    name
    for name in (each.name for each in fields(Heartbeat))
    if name not in ("dependencies", "user_agent")
)
_ROW_COLUMNS = ("user_id", *_PLAIN_FIELDS, "dependencies", "identity_key", "user_agent")
_plain_values = operator.attrgetter(*_PLAIN_FIELDS)


# The most heartbeats one statement takes from the queue; a single batch always goes whole (the
# API accepts at most 100, and 22 parameters a heartbeat stay far below SQLite's limit).
_ROWS_PER_WRITE = 200


@functools.lru_cache(maxsize=_ROWS_PER_WRITE)
def _insert_sql(size: int) -> str:
    """`size` heartbeats in one statement, so in one transaction of its own (see
    Database.write). Its parameters: created_at_ms, then each heartbeat's _ROW_COLUMNS.

    The rows hold no duplicates among themselves: SQLite reads every row of an INSERT ... SELECT
    before it inserts the first, so NOT EXISTS only sees what was stored before. The gap
    triggers run row by row and do see the rows inserted before theirs.
    """
    width = len(_ROW_COLUMNS)
    # Each row ends with its place in the statement, so rows are inserted (and get their ids)
    # in the order they came.
    rows = ", ".join(
        "(" + "".join(f"?{2 + index * width + offset}, " for offset in range(width)) + f"{index})"
        for index in range(size)
    )
    columns = (*_ROW_COLUMNS, "position")
    names = ", ".join(f"column{offset + 1} AS {name}" for offset, name in enumerate(columns))
    stored = _ROW_COLUMNS[:-1]
    return f"""
INSERT INTO heartbeats (created_at_ms, user_agent_id, {", ".join(stored)})
SELECT ?1, (SELECT id FROM user_agents WHERE value = b.user_agent),
    {", ".join(f"b.{name}" for name in stored)}
FROM (SELECT {names} FROM (VALUES {rows})) AS b
WHERE NOT ({" OR ".join(f"EXISTS ({copy})" for copy in _stored_copies("b.", "1"))})
ORDER BY b.position
RETURNING id
"""


def _insert_parameters(created_at_ms: int, rows: Iterable[tuple[int, Heartbeat]]) -> list[Any]:
    parameters: list[Any] = [created_at_ms]
    for user_id, heartbeat in rows:
        parameters.append(user_id)
        parameters.extend(_plain_values(heartbeat))
        dependencies = heartbeat.dependencies
        parameters.append(None if dependencies is None else orjson.dumps(dependencies).decode())
        parameters.append(identity_key(heartbeat))
        parameters.append(heartbeat.user_agent)
    return parameters


# `WHERE true` keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
_ADD_USER_AGENTS = (
    "INSERT INTO user_agents (value) SELECT value FROM json_each(?) WHERE true"
    " ON CONFLICT (value) DO NOTHING"
)

# The id each heartbeat of a batch ended up with, stored now or before.
_STORED_IDS = f"""
WITH b AS (
    SELECT key AS position, :user_id AS user_id,
           json_extract(value, '$.identity_key') AS identity_key,
           {", ".join(f"json_extract(value, '$.{column}') AS {column}" for column, _ in _IDENTITY)}
    FROM json_each(:batch)
)
SELECT coalesce({", ".join(f"({copy} LIMIT 1)" for copy in _stored_copies("b.", "h.id"))})
FROM b
ORDER BY b.position
"""

# Column names come from PLACEHOLDERS' fixed keys, never from input. The partial index of the
# rows that have a value makes this one probe; the planner, left to itself, prefers the
# covering heartbeats_user_time and walks back through every row without one.
_LAST_VALUE = {
    column: f"SELECT {column}, time_ms FROM heartbeats INDEXED BY heartbeats_last_{column}"
    f" WHERE user_id = ? AND time_ms <= ? AND {column} IS NOT NULL"
    " ORDER BY time_ms DESC, id DESC LIMIT 1"
    for column in PLACEHOLDERS
}


async def _resolve_placeholders(db: Database, waiting: _Waiting, before: list[_Waiting]) -> None:
    """`<<LAST_PROJECT>>` and friends become the latest real value at or before each heartbeat,
    among the stored ones, the same user's batches `before` it in the same statement, and the
    batch's own (on a tie the one stored last wins).

    "At or before" rather than "latest overall" so that an offline queue replayed days later
    picks up the project the user was in at that time.
    """
    batch = waiting.batch
    resolved = list(batch)
    earlier: list[Heartbeat] | None = None
    for column, placeholder in PLACEHOLDERS.items():
        for index, heartbeat in enumerate(batch):
            if getattr(heartbeat, column) != placeholder:
                continue
            if earlier is None:
                earlier = [
                    other
                    for queued in before
                    if queued.user_id == waiting.user_id
                    for other in queued.batch
                ]
            row = await db.fetch_one(_LAST_VALUE[column], (waiting.user_id, heartbeat.time_ms))
            best_time, value = (row[1], row[0]) if row else (None, None)
            for other in earlier + resolved[:index] + resolved[index + 1 :]:
                candidate = getattr(other, column)
                if candidate in (None, placeholder) or other.time_ms > heartbeat.time_ms:
                    continue
                if best_time is None or other.time_ms >= best_time:
                    best_time, value = other.time_ms, candidate
            if value is None and column == "language" and heartbeat.type == "file":
                value = language_for_entity(heartbeat.entity)
            resolved[index] = replace(resolved[index], **{column: value})
    waiting.batch = resolved


@dataclass
class _Waiting:
    user_id: int
    batch: list[Heartbeat]
    stored: asyncio.Future[None]


# The most user agents remembered as stored, per database: clients use a handful, and a client
# sending a new one on every heartbeat must not grow the memory. One forgotten is only looked up
# again (its insert does nothing).
REMEMBERED_USER_AGENTS = 1000
# The most heartbeats waiting to be written, per database; past it a batch is refused with 503
# and Retry-After (wakatime-cli keeps it and sends it again), so a flood of batches grows the
# queue no further.
MAX_WAITING_HEARTBEATS = 5000


@dataclass
class _Writes:
    """Per database: the batches waiting to be written, the task writing them, and the user
    agents known to be stored, oldest first (rows of user_agents are never changed or
    removed)."""

    waiting: list[_Waiting] = field(default_factory=list)
    writing: list[_Waiting] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    user_agents: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def waiting_heartbeats(self) -> int:
        return sum(len(each.batch) for each in self.waiting)

    def remember_user_agents(self, stored: Iterable[str]) -> None:
        for value in stored:
            self.user_agents[value] = None
            self.user_agents.move_to_end(value)
        while len(self.user_agents) > REMEMBERED_USER_AGENTS:
            self.user_agents.popitem(last=False)


_WRITES: weakref.WeakKeyDictionary[Database, _Writes] = weakref.WeakKeyDictionary()


async def store(db: Database, user_id: int, heartbeats: list[Heartbeat]) -> list[Heartbeat]:
    """Write a batch; returns each heartbeat as stored (placeholders resolved).

    A heartbeat identical to a stored one, or to an earlier one of the batch, is not stored
    again: offline queues resend whole batches. The batch is written whole or not at all, and
    is on disk once this returns: the caller may then acknowledge it.
    """
    writes = _WRITES.setdefault(db, _Writes())
    if writes.waiting and writes.waiting_heartbeats() + len(heartbeats) > MAX_WAITING_HEARTBEATS:
        raise ServiceUnavailable(
            "Too many heartbeats waiting to be written; send the batch again",
            headers={"Retry-After": "1"},
        )
    waiting = _Waiting(user_id, heartbeats, asyncio.get_running_loop().create_future())
    writes.waiting.append(waiting)
    if writes.writer is None or writes.writer.done():
        writes.writer = asyncio.create_task(_write_waiting(db, writes))
        writes.writer.add_done_callback(functools.partial(_when_cancelled, writes))
    await waiting.stored
    return waiting.batch


async def drain(db: Database) -> None:
    """Wait for the batches already queued to be written; for shutdown, before db.close()."""
    writes = _WRITES.pop(db, None)
    if writes is not None and writes.writer is not None:
        await asyncio.wait([writes.writer])


async def _write_waiting(db: Database, writes: _Writes) -> None:
    while writes.waiting:
        writes.writing = _next_group(writes.waiting)
        try:
            await _write_group(db, writes, writes.writing)
        except Exception:
            # One batch's failure is not the others': write each on its own to find out.
            for waiting in writes.writing:
                try:
                    await _write_group(db, writes, [waiting])
                except Exception as error:
                    _settle(waiting, error)
                else:
                    _settle(waiting, None)
        else:
            for waiting in writes.writing:
                _settle(waiting, None)
        writes.writing = []


def _when_cancelled(writes: _Writes, writer: asyncio.Task[None]) -> None:
    """The server is stopping under the writer: whoever still waits is told to send again."""
    if writer.cancelled():
        for waiting in writes.writing + writes.waiting:
            _settle(waiting, ServiceUnavailable("The server is stopping; send the batch again"))
        writes.writing = []
        writes.waiting.clear()


def _settle(waiting: _Waiting, error: Exception | None) -> None:
    if waiting.stored.done():
        # The request went away (its client disconnected); nobody else will report this.
        if error is not None:
            _log.error("a batch that nobody waits for failed to store", exc_info=error)
    elif error is None:
        waiting.stored.set_result(None)
    else:
        waiting.stored.set_exception(error)


def _next_group(waiting: list[_Waiting]) -> list[_Waiting]:
    """Whole batches for one statement, as many as it takes: every user's first waiting batch
    before anyone's second, so one user's backlog holds up another's heartbeat for one
    statement at most. A user's own batches keep their order, in the group and in the queue."""
    taken: dict[int, int] = {}
    order = []
    for position, each in enumerate(waiting):
        turn = taken.get(each.user_id, 0)
        taken[each.user_id] = turn + 1
        order.append((turn, position))
    chosen: list[int] = []
    rows = 0
    # Stopping at the first batch that does not fit keeps each user's chosen batches a prefix.
    for _, position in sorted(order):
        size = len(waiting[position].batch)
        if chosen and rows + size > _ROWS_PER_WRITE:
            break
        rows += size
        chosen.append(position)
    chosen.sort()
    group = [waiting[position] for position in chosen]
    for position in reversed(chosen):
        del waiting[position]
    return group


async def store_now(db: Database, user_id: int, heartbeats: list[Heartbeat]) -> int:
    """Write one batch at once, outside the request queue; how many of it were new.

    For an imported batch that holds placeholders (see bulk.py), which needs the count: the
    same statement as `store`, so the same identity, placeholders and gap upkeep.
    """
    writes = _WRITES.setdefault(db, _Writes())
    waiting = _Waiting(user_id, heartbeats, asyncio.get_running_loop().create_future())
    return await _write_group(db, writes, [waiting])


async def _write_group(db: Database, writes: _Writes, group: list[_Waiting]) -> int:
    """Write the group's batches in one statement; how many heartbeats were new."""
    # Placeholders are resolved here, after every earlier write has committed, so that a batch
    # sees the user's batches sent before it, whether already stored or in this statement.
    for index, waiting in enumerate(group):
        await _resolve_placeholders(db, waiting, group[:index])
    unique: dict[tuple[Any, ...], tuple[int, Heartbeat]] = {}
    for waiting in group:
        for heartbeat in waiting.batch:
            unique.setdefault(
                (waiting.user_id, *_identity(heartbeat)), (waiting.user_id, heartbeat)
            )
    if not unique:
        return 0
    await _add_user_agents(db, writes, (heartbeat.user_agent for _, heartbeat in unique.values()))
    inserted = await db.write(
        _insert_sql(len(unique)), _insert_parameters(int(time.time() * 1000), unique.values())
    )
    return len(inserted)


async def add_user_agents(db: Database, agents: Iterable[str | None]) -> None:
    """Store the user agents (heartbeats' `user_agent`) that are not stored yet."""
    await _add_user_agents(db, _WRITES.setdefault(db, _Writes()), agents)


async def _add_user_agents(db: Database, writes: _Writes, agents: Iterable[str | None]) -> None:
    present = set(agents) - {None}
    new_agents = {agent for agent in present if agent not in writes.user_agents}
    if new_agents:
        # A statement of its own, ahead of the heartbeats': should those then fail, the new
        # rows are merely unused.
        await db.write(_ADD_USER_AGENTS, (orjson.dumps(sorted(new_agents)).decode(),))
    writes.remember_user_agents(present)


async def stored_ids(db: Database, user_id: int, heartbeats: list[Heartbeat]) -> list[int | None]:
    """The id each stored heartbeat has (the first one, for a resent duplicate)."""
    batch = [
        {
            "identity_key": identity_key(heartbeat),
            **dict(zip(IDENTITY_COLUMNS, _as_stored(_identity(heartbeat)), strict=True)),
        }
        for heartbeat in heartbeats
    ]
    rows = await db.fetch_all(
        _STORED_IDS, {"user_id": user_id, "batch": orjson.dumps(batch).decode()}
    )
    return [row[0] for row in rows]
