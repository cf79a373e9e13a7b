"""Copies of a live database: one at a time, or kept in a folder, one timestamped copy per run
with the oldest removed beyond a count (`hackatime backup FOLDER --keep 14`, which
deploy/hackatime-backup.timer runs nightly)."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from pathlib import Path


def backup(source: Path, target: Path) -> None:
    """A consistent copy of a live database, through SQLite's online backup.

    The copy is written beside the target and renamed into place, so an interrupted backup
    never leaves a half-written file under the target's name.
    """
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source_conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        target_conn = sqlite3.connect(partial)
        try:
            source_conn.backup(target_conn)
            target_conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            target_conn.close()
    finally:
        source_conn.close()
    partial.replace(target)


# UTC, so that names sort in the order the copies were made.
_NAME = re.compile(r"^hackatime-\d{8}T\d{6}Z\.db$")


def copy_into(database: Path, folder: Path, now: datetime) -> Path:
    """A consistent copy of `database` in `folder`, named after the moment `now` (UTC)."""
    target = folder / f"hackatime-{now:%Y%m%dT%H%M%SZ}.db"
    backup(database, target)
    return target


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` copies made by copy_into; the deleted paths.

    Only files named as copy_into names them are touched, whatever else the folder holds.
    """
    copies = sorted(path for path in folder.iterdir() if _NAME.match(path.name))
    old = copies[: max(0, len(copies) - keep)]
    for path in old:
        path.unlink()
    return old
