"""No write gets slower with the data: storing a heartbeat and resolving a placeholder are index
probes, whatever a user's history holds.

Cost is counted in SQLite virtual-machine steps (a progress handler called on every one), which
is exact and the same on every machine: a probe's count does not change with the rows around
it, a walk's grows with them. The plans are pinned too, with EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest

from bench.write_cost import steps, storing_cost
from hackatime import ingest, migrations
from hackatime.heartbeats import Heartbeat
from tests.helpers import beat

T = 1_700_000_000_000


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    migrations.upgrade(connection)
    connection.execute(
        "INSERT INTO users (id, username, api_key_sha256, created_at_ms) VALUES (1, 'ada', 'k', 0)"
    )
    yield connection
    connection.close()


def insert(conn: sqlite3.Connection, heartbeats: list[Heartbeat]) -> None:
    """Through ingest's own statement, 100 at a time as the API takes them."""
    for start in range(0, len(heartbeats), 100):
        chunk = [(1, heartbeat) for heartbeat in heartbeats[start : start + 100]]
        conn.execute(ingest._insert_sql(len(chunk)), ingest._insert_parameters(0, chunk))


def sharing_one_time(count: int) -> list[Heartbeat]:
    return [beat(T, entity=f"/src/{n}.py") for n in range(count)]


@pytest.mark.parametrize(
    "heartbeat",
    [
        pytest.param(beat(T, entity="/src/new.py"), id="new-at-the-shared-time"),
        pytest.param(beat(T, entity="/src/7.py"), id="duplicate-at-the-shared-time"),
        pytest.param(beat(T - 5000, entity="/src/new.py"), id="just-before-the-shared-time"),
        pytest.param(beat(T + 5000, entity="/src/new.py"), id="just-after-the-shared-time"),
        pytest.param(
            beat(T, entity="/src/new.py", lineno=3, project="other"), id="differs-in-late-columns"
        ),
    ],
)
def test_storing_costs_the_same_however_many_stored_heartbeats_share_its_time(
    heartbeat: Heartbeat,
) -> None:
    costs = []
    for stored in (10, 2000):
        connection = sqlite3.connect(":memory:", isolation_level=None)
        migrations.upgrade(connection)
        connection.execute(
            "INSERT INTO users (id, username, api_key_sha256, created_at_ms)"
            " VALUES (1, 'ada', 'k', 0)"
        )
        insert(connection, sharing_one_time(stored))
        costs.append(storing_cost(connection, heartbeat))
        connection.close()
    assert costs[0] == costs[1]


@pytest.mark.parametrize("column", list(ingest._LAST_VALUE))
def test_a_placeholder_costs_the_same_however_far_back_the_last_value_is(
    conn: sqlite3.Connection, column: str
) -> None:
    insert(conn, [beat(T, project="app", branch="main", language="Python")])
    costs = []
    for since in (10, 2000):
        later = [
            beat(T + (since + n) * 1000, project=None, branch=None, language=None, type="app")
            for n in range(since)
        ]
        insert(conn, later)
        row = conn.execute(ingest._LAST_VALUE[column], (1, T + 10**9)).fetchone()
        assert row == ({"project": "app", "branch": "main", "language": "Python"}[column], T)
        costs.append(steps(conn, ingest._LAST_VALUE[column], (1, T + 10**9)))
    assert costs[0] == costs[1]


def plan(conn: sqlite3.Connection, sql: str, params: object) -> list[str]:
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def assert_probes_only(steps_of_plan: list[str]) -> None:
    heartbeat_steps = [
        step for step in steps_of_plan if re.search(r"\b(h|s|p|q|heartbeats)\b", step)
    ]
    assert heartbeat_steps
    assert all(step.startswith("SEARCH") for step in heartbeat_steps), steps_of_plan


def trigger_statements(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Each trigger's WHEN condition and body, as plain statements with NEW.x as parameters."""
    statements = []
    for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'heartbeats'"
    ):
        text = re.sub(r"NEW\.(\w+)", r":new_\1", sql)
        when = re.search(r"\bWHEN\b(.*?)\bBEGIN\b", text, re.S)
        if when:
            statements.append((f"{name} when", f"SELECT {when[1]}"))
        body = re.search(r"\bBEGIN\b(.*)\bEND\b", text, re.S)
        assert body
        statements.append((f"{name} body", body[1].strip().rstrip(";")))
    return statements


def test_the_gap_triggers_are_index_probes(conn: sqlite3.Connection) -> None:
    statements = trigger_statements(conn)
    assert len(statements) == 3
    params = {"new_user_id": 1, "new_time_ms": T, "new_id": 5}
    for _name, sql in statements:
        assert_probes_only(plan(conn, sql, params))
    # The "same time, later or earlier id" lookups probe on id too, not every row at that time.
    steps_of_plans = [step for _name, sql in statements for step in plan(conn, sql, params)]
    for probe in ("time_ms=? AND id>?", "time_ms=? AND id<?"):
        assert any(probe in step for step in steps_of_plans), steps_of_plans


def test_the_duplicate_checks_are_probes_of_the_identity_key(conn: sqlite3.Connection) -> None:
    insert_sql = ingest._insert_sql(2)
    count = max(int(number) for number in re.findall(r"\?(\d+)", insert_sql))
    probe = "SEARCH h USING INDEX heartbeats_identity (user_id=? AND time_ms=? AND identity_key=?)"
    for sql, params in (
        (insert_sql, [1] * count),
        (ingest._STORED_IDS, {"user_id": 1, "batch": "[]"}),
    ):
        steps_of_plan = plan(conn, sql, params)
        # One probe for the key, one for rows stored without a key; nothing else reads h.
        assert [step for step in steps_of_plan if " h " in f"{step} "] == [probe, probe]


def stored_rows(conn: sqlite3.Connection) -> list[tuple[int, str, int | None]]:
    return conn.execute("SELECT id, entity, lineno FROM heartbeats ORDER BY id").fetchall()


def test_a_row_stored_without_a_key_is_still_recognised(conn: sqlite3.Connection) -> None:
    """Rows from before migration 0005 (or written by hand) have no identity key."""
    conn.execute(
        "INSERT INTO heartbeats (user_id, time_ms, entity, type, category, project, language,"
        " editor, operating_system, machine, created_at_ms)"
        " VALUES (1, ?, '/src/app/main.py', 'file', 'coding', 'app', 'Python', 'vim', 'Linux',"
        " 'pi', 0)",
        (T,),
    )
    insert(conn, [beat(T), beat(T, lineno=4)])
    assert stored_rows(conn) == [(1, "/src/app/main.py", None), (2, "/src/app/main.py", 4)]


def test_heartbeats_whose_keys_collide_are_told_apart_by_their_columns(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "identity_key", lambda heartbeat: 7)
    insert(conn, [beat(T, lineno=1)])
    insert(conn, [beat(T, lineno=2), beat(T, lineno=1)])
    assert stored_rows(conn) == [(1, "/src/app/main.py", 1), (2, "/src/app/main.py", 2)]


@pytest.mark.parametrize("column", list(ingest._LAST_VALUE))
def test_a_placeholder_is_one_probe_of_the_rows_with_a_value(
    conn: sqlite3.Connection, column: str
) -> None:
    assert plan(conn, ingest._LAST_VALUE[column], (1, T)) == [
        f"SEARCH heartbeats USING INDEX heartbeats_last_{column} (user_id=? AND time_ms<?)"
    ]
