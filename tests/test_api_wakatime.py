"""WakaTime's API v1 about one user's heartbeats: the user, a day's heartbeats and durations,
projects and file experts; and the integer fields wakatime-cli decodes strictly."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import hypothesis
import orjson
import pytest
from hypothesis import strategies as st

from app import create_app
from hackatime import goals, users
from hackatime.config import Settings
from hackatime.db import Database
from tests.conftest import Account, Clock
from tests.helpers import (
    API_BASES,
    HACKATIME_BASE,
    HOUR,
    MINUTE,
    SECOND,
    beat,
    day_start_ms,
    get_json,
    iso_z,
    local_today,
    midday_zone,
    non_integer_counts,
    now_ms,
    post_heartbeats,
    set_zone,
    store_beats,
)
from tests.oracle import load_rows, reference_breakdown

TIMEOUT_MS = 120 * SECOND
UNKNOWN = "Unknown"
# A past day, so nothing here depends on the wall clock.
DAY = date(2025, 6, 2)
USER_AGENT = "wakatime/v1.90.0 (linux-6.1.0-rpi-arm64) go1.22.1 vim/9.1.0 vim-wakatime/11.2.0"


def ms_of(seconds: float) -> int:
    """Seconds as the API prints them, back to exact milliseconds."""
    return round(seconds * 1000)


def assert_json_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    assert body["error"]


# --- users/{user} ----------------------------------------------------------------------------


@pytest.mark.parametrize("base", API_BASES)
async def test_current_user_before_and_after_heartbeats(
    client: httpx.AsyncClient, alice: Account, base: str
) -> None:
    fields = {
        "id": str(alice.user.id),
        "username": "alice",
        "display_name": "alice",
        "email": "alice@example.com",
        "timezone": "UTC",
        "created_at": iso_z(alice.user.created_at_ms),
    }
    data = (await get_json(client, alice, f"{base}/users/current"))["data"]
    assert {key: data[key] for key in fields} == fields
    assert {key: data[key] for key in ("last_heartbeat_at", "last_plugin_name")} == {
        "last_heartbeat_at": None,
        "last_plugin_name": None,
    }
    assert data["last_plugin"] is None
    assert data["last_project"] is None

    sent_s = now_ms() // 1000 - 90
    items = [
        {"entity": "/src/old/a.py", "time": sent_s - 30, "project": "old"},
        {"entity": "/src/app/main.py", "time": sent_s, "project": "app"},
    ]
    response = await post_heartbeats(
        client, alice, items, base=base, headers={"User-Agent": USER_AGENT}
    )
    assert response.status_code == 201, response.text

    data = (await get_json(client, alice, f"{base}/users/current"))["data"]
    assert {key: data[key] for key in fields} == fields
    assert data["last_heartbeat_at"] == iso_z(sent_s * 1000)
    assert data["last_plugin"] == USER_AGENT
    assert data["last_plugin_name"] == "vim"
    assert data["last_project"] == "app"


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("current", 200, id="current"),
        pytest.param("alice", 200, id="own-name"),
        pytest.param("ALICE_ID", 200, id="own-id"),
        pytest.param("bob", 403, id="another-user"),
        pytest.param("BOB_ID", 403, id="another-users-id"),
    ],
)
async def test_user_path_is_the_caller_only(
    client: httpx.AsyncClient, alice: Account, bob: Account, base: str, who: str, status: int
) -> None:
    who = {"ALICE_ID": str(alice.user.id), "BOB_ID": str(bob.user.id)}.get(who, who)
    response = await client.get(f"{base}/users/{who}", headers=alice.bearer)
    if status == 200:
        assert response.status_code == 200, response.text
        assert response.json()["data"]["username"] == "alice"
    else:
        assert_json_error(response, status)


# --- heartbeats?date= ----------------------------------------------------------------------


DETAIL = {
    "entity": "/src/app/util.py",
    "type": "file",
    "category": "coding",
    "project": "app",
    "branch": "main",
    "language": "Go",
    "editor": "vim",
    "operating_system": "Linux",
    "machine": "pi",
    "is_write": True,
    "lineno": 12,
    "cursorpos": 3,
    "lines": 40,
    "dependencies": ["requests", "orjson"],
}


@pytest.mark.parametrize("base", API_BASES)
async def test_day_heartbeats_are_that_local_day_only(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    start = day_start_ms(DAY, "UTC")
    end = day_start_ms(DAY + timedelta(days=1), "UTC")
    noon = start + 12 * HOUR
    await store_beats(
        db,
        alice,
        [
            beat(start - 1, "before"),
            beat(start, "first"),
            beat(
                noon,
                "app",
                entity="/src/app/util.py",
                branch="main",
                language="Go",
                is_write=True,
                lineno=12,
                cursorpos=3,
                lines=40,
                dependencies=("requests", "orjson"),
            ),
            beat(end - 1, "last"),
            beat(end, "after"),
        ],
    )

    body = await get_json(
        client, alice, f"{base}/users/current/heartbeats", {"date": DAY.isoformat()}
    )

    assert [(ms_of(item["time"]), item["project"]) for item in body["data"]] == [
        (start, "first"),
        (noon, "app"),
        (end - 1, "last"),
    ]
    detailed = body["data"][1]
    assert {key: detailed[key] for key in DETAIL} == DETAIL
    assert body["start"] == iso_z(start)
    assert end - SECOND <= datetime.fromisoformat(body["end"]).timestamp() * 1000 <= end
    assert body["timezone"] == "UTC"


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    "how", [pytest.param("user-zone", id="user-zone"), pytest.param("param", id="timezone-param")]
)
async def test_day_heartbeats_in_another_zone(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, how: str
) -> None:
    zone = "Asia/Kolkata"  # UTC+05:30: the local day starts at 18:30 UTC the day before
    start = day_start_ms(DAY, zone)
    end = day_start_ms(DAY + timedelta(days=1), zone)
    assert start == day_start_ms(DAY, "UTC") - 5 * HOUR - 30 * MINUTE
    await store_beats(
        db, alice, [beat(start - 1, "x"), beat(start, "a"), beat(end - 1, "b"), beat(end, "y")]
    )
    params = {"date": DAY.isoformat()}
    if how == "user-zone":
        await set_zone(db, alice, zone)
    else:
        params["timezone"] = zone

    body = await get_json(client, alice, f"{base}/users/current/heartbeats", params)

    assert [item["project"] for item in body["data"]] == ["a", "b"]
    assert body["start"] == iso_z(start) == "2025-06-01T18:30:00Z"
    assert body["timezone"] == zone


# --- durations -------------------------------------------------------------------------------

# project@seconds after 10:00 UTC on DAY. Runs: A 0-30, B 60-90 (its gap of 600 s to the next
# heartbeat counts 120 s and ends the run), B 690, A 720-750.
RUNS_EXAMPLE = [(0, "A"), (30, "A"), (60, "B"), (90, "B"), (690, "B"), (720, "A"), (750, "A")]
RUNS_EXPECTED = [("A", 0, 60), ("B", 60, 150), ("B", 690, 30), ("A", 720, 30)]


def runs_brief(body: dict[str, Any], origin_ms: int) -> list[tuple[str, int, int]]:
    """(project, start seconds after origin, duration seconds) of each duration."""
    return [
        (
            item["project"],
            (ms_of(item["time"]) - origin_ms) // 1000,
            ms_of(item["duration"]) // 1000,
        )
        for item in body["data"]
    ]


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("project", "expected"),
    [
        pytest.param(None, RUNS_EXPECTED, id="all"),
        pytest.param("A", [("A", 0, 60), ("A", 720, 30)], id="project-A"),
        pytest.param("B", [("B", 60, 150), ("B", 690, 30)], id="project-B"),
        pytest.param("C", [], id="no-such-project"),
    ],
)
async def test_durations_fixed_example(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    project: str | None,
    expected: list[tuple[str, int, int]],
) -> None:
    origin = day_start_ms(DAY, "UTC") + 10 * HOUR
    await store_beats(db, alice, [beat(origin + s * SECOND, p) for s, p in RUNS_EXAMPLE])
    params = {"date": DAY.isoformat()}
    if project:
        params["project"] = project

    body = await get_json(client, alice, f"{base}/users/current/durations", params)

    assert runs_brief(body, origin) == expected
    for item in body["data"]:
        assert type(item["time"]) is float
        assert type(item["duration"]) is float
        assert set(item) >= {"project", "time", "duration"}
    assert body["start"] == iso_z(day_start_ms(DAY, "UTC"))
    assert body["timezone"] == "UTC"
    summary = await get_json(
        client,
        alice,
        f"{base}/users/current/summaries",
        {
            "start": DAY.isoformat(),
            "end": DAY.isoformat(),
            **({"project": project} if project else {}),
        },
    )
    # The durations of a day add up to exactly the day's total (under the same filter).
    day_total = ms_of(summary["data"][0]["grand_total"]["total_seconds"])
    assert sum(ms_of(item["duration"]) for item in body["data"]) == day_total
    assert day_total == sum(duration for _, _, duration in expected) * 1000


@pytest.mark.parametrize("base", API_BASES)
async def test_durations_gap_across_midnight_counts_for_neither_day(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    midnight = day_start_ms(DAY, "UTC")
    offsets = [-60, -20, 20, 50]  # seconds around midnight; the 40 s across it counts nowhere
    await store_beats(db, alice, [beat(midnight + s * SECOND, "A") for s in offsets])
    url = f"{base}/users/current/durations"

    before = await get_json(client, alice, url, {"date": (DAY - timedelta(days=1)).isoformat()})
    after = await get_json(client, alice, url, {"date": DAY.isoformat()})

    assert runs_brief(before, midnight) == [("A", -60, 40)]
    assert runs_brief(after, midnight) == [("A", 20, 30)]


# slice_by -> (heartbeat column, first value, second value, how each shows in a duration)
SLICE_CASES = [
    pytest.param("entity", "entity", "/src/a.py", "/src/b.py", None, id="entity"),
    pytest.param("language", "language", "Python", "Go", None, id="language"),
    pytest.param(
        "dependencies",
        "dependencies",
        ("requests",),
        ("numpy", "scipy"),
        (["requests"], ["numpy", "scipy"]),
        id="dependencies",
    ),
    pytest.param("os", "operating_system", "Linux", "macOS", None, id="os"),
    pytest.param("editor", "editor", "vim", "vscode", None, id="editor"),
    pytest.param("category", "category", "coding", "debugging", None, id="category"),
    pytest.param("machine", "machine", "pi", "laptop", None, id="machine"),
    pytest.param("machine", "machine", None, "laptop", ("Unknown", "laptop"), id="missing-value"),
]


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(("slice_by", "column", "first", "second", "shown"), SLICE_CASES)
async def test_durations_slice_by(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    slice_by: str,
    column: str,
    first: Any,
    second: Any,
    shown: tuple[Any, Any] | None,
) -> None:
    origin = day_start_ms(DAY, "UTC") + 9 * HOUR
    # One project throughout: only the slice value splits the runs.
    placements = [(0, first), (30, first), (60, second), (90, second), (100, second)]
    await store_beats(
        db, alice, [beat(origin + s * SECOND, "P", **{column: value}) for s, value in placements]
    )

    body = await get_json(
        client,
        alice,
        f"{base}/users/current/durations",
        {"date": DAY.isoformat(), "slice_by": slice_by},
    )

    first_shown, second_shown = shown or (first, second)
    assert [
        (item["project"], ms_of(item["time"]) - origin, ms_of(item["duration"]), item[slice_by])
        for item in body["data"]
    ] == [("P", 0, 60 * SECOND, first_shown), ("P", 60 * SECOND, 40 * SECOND, second_shown)]
    unsliced = await get_json(
        client, alice, f"{base}/users/current/durations", {"date": DAY.isoformat()}
    )
    assert runs_brief(unsliced, origin) == [("P", 0, 100)]


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"date": "2025-06-02", "slice_by": "project"}, id="slice-by-project"),
        pytest.param({"date": "2025-06-02", "slice_by": "nonsense"}, id="slice-by-unknown"),
        pytest.param({"date": "2025-13-02"}, id="bad-date"),
        pytest.param({"date": "2025-06-02", "timezone": "Mars/Olympus"}, id="bad-timezone"),
    ],
)
async def test_durations_bad_parameters(
    client: httpx.AsyncClient, alice: Account, base: str, params: dict[str, str]
) -> None:
    response = await client.get(
        f"{base}/users/current/durations", params=params, headers=alice.bearer
    )
    assert_json_error(response, 400)


class Row(NamedTuple):
    time_ms: int
    id: int
    values: dict[str, Any]


SLICE_COLUMNS = {
    "entity": "entity",
    "language": "language",
    "dependencies": "dependencies",
    "os": "operating_system",
    "editor": "editor",
    "category": "category",
    "machine": "machine",
}


def _rows(path: Path, user_id: int) -> list[Row]:
    columns = ("project", *SLICE_COLUMNS.values())
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        found = conn.execute(
            f"SELECT time_ms, id, {', '.join(columns)} FROM heartbeats WHERE user_id = ?",
            (user_id,),
        ).fetchall()
    return [Row(row[0], row[1], dict(zip(columns, row[2:], strict=True))) for row in found]


def reference_runs(
    rows: Sequence[Row], start_ms: int, end_ms: int, slice_by: str | None
) -> list[tuple[str, int, int, Any]]:
    """WakaTime's durations from the rule's definition: consecutive heartbeats of one project
    (and slice value) form a run unless a gap exceeds the timeout; every heartbeat adds the
    rule's credit, min(gap to the next one inside the day, timeout), to its run."""
    inside = sorted(
        (row for row in rows if start_ms <= row.time_ms < end_ms), key=lambda r: (r.time_ms, r.id)
    )
    runs: list[list[Any]] = []
    for index, row in enumerate(inside):
        following = inside[index + 1] if index + 1 < len(inside) else None
        credit = min(following.time_ms - row.time_ms, TIMEOUT_MS) if following else 0
        key = (
            row.values["project"] or UNKNOWN,
            row.values[SLICE_COLUMNS[slice_by]] if slice_by else None,
        )
        joined = (
            runs and runs[-1][0] == key and row.time_ms - inside[index - 1].time_ms <= TIMEOUT_MS
        )
        if joined:
            runs[-1][2] += credit
        else:
            runs.append([key, row.time_ms, credit])
    return [
        (project, start, credit, _shown(slice_by, value))
        for (project, value), start, credit in runs
    ]


