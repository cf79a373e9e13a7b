"""The SQLite floor for queries: the same heartbeats in a minimal table, and for every number an
endpoint answers the most direct window-function query, one query per number.

The rule written straight into SQL: over the user's heartbeats inside [start, end) in (time, id)
order, each one is credited min(lead(time) - time, timeout); the last one in the range has no
lead and adds nothing. Days are each measured on their own: a gap counts only when both ends lie
in the same local day. The bench zone has a fixed offset, so a local day is plain arithmetic.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Split name, as the APIs spell it -> column.
SPLITS = {
    "categories": "category",
    "languages": "language",
    "projects": "project",
    "editors": "editor",
    "operating_systems": "operating_system",
    "machines": "machine",
}
_MINIMAL = """
CREATE TABLE hb (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    project TEXT,
    language TEXT,
    editor TEXT,
    operating_system TEXT,
    machine TEXT,
    category TEXT,
    dependencies TEXT
);
"""
_COPY = """
INSERT INTO hb
SELECT id, user_id, time_ms, project, language, editor, operating_system, machine, category,
    dependencies
FROM source.heartbeats ORDER BY id
"""
_INDEX = "CREATE INDEX hb_user_time ON hb (user_id, time_ms)"
DAY_MS = 86_400_000


def build_minimal(source: Path, target: Path) -> float:
    """Copy the heartbeats (same ids, so the same (time, id) order) into a minimal table."""
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("ATTACH ? AS source", (f"file:{source}?mode=ro",))
        conn.executescript(_MINIMAL)
        conn.execute("BEGIN")
        conn.execute(_COPY)
        conn.execute(_INDEX)
        conn.execute("COMMIT")
        conn.execute("DETACH source")
    finally:
        conn.close()
    return time.perf_counter() - started


def _gaps(columns: str, *, each_day: bool) -> str:
    """Each row's gap to the next heartbeat in the range, with `columns` carried along.

    With `each_day`, rows also carry their local `day`, and a gap counts only when the next
    heartbeat falls in the same day.
    """
    window = (
        f"SELECT {columns}time_ms, lead(time_ms) OVER (ORDER BY time_ms, id) AS next_ms FROM hb"
        " WHERE user_id = :user_id AND time_ms >= :start_ms AND time_ms < :end_ms"
    )
    if not each_day:
        return f"SELECT {columns}next_ms - time_ms AS gap FROM ({window})"
    day = f"(time_ms + :offset_ms) / {DAY_MS}"
    return (
        f"SELECT {columns}{day} AS day,"
        f" CASE WHEN (next_ms + :offset_ms) / {DAY_MS} = {day} THEN next_ms - time_ms END AS gap"
        f" FROM ({window})"
    )


def total(*, each_day: bool = False, by_day: bool = False) -> str:
    """The range's total; `by_day` gives one row per local day (each day measured alone)."""
    gaps = _gaps("", each_day=each_day or by_day)
    if by_day:
        return f"SELECT day, sum(min(gap, :timeout_ms)) FROM ({gaps}) GROUP BY day"
    return f"SELECT sum(min(gap, :timeout_ms)) FROM ({gaps})"


def split(column: str, *, each_day: bool = False, by_day: bool = False) -> str:
    # Column names come from SPLITS only.
    gaps = _gaps(f"{column}, ", each_day=each_day or by_day)
    keys, groups = ("day, ", "1, 2") if by_day else ("", "1")
    return (
        f"SELECT {keys}coalesce({column}, 'Unknown'), sum(min(gap, :timeout_ms))"
        f" FROM ({gaps}) GROUP BY {groups}"
    )


def dependencies(*, each_day: bool = False, by_day: bool = False) -> str:
    """Each gap credited to every dependency of its heartbeat."""
    gaps = _gaps("dependencies, ", each_day=each_day or by_day)
    keys, groups = ("w.day, ", "1, 2") if by_day else ("", "1")
    return (
        f"SELECT {keys}d.value, sum(min(w.gap, :timeout_ms))"
        f" FROM ({gaps}) w, json_each(w.dependencies) d GROUP BY {groups}"
    )


SPAN = "SELECT min(time_ms), max(time_ms) FROM hb WHERE user_id = :user_id"
PAGE = (
    "SELECT * FROM hb WHERE user_id = :user_id AND time_ms >= :start_ms AND time_ms < :end_ms"
    " ORDER BY time_ms, id LIMIT :limit"
)


@dataclass(frozen=True)
class FloorQuery:
    number: str
    sql: str
    params: dict[str, Any]


def run_all(conn: sqlite3.Connection, queries: list[FloorQuery]) -> dict[str, list[Any]]:
    """One repetition: every query of an endpoint's floor, each read to its last row."""
    return {query.number: conn.execute(query.sql, query.params).fetchall() for query in queries}


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)


def explain(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[str]:
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
