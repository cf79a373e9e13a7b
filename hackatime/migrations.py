"""Schema versions: a new database is made from `schema.sql`, an older one is brought up to it by
the numbered files in `migrations/`, and `PRAGMA user_version` records where a database stands.

Version 1 is the schema that shipped before versions were recorded: such a database has
user_version 0 and hackatime's tables. A migration file is never edited once it has landed;
each runs in one transaction together with the version it brings the database to, so a failed
migration leaves the database exactly as it was.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from hackatime.backups import backup

_PACKAGE = resources.files("hackatime")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# The tables every hackatime database has had since version 1.
_HACKATIME_TABLES = frozenset({"users", "heartbeats"})
# Milliseconds a connection waits for another one's lock before giving up with SQLITE_BUSY. Every
# connection to the database sets it; it lives here, the lowest module that opens one.
BUSY_TIMEOUT_MS = 5000


class SchemaError(Exception):
    """The database cannot be used by this version of hackatime; the message says why."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def current_schema() -> str:
    return (_PACKAGE / "schema.sql").read_text(encoding="utf-8")


def all_migrations() -> list[Migration]:
    found: dict[int, Migration] = {}
    folder = _PACKAGE / "migrations"
    for entry in folder.iterdir() if folder.is_dir() else ():
        match = _MIGRATION_NAME.match(entry.name)
        if not match:
            continue
        version = int(match[1])
        if version < 2 or version in found:
            # Two branches that each added the same number must be renumbered before landing.
            raise SchemaError(f"migration {entry.name} has a version already taken or below 2")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


def latest_version() -> int:
    return max([1, *(migration.version for migration in all_migrations())])


def schema_version(conn: sqlite3.Connection) -> int:
    """Where a database stands: 0 when it is empty, else its schema version.

    Raises SchemaError for a database that is not hackatime's, rather than writing into it.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version:
        return int(version)
    tables = {
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if not tables:
        return 0
    if tables >= _HACKATIME_TABLES:
        return 1
    raise SchemaError(
        "is not a hackatime database (it holds the tables " + ", ".join(sorted(tables)) + ")"
    )


def pending(conn: sqlite3.Connection) -> list[Migration]:
    """The migrations a database still needs, in order; raises SchemaError if it cannot be used."""
    version = schema_version(conn)
    latest = latest_version()
    if version > latest:
        raise SchemaError(
            f"has schema version {version}, newer than this hackatime knows ({latest}):"
            " upgrade hackatime, or restore the backup taken before the upgrade"
        )
    if version == 0:
        return []
    return [migration for migration in all_migrations() if migration.version > version]


def upgrade(conn: sqlite3.Connection) -> list[Migration]:
    """Create the schema in an empty database, or apply the migrations it still needs.

    The connection must be in autocommit mode (isolation_level=None). Returns what was applied:
    a migration another process applied first (a server starting during `hackatime migrate`)
    is skipped, not run twice.
    """
    version = schema_version(conn)
    if version == 0:
        _run_in_transaction(conn, current_schema(), expected=0, version=latest_version())
        return []
    todo = pending(conn)
    if not todo and not conn.execute("PRAGMA user_version").fetchone()[0]:
        # A database from before versions were recorded that needs nothing else: record it.
        _run_in_transaction(conn, "", expected=version, version=version)
    applied = []
    for migration in todo:
        try:
            ran = _run_in_transaction(
                conn, migration.sql, expected=version, version=migration.version
            )
        except sqlite3.Error as error:
            raise SchemaError(f"migration {migration.name} failed: {error}") from error
        if ran:
            applied.append(migration)
        version = migration.version
    return applied


def _run_in_transaction(conn: sqlite3.Connection, sql: str, *, expected: int, version: int) -> bool:
    """Run `sql` and set the version to `version`, if the database still stands at `expected`
    once the write lock is held; False (nothing done) when another process moved it first."""
    # user_version lives in the database header, which is written inside the transaction: the
    # schema change and its version number commit together or not at all. executescript would
    # commit the open transaction before running anything, so the statements go one by one.
    conn.execute("BEGIN IMMEDIATE")
    try:
        if schema_version(conn) != expected:
            conn.execute("ROLLBACK")
            return False
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {int(version)}")
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise sqlite3.IntegrityError(f"{len(problems)} rows break a foreign key")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return True


def _statements(sql: str) -> list[str]:
    """`sql` cut into single statements; complete_statement keeps a trigger's body (with its
    own semicolons) and a quoted semicolon inside the statement they belong to."""
    statements = []
    pending_text = ""
    for piece in sql.split(";"):
        pending_text += piece + ";"
        if sqlite3.complete_statement(pending_text):
            statements.append(pending_text)
            pending_text = ""
    if pending_text:
        statements.append(pending_text)
    return statements


@dataclass(frozen=True)
class Upgrade:
    applied: list[Migration]
    # The copy taken before the first migration ran; None when nothing had to run.
    backup: Path | None


def upgrade_file(path: Path, now: datetime) -> Upgrade:
    """Bring the database at `path` to the current schema, copying it aside first when a
    migration has to run: `hackatime.db.schema-v1.20261201T030000Z.bak` beside it."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = schema_version(conn)
        copy = None
        if pending(conn):
            copy = path.with_name(f"{path.name}.schema-v{version}.{now:%Y%m%dT%H%M%SZ}.bak")
            backup(path, copy)
        return Upgrade(upgrade(conn), copy)