def _shown(slice_by: str | None, value: Any) -> Any:
    if slice_by == "dependencies":
        return orjson.loads(value) if value else []
    return None if slice_by is None else (UNKNOWN if value is None else value)


PROPERTY_DAY = date(2025, 3, 30)  # Europe/Berlin moves to summer time: a 23-hour day
PROPERTY_ZONE = "Europe/Berlin"

_beats = st.lists(
    st.fixed_dictionaries(
        {
            # Short gaps, gaps at the timeout's edge and past it; 0 makes ties broken by id.
            "gap_ms": st.one_of(
                st.sampled_from([0, 1, TIMEOUT_MS - 1, TIMEOUT_MS, TIMEOUT_MS + 1]),
                st.integers(0, TIMEOUT_MS + 30 * SECOND),
                st.integers(TIMEOUT_MS, 30 * MINUTE),
            ),
            "project": st.sampled_from(["a", "b", None]),
            "entity": st.sampled_from(["/src/x.py", "/src/y.go"]),
            "language": st.sampled_from(["Python", "Go", None]),
            "editor": st.sampled_from(["vim", "vscode"]),
            "operating_system": st.sampled_from(["Linux", "macOS"]),
            "category": st.sampled_from(["coding", "debugging"]),
            "machine": st.sampled_from(["pi", None]),
            "dependencies": st.sampled_from([None, ("requests",), ("numpy", "scipy")]),
        }
    ),
    min_size=3,
    max_size=40,
)


