"""Schema versions: a new database, a database from before versions, one too new, another
program's, and a migration that fails half-way."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hackatime import migrations, users
from hackatime.cli import main
from hackatime.db import Database
from hackatime.dbcheck import UnusableDatabase

FROZEN_V1 = Path(__file__).resolve().parent / "schema_v1.sql"


def describe(conn: sqlite3.Connection) -> dict[str, object]:
    """Everything about a schema that behaviour depends on, blind to comments and spacing."""
    shape: dict[str, object] = {}
    objects = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for kind, name, sql in objects:
        if kind == "table":
            shape[name] = (
                conn.execute(f"PRAGMA table_xinfo({name!r})").fetchall(),
                conn.execute(f"PRAGMA foreign_key_list({name!r})").fetchall(),
            )
        else:
            without_comments = re.sub(r"--[^\n]*", "", sql or "")
            shape[name] = (kind, " ".join(without_comments.split()))
    return shape


def make_v1(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(FROZEN_V1.read_text())
    conn.execute(
        "INSERT INTO users (id, username, api_key_sha256, created_at_ms) VALUES (1, 'ada', ?, 0)",
        ("a" * 64,),
    )
    conn.executemany(
        "INSERT INTO heartbeats (user_id, time_ms, entity, type, category, project, created_at_ms)"
        " VALUES (1, ?, 'main.py', 'file', 'coding', 'app', 0)",
        [(t,) for t in (0, 60_000, 400_000, 430_000)],
    )
    conn.close()


def fresh(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.upgrade(conn)
    return conn


def test_new_database_is_made_at_the_latest_version(tmp_path: Path) -> None:
    conn = fresh(tmp_path / "new.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.latest_version() >= 1
    assert migrations.pending(conn) == []


def test_old_database_reaches_the_same_schema_and_keeps_its_rows(tmp_path: Path) -> None:
    make_v1(tmp_path / "old.db")
    old = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    assert migrations.schema_version(old) == 1
    migrations.upgrade(old)
    assert old.execute("PRAGMA user_version").fetchone()[0] == migrations.latest_version()
    assert describe(old) == describe(fresh(tmp_path / "new.db"))
    # Gaps of 60 s, 340 s and 30 s: 60 + 120 + 30 under the 2-minute rule.
    assert old.execute(
        "SELECT count(*), sum(min(coalesce(gap_next_ms, 0), 120000)) FROM heartbeats"
    ).fetchone() == (4, 210_000)
    assert old.execute("SELECT api_key_sha256 FROM users").fetchone() == ("a" * 64,)


def test_upgrading_twice_changes_nothing(tmp_path: Path) -> None:
    conn = fresh(tmp_path / "new.db")
    before = describe(conn)
    assert migrations.upgrade(conn) == []
    assert describe(conn) == before


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param(
            f"CREATE TABLE t (x); PRAGMA user_version = {10**6}", "newer than", id="newer-schema"
        ),
        pytest.param(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)",
            "not a hackatime database",
            id="another-program",
        ),
    ],
)
async def test_a_database_it_cannot_use_is_refused_and_left_untouched(
    tmp_path: Path, setup: str, message: str
) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(setup)
    conn.close()
    before = path.read_bytes()
    with pytest.raises(UnusableDatabase, match=message):
        await Database(path).open()
    assert path.read_bytes() == before


def test_a_failing_migration_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_v1(tmp_path / "old.db")
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    before = describe(conn)
    broken = migrations.Migration(
        10**5, "99999_broken.sql", "ALTER TABLE users ADD COLUMN x; SELECT * FROM no_such_table;"
    )
    monkeypatch.setattr(migrations, "all_migrations", lambda: [broken])
    with pytest.raises(migrations.SchemaError, match=r"99999_broken\.sql failed"):
        migrations.upgrade(conn)
    assert describe(conn) == before
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0


def test_migration_files_are_numbered_once_each() -> None:
    versions = [migration.version for migration in migrations.all_migrations()]
    assert versions == sorted(set(versions))
    assert all(version >= 2 for version in versions)


# --- A filled v1 database through `hackatime migrate` -----------------------------------------

GOAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
KEYS = {"ada": "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", "bo": "1c2d3e4f-5061-4b7c-9d8e-0f1a2b3c4d5e"}
# Per user: heartbeat times in seconds and projects; a gap is credited to its earlier heartbeat.
BEATS = {
    "ada": [(0, "app"), (60, "app"), (400, "lib"), (430, "app")],
    "bo": [(1000, "web"), (1090, "web"), (1290, "cli")],
}
GOALS = [
    ("ada", "Daily hour", 3600, "day", "app", None),
    ("bo", "Week of Go", 36000, "week", None, "Go"),
    ("ada", "Any code", 600, "day", None, None),
]


def fill_v1(path: Path) -> None:
    """A v1 database as the code of that time wrote it: users with keys, heartbeats, goals."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(FROZEN_V1.read_text())
    for user_id, (name, key) in enumerate(KEYS.items(), start=1):
        conn.execute(
            "INSERT INTO users (id, username, api_key_sha256, timezone, created_at_ms)"
            " VALUES (?, ?, ?, 'Europe/Berlin', 0)",
            (user_id, name, users.key_digest(key)),
        )
        conn.executemany(
            "INSERT INTO heartbeats"
            " (user_id, time_ms, entity, type, category, project, language, created_at_ms)"
            " VALUES (?, ?, ?, 'file', 'coding', ?, 'Python', 0)",
            [(user_id, t * 1000, f"/src/{p}/main.py", p) for t, p in BEATS[name]],
        )
    for name, title, seconds, period, project, language in GOALS:
        conn.execute(
            "INSERT INTO goals (user_id, title, seconds, period, project, language, created_at_ms)"
            " SELECT id, ?, ?, ?, ?, ?, 7 FROM users WHERE username = ?",
            (title, seconds, period, project, language, name),
        )
    conn.close()


