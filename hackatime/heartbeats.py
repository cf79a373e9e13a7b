"""Heartbeat ingest: turning what clients send into rows, and storing them once.

`normalise` is pure: it checks and converts one item and collects every problem it finds.
`store` writes a batch in one statement, resolving `<<LAST_…>>` placeholders and skipping
duplicates; the triggers in schema.sql keep each row's `gap_next_ms` right (see durations.py).
"""

from __future__ import annotations

import asyncio
import functools
import math
import operator
import re
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import unquote_plus

import orjson

from hackatime.db import Database
from hackatime.languages import language_for_entity
from hackatime.timeranges import iso

TYPES = ("file", "domain", "url", "event", "app")
PLACEHOLDERS = {
    "project": "<<LAST_PROJECT>>",
    "language": "<<LAST_LANGUAGE>>",
    "branch": "<<LAST_BRANCH>>",
}
EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_FUTURE_MS = 3_600_000
MAX_ENTITY_CHARS = 4096
MAX_TEXT_CHARS = 1024
MAX_DEPENDENCIES = 500
INT_FIELDS = (
    "lineno",
    "cursorpos",
    "lines",
    "line_additions",
    "line_deletions",
    "project_root_count",
    "ai_line_changes",
    "human_line_changes",
)
TEXT_FIELDS = ("project", "branch", "language", "machine", "user_agent")
# Past 2**53 a number no longer survives a round trip through JSON clients; no line number or
# cursor position comes near it, so larger values are refused rather than stored.
_INT_LIMIT = 2**53


# Not frozen: a frozen dataclass's __init__ costs four times as much, and ingest builds one for
# every heartbeat it receives. Nothing changes a Heartbeat once built; `replace` makes new ones.
@dataclass
class Heartbeat:
    time_ms: int
    entity: str
    type: str
    category: str
    project: str | None = None
    branch: str | None = None
    language: str | None = None
    editor: str | None = None
    operating_system: str | None = None
    machine: str | None = None
    is_write: bool | None = None
    lineno: int | None = None
    cursorpos: int | None = None
    lines: int | None = None
    dependencies: tuple[str, ...] | None = None
    line_additions: int | None = None
    line_deletions: int | None = None
    project_root_count: int | None = None
    ai_line_changes: int | None = None
    human_line_changes: int | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class RequestContext:
    """What the request adds to every item: its User-Agent, X-Machine-Name and the clock."""

    user_agent: str | None
    machine: str | None
    now_ms: int

    @functools.cached_property
    def checked_headers(self) -> tuple[str | None, str | None, list[str]]:
        """The headers as the fields they stand in for (user_agent, machine), and what is wrong
        with them: checked once per request, with the bounds of those fields."""
        values, problems = _convert(
            {"User-Agent header": self.user_agent, "X-Machine-Name header": self.machine},
            (("User-Agent header", _text), ("X-Machine-Name header", _text)),
        )
        return values.get("User-Agent header"), values.get("X-Machine-Name header"), problems


def machine_from_header(value: str | None) -> str | None:
    # Browser plugins URL-encode the header, with `+` for spaces.
    return unquote_plus(value).strip() or None if value else None


@functools.lru_cache(maxsize=256)
def parse_user_agent(user_agent: str | None) -> tuple[str | None, str | None]:
    """Editor and operating system from a WakaTime user agent.

    `wakatime/v1.90.0 (linux-6.1.0-rpi-arm64) go1.22.1 vim/9.1.0 vim-wakatime/11.2.0`
    gives ("vim", "Linux"); the legacy Python client puts `platform.platform()` in the
    parentheses, e.g. `Linux-6.1.0-x86_64-with-glibc2.36`.
    """
    if not user_agent:
        return None, None
    editor_match = _EDITOR.search(user_agent)
    editor = editor_match.group(1).lower() if editor_match else None
    os_match = _PLATFORM.search(user_agent)
    operating_system = None
    if os_match:
        system = os_match.group(1).lower()
        operating_system = _OS_NAMES.get(system, system.capitalize())
    return editor, operating_system


_EDITOR = re.compile(r"(?:^|\s)([^\s/]+)-wakatime/")
_PLATFORM = re.compile(r"\(([A-Za-z]+)[-_\s;)]")
_OS_NAMES = {
    "linux": "Linux",
    "darwin": "macOS",
    "macos": "macOS",
    "windows": "Windows",
    "win32": "Windows",
    "freebsd": "FreeBSD",
    "openbsd": "OpenBSD",
    "netbsd": "NetBSD",
    "android": "Android",
    "ios": "iOS",
}