class DayScenario(NamedTuple):
    anchor: str
    beats: list[dict[str, Any]]
    shuffled: list[int]
    slice_by: str | None
    project: str | None


@st.composite
def day_scenarios(draw: st.DrawFn) -> DayScenario:
    beats = draw(_beats)
    return DayScenario(
        anchor=draw(st.sampled_from(["before-midnight", "morning", "before-next-midnight"])),
        beats=beats,
        # Insertion order: offline queues replay heartbeats out of order.
        shuffled=draw(st.permutations(range(len(beats)))),
        slice_by=draw(st.sampled_from([None, *SLICE_COLUMNS])),
        project=draw(st.sampled_from([None, "a", "b", "c"])),
    )


async def check_day(path: Path, scenario: DayScenario, base: str) -> None:
    application = create_app(
        Settings(db_path=path, default_timezone="UTC", create_first_user=False)
    )
    async with application.router.lifespan_context(application):
        db = application.state.db
        user, key = await users.create_user(db, "alice", timezone=PROPERTY_ZONE)
        account = Account(user, key)
        start = day_start_ms(PROPERTY_DAY, PROPERTY_ZONE)
        end = day_start_ms(PROPERTY_DAY + timedelta(days=1), PROPERTY_ZONE)
        assert end - start == 23 * HOUR
        time_ms = {
            "before-midnight": start - 10 * MINUTE,
            "morning": start + 8 * HOUR,
            "before-next-midnight": end - 15 * MINUTE,
        }[scenario.anchor]
        made = []
        for item in scenario.beats:
            time_ms += item["gap_ms"]
            fields = {name: value for name, value in item.items() if name != "gap_ms"}
            made.append(beat(time_ms, **fields))
        for index in scenario.shuffled:
            await store_beats(db, account, [made[index]])

        rows = _rows(path, user.id)
        reference = reference_breakdown(
            load_rows(path, user.id), start, end, TIMEOUT_MS, "projects"
        )
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            url = f"{base}/users/current/durations"
            day = {"date": PROPERTY_DAY.isoformat()}

            plain = await get_json(client, account, url, day)
            assert sum(ms_of(item["duration"]) for item in plain["data"]) == reference.total_ms
            summary = await get_json(
                client,
                account,
                f"{base}/users/current/summaries",
                {"start": day["date"], "end": day["date"]},
            )
            assert ms_of(summary["data"][0]["grand_total"]["total_seconds"]) == reference.total_ms

            params = dict(day)
            if scenario.slice_by:
                params["slice_by"] = scenario.slice_by
            sliced = await get_json(client, account, url, params)
            expected = reference_runs(rows, start, end, scenario.slice_by)
            assert [
                (
                    item["project"],
                    ms_of(item["time"]),
                    ms_of(item["duration"]),
                    item.get(scenario.slice_by) if scenario.slice_by else None,
                )
                for item in sliced["data"]
            ] == expected
            assert sum(ms_of(item["duration"]) for item in sliced["data"]) == reference.total_ms

            if scenario.project:
                params["project"] = scenario.project
                one = await get_json(client, account, url, params)
                assert [ms_of(item["duration"]) for item in one["data"]] == [
                    run[2] for run in expected if run[0] == scenario.project
                ]
                assert sum(ms_of(item["duration"]) for item in one["data"]) == (
                    reference.split.get(scenario.project, 0)
                )


