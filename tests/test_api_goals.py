"""Goals: `GET {base}/users/{user}/goals[/{id}]` in WakaTime's shape (what
`wakatime-cli --today-goal ID` reads), and `hackatime goal add|list|rm`."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from hackatime import goals
from hackatime.cli import main
from hackatime.db import Database
from tests.conftest import Account, Clock
from tests.helpers import (
    API_BASES,
    HOUR,
    SECOND,
    beat,
    day_start_ms,
    get_json,
    iso_z,
    local_today,
    midday_zone,
    set_zone,
    store_beats,
)

# The app's clock in this module's tests (see the `clock` fixture): no test depends on the hour
# it runs at.
PINNED_S = 1_773_140_400.0  # 2026-03-10T11:00:00Z


@pytest.fixture(autouse=True)
def pinned_clock(clock: Clock) -> None:
    clock.now_s = PINNED_S


CHART_KEYS = {
    "range",
    "actual_seconds",
    "actual_seconds_text",
    "goal_seconds",
    "goal_seconds_text",
    "range_status",
}
RANGE_KEYS = {"date", "start", "end", "text", "timezone"}
# wakatime-cli (Go) checks `--today-goal ID` against this before it asks the server anything.
WAKATIME_CLI_GOAL_ID = re.compile(
    r"^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$"
)


def every_30s(start_ms: int, seconds: int, project: str = "app", **fields: Any) -> list[Any]:
    """Heartbeats 30 s apart crediting exactly `seconds` (the last one adds nothing)."""
    assert seconds % 30 == 0
    return [beat(start_ms + n * 30 * SECOND, project, **fields) for n in range(seconds // 30 + 1)]


async def midday(db: Database, account: Account) -> tuple[str, date]:
    """Put the user in a zone where it is about noon, so "today" stays today during the test."""
    zone = midday_zone(PINNED_S)
    await set_zone(db, account, zone)
    return zone, local_today(zone, PINNED_S)


def chart_brief(goal: dict[str, Any]) -> list[tuple[str, float, str]]:
    return [
        (entry["range"]["date"], entry["actual_seconds"], entry["range_status"])
        for entry in goal["chart_data"]
    ]


# --- daily and weekly goals ------------------------------------------------------------------


@pytest.mark.parametrize("base", API_BASES)
async def test_daily_goal_chart(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    zone, today = await midday(db, alice)

    def at(days_back: int, hour: int = 9) -> int:
        return day_start_ms(today - timedelta(days=days_back), zone) + hour * HOUR

    await store_beats(
        db,
        alice,
        [
            *every_30s(at(7), 600),  # before the chart's first day
            *every_30s(at(2), 30),
            *every_30s(at(1), 150),
            *every_30s(at(0, hour=2), 60),
        ],
    )
    goal = await goals.add_goal(db, "alice", title="Code daily", seconds=100, period="day")

    data = (await get_json(client, alice, f"{base}/users/current/goals/{goal.id}"))["data"]

    days = [today - timedelta(days=n) for n in range(6, -1, -1)]
    assert chart_brief(data) == [
        *[(day.isoformat(), 0.0, "fail") for day in days[:4]],
        (days[4].isoformat(), 30.0, "fail"),
        (days[5].isoformat(), 150.0, "success"),
        (days[6].isoformat(), 60.0, "pending"),  # today, still below the target
    ]
    today_entry = data["chart_data"][-1]
    assert set(today_entry) >= CHART_KEYS
    assert today_entry["actual_seconds_text"] == "1 min"
    assert (today_entry["goal_seconds"], today_entry["goal_seconds_text"]) == (100, "1 min")
    assert type(today_entry["goal_seconds"]) is int
    assert set(today_entry["range"]) >= RANGE_KEYS
    assert today_entry["range"]["start"] == iso_z(day_start_ms(today, zone))
    assert today_entry["range"]["end"] == iso_z(
        day_start_ms(today + timedelta(days=1), zone) - SECOND
    )
    assert today_entry["range"]["text"] == "Today"
    assert today_entry["range"]["timezone"] == zone
    assert data["chart_data"][-2]["range"]["text"] == "Yesterday"
    assert {key: data[key] for key in GOAL_FIELDS} == {
        "id": goal.id,
        "title": "Code daily",
        "delta": "day",
        "seconds": 100,
        "status": "pending",
        "type": "coding",
        "is_enabled": True,
        "languages": [],
        "projects": [],
    }


GOAL_FIELDS = (
    "id",
    "title",
    "delta",
    "seconds",
    "status",
    "type",
    "is_enabled",
    "languages",
    "projects",
)


@pytest.mark.parametrize("base", API_BASES)
async def test_daily_goal_reached_today_is_a_success(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    zone, today = await midday(db, alice)
    await store_beats(db, alice, every_30s(day_start_ms(today, zone) + 2 * HOUR, 60))
    exactly = await goals.add_goal(db, "alice", title="Exactly", seconds=60, period="day")
    short = await goals.add_goal(db, "alice", title="Short", seconds=61, period="day")

    body = await get_json(client, alice, f"{base}/users/current/goals")

    assert body["total"] == 2
    assert [goal["id"] for goal in body["data"]] == [exactly.id, short.id]
    assert [goal["chart_data"][-1]["range_status"] for goal in body["data"]] == [
        "success",
        "pending",
    ]
    assert [goal["status"] for goal in body["data"]] == ["success", "pending"]


@pytest.mark.parametrize("base", API_BASES)
async def test_weekly_goal_chart(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    zone, today = await midday(db, alice)
    monday = today - timedelta(days=today.weekday())
    await store_beats(
        db,
        alice,
        [
            *every_30s(day_start_ms(monday - timedelta(days=10), zone) + 9 * HOUR, 30),
            # Last week, on two days: each day counts on its own, together they reach 240 s.
            *every_30s(day_start_ms(monday - timedelta(days=5), zone) + 9 * HOUR, 150),
            *every_30s(day_start_ms(monday - timedelta(days=4), zone) + 9 * HOUR, 90),
            *every_30s(day_start_ms(today, zone) + 2 * HOUR, 60),
        ],
    )
    goal = await goals.add_goal(db, "alice", title="Weekly", seconds=200, period="week")

    data = (await get_json(client, alice, f"{base}/users/current/goals/{goal.id}"))["data"]

    mondays = [monday - timedelta(weeks=n) for n in range(6, -1, -1)]
    assert chart_brief(data) == [
        *[(day.isoformat(), 0.0, "fail") for day in mondays[:4]],
        (mondays[4].isoformat(), 30.0, "fail"),
        (mondays[5].isoformat(), 240.0, "success"),
        (mondays[6].isoformat(), 60.0, "pending"),  # this week
    ]
    this_week = data["chart_data"][-1]["range"]
    assert this_week["start"] == iso_z(day_start_ms(monday, zone))
    assert this_week["end"] == iso_z(day_start_ms(monday + timedelta(days=7), zone) - SECOND)
    assert data["delta"] == "week"
    assert data["status"] == "pending"


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("project", "language", "actual"),
    [
        pytest.param(None, None, 210.0, id="everything"),
        pytest.param("app", None, 60.0, id="project-app"),
        pytest.param("other", None, 150.0, id="project-other"),
        pytest.param(None, "Go", 150.0, id="language-go"),
        pytest.param(None, "Python", 60.0, id="language-python"),
        pytest.param("app", "Go", 0.0, id="project-and-language"),
        pytest.param("nothing", None, 0.0, id="no-such-project"),
    ],
)
async def test_goal_counts_only_its_project_and_language(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    project: str | None,
    language: str | None,
    actual: float,
) -> None:
    # The worked example today: app@0, other@30, app@60, other@90, other@400: app 60 s, other
    # 150 s, by the filter rule (re-running the rule on app's heartbeats alone would give 180).
    zone, today = await midday(db, alice)
    origin = day_start_ms(today, zone) + 2 * HOUR
    app = {"language": "Python"}
    other = {"language": "Go"}
    await store_beats(
        db,
        alice,
        [
            beat(origin, "app", **app),
            beat(origin + 30 * SECOND, "other", **other),
            beat(origin + 60 * SECOND, "app", **app),
            beat(origin + 90 * SECOND, "other", **other),
            beat(origin + 400 * SECOND, "other", **other),
        ],
    )
    goal = await goals.add_goal(
        db, "alice", title="Focus", seconds=100, period="day", project=project, language=language
    )

    data = (await get_json(client, alice, f"{base}/users/current/goals/{goal.id}"))["data"]

    assert data["chart_data"][-1]["actual_seconds"] == actual
    assert data["chart_data"][-1]["range_status"] == ("success" if actual >= 100 else "pending")
    assert data["projects"] == ([project] if project else [])
    assert data["languages"] == ([language] if language else [])


# --- ids wakatime-cli accepts ----------------------------------------------------------------


@pytest.mark.parametrize("base", API_BASES)
async def test_today_goal_answers_what_wakatime_cli_reads(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    """wakatime-cli --today-goal ID checks the id's shape, GETs goals/ID and prints
    data.chart_data[-1].actual_seconds_text; it decodes goal_seconds and seconds as int."""
    zone, today = await midday(db, alice)
    await store_beats(db, alice, every_30s(day_start_ms(today, zone) + 2 * HOUR, 150))
    made = [
        await goals.add_goal(db, "alice", title=f"Goal {n}", seconds=600, period="day")
        for n in range(20)
    ]
    assert all(WAKATIME_CLI_GOAL_ID.match(goal.id) for goal in made)
    assert len({goal.id for goal in made}) == len(made)

    body = await get_json(client, alice, f"{base}/users/current/goals/{made[0].id}")

    assert body["data"]["id"] == made[0].id
    today_entry = body["data"]["chart_data"][-1]
    assert today_entry["actual_seconds_text"] == "2 mins"
    assert (today_entry["range"]["date"], today_entry["actual_seconds"]) == (
        today.isoformat(),
        150.0,
    )
    assert type(today_entry["goal_seconds"]) is int
    assert type(body["data"]["seconds"]) is int


# --- not found -------------------------------------------------------------------------------


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    "goal_id",
    [
        pytest.param("0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", id="unknown-id"),
        pytest.param("1", id="an-old-integer-id"),
        pytest.param("abc", id="not-a-uuid"),
        pytest.param("UPPER", id="uppercase-of-a-real-id"),
        pytest.param("BOBS", id="another-users-goal"),
    ],
)
async def test_unknown_or_foreign_goal_is_not_found(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, base: str, goal_id: str
) -> None:
    bobs = await goals.add_goal(db, "bob", title="Bob's", seconds=60, period="day")
    mine = await goals.add_goal(db, "alice", title="Alice's", seconds=60, period="day")
    goal_id = {"BOBS": bobs.id, "UPPER": mine.id.upper()}.get(goal_id, goal_id)

    response = await client.get(f"{base}/users/current/goals/{goal_id}", headers=alice.bearer)

    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error"}
    listed = await get_json(client, alice, f"{base}/users/current/goals")
    assert [goal["id"] for goal in listed["data"]] == [mine.id]


@pytest.mark.parametrize("base", API_BASES)
async def test_goals_of_another_user_path_are_forbidden(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, base: str
) -> None:
    bobs = await goals.add_goal(db, "bob", title="Bob's", seconds=60, period="day")
    for path in ("goals", f"goals/{bobs.id}"):
        response = await client.get(f"{base}/users/bob/{path}", headers=alice.bearer)
        assert response.status_code == 403, path
    own = await client.get(f"{base}/users/bob/goals/{bobs.id}", headers=bob.bearer)
    assert own.status_code == 200


# --- the command line ------------------------------------------------------------------------


class Run(NamedTuple):
    status: int
    out: str
    err: str


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    try:
        status = main(list(argv))
    except SystemExit as exit_:  # argparse errors
        status = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


def goal_rows(path: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT g.id, u.username, g.title, g.seconds, g.period, g.project, g.language"
            " FROM goals g JOIN users u ON u.id = g.user_id ORDER BY g.rowid"
        ).fetchall()


@pytest.fixture
def cli_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "cli.db"
    for name in ("alice", "bob"):
        assert cli(capsys, "user", "add", name, "--db", str(path)).status == 0
    return path


def test_goal_add_list_rm(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(cli_db)
    added = cli(
        capsys, "goal", "add", "--db", db, "--user", "alice", "--title", "T",
        "--seconds", "3600", "--period", "day",
    )  # fmt: skip
    assert added.status == 0, added.err
    scoped = cli(
        capsys, "goal", "add", "--db", db, "--user", "bob", "--title", "Go week",
        "--seconds", "7200", "--period", "week", "--project", "app", "--language", "Go",
    )  # fmt: skip
    assert scoped.status == 0, scoped.err
    rows = goal_rows(cli_db)
    assert [row[1:] for row in rows] == [
        ("alice", "T", 3600, "day", None, None),
        ("bob", "Go week", 7200, "week", "app", "Go"),
    ]
    first_id, second_id = rows[0][0], rows[1][0]
    assert str(first_id) in added.out

    listed = cli(capsys, "goal", "list", "--db", db)
    assert listed.status == 0
    assert "'T'" in listed.out
    assert "'Go week'" in listed.out
    only_alice = cli(capsys, "goal", "list", "--db", db, "--user", "alice")
    assert "'T'" in only_alice.out
    assert "Go week" not in only_alice.out

    removed = cli(capsys, "goal", "rm", str(first_id), "--db", db)
    assert removed.status == 0, removed.err
    assert [row[0] for row in goal_rows(cli_db)] == [second_id]
    assert "'T'" not in cli(capsys, "goal", "list", "--db", db).out
    again = cli(capsys, "goal", "rm", str(first_id), "--db", db)
    assert again.status == 2
    assert again.err
    assert [row[0] for row in goal_rows(cli_db)] == [second_id]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--user", "alice", "--period", "month"], id="bad-period"),
        pytest.param(["--user", "nobody", "--period", "day"], id="unknown-user"),
        pytest.param(["--user", "alice", "--period", "day", "--seconds", "0"], id="zero-seconds"),
        pytest.param(["--user", "alice", "--period", "day", "--seconds", "x"], id="nan-seconds"),
        pytest.param(["--user", "alice", "--period", "day", "--title", " "], id="blank-title"),
        pytest.param(["--period", "day"], id="no-user"),
    ],
)
def test_goal_add_bad_arguments(
    cli_db: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    defaults = {"--title": "T", "--seconds": "3600"}
    extra = [part for name, value in defaults.items() if name not in argv for part in (name, value)]

    run = cli(capsys, "goal", "add", "--db", str(cli_db), *argv, *extra)

    assert run.status == 2
    assert run.err.strip()
    assert goal_rows(cli_db) == []


def test_goal_list_unknown_user(cli_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = cli(capsys, "goal", "list", "--db", str(cli_db), "--user", "nobody")
    assert run.status == 2
    assert "nobody" in run.err
