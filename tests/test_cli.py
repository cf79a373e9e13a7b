"""The `hackatime` command: user management in-process, and the real entry point as a process."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.metadata
import io
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import hackatime
from hackatime import goals, heartbeats, ingest, users
from hackatime.cli import main
from hackatime.db import Database
from tests.helpers import API_KEY_PATTERN


class Run(NamedTuple):
    status: int
    out: str
    err: str

    @property
    def last_line(self) -> str:
        return self.out.rstrip("\n").splitlines()[-1]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    try:
        status = main(list(argv))
    except SystemExit as exit_:  # argparse errors
        status = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


def cli_process(*argv: str, env: dict[str, str] | None = None, cwd: Path) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "hackatime.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _with_database(db_path: Path, action: Any) -> Any:
    async def run() -> Any:
        db = Database(db_path, read_connections=1)
        await db.open()
        try:
            return await action(db)
        finally:
            await db.close()

    return asyncio.run(run())


def user_by_key(db_path: Path, key: str) -> users.User | None:
    return _with_database(db_path, lambda db: users.get_user_by_key(db, key))


def user_by_name(db_path: Path, name: str) -> users.User | None:
    return _with_database(db_path, lambda db: users.get_user_by_name(db, name))


def user_rows(db_path: Path) -> list[tuple[Any, ...]]:
    """Every column of every user, key digests included: what "nothing changed" compares."""
    if not db_path.exists():
        return []
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute("SELECT * FROM users ORDER BY id").fetchall()


def assert_is_api_key(text: str) -> None:
    assert API_KEY_PATTERN.fullmatch(text), text
    assert str(uuid.UUID(text)) == text
    assert uuid.UUID(text).version == 4


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No command may fall back to ./data/hackatime.db in the repository or read the caller's env.
    monkeypatch.chdir(tmp_path)
    for name in ("DB", "HOST", "PORT", "TIMEOUT", "TIMEZONE"):
        monkeypatch.delenv(f"HACKATIME_{name}", raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hackatime.db"


@pytest.fixture
def keys(capsys: pytest.CaptureFixture[str], db_path: Path) -> dict[str, str]:
    """alice and bob, made through the command itself; their keys by name."""
    made = {}
    for name, email, slack_uid in [
        ("alice", "alice@example.com", "U1"),
        ("bob", "bob@example.com", "U2"),
    ]:
        run = cli(
            capsys,
            *("user", "add", name, "--email", email, "--slack-uid", slack_uid),
            *("--timezone", "Europe/Berlin", "--db", str(db_path)),
        )
        assert run.status == 0, run.err
        made[name] = run.last_line
    return made


# user add


def test_add_prints_the_key_alone_on_the_last_line(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    run = cli(
        capsys,
        *("user", "add", "alice", "--email", "alice@example.com", "--slack-uid", "U1"),
        *("--timezone", "Europe/Berlin", "--admin", "--db", str(db_path)),
    )

    assert (run.status, run.err) == (0, "")
    assert run.out.endswith("\n")
    key = run.last_line
    assert_is_api_key(key)
    user = user_by_key(db_path, key)
    assert user is not None
    assert (user.username, user.email, user.slack_uid, user.timezone, user.is_admin) == (
        "alice",
        "alice@example.com",
        "U1",
        "Europe/Berlin",
        True,
    )


def test_add_defaults(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    run = cli(capsys, "user", "add", "bob", "--db", str(db_path))

    assert run.status == 0, run.err
    user = user_by_key(db_path, run.last_line)
    assert user is not None
    assert dataclasses.asdict(user) | {"id": None, "created_at_ms": None} == {
        "id": None,
        "username": "bob",
        "email": None,
        "slack_uid": None,
        "timezone": None,
        "detected_timezone": None,
        "is_admin": False,
        "trust_value": users.TRUST_LEVELS["yellow"],
        "is_public": True,
        "created_at_ms": None,
    }


def test_each_user_gets_its_own_key(keys: dict[str, str], db_path: Path) -> None:
    assert keys["alice"] != keys["bob"]
    for name, key in keys.items():
        user = user_by_key(db_path, key)
        assert user is not None
        assert user.username == name


def test_only_a_digest_of_the_key_is_stored(keys: dict[str, str], db_path: Path) -> None:
    stored = b"".join(path.read_bytes() for path in db_path.parent.glob(db_path.name + "*"))
    for key in keys.values():
        assert key.encode() not in stored
        assert users.key_digest(key).encode() in stored


# user set


@pytest.mark.parametrize(
    ("before", "flags", "changes"),
    [
        pytest.param([], ["--email", "new@example.com"], {"email": "new@example.com"}, id="email"),
        pytest.param([], ["--email", ""], {"email": None}, id="email-cleared"),
        pytest.param(
            [], ["--email", "ALICE@example.com"], {"email": "ALICE@example.com"}, id="own-email"
        ),
        pytest.param([], ["--slack-uid", "U9"], {"slack_uid": "U9"}, id="slack-uid"),
        pytest.param([], ["--slack-uid", ""], {"slack_uid": None}, id="slack-uid-cleared"),
        pytest.param([], ["--timezone", "Asia/Tokyo"], {"timezone": "Asia/Tokyo"}, id="timezone"),
        pytest.param([], ["--timezone", ""], {"timezone": None}, id="timezone-cleared"),
        pytest.param([], ["--admin"], {"is_admin": True}, id="admin"),
        pytest.param(["--admin"], ["--no-admin"], {"is_admin": False}, id="no-admin"),
        pytest.param([], ["--trust-level", "red"], {"trust_value": 1}, id="trust-red"),
        pytest.param([], ["--trust-level", "green"], {"trust_value": 2}, id="trust-green"),
        pytest.param(
            ["--trust-level", "green"], ["--trust-level", "yellow"], {"trust_value": 0}, id="yellow"
        ),
        pytest.param([], ["--private"], {"is_public": False}, id="private"),
        pytest.param(["--private"], ["--public"], {"is_public": True}, id="public"),
        pytest.param([], [], {}, id="no-flags"),
        pytest.param(
            [],
            ["--admin", "--trust-level", "red", "--private", "--timezone", "UTC"],
            {"is_admin": True, "trust_value": 1, "is_public": False, "timezone": "UTC"},
            id="several",
        ),
    ],
)
def test_set_changes_exactly_what_it_is_told(
    capsys: pytest.CaptureFixture[str],
    keys: dict[str, str],
    db_path: Path,
    before: list[str],
    flags: list[str],
    changes: dict[str, Any],
) -> None:
    if before:
        assert cli(capsys, "user", "set", "alice", *before, "--db", str(db_path)).status == 0
    alice = user_by_name(db_path, "alice")
    bob_rows = [row for row in user_rows(db_path) if row[1] == "bob"]
    assert alice is not None

    run = cli(capsys, "user", "set", "alice", *flags, "--db", str(db_path))

    assert (run.status, run.err) == (0, "")
    assert run.out.startswith("alice ")
    after = user_by_name(db_path, "alice")
    assert after is not None
    assert dataclasses.asdict(after) == dataclasses.asdict(alice) | changes
    assert user_by_key(db_path, keys["alice"]) == after
    assert [row for row in user_rows(db_path) if row[1] == "bob"] == bob_rows


def test_set_output_describes_the_user(
    capsys: pytest.CaptureFixture[str], keys: dict[str, str], db_path: Path
) -> None:
    run = cli(
        capsys,
        *("user", "set", "alice", "--trust-level", "red", "--private", "--admin"),
        *("--db", str(db_path)),
    )

    assert run.status == 0, run.err
    for shown in ["alice", "trust=red", "visibility=private", "admin=yes", "email=alice@"]:
        assert shown in run.out


# user list


def test_list_shows_every_user(
    capsys: pytest.CaptureFixture[str], keys: dict[str, str], db_path: Path
) -> None:
    assert cli(capsys, "user", "set", "bob", "--admin", "--db", str(db_path)).status == 0

    run = cli(capsys, "user", "list", "--db", str(db_path))

    assert (run.status, run.err) == (0, "")
    lines = run.out.splitlines()
    assert [line.split()[0] for line in lines] == ["alice", "bob"]
    alice, bob = lines
    for shown in [
        "email=alice@example.com",
        "slack_uid=U1",
        "timezone=Europe/Berlin",
        "admin=no",
        "trust=yellow",
        "visibility=public",
    ]:
        assert shown in alice
    assert "admin=yes" in bob
    # The list never shows keys, not even their digests.
    for key in keys.values():
        assert key not in run.out
        assert users.key_digest(key) not in run.out


def test_commands_other_than_user_add_refuse_a_missing_database(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    run = cli(capsys, "user", "list", "--db", str(db_path))

    assert run.status == 2
    assert "no database at" in run.err
    assert not db_path.exists()


def test_list_of_a_database_without_users(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    sqlite3.connect(db_path).close()

    # Listing only reads: the empty file is not given a schema under a server that may own it.
    assert cli(capsys, "user", "list", "--db", str(db_path)) == Run(
        1, "", f"hackatime: error: {db_path} is empty: there are no users yet\n"
    )
    assert db_path.stat().st_size == 0


# user key


def test_rotate_prints_a_new_key_and_the_old_one_stops_working(
    capsys: pytest.CaptureFixture[str], keys: dict[str, str], db_path: Path
) -> None:
    alice = user_by_key(db_path, keys["alice"])

    run = cli(capsys, "user", "key", "alice", "--rotate", "--db", str(db_path))

    assert (run.status, run.err) == (0, "")
    new_key = run.last_line
    assert_is_api_key(new_key)
    assert new_key != keys["alice"]
    assert user_by_key(db_path, new_key) == alice
    assert user_by_key(db_path, keys["alice"]) is None
    bob = user_by_key(db_path, keys["bob"])
    assert bob is not None
    assert bob.username == "bob"


def test_rotating_twice_keeps_only_the_latest_key(
    capsys: pytest.CaptureFixture[str], keys: dict[str, str], db_path: Path
) -> None:
    first = cli(capsys, "user", "key", "bob", "--rotate", "--db", str(db_path)).last_line
    second = cli(capsys, "user", "key", "bob", "--rotate", "--db", str(db_path)).last_line

    assert first != second
    assert user_by_key(db_path, first) is None
    bob = user_by_key(db_path, second)
    assert bob is not None
    assert bob.username == "bob"


# Bad arguments: exit status 2, a message on stderr, the database untouched.

BAD_ARGUMENTS = [
    pytest.param([], "required", id="no-command"),
    pytest.param(["user"], "required", id="no-user-action"),
    pytest.param(["user", "frobnicate"], "invalid choice", id="unknown-user-action"),
    pytest.param(["user", "add"], "name", id="add-without-name"),
    pytest.param(["user", "add", "alice"], "already exists", id="duplicate-username"),
    pytest.param(["user", "add", "current"], "username", id="reserved-current"),
    pytest.param(["user", "add", "my"], "username", id="reserved-my"),
    pytest.param(["user", "add", "123"], "username", id="all-digits"),
    pytest.param(["user", "add", "two words"], "username", id="space-in-name"),
    pytest.param(["user", "add", "a" * 65], "username", id="name-too-long"),
    pytest.param(["user", "add", "carol", "--timezone", "Mars/Olympus"], "timezone", id="add-tz"),
    pytest.param(["user", "add", "carol", "--email", "nope"], "email", id="add-bad-email"),
    pytest.param(
        ["user", "add", "carol", "--email", "ALICE@example.com"],
        "already exists",
        id="add-duplicate-email",
    ),
    pytest.param(
        ["user", "add", "carol", "--slack-uid", "U1"], "already exists", id="add-duplicate-slack"
    ),
    pytest.param(["user", "add", "carol", "--admin", "yes"], "unrecognized", id="add-extra-arg"),
    pytest.param(["user", "set"], "name", id="set-without-name"),
    pytest.param(
        ["user", "set", "alice", "--trust-level", "purple"], "invalid choice", id="trust-level"
    ),
    pytest.param(["user", "set", "alice", "--timezone", "Nowhere/Land"], "timezone", id="set-tz"),
    pytest.param(["user", "set", "alice", "--email", "nope"], "email", id="set-bad-email"),
    pytest.param(
        ["user", "set", "alice", "--email", "bob@example.com"],
        "already exists",
        id="set-duplicate-email",
    ),
    pytest.param(
        ["user", "set", "alice", "--slack-uid", "U2"], "already exists", id="set-duplicate-slack"
    ),
    pytest.param(
        ["user", "set", "alice", "--public", "--private"], "not allowed", id="public-and-private"
    ),
    # A bad value among good ones: none of them is applied.
    pytest.param(
        ["user", "set", "alice", "--admin", "--private", "--timezone", "Nowhere/Land"],
        "timezone",
        id="set-partly-bad",
    ),
    pytest.param(
        ["user", "set", "alice", "--admin", "--email", "bob@example.com"],
        "already exists",
        id="set-partly-duplicate",
    ),
    pytest.param(["user", "set", "nobody", "--admin"], "nobody", id="set-unknown-user"),
    pytest.param(["user", "key", "nobody", "--rotate"], "nobody", id="key-unknown-user"),
    pytest.param(["user", "key", "alice"], "--rotate", id="key-without-rotate"),
    pytest.param(["user", "key", "nobody"], "nobody", id="key-unknown-without-rotate"),
    pytest.param(["user", "list", "--verbose"], "unrecognized", id="list-unknown-flag"),
]


@pytest.mark.parametrize(("argv", "says"), BAD_ARGUMENTS)
def test_bad_arguments_exit_2_and_change_nothing(
    capsys: pytest.CaptureFixture[str],
    keys: dict[str, str],
    db_path: Path,
    argv: list[str],
    says: str,
) -> None:
    before = user_rows(db_path)
    with_db = [*argv, "--db", str(db_path)] if argv[1:] else argv

    run = cli(capsys, *with_db)

    assert run.status == 2
    assert "error" in run.err
    assert says in run.err
    assert not API_KEY_PATTERN.search(run.out)
    assert user_rows(db_path) == before
    for name, key in keys.items():
        user = user_by_key(db_path, key)
        assert user is not None
        assert user.username == name


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("HACKATIME_PORT", "eighty", id="port"),
        pytest.param("HACKATIME_TIMEOUT", "-1", id="timeout"),
        pytest.param("HACKATIME_TIMEZONE", "Nowhere/Land", id="timezone"),
    ],
)
def test_a_bad_setting_names_its_variable(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    keys: dict[str, str],
    db_path: Path,
    variable: str,
    value: str,
) -> None:
    before = user_rows(db_path)
    monkeypatch.setenv(variable, value)

    run = cli(capsys, "user", "add", "carol", "--db", str(db_path))

    assert run.status == 2
    assert variable in run.err
    assert user_rows(db_path) == before


# --db and HACKATIME_DB


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["user", "add", "carol"], id="add"),
        pytest.param(["user", "set", "alice", "--private"], id="set"),
        pytest.param(["user", "list"], id="list"),
        pytest.param(["user", "key", "alice", "--rotate"], id="key"),
    ],
)
def test_every_user_command_takes_db(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    keys: dict[str, str],
    db_path: Path,
    argv: list[str],
) -> None:
    elsewhere = tmp_path / "elsewhere" / "other.db"
    assert cli(capsys, "user", "add", "alice", "--db", str(elsewhere)).status == 0
    before = user_rows(db_path)

    run = cli(capsys, *argv, "--db", str(elsewhere))

    assert run.status == 0, run.err
    assert user_rows(db_path) == before
    assert "alice" in cli(capsys, "user", "list", "--db", str(elsewhere)).out
    assert not (tmp_path / "data").exists()


def test_hackatime_db_is_honoured(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from_env = tmp_path / "env" / "hackatime.db"
    monkeypatch.setenv("HACKATIME_DB", str(from_env))

    added = cli(capsys, "user", "add", "carol")
    listed = cli(capsys, "user", "list")

    assert added.status == 0, added.err
    assert user_by_key(from_env, added.last_line) is not None
    assert listed.out.startswith("carol ")
    assert not (tmp_path / "data").exists()


def test_db_flag_wins_over_hackatime_db(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from_env, from_flag = tmp_path / "env.db", tmp_path / "flag.db"
    monkeypatch.setenv("HACKATIME_DB", str(from_env))

    added = cli(capsys, "user", "add", "carol", "--db", str(from_flag))

    assert added.status == 0, added.err
    assert user_by_key(from_flag, added.last_line) is not None
    assert user_rows(from_env) == []


# The real entry point, as a process


def test_entry_point_adds_a_user(tmp_path: Path, db_path: Path) -> None:
    run = cli_process("user", "add", "dave", "--admin", "--db", str(db_path), cwd=tmp_path)

    assert (run.status, run.err) == (0, "")
    assert_is_api_key(run.last_line)
    user = user_by_key(db_path, run.last_line)
    assert user is not None
    assert (user.username, user.is_admin) == ("dave", True)


def test_entry_point_honours_hackatime_db(tmp_path: Path) -> None:
    db_path = tmp_path / "from-env.db"
    env = {"PATH": "/usr/bin:/bin", "HACKATIME_DB": str(db_path)}

    added = cli_process("user", "add", "erin", env=env, cwd=tmp_path)
    listed = cli_process("user", "list", env=env, cwd=tmp_path)

    assert added.status == 0, added.err
    assert user_by_key(db_path, added.last_line) is not None
    assert listed.out.startswith("erin ")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        pytest.param(["user", "add", "current"], "username", id="reserved-name"),
        pytest.param(["user", "set", "nobody", "--admin"], "no database", id="no-database"),
        pytest.param(["user", "set", "x", "--trust-level", "blue"], "invalid choice", id="trust"),
        pytest.param(["serve", "--port", "70000"], "--port", id="port-out-of-range"),
        pytest.param(["serve", "--port", "0"], "--port", id="port-zero"),
        pytest.param(["serve", "--port", "http"], "--port", id="port-not-a-number"),
    ],
)
def test_entry_point_exits_2_on_bad_arguments(
    tmp_path: Path, db_path: Path, argv: list[str], says: str
) -> None:
    run = cli_process(*argv, "--db", str(db_path), cwd=tmp_path)

    assert run.status == 2
    assert says in run.err
    assert run.out == ""
    assert user_rows(db_path) == []


def test_a_rejected_user_add_creates_no_database(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    run = cli(capsys, "user", "add", "bad name!", "--db", str(db_path))

    assert run.status == 2
    assert "username" in run.err
    assert not db_path.exists()


# --version, user rm, goal list


def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"hackatime {importlib.metadata.version('hackatime')}\n"
    assert importlib.metadata.version("hackatime") == hackatime.__version__


def owned(db_path: Path) -> dict[str, tuple[int, int]]:
    """Heartbeats and goals per username."""
    with closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute(
            "SELECT u.username, (SELECT count(*) FROM heartbeats h WHERE h.user_id = u.id),"
            " (SELECT count(*) FROM goals g WHERE g.user_id = u.id) FROM users u ORDER BY u.id"
        ).fetchall()
    return {name: (beats, goal_count) for name, beats, goal_count in rows}


@pytest.fixture
def with_history(keys: dict[str, str], db_path: Path) -> Path:
    async def fill(db: Database) -> None:
        for name, count in (("alice", 3), ("bob", 2)):
            user = await users.get_user_by_name(db, name)
            assert user is not None
            beats = [
                heartbeats.Heartbeat(
                    time_ms=n * 60_000, entity="/x.py", type="file", category="coding"
                )
                for n in range(count)
            ]
            await ingest.store(db, user.id, beats)
            await goals.add_goal(db, name, title="T", seconds=60, period="day")

    _with_database(db_path, fill)
    return db_path


@pytest.mark.parametrize(
    ("answer", "deleted"),
    [
        pytest.param("y\n", True, id="yes"),
        pytest.param("\n", False, id="enter-means-no"),
        pytest.param("n\n", False, id="no"),
        pytest.param("", False, id="no-terminal"),
    ],
)
def test_user_rm_asks_first(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    with_history: Path,
    answer: str,
    deleted: bool,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))

    run = cli(capsys, "user", "rm", "alice", "--db", str(with_history))

    assert "Delete user 'alice' with 3 heartbeats and 1 goals?" in run.out
    if deleted:
        assert run.status == 0
        assert run.out.endswith("[y/N] Deleted user 'alice' with 3 heartbeats and 1 goals\n")
        assert owned(with_history) == {"bob": (2, 1)}
    else:
        assert run.status == 1
        assert "Nothing deleted" in run.err
        assert owned(with_history) == {"alice": (3, 1), "bob": (2, 1)}


def test_user_rm_yes_deletes_without_asking(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, with_history: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    run = cli(capsys, "user", "rm", "bob", "--yes", "--db", str(with_history))
    assert (run.status, run.out) == (0, "Deleted user 'bob' with 2 heartbeats and 1 goals\n")
    assert owned(with_history) == {"alice": (3, 1)}
    again = cli(capsys, "user", "rm", "bob", "--yes", "--db", str(with_history))
    assert again.status == 2
    assert "no user named 'bob'" in again.err


def test_goal_list_says_when_there_are_none(
    capsys: pytest.CaptureFixture[str], keys: dict[str, str], db_path: Path
) -> None:
    everyone = cli(capsys, "goal", "list", "--db", str(db_path))
    alice = cli(capsys, "goal", "list", "--user", "alice", "--db", str(db_path))
    assert everyone.status == alice.status == 0
    assert everyone.out.splitlines()[0] == "No goals yet."
    assert alice.out.splitlines()[0] == "No goals for 'alice' yet."
    assert "hackatime goal add" in alice.out


# The command as `python -m hackatime.cli` runs it, with another connection taking the write lock
# just after the command has opened the database: a server's long write at the wrong moment.
LOCKED_AFTER_OPENING = """
import sqlite3
import sys

from hackatime import dbcheck
from hackatime.cli import main

prepare_for_writing = dbcheck.prepare_for_writing
holders = []


def prepare_then_lock(path, now):
    prepared = prepare_for_writing(path, now)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holders.append(holder)
    return prepared


dbcheck.prepare_for_writing = prepare_then_lock
sys.exit(main(sys.argv[1:]))
"""


def test_a_write_that_stays_locked_ends_in_one_line(
    keys: dict[str, str], db_path: Path, tmp_path: Path
) -> None:
    script = tmp_path / "locked_after_opening.py"
    script.write_text(LOCKED_AFTER_OPENING)
    goal_add = ["goal", "add", "--db", str(db_path), "--user", "alice", "--title", "T"]
    done = subprocess.run(
        [sys.executable, str(script), *goal_add, "--seconds", "3600", "--period", "day"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"hackatime: error: {db_path} is locked by another program (still busy after 5 s):"
        " stop it or let it finish, then start again\n"
    )
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT count(*) FROM goals").fetchone() == (0,)
