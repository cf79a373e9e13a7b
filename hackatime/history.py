"""Reading a user's stored heartbeats: pages in (time, id) order, the latest one, the span of
their history, and the projects they touched. Projects come as the user sees them (aliases.py),
except in a page of stored names (the export, a backup of what is stored)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from hackatime.aliases import shown_sql, stored_names_sql
from hackatime.db import Database, integer_id
from hackatime.durations import UNKNOWN


def _columns(project_sql: str) -> str:
    """The columns of a heartbeat read whole, its project given by `project_sql`."""
    return (
        f"h.id, h.time_ms, h.entity, h.type, h.category, {project_sql} AS project,"
        " h.branch, h.language, h.editor, h.operating_system, h.machine, h.is_write, h.lineno,"
        " h.cursorpos, h.lines, h.dependencies, h.line_additions, h.line_deletions,"
        " h.project_root_count, h.ai_line_changes, h.human_line_changes, ua.value AS user_agent,"
        " h.created_at_ms"
    )


_COLUMNS = _columns(shown_sql("h.project"))
_STORED_COLUMNS = _columns("h.project")
_FROM = "heartbeats h LEFT JOIN user_agents ua ON ua.id = h.user_agent_id"

# Pages walk (time_ms, id) order, so heartbeats sharing a timestamp are neither lost nor repeated.
_PAGE_OF = """
SELECT {columns} FROM {from_}
WHERE h.user_id = :user_id AND h.time_ms >= max(:start_ms, :after_time) AND h.time_ms < :end_ms
  AND (h.time_ms > :after_time OR h.id > :after_id)
ORDER BY h.time_ms, h.id
LIMIT :limit
"""
_PAGE = _PAGE_OF.format(columns=_COLUMNS, from_=_FROM)
_STORED_PAGE = _PAGE_OF.format(columns=_STORED_COLUMNS, from_=_FROM)

# The same walk as _PAGE, each row with about how many bytes its JSON takes, so that a page can
# stop before it grows past a size: fields hold up to a few hundred kilobytes (500 dependencies
# of 1024 characters), so a count of rows alone bounds nothing. 400 covers the fixed fields.
_PAGE_SIZES = _PAGE_OF.format(
    columns="h.id, 400 + length(CAST(h.entity AS BLOB))"
    " + coalesce(length(CAST(h.dependencies AS BLOB)), 0) + coalesce(length(h.project), 0)"
    " + coalesce(length(h.branch), 0) + coalesce(length(h.language), 0)"
    " + coalesce(length(h.machine), 0) + coalesce(length(h.category), 0)"
    " + coalesce((SELECT length(ua.value) FROM user_agents ua WHERE ua.id = h.user_agent_id), 0)",
    from_="heartbeats h",
)

_ROWS_BY_ID = f"""
SELECT {_COLUMNS} FROM {_FROM}
WHERE h.user_id = :user_id AND h.id IN (SELECT value FROM json_each(:ids))
ORDER BY h.time_ms, h.id
"""

_MOST_RECENT = f"""
SELECT {_COLUMNS} FROM {_FROM}
WHERE h.user_id = :user_id AND (:editor IS NULL OR lower(h.editor) = lower(:editor))
ORDER BY h.time_ms DESC, h.id DESC
LIMIT 1
"""


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after this (time_ms, id)."""

    time_ms: int
    id: int

    def encode(self) -> str:
        return f"{self.time_ms}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        time_part, _, id_part = text.partition(".")
        time_ms, heartbeat_id = integer_id(time_part), integer_id(id_part)
        if time_ms is None or heartbeat_id is None:
            return None
        return cls(time_ms, heartbeat_id)


async def page(
    db: Database,
    user_id: int,
    start_ms: int,
    end_ms: int,
    after: Cursor | None = None,
    limit: int | None = None,
    *,
    stored_names: bool = False,
) -> list[dict[str, Any]]:
    """Heartbeats of [start_ms, end_ms) in (time, id) order, after `after`, `limit` at most;
    projects as shown, or as stored with `stored_names` (aliases not applied)."""
    # SQLite reads a negative LIMIT as none.
    params = _walk(user_id, start_ms, end_ms, after, -1 if limit is None else limit)
    query = _STORED_PAGE if stored_names else _PAGE
    return [dict(row) for row in await db.fetch_all(query, params)]


