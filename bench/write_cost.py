"""What one write costs as a user's history grows: `python -m bench.write_cost`.

Cost is counted in SQLite virtual-machine steps (a progress handler called on every one), the
same on every machine and free of timing noise: an index probe's count stays flat as the
history grows, a walk's grows with it. Three cases, each at growing history sizes:

- storing a new heartbeat at a timestamp that N stored heartbeats already share;
- storing a resend of one of them (the duplicate check);
- resolving `<<LAST_PROJECT>>` (and branch, language) when the last value lies N heartbeats back.

tests/test_write_cost.py asserts the counts are equal at two sizes; this prints the curve.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable

from hackatime import ingest, migrations
from hackatime.heartbeats import Heartbeat

T = 1_700_000_000_000
SIZES = (10, 1_000, 10_000, 50_000)


def _heartbeat(time_ms: int, entity: str, **fields: object) -> Heartbeat:
    values: dict[str, object] = {"project": "app", "branch": "main", "language": "Python"}
    values.update(fields)
    return Heartbeat(time_ms=time_ms, entity=entity, type="file", category="coding", **values)  # type: ignore[arg-type]


def _database(heartbeats: list[Heartbeat]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.upgrade(conn)
    conn.execute(
        "INSERT INTO users (id, username, api_key_sha256, created_at_ms) VALUES (1, 'ada', 'k', 0)"
    )
    for start in range(0, len(heartbeats), 100):
        chunk = [(1, heartbeat) for heartbeat in heartbeats[start : start + 100]]
        conn.execute(ingest._insert_sql(len(chunk)), ingest._insert_parameters(0, chunk))
    return conn


def steps(conn: sqlite3.Connection, sql: str, params: object) -> int:
    """SQLite virtual-machine steps the statement takes: exact and machine-independent."""
    count = 0

    def step() -> int:
        nonlocal count
        count += 1
        return 0

    conn.set_progress_handler(step, 1)
    try:
        conn.execute(sql, params)
    finally:
        conn.set_progress_handler(None, 1)
    return count


def storing_cost(conn: sqlite3.Connection, heartbeat: Heartbeat) -> int:
    return steps(conn, ingest._insert_sql(1), ingest._insert_parameters(0, [(1, heartbeat)]))


def _shared_time(size: int) -> sqlite3.Connection:
    return _database([_heartbeat(T, f"/src/{n}.py") for n in range(size)])


def _far_back(size: int) -> sqlite3.Connection:
    first = [_heartbeat(T, "/src/first.py")]
    later = [
        _heartbeat(T + (n + 1) * 1000, f"/src/{n}.py", project=None, branch=None, language=None)
        for n in range(size)
    ]
    return _database(first + later)


Case = tuple[str, Callable[[int], sqlite3.Connection], Callable[[sqlite3.Connection], int]]
CASES: list[Case] = [
    ("store a new heartbeat at a shared timestamp", _shared_time,
     lambda conn: storing_cost(conn, _heartbeat(T, "/src/new.py"))),
    ("store a resend (duplicate check)", _shared_time,
     lambda conn: storing_cost(conn, _heartbeat(T, "/src/7.py"))),
    ("resolve <<LAST_PROJECT>> N heartbeats back", _far_back,
     lambda conn: steps(conn, ingest._LAST_VALUE["project"], (1, T + 10**12))),
    ("resolve <<LAST_BRANCH>> N heartbeats back", _far_back,
     lambda conn: steps(conn, ingest._LAST_VALUE["branch"], (1, T + 10**12))),
]  # fmt: skip


def main() -> int:
    header = " | ".join(f"N = {size:,}" for size in SIZES)
    print(f"| SQLite VM steps per write | {header} | flat? |")
    print("|---|" + "---|" * (len(SIZES) + 1))
    flat = True
    for name, build, measure in CASES:
        counts = []
        for size in SIZES:
            conn = build(size)
            counts.append(measure(conn))
            conn.close()
        same = len(set(counts)) == 1
        flat = flat and same
        cells = " | ".join(f"{count:,}" for count in counts)
        print(f"| {name} | {cells} | {'yes' if same else 'NO'} |")
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