@pytest.mark.parametrize("base", API_BASES)
@hypothesis.settings(
    max_examples=30, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
@hypothesis.given(scenario=day_scenarios())
def test_durations_of_a_day_sum_to_its_total(
    tmp_path_factory: pytest.TempPathFactory, base: str, scenario: DayScenario
) -> None:
    # A fresh database per example: function-scoped fixtures would be shared across examples.
    path = tmp_path_factory.mktemp("durations-api") / "hackatime.db"
    asyncio.run(check_day(path, scenario, base))


# --- projects --------------------------------------------------------------------------------

PROJECT_NAMES = ["Hack_Time", "HackXTime", "100%done", "100xdone", "alpha", "back\\slash"]


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(None, PROJECT_NAMES, id="all"),
        pytest.param("", PROJECT_NAMES, id="empty-q"),
        pytest.param("hack", ["Hack_Time", "HackXTime"], id="case-insensitive"),
        pytest.param("K_T", ["Hack_Time"], id="underscore-is-literal"),
        pytest.param("_", ["Hack_Time"], id="lone-underscore"),
        pytest.param("0%d", ["100%done"], id="percent-is-literal"),
        pytest.param("%", ["100%done"], id="lone-percent"),
        pytest.param("ALPHA", ["alpha"], id="whole-name"),
        pytest.param("\\", ["back\\slash"], id="backslash-is-literal"),
        pytest.param("zzz", [], id="no-match"),
    ],
)
async def test_projects_filter_by_substring(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    query: str | None,
    expected: list[str],
) -> None:
    now = now_ms()
    placements = [beat(now - (index + 2) * HOUR, name) for index, name in enumerate(PROJECT_NAMES)]
    await store_beats(db, alice, [*placements, beat(now - HOUR, None)])
    params = {} if query is None else {"q": query}

    body = await get_json(client, alice, f"{base}/users/current/projects", params)

    assert sorted(project["name"] for project in body["data"]) == sorted(expected)


