"""Whether a database file can be served: refused at start, with one line that says why, rather
than served until the first query or write fails."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from pathlib import Path

from hackatime import migrations
from hackatime.migrations import BUSY_TIMEOUT_MS

log = logging.getLogger("hackatime")

# What each kind of SQLite failure means for the person starting hackatime; {error} is SQLite's
# own words. Keyed by the primary result code: extended ones (SQLITE_READONLY_DIRECTORY…) share.
_PROBLEMS = {
    "SQLITE_NOTADB": "is not an SQLite database",
    "SQLITE_CORRUPT": "is damaged ({error}): restore it from a backup",
    "SQLITE_READONLY": "cannot be written ({error}): check the permissions of the file, "
    "its directory and the disk",
    "SQLITE_CANTOPEN": "cannot be opened ({error}): check that its directory exists and "
    "can be written",
    "SQLITE_PERM": "cannot be opened ({error}): check the permissions of the file",
    "SQLITE_BUSY": "is locked by another program (still busy after "
    f"{BUSY_TIMEOUT_MS // 1000} s): stop it or let it finish, then start again",
    "SQLITE_FULL": "cannot grow: the disk is full",
    "SQLITE_IOERR": "cannot be read or written ({error}): the disk may be failing",
}


class UnusableDatabase(Exception):
    """The database file cannot be used; str() is one line naming the file and the problem."""


class OutOfDate(UnusableDatabase):
    """The database is empty or needs migrations: a command that only reads leaves it so."""


def sqlite_problem(error: sqlite3.Error) -> str:
    """Why a statement failed, in the words of `_PROBLEMS` (SQLite's own for anything else)."""
    name = getattr(error, "sqlite_errorname", "") or ""
    template = _PROBLEMS.get("_".join(name.split("_")[:2]), "cannot be used ({error})")
    return template.format(error=str(error) or name)


def is_disk_full(error: BaseException) -> bool:
    return getattr(error, "sqlite_errorname", None) == "SQLITE_FULL"


def unusable(path: Path, error: Exception) -> UnusableDatabase:
    """The error that stops the start, for any failure while opening `path`."""
    if isinstance(error, sqlite3.Error):
        problem = sqlite_problem(error)
    elif isinstance(error, OSError):
        problem = f"cannot be used: {error.strerror or error}"
    else:
        problem = str(error)
    return UnusableDatabase(f"{path} {problem}")


def prepare_for_writing(path: Path, now: datetime) -> migrations.Upgrade:
    """Bring the database at `path` to the current schema (a copy kept aside first, named
    after `now`, when a migration has to run) and prove that it can be written.

    A file that is not a hackatime database, or is from a newer one, is refused by a read-only
    connection first, so that nothing is written to it: not even a WAL switch or a checkpoint.
    Raises UnusableDatabase.
    """
    try:
        if path.exists():
            check_for_reading(path, up_to_date=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        upgraded = migrations.upgrade_file(path, now)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            # A write, as every heartbeat's, rolled back: a read-only file, directory or disk,
            # or a lock held elsewhere, shows here rather than on the first heartbeat. (SQLite
            # opens a file it may not write read-only without a word, and BEGIN alone passes.)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(f"PRAGMA user_version = {int(version)}")
            finally:
                # Some failures (a full disk, an I/O error) have rolled back already.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        finally:
            conn.close()
    except (sqlite3.Error, migrations.SchemaError, OSError) as error:
        raise unusable(path, error) from None
    if upgraded.applied:
        log.info(
            "database upgraded to schema version %d (%s); the old one is kept as %s",
            upgraded.applied[-1].version,
            ", ".join(migration.name for migration in upgraded.applied),
            upgraded.backup,
        )
    return upgraded


def check_for_reading(path: Path, *, up_to_date: bool = True) -> None:
    """Refuse a database that is not hackatime's, is from a newer schema or cannot be read
    (with `up_to_date`, OutOfDate for one empty or still needing migrations), without writing
    to it."""
    try:
        if not path.is_file():
            raise UnusableDatabase(f"{path} does not exist")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = migrations.schema_version(conn)
            todo = migrations.pending(conn)
            # Reads every table's definition: a damaged or truncated file fails here.
            conn.execute("SELECT count(*) FROM sqlite_master WHERE sql IS NOT NULL").fetchone()
        finally:
            conn.close()
    except (sqlite3.Error, migrations.SchemaError, OSError) as error:
        raise unusable(path, error) from None
    if not up_to_date:
        return
    if version == 0:
        raise OutOfDate(f"{path} is empty: there are no users yet")
    if todo:
        raise OutOfDate(
            f"{path} is at schema version {version}, this hackatime needs"
            f" {migrations.latest_version()}: run `hackatime migrate` (or restart the server) first"
        )
