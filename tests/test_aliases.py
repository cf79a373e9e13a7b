"""Project aliases: what each command leaves in the table, what it refuses, the rule against
the reference for random histories and commands, another user's aliases, the index, the CLI."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hackatime import aliases, durations, ingest, users
from hackatime.aliases import AliasError
from hackatime.cli import main
from hackatime.db import Database
from tests.conftest import Account
from tests.helpers import beat, store_beats
from tests.oracle import OracleRow, load_rows, reference_breakdown

T0 = 1_780_000_000_000
TIMEOUT_MS = 120_000
EVERYTHING = durations.Bucket(T0 - 86_400_000, T0 + 86_400_000)

# A command as data: ("rename", OLD, NEW), ("merge", NEW, [OLD, ...]) or ("unalias", NAME).
Command = tuple[Any, ...]


async def run_command(db: Database, user_id: int, command: Command) -> None:
    match command:
        case ("rename", old, new):
            await aliases.rename(db, user_id, old, new)
        case ("merge", new, olds):
            await aliases.merge(db, user_id, new, olds)
        case ("merge-ignore-case", new, olds):
            await aliases.merge(db, user_id, new, olds, ignore_case=True)
        case ("unalias", name):
            await aliases.unalias(db, user_id, name)


async def table(db: Database, user_id: int) -> dict[str, str]:
    return dict(await aliases.list_aliases(db, user_id))


# --- what each command leaves in the table -----------------------------------------------


@pytest.mark.parametrize(
    ("commands", "expected"),
    [
        pytest.param([("rename", "a", "b")], {"a": "b"}, id="rename"),
        pytest.param([("merge", "a", ["b", "c"])], {"b": "a", "c": "a"}, id="merge"),
        pytest.param(
            [("merge", "app", ["app", " App", "APP"])],
            {" App": "app", "APP": "app"},
            id="merge-case-and-spaces-naming-new-among-olds",
        ),
        pytest.param(
            [("rename", "b", "c"), ("rename", "a", "b")],
            {"a": "c", "b": "c"},
            id="chain-goes-to-the-final-name",
        ),
        pytest.param(
            [("merge", "a", ["b"]), ("rename", "a", "c")],
            {"a": "c", "b": "c"},
            id="renaming-a-merged-project-moves-its-names",
        ),
        pytest.param(
            [("merge", "a", ["b"]), ("merge", "b", ["c"])],
            {"b": "a", "c": "a"},
            id="merge-into-an-old-name-goes-to-its-project",
        ),
        pytest.param(
            [("merge", "a", ["b"]), ("rename", "b", "c")],
            {"b": "c"},
            id="renaming-an-old-name-moves-only-it",
        ),
        pytest.param([("merge", "a", ["b"]), ("merge", "a", ["b"])], {"b": "a"}, id="merge-twice"),
        pytest.param(
            [("merge", "a", ["b", "c"]), ("unalias", "b")], {"c": "a"}, id="unalias-one-name"
        ),
        pytest.param([("merge", "a", ["b", "c"]), ("unalias", "a")], {}, id="unalias-a-shown-name"),
        pytest.param(
            [("rename", "a", "b"), ("rename", "b", "c"), ("unalias", "a")],
            {"b": "c"},
            id="unalias-after-a-chain",
        ),
    ],
)
async def test_commands_leave_a_flat_table(
    db: Database, alice: Account, commands: list[Command], expected: dict[str, str]
) -> None:
    for command in commands:
        await run_command(db, alice.user.id, command)
    assert await table(db, alice.user.id) == expected


@pytest.mark.parametrize(
    ("commands", "refused", "message"),
    [
        pytest.param(
            [("rename", "b", "a")], ("rename", "a", "b"), "would be a loop", id="rename-loop"
        ),
        pytest.param(
            [("merge", "a", ["b"])], ("merge", "b", ["a"]), "would be a loop", id="merge-loop"
        ),
        pytest.param(
            [("merge", "a", ["b", "c"])],
            ("merge", "c", ["a"]),
            "would be a loop",
            id="merge-loop-through-a-sibling",
        ),
        pytest.param([], ("rename", "a", "a"), "already called", id="rename-to-itself"),
        pytest.param([], ("rename", "a", " "), "cannot be empty", id="empty-new-name"),
        pytest.param([], ("merge", "a", [""]), "cannot be empty", id="empty-old-name"),
        pytest.param([], ("rename", "Unknown", "a"), "without a project", id="unknown-old"),
        pytest.param([], ("merge", "Unknown", ["a"]), "without a project", id="unknown-new"),
        pytest.param([], ("unalias", "a"), "is not an alias", id="unalias-nothing"),
    ],
)
async def test_refused_commands_change_nothing(
    db: Database, alice: Account, commands: list[Command], refused: Command, message: str
) -> None:
    for command in commands:
        await run_command(db, alice.user.id, command)
    before = await table(db, alice.user.id)
    with pytest.raises(AliasError, match=message):
        await run_command(db, alice.user.id, refused)
    assert await table(db, alice.user.id) == before


@pytest.mark.parametrize(
    ("commands", "expected"),
    [
        pytest.param(
            [("merge-ignore-case", "app", [])],
            {" App": "app", "APP ": "app", "aPp": "app"},
            id="every-spelling-into-new",
        ),
        pytest.param(
            [("merge-ignore-case", "web", ["APP "])],
            {"app": "web", " App": "web", "APP ": "web", "aPp": "web", "WEB": "web"},
            id="olds-bring-their-spellings",
        ),
        pytest.param(
            [("rename", "app", "Mine"), ("merge-ignore-case", "APP ", [])],
            {" App": "APP ", "aPp": "APP ", "app": "Mine"},
            id="a-renamed-spelling-stays-where-it-was-put",
        ),
        pytest.param(
            [("merge", "App", ["app"]), ("merge-ignore-case", "app", [])],
            {"app": "App", " App": "App", "APP ": "App", "aPp": "App"},
            id="new-already-merged-goes-to-its-project",
        ),
    ],
)
async def test_merge_ignoring_case_and_spaces(
    db: Database, alice: Account, commands: list[Command], expected: dict[str, str]
) -> None:
    stored = ["app", " App", "APP ", "aPp", "web", "WEB", "other", None]
    await store_beats(db, alice, [beat(T0 + n * 30_000, name) for n, name in enumerate(stored)])
    for command in commands:
        await run_command(db, alice.user.id, command)
    assert await table(db, alice.user.id) == expected


async def test_merge_reports_each_name_once(db: Database, alice: Account) -> None:
    await aliases.merge(db, alice.user.id, "b", ["c"])
    moved = await aliases.merge(db, alice.user.id, "a", ["b", "c"])
    assert [(each.name, each.aliases, each.shown) for each in moved] == [
        ("b", ["b", "c"], "a"),
        ("c", [], "a"),
    ]
    assert await table(db, alice.user.id) == {"b": "a", "c": "a"}


async def test_resolve_user_defaults_to_the_only_user(db: Database, alice: Account) -> None:
    assert (await aliases.resolve_user(db, None)).id == alice.user.id
    assert (await aliases.resolve_user(db, "alice")).id == alice.user.id
    with pytest.raises(AliasError, match="no user named 'nobody'"):
        await aliases.resolve_user(db, "nobody")
    await users.create_user(db, "bob")
    with pytest.raises(AliasError, match="there are 2 users"):
        await aliases.resolve_user(db, None)


# --- the rule in SQL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "shown", "stored"),
    [
        pytest.param("a", "a", ["a", "b", "c"], id="shown-name"),
        pytest.param("b", "a", ["a", "b", "c"], id="old-name-stands-for-its-project"),
        pytest.param("y", "y", ["x", "y"], id="renamed"),
        pytest.param("z", "z", ["z"], id="no-alias"),
    ],
)
async def test_shown_and_stored_names(
    db: Database, alice: Account, bob: Account, asked: str, shown: str, stored: list[str]
) -> None:
    await aliases.merge(db, alice.user.id, "a", ["b", "c"])
    await aliases.rename(db, alice.user.id, "x", "y")
    # Bob's aliases of the same names are his alone.
    await aliases.merge(db, bob.user.id, "z", ["a", "y"])
    params = {"user_id": alice.user.id, "name": asked}
    assert await db.fetch_value(f"SELECT {aliases.shown_sql(':name')}", params) == shown
    rows = await db.fetch_all(aliases.stored_names_sql([":name"]), params)
    assert sorted(row[0] for row in rows) == stored


def _plan(db_path: Path, sql: str, params: dict[str, object]) -> str:
    with closing(sqlite3.connect(db_path)) as conn:
        return " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize(
    "merged",
    [pytest.param(False, id="no-aliases"), pytest.param(True, id="aliases")],
)
async def test_reads_stay_on_the_covering_index(db: Database, alice: Account, merged: bool) -> None:
    if merged:
        await aliases.merge(db, alice.user.id, "app", [" App", "APP"])
    sql, params = durations.breakdown_query(
        alice.user.id, [EVERYTHING], ("projects", "languages"), TIMEOUT_MS, {"project": ["APP"]}
    )
    plan = _plan(db.path, sql, params)
    assert "SEARCH h USING COVERING INDEX heartbeats_user_time" in plan
    assert "SCAN h" not in plan


# --- the rule against the reference ----------------------------------------------------------

POOL = ["app", " App", "APP", "web", "Web ", "lib"]
pool_names = st.sampled_from(POOL)
commands = st.one_of(
    st.tuples(st.just("rename"), pool_names, pool_names),
    st.tuples(st.just("merge"), pool_names, st.lists(pool_names, min_size=1, max_size=3)),
    st.tuples(st.just("merge-ignore-case"), pool_names, st.lists(pool_names, max_size=1)),
    st.tuples(st.just("unalias"), pool_names),
)
histories = st.lists(
    st.tuples(st.integers(0, 400_000), st.sampled_from([*POOL, None])), min_size=1, max_size=40
)


def shown_by_walking(table: dict[str, str], name: str | None) -> str | None:
    """The reference reading of the table: follow aliases until a name has none."""
    seen = []
    while name in table:
        assert name not in seen, f"alias loop {seen}"
        seen.append(name)
        name = table[name]
    return name


def mapped(rows: Sequence[OracleRow], table: dict[str, str]) -> list[OracleRow]:
    return [
        OracleRow(
            row.time_ms,
            row.id,
            {**row.fields, "project": shown_by_walking(table, row.fields.get("project"))},
        )
        for row in rows
    ]


async def assert_matches_reference(db: Database, user_id: int, table: dict[str, str]) -> None:
    rows = mapped(load_rows(db.path, user_id), table)
    result = await durations.breakdown(
        db, user_id, EVERYTHING, dimensions=("projects",), timeout_ms=TIMEOUT_MS
    )
    expected = reference_breakdown(
        rows, EVERYTHING.start_ms, EVERYTHING.end_ms, TIMEOUT_MS, "projects"
    )
    assert result.splits["projects"] == expected.ranked
    for name in POOL:
        filtered = await durations.breakdown(
            db, user_id, EVERYTHING, timeout_ms=TIMEOUT_MS, filters={"project": [name]}
        )
        shown = shown_by_walking(table, name)
        assert filtered.total_ms == expected.split.get(shown, 0), name


async def check_random_aliases(path: Path, history: list[Any], script: list[Command]) -> None:
    db = Database(path)
    await db.open()
    try:
        user_ids = [(await users.create_user(db, name))[0].id for name in ("prop", "other")]
        beats = [beat(T0 + offset, project) for offset, project in history]
        for user_id in user_ids:
            await ingest.store(db, user_id, beats)
        # The other user merges everything: nothing of it may reach the first.
        await aliases.merge(db, user_ids[1], "everything", POOL)
        for command in script:
            # Refused commands are part of the test: they must leave the table usable.
            with suppress(AliasError):
                await run_command(db, user_ids[0], command)
        current = await table(db, user_ids[0])
        # Flat: no alias points at an alias, and none at itself.
        assert not set(current.values()) & set(current)
        await assert_matches_reference(db, user_ids[0], current)
        await assert_matches_reference(db, user_ids[1], {name: "everything" for name in POOL})
        for name in list(current):
            await aliases.unalias(db, user_ids[0], name)
        await assert_matches_reference(db, user_ids[0], {})
    finally:
        await db.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories, script=st.lists(commands, max_size=6))
def test_random_aliases_agree_with_the_reference(
    tmp_path_factory: pytest.TempPathFactory, history: list[Any], script: list[Command]
) -> None:
    path = tmp_path_factory.mktemp("aliases") / "x.db"
    asyncio.run(check_random_aliases(path, history, script))


# --- the command line -------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], db_path: Path, *argv: str) -> tuple[int, str, str]:
    try:
        status = main([*argv, "--db", str(db_path)])
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def merged_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """One user, who has merged ` App` and `APP` into `app`."""
    path = tmp_path / "cli.db"
    assert cli(capsys, path, "user", "add", "ada")[0] == 0
    assert cli(capsys, path, "project", "merge", "app", " App", "APP")[0] == 0
    return path


@pytest.mark.parametrize(
    ("argv", "status", "out", "err"),
    [
        pytest.param(
            ["project", "merge", "app", " App", "APP"],
            0,
            "' App' now shows as 'app'\n'APP' now shows as 'app'\n",
            "",
            id="merge-again",
        ),
        pytest.param(
            ["project", "rename", "app", "my-app"],
            0,
            "' App' now shows as 'my-app'\n'APP' now shows as 'my-app'\n"
            "'app' now shows as 'my-app'\n",
            "",
            id="rename-a-merged-project",
        ),
        pytest.param(
            ["project", "rename", "web", "APP"],
            0,
            "'APP' is itself shown as 'app', so that is where they go\n'web' now shows as 'app'\n",
            "",
            id="rename-into-an-old-name",
        ),
        pytest.param(
            ["project", "rename", "app", "APP"],
            2,
            "",
            "hackatime: error: 'APP' is shown as 'app': showing 'app' as 'APP' would be a loop;"
            " run `hackatime project unalias APP` first\n",
            id="loop",
        ),
        pytest.param(
            ["project", "unalias", "app"],
            0,
            "' App' shows as itself again (was shown as 'app')\n"
            "'APP' shows as itself again (was shown as 'app')\n",
            "",
            id="unalias",
        ),
        pytest.param(
            ["project", "aliases"],
            0,
            "' App' shows as 'app'\n'APP' shows as 'app'\n",
            "",
            id="list",
        ),
        pytest.param(
            ["project", "merge", "app"],
            2,
            "",
            "hackatime: error: name the projects to merge into NEW, or pass --ignore-case\n",
            id="merge-nothing",
        ),
        pytest.param(
            ["project", "merge", "app", "--ignore-case"],
            0,
            "Nothing to merge into 'app'\n",
            "",
            id="ignore-case-finds-nothing-new",
        ),
        pytest.param(
            ["project", "merge", "app", "APP", "--user", "nobody"],
            2,
            "",
            "hackatime: error: no user named 'nobody'\n",
            id="unknown-user",
        ),
    ],
)
def test_cli_after_merging_app(
    capsys: pytest.CaptureFixture[str],
    merged_db: Path,
    argv: list[str],
    status: int,
    out: str,
    err: str,
) -> None:
    assert cli(capsys, merged_db, *argv) == (status, out, err)