def _walk(
    user_id: int, start_ms: int, end_ms: int, after: Cursor | None, limit: int
) -> dict[str, int]:
    """The parameters of a walk through [start_ms, end_ms) after `after` (_PAGE, _PAGE_SIZES)."""
    after = after or Cursor(-1, -1)
    return {
        "user_id": user_id,
        "start_ms": start_ms,
        "end_ms": end_ms,
        "after_time": after.time_ms,
        "after_id": after.id,
        "limit": limit,
    }


async def bounded_page(
    db: Database,
    user_id: int,
    start_ms: int,
    end_ms: int,
    after: Cursor | None,
    *,
    limit: int,
    max_bytes: int,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """At most `limit` heartbeats of [start_ms, end_ms) after `after`, and fewer when more would
    pass about `max_bytes` of JSON (never fewer than one); with the cursor of the next page, or
    None when this one reaches the end. Only the rows shown are ever read whole."""
    sizes = await db.fetch_all(_PAGE_SIZES, _walk(user_id, start_ms, end_ms, after, limit + 1))
    ids: list[int] = []
    total = 0
    for heartbeat_id, size in sizes[:limit]:
        total += size
        if ids and total > max_bytes:
            break
        ids.append(heartbeat_id)
    found = await db.fetch_all(_ROWS_BY_ID, {"user_id": user_id, "ids": orjson.dumps(ids).decode()})
    rows = [dict(row) for row in found]
    if len(ids) == len(sizes):
        return rows, None
    last = rows[-1]
    return rows, Cursor(last["time_ms"], last["id"])


async def most_recent(
    db: Database, user_id: int, editor: str | None = None
) -> dict[str, Any] | None:
    row = await db.fetch_one(_MOST_RECENT, {"user_id": user_id, "editor": editor})
    return None if row is None else dict(row)


async def time_span(db: Database, user_id: int) -> tuple[int, int] | None:
    """The first and last heartbeat times of a user: one index probe each (asked together,
    SQLite reads every entry in between)."""
    first = await db.fetch_value(
        "SELECT min(time_ms) FROM heartbeats WHERE user_id = ?", (user_id,)
    )
    if first is None:
        return None
    last = await db.fetch_value("SELECT max(time_ms) FROM heartbeats WHERE user_id = ?", (user_id,))
    return first, last


@dataclass(frozen=True)
class ProjectSeen:
    name: str
    first_ms: int
    last_ms: int


# Grouped by stored name first, so only the few groups look up the name they are shown as.
_SHOWN_PROJECTS = f"""
SELECT {shown_sql("g.project")} AS shown, min(g.first_ms) AS first_ms, max(g.last_ms) AS last_ms
FROM (
    SELECT project, min(time_ms) AS first_ms, max(time_ms) AS last_ms FROM heartbeats
    WHERE user_id = :user_id AND project IS NOT NULL
    GROUP BY project
) g
GROUP BY shown
HAVING :query IS NULL OR instr(lower(shown), lower(:query)) > 0
"""
_PROJECTS = f"""
{_SHOWN_PROJECTS}
ORDER BY last_ms DESC, shown
LIMIT :limit OFFSET :offset
"""
_PROJECT_COUNT = f"SELECT count(*) FROM ({_SHOWN_PROJECTS})"


async def projects(
    db: Database,
    user_id: int,
    query: str | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[ProjectSeen]:
    """The projects a user has worked on, as shown, latest first, `limit` of them after the
    first `offset`; `query` matches part of the shown name."""
    params = {
        "user_id": user_id,
        "query": query or None,
        # SQLite reads a negative LIMIT as none.
        "limit": -1 if limit is None else limit,
        "offset": offset,
    }
    return [ProjectSeen(*row) for row in await db.fetch_all(_PROJECTS, params)]


async def project_count(db: Database, user_id: int, query: str | None = None) -> int:
    params = {"user_id": user_id, "query": query or None}
    return int(await db.fetch_value(_PROJECT_COUNT, params))


_PROJECT_LAST_SEEN = f"""
SELECT time_ms FROM heartbeats
WHERE user_id = :user_id
  AND coalesce(project, :unknown) IN ({stored_names_sql([":project"])})
ORDER BY time_ms DESC LIMIT 1
"""


async def project_last_seen(db: Database, user_id: int, project: str) -> int | None:
    """When the user last sent a heartbeat for the project (heartbeats with none count as
    durations.UNKNOWN, as in the splits); None if never."""
    return await db.fetch_value(
        _PROJECT_LAST_SEEN, {"user_id": user_id, "unknown": UNKNOWN, "project": project}
    )