@pytest.mark.parametrize("base", API_BASES)
async def test_project_fields_and_stable_ids(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, base: str
) -> None:
    now = now_ms()
    first, last = now - 50 * HOUR, now - 3 * HOUR - 30 * MINUTE
    await store_beats(
        db,
        alice,
        [beat(first, "app"), beat(last, "app"), beat(now - 10 * MINUTE, "lib")],
    )
    await store_beats(db, bob, [beat(now - 5 * HOUR, "app")])
    url = f"{base}/users/current/projects"

    one = {p["name"]: p for p in (await get_json(client, alice, url))["data"]}
    again = {p["name"]: p for p in (await get_json(client, alice, url))["data"]}

    assert set(one) == {"app", "lib"}
    app = one["app"]
    assert app["last_heartbeat_at"] == iso_z(last)
    assert app["created_at"] == iso_z(first)
    assert app["human_readable_last_heartbeat_at"] == "3 hours ago"
    assert one["lib"]["human_readable_last_heartbeat_at"] == "10 minutes ago"
    assert isinstance(app["id"], str)
    assert app["id"]
    assert {name: p["id"] for name, p in one.items()} == {n: p["id"] for n, p in again.items()}
    assert one["app"]["id"] != one["lib"]["id"]
    bobs = {p["name"]: p for p in (await get_json(client, bob, url))["data"]}
    assert bobs["app"]["last_heartbeat_at"] == iso_z(now - 5 * HOUR)


