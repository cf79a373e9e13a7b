"""Schema versions: a new database, a database from before versions, one too new, another
program's, and a migration that fails half-way."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from hackatime import migrations
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
