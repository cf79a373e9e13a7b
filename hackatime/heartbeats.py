"""Heartbeat ingest: turning what clients send into rows, and storing them once.

`normalise` is pure: it checks and converts one item and collects every problem it finds.
`store` writes a batch in one transaction, resolving `<<LAST_…>>` placeholders and skipping
duplicates; the triggers in schema.sql keep each row's `gap_next_ms` right (see durations.py).
"""

from __future__ import annotations

import functools
import math
import re
import time
import weakref
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote_plus

import aiosqlite
import orjson

from hackatime.db import Database, fetch_one
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


@dataclass(frozen=True)
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


def _parse_time_ms(value: Any, now_ms: int) -> tuple[int | None, str | None]:
    if isinstance(value, bool) or value is None:
        return None, "time: required, epoch seconds"
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None, f"time: {value[:40]!r} is not a number"
    if not isinstance(value, int | float):
        return None, "time: must be a number of epoch seconds"
    try:
        seconds = float(value)
    except OverflowError:
        return None, "time: out of range"
    if not math.isfinite(seconds):
        return None, "time: must be finite"
    # Clients in other languages send milli-, micro- or nanosecond epochs.
    for threshold, divisor in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if abs(seconds) >= threshold:
            seconds /= divisor
            break
    time_ms = round(seconds * 1000)
    if time_ms < EARLIEST_MS:
        return None, "time: before 2000-01-01"
    if time_ms > now_ms + MAX_FUTURE_MS:
        return None, "time: more than an hour in the future"
    return time_ms, None