# --- file_experts ----------------------------------------------------------------------------


def file_session(start_ms: int, entity: str, seconds: int, project: str = "app") -> list[Any]:
    """Heartbeats on `entity` every 30 s crediting it `seconds`, closed by one on another file."""
    count = seconds // 30
    on_file = [beat(start_ms + n * 30 * SECOND, project, entity=entity) for n in range(count)]
    closing_beat = beat(start_ms + count * 30 * SECOND, project, entity="/elsewhere/notes.md")
    return [*on_file, closing_beat]


def replace_root(heartbeat: Any, count: int) -> Any:
    return replace(heartbeat, project_root_count=count)


def experts_brief(body: dict[str, Any]) -> list[tuple[str, bool, float, str]]:
    return [
        (
            item["user"]["name"],
            item["user"]["is_current_user"],
            item["total"]["total_seconds"],
            item["total"]["text"],
        )
        for item in body["data"]
    ]


@pytest.mark.parametrize("base", API_BASES)
async def test_file_experts_public_users_and_the_caller(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, base: str
) -> None:
    entity = "/srv/app/main.py"
    carol = Account(*await users.create_user(db, "carol"))
    dave = Account(*await users.create_user(db, "dave"))
    eve = Account(*await users.create_user(db, "eve"))
    await users.update_user(db, "alice", is_public=False)  # the caller always sees itself
    await users.update_user(db, "carol", is_public=False)
    await users.update_user(db, "dave", trust_level="red")
    origin = day_start_ms(DAY, "UTC") + 10 * HOUR
    await store_beats(db, alice, file_session(origin, entity, 120))
    await store_beats(db, alice, file_session(origin + HOUR, "/srv/app/util.py", 600))
    await store_beats(db, bob, file_session(origin, entity, 300))
    await store_beats(db, carol, file_session(origin, entity, 600))
    await store_beats(db, dave, file_session(origin, entity, 450))
    # Same path, another project: a different file.
    await store_beats(db, eve, file_session(origin, entity, 900, project="fork"))

    response = await client.post(
        f"{base}/users/current/file_experts",
        json={"entity": entity, "project": "app", "project_root_count": 3},
        headers=alice.bearer,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert experts_brief(body) == [
        ("bob", False, 300.0, "5 mins"),
        ("alice", True, 120.0, "2 mins"),
    ]
    assert [item["user"]["id"] for item in body["data"]] == [str(bob.user.id), str(alice.user.id)]
    assert [item["user"]["long_name"] for item in body["data"]] == ["bob", "alice"]


@pytest.mark.parametrize("base", API_BASES)
async def test_file_experts_match_the_path_inside_the_project(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, base: str
) -> None:
    # Each checkout lives elsewhere; wakatime-cli sends project_root_count, the number of
    # slashes in the project folder with a trailing one ("/home/alice/src/app/" has 5), so that
    # the server compares the path below the project root ("main.py").
    origin = day_start_ms(DAY, "UTC") + 10 * HOUR
    await store_beats(
        db,
        alice,
        [replace_root(b, 5) for b in file_session(origin, "/home/alice/src/app/main.py", 120)],
    )
    await store_beats(
        db, bob, [replace_root(b, 4) for b in file_session(origin, "/Users/bob/app/main.py", 300)]
    )
    await store_beats(
        db,
        bob,
        [
            replace_root(b, 4)
            for b in file_session(origin + HOUR, "/Users/bob/app/lib/main.py", 600)
        ],
    )

    response = await client.post(
        f"{base}/users/current/file_experts",
        json={"entity": "/home/alice/src/app/main.py", "project": "app", "project_root_count": 5},
        headers=alice.bearer,
    )

    assert response.status_code == 200, response.text
    assert experts_brief(response.json()) == [
        ("bob", False, 300.0, "5 mins"),
        ("alice", True, 120.0, "2 mins"),
    ]


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"project": "app", "project_root_count": 3}, id="no-entity"),
        pytest.param({"entity": "", "project": "app"}, id="empty-entity"),
        pytest.param(["/srv/app/main.py"], id="not-an-object"),
    ],
)
async def test_file_experts_needs_an_entity(
    client: httpx.AsyncClient, alice: Account, base: str, body: Any
) -> None:
    response = await client.post(
        f"{base}/users/current/file_experts", json=body, headers=alice.bearer
    )
    assert_json_error(response, 400)