def totals(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """Seconds per user and project under the 2-minute rule, from the stored gaps."""
    return conn.execute(
        "SELECT u.username, h.project, sum(min(coalesce(h.gap_next_ms, 0), 120000)) / 1000"
        " FROM heartbeats h JOIN users u ON u.id = h.user_id"
        " GROUP BY u.username, h.project ORDER BY u.username, h.project"
    ).fetchall()


def heartbeat_rows(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT id, user_id, time_ms, gap_next_ms, entity, project, language"
        " FROM heartbeats ORDER BY id"
    ).fetchall()


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def test_migrate_keeps_every_heartbeat_total_key_and_goal(tmp_path: Path) -> None:
    path = tmp_path / "hackatime.db"
    fill_v1(path)
    with contextlib.closing(sqlite3.connect(path)) as before:
        rows_before = heartbeat_rows(before)
        totals_before = totals(before)
    assert totals_before == [
        ("ada", "app", 180),  # 60 s, then 340 s counted as 120 s
        ("ada", "lib", 30),
        ("bo", "cli", 0),
        ("bo", "web", 210),  # 90 s, then 200 s counted as 120 s
    ]

    status, out = run_cli("migrate", "--db", str(path))

    assert status == 0
    (copy,) = tmp_path.glob("hackatime.db.schema-v1.*.bak")
    assert out.splitlines() == [
        f"Backed up {path} to {copy}",
        *(f"Applied {migration.name}" for migration in migrations.all_migrations()),
        f"{path} is now at schema version {migrations.latest_version()}",
    ]
    with contextlib.closing(sqlite3.connect(path)) as after:
        assert after.execute("PRAGMA user_version").fetchone()[0] == migrations.latest_version()
        assert heartbeat_rows(after) == rows_before
        assert totals(after) == totals_before
        goals_after = after.execute(
            "SELECT g.id, u.username, g.title, g.seconds, g.period, g.project, g.language,"
            " g.created_at_ms FROM goals g JOIN users u ON u.id = g.user_id ORDER BY g.rowid"
        ).fetchall()
    assert [row[1:] for row in goals_after] == [(*goal, 7) for goal in GOALS]
    assert all(GOAL_ID.fullmatch(row[0]) for row in goals_after)
    assert len({row[0] for row in goals_after}) == len(GOALS)
    # The copy is the database as it was: version 1, integer goal ids.
    with contextlib.closing(sqlite3.connect(copy)) as old:
        assert migrations.schema_version(old) == 1
        assert heartbeat_rows(old) == rows_before
        assert old.execute("SELECT id FROM goals ORDER BY id").fetchall() == [(1,), (2,), (3,)]

    async def keys_still_work() -> list[str | None]:
        database = Database(path, read_connections=1)
        await database.open()
        try:
            found = [await users.get_user_by_key(database, key) for key in KEYS.values()]
        finally:
            await database.close()
        return [user.username if user else None for user in found]

    assert asyncio.run(keys_still_work()) == list(KEYS)
    status, again = run_cli("migrate", "--db", str(path))
    assert (status, again.splitlines()) == (
        0,
        [f"{path} is already at schema version {migrations.latest_version()}"],
    )
    assert len(list(tmp_path.glob("*.bak"))) == 1


def test_migrate_refuses_a_newer_database_and_takes_no_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hackatime.db"
    fresh(path).execute(f"PRAGMA user_version = {migrations.latest_version() + 1}")
    before = path.read_bytes()

    status = main(["migrate", "--db", str(path)])

    err = capsys.readouterr().err
    assert status == 1
    assert "newer than this hackatime knows" in err
    assert str(path) in err
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_opening_an_old_database_backs_it_up_first(tmp_path: Path) -> None:
    path = tmp_path / "hackatime.db"
    fill_v1(path)

    upgraded = migrations.upgrade_file(path, datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC))

    assert upgraded.backup == tmp_path / "hackatime.db.schema-v1.20261201T030405Z.bak"
    assert upgraded.applied == migrations.all_migrations()
    with contextlib.closing(sqlite3.connect(upgraded.backup)) as old:
        assert migrations.schema_version(old) == 1


