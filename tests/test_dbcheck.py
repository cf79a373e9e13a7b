"""An unusable database ends `serve` and every command at once, with one line naming the file
and the problem: real processes, since exit codes, hangs and leftover threads belong to them."""

from __future__ import annotations

import ctypes
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hackatime import migrations
from hackatime.dbcheck import BUSY_TIMEOUT_MS, UnusableDatabase
from tests.helpers import free_port

pytestmark = pytest.mark.slow

# Generous for a loaded machine: a hang is forever, and the lock case waits the busy timeout.
SECONDS_TO_EXIT = BUSY_TIMEOUT_MS / 1000 + 6
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _without_root_powers() -> None:
    """In the child before exec: root that obeys file permissions, as a Pi's user does.

    Dropping the capabilities from the bounding set removes them from what exec grants root.
    """
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def hackatime_db(path: Path, *, rows: int = 0) -> Path:
    migrations.upgrade_file(path, datetime(2026, 12, 1, tzinfo=UTC))
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            "INSERT INTO users (username, api_key_sha256, created_at_ms) VALUES ('pi', 'x', 0)"
        )
        conn.executemany(
            "INSERT INTO heartbeats (user_id, entity, type, category, time_ms, created_at_ms)"
            " VALUES (1, ?, 'file', 'coding', ?, 0)",
            [(f"/src/{'x' * 500}/{n}.py", n * 1000) for n in range(rows)],
        )
    return path


def not_sqlite(path: Path) -> Path:
    path.write_text("[settings]\napi_key = not a database\n" * 50)
    return path