async def test_file_experts_of_another_user_path_is_forbidden(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    response = await client.post(
        f"{HACKATIME_BASE}/users/bob/file_experts",
        json={"entity": "/srv/app/main.py", "project": "app", "project_root_count": 3},
        headers=alice.bearer,
    )
    assert_json_error(response, 403)


# --- what wakatime-cli decodes strictly ----------------------------------------------------


@pytest.mark.parametrize("base", API_BASES)
async def test_wakatime_cli_integer_fields(
    client: httpx.AsyncClient, db: Database, alice: Account, clock: Clock, base: str
) -> None:
    clock.now_s = 1_773_140_400.0  # 2026-03-10T11:00:00Z
    zone = midday_zone(clock.now_s)
    await set_zone(db, alice, zone)
    today = local_today(zone, clock.now_s)
    morning = day_start_ms(today, zone) + 2 * HOUR
    # 1 h 2 min 5.5 s today, and a little yesterday: fractions of seconds must not leak.
    today_beats = [beat(morning + n * 2 * MINUTE, "app") for n in range(32)]
    today_beats.append(beat(morning + 62 * MINUTE + 5500, "lib", language="Go"))
    yesterday = day_start_ms(today - timedelta(days=1), zone) + 9 * HOUR
    await store_beats(
        db, alice, [*today_beats, beat(yesterday, "a"), beat(yesterday + 45_250, "a")]
    )
    goal = await goals.add_goal(db, "alice", title="Code", seconds=1800, period="day")
    week = await goals.add_goal(db, "alice", title="Week", seconds=36000, period="week")
    base_url = f"{base}/users/current"

    payloads = {
        "statusbar": await get_json(client, alice, f"{base_url}/statusbar/today"),
        "summaries": await get_json(
            client, alice, f"{base_url}/summaries", {"range": "Last 7 Days"}
        ),
        "summaries-project": await get_json(
            client, alice, f"{base_url}/summaries", {"range": "Today", "project": "app"}
        ),
        "goals": await get_json(client, alice, f"{base_url}/goals"),
        "goal": await get_json(client, alice, f"{base_url}/goals/{goal.id}"),
        "week-goal": await get_json(client, alice, f"{base_url}/goals/{week.id}"),
    }

    for name, payload in payloads.items():
        assert non_integer_counts(payload) == [], name
    grand = payloads["statusbar"]["data"]["grand_total"]
    assert (grand["hours"], grand["minutes"], grand["digital"]) == (1, 2, "1:02")
    chart = payloads["goal"]["data"]["chart_data"]
    assert chart[-1]["actual_seconds_text"] == "1 hr 2 mins"
    assert type(chart[-1]["goal_seconds"]) is int
    # The walk did look somewhere: every item of every list carries the three keys.
    assert all(
        {"hours", "minutes", "seconds"} <= set(item)
        for day in payloads["summaries"]["data"]
        for name in ("projects", "languages", "editors", "categories")
        for item in day[name]
    )