def test_migrations_another_process_applied_first_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server starting while `hackatime migrate` runs: both read the same pending list, the
    other one applies it first, and ours must neither run 0002 again nor fail on 0005."""
    path = tmp_path / "hackatime.db"
    fill_v1(path)
    ours = sqlite3.connect(path, isolation_level=None)
    theirs = sqlite3.connect(path, isolation_level=None)
    read_pending = migrations.pending

    def pending_then_the_other_process_upgrades(conn: sqlite3.Connection) -> list[object]:
        todo = read_pending(conn)
        monkeypatch.setattr(migrations, "pending", read_pending)
        assert migrations.upgrade(theirs) == migrations.all_migrations()
        return todo

    monkeypatch.setattr(migrations, "pending", pending_then_the_other_process_upgrades)
    try:
        assert migrations.upgrade(ours) == []
        goal_ids = "SELECT id FROM goals ORDER BY rowid"
        assert ours.execute(goal_ids).fetchall() == theirs.execute(goal_ids).fetchall()
        assert ours.execute("PRAGMA user_version").fetchone()[0] == migrations.latest_version()
    finally:
        ours.close()
        theirs.close()


def test_a_new_database_another_process_made_first_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ours finds the file empty; before it writes, a newer hackatime makes its schema there.
    Ours must not write its own schema version over the newer one."""
    path = tmp_path / "hackatime.db"
    newer = migrations.latest_version() + 1
    ours = sqlite3.connect(path, isolation_level=None)
    theirs = sqlite3.connect(path, isolation_level=None)
    read_version = migrations.schema_version

    def empty_then_the_other_process_makes_it(conn: sqlite3.Connection) -> int:
        version = read_version(conn)
        monkeypatch.setattr(migrations, "schema_version", read_version)
        migrations.upgrade(theirs)
        theirs.execute(f"PRAGMA user_version = {newer}")
        return version

    monkeypatch.setattr(migrations, "schema_version", empty_then_the_other_process_makes_it)
    try:
        assert migrations.upgrade(ours) == []
        assert ours.execute("PRAGMA user_version").fetchone()[0] == newer
        assert not ours.in_transaction
    finally:
        ours.close()
        theirs.close()


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["user", "list"], id="user-list"),
        pytest.param(["goal", "list"], id="goal-list"),
        pytest.param(["project", "aliases"], id="project-aliases"),
        pytest.param(["export", "--user", "ada"], id="export"),
        pytest.param(["compare", "--user", "ada"], id="compare"),
    ],
)
def test_a_command_that_only_reads_leaves_an_old_database_to_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """After an upgrade of hackatime the old server may still be running: a listing must not
    migrate the database under it."""
    path = tmp_path / "hackatime.db"
    fill_v1(path)
    before = path.read_bytes()

    status = main([*command, "--db", str(path)])

    assert status == 1
    assert capsys.readouterr().err == (
        f"hackatime: error: {path} is at schema version 1, this hackatime needs"
        f" {migrations.latest_version()}: run `hackatime migrate` (or restart the server) first\n"
    )
    assert path.read_bytes() == before
    assert sorted(item.name for item in tmp_path.iterdir()) == ["hackatime.db"]
