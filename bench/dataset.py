"""The bench database: the generated history loaded straight into the project's schema with
plain sqlite3, each row's gap_next_ms computed on the way (the history comes in time order),
and a check of the stored gaps against the window-function form of the rule."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench import history, world
from bench.history import SEED, Beat
from hackatime import migrations
from hackatime.heartbeats import parse_user_agent

USERNAME = "bench"
# A fixed lowercase UUID v4, the only key shape WakaTime clients accept.
API_KEY = "6f0c3f3e-1d2a-4b8e-9c41-0a7d5e2b9f11"

# --- Loading ----------------------------------------------------------------------------------

INSERT_HEARTBEAT = (
    "INSERT INTO heartbeats (user_id, time_ms, gap_next_ms, entity, type, category, project,"
    " branch, language, editor, operating_system, machine, is_write, lineno, cursorpos, lines,"
    " dependencies, line_additions, line_deletions, project_root_count, ai_line_changes,"
    " human_line_changes, user_agent_id, created_at_ms)"
    f" VALUES ({', '.join('?' * 24)})"
)
_BATCH = 50_000


@dataclass(frozen=True)
class Loaded:
    path: Path
    count: int
    user_id: int
    zone: str
    first_ms: int
    last_ms: int
    user_agents: int
    seconds: float


def create_database(path: Path, zone: str, created_at_ms: int) -> sqlite3.Connection:
    """A fresh database from the project's schema, with the bench user and its known key."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.upgrade(conn)
    conn.execute(
        "INSERT INTO users (id, username, timezone, is_admin, api_key_sha256, created_at_ms)"
        " VALUES (1, ?, ?, 1, ?, ?)",
        (USERNAME, zone, hashlib.sha256(API_KEY.encode()).hexdigest(), created_at_ms),
    )
    return conn


def load(path: Path, n: int, end_ms: int, zone: str, seed: int = SEED) -> Loaded:
    """Write `n` heartbeats with their gap_next_ms, the way the product would have stored them."""
    started = time.perf_counter()
    conn = create_database(path, zone, end_ms)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -65536")
    agents: dict[str, tuple[int, str | None, str | None]] = {}
    batch: list[tuple[object, ...]] = []
    previous: Beat | None = None
    first_ms = 0
    # The generator already knows every gap: triggers that keep gap_next_ms (or anything else)
    # are set aside for the load and put back after it; check_gaps then verifies the gaps.
    triggers = drop_triggers(conn)
    conn.execute("BEGIN")
    for beat in history.newest(n, end_ms, zone, seed):
        if previous is None:
            first_ms = beat.time_ms
        else:
            batch.append(heartbeat_row(conn, previous, beat.time_ms - previous.time_ms, agents))
            if len(batch) >= _BATCH:
                conn.executemany(INSERT_HEARTBEAT, batch)
                batch.clear()
        previous = beat
    assert previous is not None, "an empty history"
    batch.append(heartbeat_row(conn, previous, None, agents))
    conn.executemany(INSERT_HEARTBEAT, batch)
    conn.execute("COMMIT")
    for sql in triggers:
        conn.execute(sql)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return Loaded(
        path=path,
        count=n,
        user_id=1,
        zone=zone,
        first_ms=first_ms,
        last_ms=previous.time_ms,
        user_agents=len(agents),
        seconds=time.perf_counter() - started,
    )


def drop_triggers(conn: sqlite3.Connection) -> list[str]:
    """Drop the triggers on the heartbeats table; their CREATE statements, to put them back."""
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'heartbeats'"
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    return [sql for _, sql in triggers]


def heartbeat_row(
    conn: sqlite3.Connection,
    beat: Beat,
    gap_next_ms: int | None,
    agents: dict[str, tuple[int, str | None, str | None]],
) -> tuple[object, ...]:
    agent = agents.get(beat.user_agent)
    if agent is None:
        # Interned like the product does: each distinct user agent once, referenced by id.
        cursor = conn.execute("INSERT INTO user_agents (value) VALUES (?)", (beat.user_agent,))
        assert cursor.lastrowid is not None
        agent = (cursor.lastrowid, *parse_user_agent(beat.user_agent))
        agents[beat.user_agent] = agent
    dependencies = None if beat.dependencies is None else orjson.dumps(beat.dependencies).decode()
    return (
        1,
        beat.time_ms,
        gap_next_ms,
        beat.entity,
        beat.type,
        beat.category,
        beat.project,
        beat.branch,
        beat.language,
        agent[1],
        agent[2],
        beat.machine,
        int(beat.is_write),
        beat.lineno,
        beat.cursorpos,
        beat.lines,
        dependencies,
        beat.line_additions,
        beat.line_deletions,
        beat.project_root_count,
        beat.ai_line_changes,
        beat.human_line_changes,
        agent[0],
        beat.created_at_ms,
    )


def beat_json(beat: Beat) -> dict[str, object]:
    """The heartbeat as wakatime-cli puts it in a bulk body: epoch seconds, no empty fields."""
    item: dict[str, object] = {
        "entity": beat.entity,
        "type": beat.type,
        "category": beat.category,
        "time": beat.time_ms / 1000,
        "is_write": beat.is_write,
        "user_agent": beat.user_agent,
    }
    for name in world.OPTIONAL_FIELDS:
        value = getattr(beat, name)
        if value is not None:
            item[name] = list(value) if name == "dependencies" else value
    return item


# --- Checking the stored gaps against the window-function form --------------------------------

_WINDOW_SAMPLE = """
WITH sample AS (
    SELECT id, user_id, time_ms, gap_next_ms FROM heartbeats
    WHERE user_id = :user_id AND time_ms >= :from_ms ORDER BY time_ms, id LIMIT :size
), judged AS (
    SELECT gap_next_ms,
        lead(time_ms) OVER (PARTITION BY user_id ORDER BY time_ms, id) - time_ms AS window_gap,
        row_number() OVER (ORDER BY time_ms, id) AS position
    FROM sample
)
SELECT count(*), coalesce(sum(gap_next_ms IS NOT window_gap), 0) FROM judged
WHERE position < :size OR :to_the_end
"""


@dataclass(frozen=True)
class GapCheck:
    rows: int
    mismatches: int


def check_gaps(path: Path, user_id: int, *, samples: int = 6, size: int = 5_000) -> GapCheck:
    """Compare stored gaps with `lead(time_ms) - time_ms` on random stretches and the tail.

    The window runs over the stretch only, so its last row has no successor there and is left
    out, except in the tail stretch, whose last row is the user's latest (gap NULL on both sides).
    """
    rng = random.Random(SEED)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        first, last = conn.execute(
            "SELECT min(time_ms), max(time_ms) FROM heartbeats WHERE user_id = ?", (user_id,)
        ).fetchone()
        (count,) = conn.execute(
            "SELECT count(*) FROM heartbeats WHERE user_id = ?", (user_id,)
        ).fetchone()
        (tail_from,) = conn.execute(
            "SELECT time_ms FROM heartbeats WHERE user_id = ? ORDER BY time_ms DESC, id DESC"
            " LIMIT 1 OFFSET ?",
            (user_id, min(size, count) - 1),
        ).fetchone()
        starts = [(rng.randint(first, last), False) for _ in range(samples)]
        rows = mismatches = 0
        for from_ms, to_the_end in [*starts, (tail_from, True)]:
            checked, wrong = conn.execute(
                _WINDOW_SAMPLE,
                {"user_id": user_id, "from_ms": from_ms, "size": size, "to_the_end": to_the_end},
            ).fetchone()
            rows += checked
            mismatches += wrong
        return GapCheck(rows, mismatches)
    finally:
        conn.close()