class _Invalid(ValueError):
    """What is wrong with a field's value, said after the field's name."""


def _time_ms(value: Any, now_ms: int) -> int:
    # Clients send a float: that case is decided first.
    seconds = value if type(value) is float else _seconds(value)
    if not math.isfinite(seconds):
        raise _Invalid("must be finite")
    # Clients in other languages send milli-, micro- or nanosecond epochs.
    if abs(seconds) >= 1e11:
        for threshold, divisor in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
            if abs(seconds) >= threshold:
                seconds /= divisor
                break
    time_ms = round(seconds * 1000)
    if time_ms < EARLIEST_MS:
        raise _Invalid("before 2000-01-01")
    if time_ms > now_ms + MAX_FUTURE_MS:
        raise _Invalid("more than an hour in the future")
    return time_ms


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise _Invalid("required, epoch seconds")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Invalid(f"{value[:40]!r} is not a number") from None
    if not isinstance(value, int | float):
        raise _Invalid("must be a number of epoch seconds")
    try:
        return float(value)
    except OverflowError:
        raise _Invalid("out of range") from None


def _int(value: Any) -> int | None:
    # Clients send plain integers: that case is decided first.
    if type(value) is not int:
        value = _whole_number(value)
    if value is not None and not -_INT_LIMIT < value < _INT_LIMIT:
        raise _Invalid("out of range")
    return value


def _whole_number(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise _Invalid(f"{value[:40]!r} is not a whole number") from None
    if not isinstance(value, int):
        raise _Invalid("must be a whole number")
    return value


def _text(value: Any, limit: int = MAX_TEXT_CHARS) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("must be a string")
    if len(value) > limit:
        raise _Invalid(f"longer than {limit} characters")
    if "\x00" in value:
        raise _Invalid("contains a NUL character")
    return value.strip() or None


def _entity(value: Any) -> str:
    entity = _text(value, MAX_ENTITY_CHARS)
    if entity is None:
        raise _Invalid("required")
    return entity


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise _Invalid("must be true or false")


def _dependencies(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise _Invalid("must be a list of strings")
    # One pass, as heartbeats carry a few names each; a wrong type is reported before a size.
    too_many = len(value) > MAX_DEPENDENCIES
    names: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str):
            raise _Invalid("must be a list of strings")
        too_many = too_many or len(item) > MAX_TEXT_CHARS
        if name := item.strip():
            # Each dependency once: its time is the heartbeat's, credited once per name.
            names[name] = None
    if too_many:
        raise _Invalid(f"at most {MAX_DEPENDENCIES} of {MAX_TEXT_CHARS} characters")
    return tuple(names) or None


def _type(value: Any) -> str:
    kind = value or "file"
    if kind not in TYPES:
        raise _Invalid(f"must be one of {', '.join(TYPES)}")
    return kind


# How each field of an item is checked and converted, in the order problems are reported.
_CONVERSIONS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("entity", _entity),
    ("type", _type),
    ("category", _text),
    *((name, _text) for name in TEXT_FIELDS),
    *((name, _int) for name in INT_FIELDS),
    ("is_write", _bool),
    ("dependencies", _dependencies),
)


def _convert(
    raw: dict[str, Any], conversions: tuple[tuple[str, Callable[[Any], Any]], ...]
) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, conversion in conversions:
        try:
            values[name] = conversion(raw.get(name))
        except _Invalid as invalid:
            problems.append(f"{name}: {invalid}")
    return values, problems


def normalise(raw: Any, context: RequestContext) -> Heartbeat | list[str]:
    """One item as a Heartbeat, or the list of everything wrong with it."""
    if not isinstance(raw, dict):
        return ["heartbeat must be a JSON object"]
    values, problems = _convert(raw, _CONVERSIONS)
    try:
        values["time_ms"] = _time_ms(raw.get("time"), context.now_ms)
    except _Invalid as invalid:
        # Reported right after the entity, as the fields come in a heartbeat.
        problems.insert(0 if "entity" in values else 1, f"time: {invalid}")
    # The request's headers stand in for missing fields and obey the same bounds.
    header_agent, header_machine, header_problems = context.checked_headers
    if problems or header_problems:
        return problems + header_problems
    values["category"] = values["category"] or "coding"
    values["user_agent"] = values["user_agent"] or header_agent
    values["machine"] = header_machine or values["machine"]
    values["editor"], values["operating_system"] = parse_user_agent(values["user_agent"])
    if values["language"] is None and values["type"] == "file":
        values["language"] = language_for_entity(values["entity"])
    return Heartbeat(**values)


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