def truncated(path: Path) -> Path:
    hackatime_db(path, rows=500)
    os.truncate(path, path.stat().st_size // 2)
    return path


def malformed(path: Path) -> Path:
    hackatime_db(path, rows=500)
    # A table definition SQLite cannot parse, as a damaged schema page would leave it.
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE goals (' WHERE name = 'goals'")
    return path


def other_program(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    return path


def newer_schema(path: Path) -> Path:
    hackatime_db(path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.latest_version() + 1}")
    return path


def read_only_file(path: Path) -> Path:
    hackatime_db(path)
    path.chmod(0o444)
    return path


def read_only_directory(path: Path) -> Path:
    hackatime_db(path)
    path.parent.chmod(0o555)
    return path


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    problem: str
    # Whether a command that only reads still works on it (it should: it writes nothing).
    readable: bool = False
    untouched: bool = False


CASES = [
    pytest.param(Case(not_sqlite, "is not an SQLite database", untouched=True), id="not-sqlite"),
    pytest.param(Case(truncated, "is damaged (database disk image is malformed)"), id="truncated"),
    pytest.param(Case(malformed, "is damaged (malformed database schema"), id="malformed"),
    pytest.param(
        Case(
            other_program, "is not a hackatime database (it holds the tables notes)", untouched=True
        ),
        id="other-program",
    ),
    pytest.param(
        Case(
            newer_schema,
            f"has schema version {migrations.latest_version() + 1}, newer",
            untouched=True,
        ),
        id="newer-schema",
    ),
    pytest.param(
        Case(
            read_only_file,
            "cannot be written (attempt to write a readonly database)",
            readable=True,
        ),
        id="read-only-file",
    ),
    pytest.param(
        # Even reading: SQLite needs the -shm file beside a WAL database, and cannot create it.
        Case(read_only_directory, "cannot be written ("),
        id="read-only-directory",
    ),
]

COMMANDS = [
    pytest.param(["serve", "--port", "0"], id="serve"),
    pytest.param(["user", "add", "ada"], id="user-add"),
    pytest.param(["user", "list"], id="user-list"),
]
READ_ONLY_COMMANDS = (("user", "list"), ("goal", "list"))


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_command(db_path: Path, argv: list[str]) -> Run:
    if argv[0] == "serve":
        argv = ["serve", "--port", str(free_port())]
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hackatime.cli", *argv, "--db", str(db_path)],
            capture_output=True,
            text=True,
            cwd=db_path.parent.parent,
            timeout=SECONDS_TO_EXIT + 30,
            preexec_fn=_without_root_powers,
            env={
                name: value
                for name, value in os.environ.items()
                if not name.startswith("HACKATIME_")
            },
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"hackatime {' '.join(argv)} still running") from None
    return Run(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    data.mkdir()
    yield data
    data.chmod(0o755)


def assert_refused(run: Run, db_path: Path, problem: str) -> None:
    assert run.returncode == 1, run
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run
    assert lines[0].startswith(f"hackatime: error: {db_path} {problem}"), run
    assert "Traceback" not in run.stderr + run.stdout, run
    assert run.seconds < SECONDS_TO_EXIT, run


@pytest.mark.parametrize("argv", COMMANDS)
@pytest.mark.parametrize("case", CASES)
def test_an_unusable_database_is_refused_in_one_line(
    folder: Path, case: Case, argv: list[str]
) -> None:
    db_path = case.make(folder / "hackatime.db")
    before = db_path.read_bytes()
    run = run_command(db_path, argv)
    if case.readable and tuple(argv) in READ_ONLY_COMMANDS:
        assert run.returncode == 0, run
        assert run.stdout.startswith("pi  id=1"), run
    else:
        assert_refused(run, db_path, case.problem)
    if case.untouched:
        assert db_path.read_bytes() == before


@contextmanager
def write_lock_held(db_path: Path) -> Iterator[None]:
    """Another program in the middle of a long write transaction."""
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE users SET email = 'busy@example.com'")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")


@pytest.mark.parametrize("argv", COMMANDS)
def test_a_database_locked_past_the_busy_timeout_is_refused(folder: Path, argv: list[str]) -> None:
    db_path = hackatime_db(folder / "hackatime.db")
    with write_lock_held(db_path):
        run = run_command(db_path, argv)
    if tuple(argv) in READ_ONLY_COMMANDS:
        # WAL: a reader never waits for a writer.
        assert run.returncode == 0, run
        assert run.stdout.startswith("pi  id=1"), run
    else:
        assert_refused(run, db_path, "is locked by another program (still busy after 5 s)")
        assert run.seconds >= BUSY_TIMEOUT_MS / 1000


ALL_COMMANDS = [
    pytest.param(["serve"], id="serve"),
    pytest.param(["user", "add", "ada"], id="user-add"),
    pytest.param(["user", "set", "pi", "--public"], id="user-set"),
    pytest.param(["user", "list"], id="user-list"),
    pytest.param(["user", "key", "pi", "--rotate"], id="user-key"),
    pytest.param(
        ["goal", "add", "--user", "pi", "--title", "t", "--seconds", "60", "--period", "day"],
        id="goal-add",
    ),
    pytest.param(["goal", "list"], id="goal-list"),
    pytest.param(["goal", "rm", "1"], id="goal-rm"),
]


@pytest.mark.parametrize("argv", ALL_COMMANDS)
def test_every_command_refuses_another_programs_database_untouched(
    folder: Path, argv: list[str]
) -> None:
    db_path = other_program(folder / "notes.db")
    before = db_path.read_bytes()
    run = run_command(db_path, argv)
    assert_refused(run, db_path, "is not a hackatime database (it holds the tables notes)")
    # Not even a -wal or -shm file beside it.
    assert sorted(folder.iterdir()) == [db_path]
    assert db_path.read_bytes() == before


def test_a_read_only_command_leaves_the_database_files_as_they_were(folder: Path) -> None:
    """No write lock and no checkpoint: a running server's writes never wait for it."""
    db_path = hackatime_db(folder / "hackatime.db", rows=50)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as server:
        # A server's connection keeps the WAL (and its frames) in place, as a running one does.
        server.execute("PRAGMA wal_autocheckpoint = 0")
        server.execute("UPDATE heartbeats SET project = 'p'")
        wal = db_path.with_name(db_path.name + "-wal")
        before = db_path.read_bytes(), wal.read_bytes()
        for argv in READ_ONLY_COMMANDS:
            run = run_command(db_path, list(argv))
            assert run.returncode == 0, run
        assert (db_path.read_bytes(), wal.read_bytes()) == before


def connection_threads() -> list[threading.Thread]:
    # Threads get their target's name: aiosqlite's run `_connection_worker_thread`.
    return [each for each in threading.enumerate() if "_connection_worker" in each.name]


async def test_a_failed_open_leaves_no_connection_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each aiosqlite connection is a thread that keeps the process alive until closed."""
    from hackatime import db as db_module

    prepare = db_module._prepare

    async def readers_fail(conn: object, *, writer: bool) -> None:
        await prepare(conn, writer=writer)  # type: ignore[arg-type]
        if not writer:
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(db_module, "_prepare", readers_fail)
    before = connection_threads()
    database = db_module.Database(hackatime_db(tmp_path / "hackatime.db"), read_connections=2)

    with pytest.raises(UnusableDatabase, match=r"hackatime\.db cannot be used \(disk I/O error\)"):
        await database.open()

    # A closed connection's thread ends just after close() returns; an unclosed one never does.
    for thread in set(connection_threads()) - set(before):
        thread.join(timeout=5)
    assert connection_threads() == before
