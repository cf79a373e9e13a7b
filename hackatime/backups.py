"""Backups kept in a folder: one timestamped copy per run, the oldest removed beyond a count.

Made for a nightly timer (deploy/hackatime-backup.timer): `hackatime backup FOLDER --keep 14`.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from hackatime.db import backup

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
