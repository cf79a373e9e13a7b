"""Backups into a folder (`hackatime backup FOLDER --keep N`, what the nightly timer runs) and
the messages of a backup that cannot be made."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hackatime import backups, users
from hackatime.cli import main
from hackatime.db import Database

NIGHT = datetime(2026, 12, 1, 3, 0, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "hackatime.db"

    async def make() -> None:
        db = Database(path, read_connections=1)
        await db.open()
        try:
            await users.create_user(db, "ada")
        finally:
            await db.close()

    asyncio.run(make())
    return path


def usernames(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [name for (name,) in conn.execute("SELECT username FROM users")]


def test_copies_are_named_by_time_and_only_the_newest_kept(db_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "hackatime.db").write_text("not a timestamped copy")
    made = [backups.copy_into(db_path, folder, NIGHT + timedelta(days=n)) for n in range(4)]

    removed = backups.prune(folder, keep=2)

    assert [path.name for path in made] == [
        "hackatime-20261201T030000Z.db",
        "hackatime-20261202T030000Z.db",
        "hackatime-20261203T030000Z.db",
        "hackatime-20261204T030000Z.db",
    ]
    assert removed == made[:2]
    assert sorted(path.name for path in folder.iterdir()) == [
        "hackatime-20261203T030000Z.db",
        "hackatime-20261204T030000Z.db",
        "hackatime.db",
        "notes.txt",
    ]
    assert usernames(made[-1]) == ["ada"]


def test_backup_into_a_folder_keeps_n(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    older = [backups.copy_into(db_path, folder, NIGHT - timedelta(days=n)) for n in (1, 2)]

    status = main(["backup", "--db", str(db_path), str(folder), "--keep", "2"])

    out = capsys.readouterr().out
    assert status == 0
    (newest,) = set(folder.iterdir()) - set(older)
    assert newest.name.startswith("hackatime-")
    assert sorted(folder.iterdir()) == sorted([older[0], newest])
    assert out.splitlines() == [
        f"Backed up {db_path} to {newest}",
        f"Removed the old copy {older[1]}",
    ]
    assert usernames(newest) == ["ada"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param(
            "missing/copy.db",
            "the destination folder {tmp}/missing does not exist",
            id="file-in-a-missing-folder",
        ),
        pytest.param(
            "missing/", "the destination folder {tmp}/missing does not exist", id="missing-folder"
        ),
        pytest.param("copy.db --keep 3", "--keep N needs an existing folder", id="keep-to-a-file"),
        pytest.param(
            "backups --keep 14",
            "--keep N needs an existing folder as the destination: {tmp}/backups does not exist;"
            " create it first",
            id="keep-to-a-missing-folder",
        ),
        pytest.param("data --keep 0", "--keep N needs N of 1 or more", id="keep-none"),
    ],
)
def test_a_backup_that_cannot_be_made_names_the_destination(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    path, *extra = target.split()
    with pytest.raises(SystemExit) as exit_:
        main(["backup", "--db", str(db_path), str(tmp_path) + "/" + path, *extra])

    assert exit_.value.code == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]