_identity = operator.attrgetter(*(column for column, _ in _IDENTITY))


def _same_as(prefix: str) -> str:
    return " AND ".join(f"h.{column} {op} {prefix}{column}" for column, op in _IDENTITY)


# What a write binds for each heartbeat, in this order: its user, its fields as they are, then
# the two stored in another form (dependencies as JSON, user_agent as user_agent_id).
_PLAIN_FIELDS = tuple(
    name
    for name in (each.name for each in fields(Heartbeat))
    if name not in ("dependencies", "user_agent")
)
_ROW_COLUMNS = ("user_id", *_PLAIN_FIELDS, "dependencies", "user_agent")
_plain_values = operator.attrgetter(*_PLAIN_FIELDS)
# The most heartbeats one statement writes: 22 parameters each stays far below SQLite's limit.
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
WHERE NOT EXISTS (SELECT 1 FROM heartbeats h WHERE h.user_id = b.user_id AND {_same_as("b.")})
ORDER BY b.position
"""


def _insert_parameters(created_at_ms: int, rows: Iterable[tuple[int, Heartbeat]]) -> list[Any]:
    parameters: list[Any] = [created_at_ms]
    for user_id, heartbeat in rows:
        parameters.append(user_id)
        parameters.extend(_plain_values(heartbeat))
        dependencies = heartbeat.dependencies
        parameters.append(None if dependencies is None else orjson.dumps(dependencies).decode())
        parameters.append(heartbeat.user_agent)
    return parameters


# The id each heartbeat of a batch ended up with, stored now or before.
_STORED_IDS = f"""
WITH b AS (
    SELECT key AS position,
           {", ".join(f"json_extract(value, '$.{column}') AS {column}" for column, _ in _IDENTITY)}
    FROM json_each(:batch)
)
SELECT (
    SELECT h.id FROM heartbeats h WHERE h.user_id = :user_id AND {_same_as("b.")} LIMIT 1
)
FROM b
ORDER BY b.position
"""

# Column names come from PLACEHOLDERS' fixed keys, never from input.
_LAST_VALUE = {
    column: f"SELECT {column}, time_ms FROM heartbeats WHERE user_id = ? AND time_ms <= ?"
    f" AND {column} IS NOT NULL ORDER BY time_ms DESC, id DESC LIMIT 1"
    for column in PLACEHOLDERS
}


async def _resolve_placeholders(
    db: Database, user_id: int, batch: list[Heartbeat]
) -> list[Heartbeat]:
    """`<<LAST_PROJECT>>` and friends become the latest real value at or before each heartbeat,
    among the stored ones and the batch's own (a batch item wins a tie: it is stored later).

    "At or before" rather than "latest overall" so that an offline queue replayed days later
    picks up the project the user was in at that time.
    """
    resolved = list(batch)
    for column, placeholder in PLACEHOLDERS.items():
        for index, heartbeat in enumerate(batch):
            if getattr(heartbeat, column) != placeholder:
                continue
            row = await db.fetch_one(_LAST_VALUE[column], (user_id, heartbeat.time_ms))
            best_time, value = (row[1], row[0]) if row else (None, None)
            for earlier in resolved[:index] + resolved[index + 1 :]:
                candidate = getattr(earlier, column)
                if candidate in (None, placeholder) or earlier.time_ms > heartbeat.time_ms:
                    continue
                if best_time is None or earlier.time_ms >= best_time:
                    best_time, value = earlier.time_ms, candidate
            if value is None and column == "language" and heartbeat.type == "file":
                value = language_for_entity(heartbeat.entity)
            resolved[index] = replace(resolved[index], **{column: value})
    return resolved


_ADD_USER_AGENTS = (
    "INSERT INTO user_agents (value) SELECT value FROM json_each(?) WHERE true"
    " ON CONFLICT (value) DO NOTHING"
)


@dataclass
class _Waiting:
    user_id: int
    batch: list[Heartbeat]
    stored: asyncio.Future[None]


@dataclass
class _Writes:
    """Per database: the batches waiting to be written, the task writing them, and the user
    agents known to be stored (rows of user_agents are never changed or removed)."""

    waiting: list[_Waiting] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    user_agents: set[str] = field(default_factory=set)


_WRITES: weakref.WeakKeyDictionary[Database, _Writes] = weakref.WeakKeyDictionary()


async def store(db: Database, user_id: int, heartbeats: list[Heartbeat]) -> list[Heartbeat]:
    """Write a batch; returns each heartbeat as stored (placeholders resolved).

    A heartbeat identical to a stored one, or to an earlier one of the batch, is not stored
    again: offline queues resend whole batches. The batch is written whole or not at all, and
    is on disk once this returns: the caller may then acknowledge it.

    Batches that arrive while a write is under way wait and are then written together, in one
    statement: one transaction and one sync to disk for all of them.
    """
    resolved = await _resolve_placeholders(db, user_id, heartbeats)
    writes = _WRITES.setdefault(db, _Writes())
    waiting = _Waiting(user_id, resolved, asyncio.get_running_loop().create_future())
    writes.waiting.append(waiting)
    if writes.writer is None:
        writes.writer = asyncio.create_task(_write_waiting(db, writes))
    await waiting.stored
    return resolved


async def _write_waiting(db: Database, writes: _Writes) -> None:
    try:
        while writes.waiting:
            group = _next_group(writes.waiting)
            try:
                await _write_group(db, writes, group)
            except BaseException as error:
                # Cancelled (the server is stopping): nothing queued will be written either.
                if not isinstance(error, Exception):
                    group += writes.waiting
                    writes.waiting.clear()
                for waiting in group:
                    if not waiting.stored.done():
                        waiting.stored.set_exception(error)
                if not isinstance(error, Exception):
                    raise
            else:
                for waiting in group:
                    if not waiting.stored.done():
                        waiting.stored.set_result(None)
    finally:
        writes.writer = None


def _next_group(waiting: list[_Waiting]) -> list[_Waiting]:
    """Whole batches from the front of the queue, as many as one statement takes."""
    rows = len(waiting[0].batch)
    count = 1
    while count < len(waiting) and rows + len(waiting[count].batch) <= _ROWS_PER_WRITE:
        rows += len(waiting[count].batch)
        count += 1
    group = waiting[:count]
    del waiting[:count]
    return group


async def _write_group(db: Database, writes: _Writes, group: list[_Waiting]) -> None:
    unique: dict[tuple[Any, ...], tuple[int, Heartbeat]] = {}
    for waiting in group:
        for heartbeat in waiting.batch:
            unique.setdefault(
                (waiting.user_id, *_identity(heartbeat)), (waiting.user_id, heartbeat)
            )
    if not unique:
        return
    new_agents = {heartbeat.user_agent for _, heartbeat in unique.values()}
    new_agents -= writes.user_agents | {None}
    if new_agents:
        # A statement of its own, ahead of the heartbeats': should those then fail, the new
        # rows are merely unused.
        await db.write(_ADD_USER_AGENTS, (orjson.dumps(sorted(new_agents)).decode(),))
        writes.user_agents |= new_agents
    await db.write(
        _insert_sql(len(unique)), _insert_parameters(int(time.time() * 1000), unique.values())
    )


async def stored_ids(db: Database, user_id: int, heartbeats: list[Heartbeat]) -> list[int | None]:
    """The id each stored heartbeat has (the first one, for a resent duplicate)."""
    batch = [
        {column: _identity_value(heartbeat, column) for column, _ in _IDENTITY}
        for heartbeat in heartbeats
    ]
    rows = await db.fetch_all(
        _STORED_IDS, {"user_id": user_id, "batch": orjson.dumps(batch).decode()}
    )
    return [row[0] for row in rows]


def _identity_value(heartbeat: Heartbeat, column: str) -> Any:
    value = getattr(heartbeat, column)
    return int(value) if isinstance(value, bool) else value


def dependencies_list(stored: str | None) -> list[str]:
    """The `dependencies` column (a JSON array, or NULL) as a list."""
    return list(orjson.loads(stored)) if stored else []


def _fields(heartbeat: Heartbeat) -> dict[str, Any]:
    # A shallow copy: dataclasses.asdict deep-copies every value.
    return dict(vars(heartbeat))


def heartbeat_json(heartbeat: Heartbeat | dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The API shape of a heartbeat: time in epoch seconds, like WakaTime's."""
    data = _fields(heartbeat) if isinstance(heartbeat, Heartbeat) else dict(heartbeat)
    time_ms = data.pop("time_ms")
    data.pop("gap_next_ms", None)
    data.pop("user_id", None)
    dependencies = data.get("dependencies")
    data["dependencies"] = (
        dependencies_list(dependencies)
        if isinstance(dependencies, str | None)
        else list(dependencies)
    )
    if data.get("is_write") is not None:
        data["is_write"] = bool(data["is_write"])
    created_at_ms = data.pop("created_at_ms", None)
    result = {"time": time_ms / 1000, **data, **extra}
    if created_at_ms is not None:
        result["created_at"] = iso(created_at_ms)
    return result