def _parse_int(name: str, value: Any, problems: list[str]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            problems.append(f"{name}: {value[:40]!r} is not a whole number")
            return None
    if not isinstance(value, int):
        problems.append(f"{name}: must be a whole number")
        return None
    if abs(value) >= _INT_LIMIT:
        problems.append(f"{name}: out of range")
        return None
    return value


def _parse_text(name: str, value: Any, limit: int, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{name}: must be a string")
        return None
    if len(value) > limit:
        problems.append(f"{name}: longer than {limit} characters")
        return None
    if "\x00" in value:
        problems.append(f"{name}: contains a NUL character")
        return None
    return value.strip() or None


def _parse_bool(value: Any, problems: list[str]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    problems.append("is_write: must be true or false")
    return None


def _parse_dependencies(value: Any, problems: list[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append("dependencies: must be a list of strings")
        return None
    if len(value) > MAX_DEPENDENCIES or any(len(item) > MAX_TEXT_CHARS for item in value):
        problems.append(f"dependencies: at most {MAX_DEPENDENCIES} of {MAX_TEXT_CHARS} characters")
        return None
    # Each dependency once: its time is the heartbeat's, credited once per name.
    return tuple(dict.fromkeys(item.strip() for item in value if item.strip())) or None


def normalise(raw: Any, context: RequestContext) -> Heartbeat | list[str]:
    """One item as a Heartbeat, or the list of everything wrong with it."""
    if not isinstance(raw, dict):
        return ["heartbeat must be a JSON object"]
    problems: list[str] = []
    entity = _parse_text("entity", raw.get("entity"), MAX_ENTITY_CHARS, problems)
    if entity is None and not problems:
        problems.append("entity: required")
    time_ms, time_problem = _parse_time_ms(raw.get("time"), context.now_ms)
    if time_problem:
        problems.append(time_problem)
    kind = raw.get("type") or "file"
    if kind not in TYPES:
        problems.append(f"type: must be one of {', '.join(TYPES)}")
    category = _parse_text("category", raw.get("category"), MAX_TEXT_CHARS, problems) or "coding"
    text = {
        name: _parse_text(name, raw.get(name), MAX_TEXT_CHARS, problems) for name in TEXT_FIELDS
    }
    numbers = {name: _parse_int(name, raw.get(name), problems) for name in INT_FIELDS}
    is_write = _parse_bool(raw.get("is_write"), problems)
    dependencies = _parse_dependencies(raw.get("dependencies"), problems)
    # The request's headers stand in for missing fields and obey the same bounds.
    header_agent = _parse_text("User-Agent header", context.user_agent, MAX_TEXT_CHARS, problems)
    header_machine = _parse_text("X-Machine-Name header", context.machine, MAX_TEXT_CHARS, problems)
    if problems:
        return problems
    assert entity is not None
    assert time_ms is not None
    user_agent = text.pop("user_agent") or header_agent
    editor, operating_system = parse_user_agent(user_agent)
    language = text.pop("language")
    if language is None and kind == "file":
        language = language_for_entity(entity)
    return Heartbeat(
        time_ms=time_ms,
        entity=entity,
        type=kind,
        category=category,
        project=text["project"],
        branch=text["branch"],
        language=language,
        editor=editor,
        operating_system=operating_system,
        machine=header_machine or text["machine"],
        is_write=is_write,
        dependencies=dependencies,
        user_agent=user_agent,
        **numbers,
    )


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


def _same_as(prefix: str) -> str:
    return " AND ".join(f"h.{column} {op} {prefix}{column}" for column, op in _IDENTITY)


# Run once per row by executemany, so a later row of a batch sees the earlier ones.
_INSERT_UNLESS_STORED = f"""
INSERT INTO heartbeats (
    user_id, time_ms, gap_next_ms, entity, type, category, project, branch, language, editor,
    operating_system, machine, is_write, lineno, cursorpos, lines, dependencies, line_additions,
    line_deletions, project_root_count, ai_line_changes, human_line_changes, user_agent_id,
    created_at_ms
)
SELECT
    :user_id, :time_ms, NULL, :entity, :type, :category, :project, :branch, :language, :editor,
    :operating_system, :machine, :is_write, :lineno, :cursorpos, :lines, :dependencies,
    :line_additions, :line_deletions, :project_root_count, :ai_line_changes,
    :human_line_changes, :user_agent_id, :created_at_ms
WHERE NOT EXISTS (
    SELECT 1 FROM heartbeats h WHERE h.user_id = :user_id AND {_same_as(":")}
)
"""

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
    conn: aiosqlite.Connection, user_id: int, batch: list[Heartbeat]
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
            row = await fetch_one(conn, _LAST_VALUE[column], (user_id, heartbeat.time_ms))
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


_USER_AGENT_ID = (
    "INSERT INTO user_agents (value) VALUES (?)"
    " ON CONFLICT (value) DO UPDATE SET value = excluded.value RETURNING id"
)


# Per database, the ids of user agents already stored: rows of user_agents are never changed
# or removed, so a batch from a known editor needs no lookup.
_USER_AGENT_IDS: weakref.WeakKeyDictionary[Database, dict[str, int]] = weakref.WeakKeyDictionary()


async def _user_agent_id(
    conn: aiosqlite.Connection, user_agent: str | None, known: dict[str, int]
) -> int | None:
    if user_agent is None:
        return None
    if user_agent not in known:
        row = await fetch_one(conn, _USER_AGENT_ID, (user_agent,))
        assert row is not None
        known[user_agent] = row[0]
    return known[user_agent]


def _fields(heartbeat: Heartbeat) -> dict[str, Any]:
    # A shallow copy: dataclasses.asdict deep-copies every value, a third of ingest's time.
    return dict(vars(heartbeat))


def _row(user_id: int, heartbeat: Heartbeat, created_at_ms: int) -> dict[str, Any]:
    row = _fields(heartbeat)
    row["user_id"] = user_id
    row["created_at_ms"] = created_at_ms
    row["is_write"] = None if heartbeat.is_write is None else int(heartbeat.is_write)
    row["dependencies"] = (
        None if heartbeat.dependencies is None else orjson.dumps(heartbeat.dependencies).decode()
    )
    return row


async def store(db: Database, user_id: int, heartbeats: list[Heartbeat]) -> list[Heartbeat]:
    """Write a batch in one transaction; returns each heartbeat as stored (placeholders
    resolved).

    A heartbeat identical to a stored one is not stored again: offline queues resend whole
    batches. The caller may acknowledge only after this returns, i.e. after COMMIT. A batch
    costs a few statements whatever its size: ingest on a Pi is bound by round trips, not rows.
    """
    created_at_ms = int(time.time() * 1000)
    known = _USER_AGENT_IDS.setdefault(db, {})
    # New user agents are remembered only once their transaction has committed: a rolled-back
    # id would point nowhere.
    learned = dict(known)
    async with db.transaction() as conn:
        resolved = await _resolve_placeholders(conn, user_id, heartbeats)
        rows = [_row(user_id, heartbeat, created_at_ms) for heartbeat in resolved]
        for row, heartbeat in zip(rows, resolved, strict=True):
            row["user_agent_id"] = await _user_agent_id(conn, heartbeat.user_agent, learned)
        await conn.executemany(_INSERT_UNLESS_STORED, rows)
    known.update(learned)
    return resolved


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
