"""Project aliases on every endpoint: each shows the merged name, a filter by the new or an old
name gives the merged project, unalias restores the stored names, heartbeats that arrive under
an old name follow, and another user's aliases change nothing of yours."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest

from hackatime import aliases, goals
from hackatime import history as history_module
from hackatime.db import Database
from tests.conftest import Account, Clock
from tests.helpers import (
    HACKATIME_BASE,
    HOUR,
    SECOND,
    WAKATIME_BASE,
    beat,
    day_start_ms,
    get_json,
    post_heartbeats,
    store_beats,
)

DAY = date(2025, 6, 2)
START = day_start_ms(DAY, "UTC") + 10 * HOUR
NOW = START + 2 * HOUR
# Every 30 s: app, app, " App", APP, APP, APP, other, other, APP (the last one credits nothing).
HISTORY = ["app", "app", " App", "APP", "APP", "APP", "other", "other", "APP"]
MERGE = ["app", " App", "APP"]
# The seed's Hackatime routes live under /api/v1 only.
SEED = WAKATIME_BASE

STORED_TIME = {"app": 60.0, " App": 30.0, "APP": 90.0, "other": 60.0}
MERGED_TIME = {"app": 180.0, "other": 60.0}
STORED_COUNT = {"app": 2, " App": 1, "APP": 4, "other": 2}
MERGED_COUNT = {"app": 7, "other": 2}


@pytest.fixture(autouse=True)
def frozen_now(clock: Clock) -> None:
    """Every endpoint's "now" is NOW, two hours after the history, on DAY."""
    clock.now_s = NOW / 1000


@pytest.fixture
async def history(db: Database, alice: Account, bob: Account) -> None:
    """Alice and Bob worked alike; Bob merged everything into one project of his own."""
    beats = [beat(START + n * 30 * SECOND, name) for n, name in enumerate(HISTORY)]
    await store_beats(db, alice, beats)
    await store_beats(db, bob, beats)
    await aliases.merge(db, bob.user.id, "bob's", [*MERGE, "other"])


def by_name(items: list[dict[str, Any]], value: str = "total_seconds") -> dict[str, float]:
    return {item["name"]: item[value] for item in items}


View = Callable[[httpx.AsyncClient, Account], Awaitable[dict[str, Any]]]


async def statusbar(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    body = await get_json(client, account, f"{HACKATIME_BASE}/users/current/statusbar/today")
    return by_name(body["data"]["projects"])


async def summaries(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    params = {"start": DAY.isoformat(), "end": DAY.isoformat()}
    body = await get_json(client, account, f"{WAKATIME_BASE}/users/current/summaries", params)
    return by_name(body["data"][0]["projects"])


async def wakatime_stats(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    body = await get_json(client, account, f"{WAKATIME_BASE}/users/current/stats/last_7_days")
    return by_name(body["data"]["projects"])


async def hackatime_stats(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    params = {"features": "projects"}
    body = await get_json(client, account, f"{SEED}/stats", params)
    return by_name(body["data"]["projects"])


async def hackatime_user_stats(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    path = f"{SEED}/users/{account.user.username}/stats"
    body = await get_json(client, account, path, {"features": "projects"})
    return by_name(body["projects"], "seconds")


async def day_durations(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    params = {"date": DAY.isoformat()}
    body = await get_json(client, account, f"{WAKATIME_BASE}/users/current/durations", params)
    totals: Counter[str] = Counter()
    for run in body["data"]:
        totals[run["project"]] += run["duration"]
    return dict(totals)


async def projects_list(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    body = await get_json(client, account, f"{WAKATIME_BASE}/users/current/projects")
    return {item["name"]: item["first_heartbeat_at"][11:19] for item in body["data"]}


async def my_heartbeats(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    body = await get_json(client, account, f"{SEED}/my/heartbeats")
    return dict(Counter(item["project"] for item in body["heartbeats"]))


async def day_heartbeats(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    params = {"date": DAY.isoformat()}
    body = await get_json(client, account, f"{WAKATIME_BASE}/users/current/heartbeats", params)
    return dict(Counter(item["project"] for item in body["data"]))


async def latest(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    body = await get_json(client, account, f"{SEED}/my/heartbeats/most_recent")
    user = await get_json(client, account, f"{WAKATIME_BASE}/users/current")
    return {
        "most_recent": body["heartbeat"]["project"],
        "last_project": user["data"]["last_project"],
    }


VIEWS = [
    pytest.param(statusbar, STORED_TIME, MERGED_TIME, id="statusbar"),
    pytest.param(summaries, STORED_TIME, MERGED_TIME, id="summaries"),
    pytest.param(wakatime_stats, STORED_TIME, MERGED_TIME, id="wakatime-stats"),
    pytest.param(hackatime_stats, STORED_TIME, MERGED_TIME, id="hackatime-stats"),
    pytest.param(hackatime_user_stats, STORED_TIME, MERGED_TIME, id="hackatime-user-stats"),
    pytest.param(day_durations, STORED_TIME, MERGED_TIME, id="durations"),
    pytest.param(
        projects_list,
        {"app": "10:00:00", " App": "10:01:00", "APP": "10:01:30", "other": "10:03:00"},
        {"app": "10:00:00", "other": "10:03:00"},
        id="projects",
    ),
    pytest.param(my_heartbeats, STORED_COUNT, MERGED_COUNT, id="my-heartbeats"),
    pytest.param(day_heartbeats, STORED_COUNT, MERGED_COUNT, id="day-heartbeats"),
    pytest.param(
        latest,
        {"most_recent": "APP", "last_project": "APP"},
        {"most_recent": "app", "last_project": "app"},
        id="most-recent",
    ),
]


@pytest.mark.parametrize(("view", "stored", "merged"), VIEWS)
@pytest.mark.usefixtures("history")
async def test_views_show_the_merged_name_until_unaliased(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    view: View,
    stored: dict[str, Any],
    merged: dict[str, Any],
) -> None:
    assert await view(client, alice) == stored
    await aliases.merge(db, alice.user.id, MERGE[0], MERGE[1:])
    assert await view(client, alice) == merged
    await aliases.unalias(db, alice.user.id, MERGE[0])
    assert await view(client, alice) == stored


Total = Callable[[httpx.AsyncClient, Database, Account, str], Awaitable[float]]


async def summaries_total(
    client: httpx.AsyncClient, db: Database, account: Account, project: str
) -> float:
    params = {"start": DAY.isoformat(), "end": DAY.isoformat(), "project": project}
    body = await get_json(client, account, f"{WAKATIME_BASE}/users/current/summaries", params)
    return body["cumulative_total"]["seconds"]


async def wakatime_stats_total(
    client: httpx.AsyncClient, db: Database, account: Account, project: str
) -> float:
    path = f"{WAKATIME_BASE}/users/current/stats/last_7_days"
    body = await get_json(client, account, path, {"project": project})
    return body["data"]["total_seconds"]


async def all_time_total(
    client: httpx.AsyncClient, db: Database, account: Account, project: str
) -> float:
    path = f"{WAKATIME_BASE}/users/current/all_time_since_today"
    body = await get_json(client, account, path, {"project": project})
    return body["data"]["total_seconds"]


async def hackatime_stats_total(
    client: httpx.AsyncClient, db: Database, account: Account, project: str
) -> float:
    body = await get_json(client, account, f"{SEED}/stats", {"filter_by_project": project})
    return body["data"]["total_seconds"]


async def durations_total(
    client: httpx.AsyncClient, db: Database, account: Account, project: str
) -> float:
    params = {"date": DAY.isoformat(), "project": project}
    body = await get_json(client, account, f"{WAKATIME_BASE}/users/current/durations", params)
    return sum(run["duration"] for run in body["data"])


async def goal_total(
    client: httpx.AsyncClient, db: Database, account: Account, project: str
) -> float:
    goal = await goals.add_goal(
        db,
        account.user.username,
        title=f"on {project}",
        seconds=3600,
        period="day",
        project=project,
    )
    body = await get_json(client, account, f"{WAKATIME_BASE}/users/current/goals/{goal.id}")
    return body["data"]["chart_data"][-1]["actual_seconds"]


ALL_NAMES = [*STORED_TIME]
# filter_by_project is a comma-separated list whose items are stripped: " App" cannot be asked.
UNSPACED_NAMES = [name for name in STORED_TIME if name == name.strip()]
TOTALS = [
    pytest.param(summaries_total, ALL_NAMES, id="summaries"),
    pytest.param(wakatime_stats_total, ALL_NAMES, id="wakatime-stats"),
    pytest.param(all_time_total, ALL_NAMES, id="all-time-since-today"),
    pytest.param(hackatime_stats_total, UNSPACED_NAMES, id="hackatime-stats"),
    pytest.param(durations_total, ALL_NAMES, id="durations"),
    pytest.param(goal_total, ALL_NAMES, id="goal"),
]


@pytest.mark.parametrize(("total", "names"), TOTALS)
@pytest.mark.usefixtures("history")
async def test_filters_by_any_name_of_a_merged_project(
    client: httpx.AsyncClient, db: Database, alice: Account, total: Total, names: list[str]
) -> None:
    for name in names:
        assert await total(client, db, alice, name) == STORED_TIME[name], name
    await aliases.merge(db, alice.user.id, MERGE[0], MERGE[1:])
    for name in names:
        expected = MERGED_TIME["app"] if name in MERGE else STORED_TIME[name]
        assert await total(client, db, alice, name) == expected, name
    await aliases.unalias(db, alice.user.id, MERGE[0])
    for name in names:
        assert await total(client, db, alice, name) == STORED_TIME[name], name


@pytest.mark.usefixtures("history")
async def test_bobs_aliases_never_reach_alice(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account
) -> None:
    assert await statusbar(client, bob) == {"bob's": 240.0}
    assert await statusbar(client, alice) == STORED_TIME
    assert await hackatime_stats_total(client, db, alice, "bob's") == 0.0
    assert await hackatime_stats_total(client, db, bob, "APP") == 240.0


@pytest.mark.usefixtures("history")
async def test_heartbeats_arriving_under_an_old_name_follow(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    await aliases.rename(db, alice.user.id, "other", "renamed")
    later = START + 30 * len(HISTORY) * SECOND
    items = [
        {"time": (later + n * 30 * SECOND) / 1000, "entity": "x.py", "type": "file", "project": p}
        for n, p in enumerate(["other", "other", "app"])
    ]
    response = await post_heartbeats(client, alice, items)
    assert response.status_code == 201, response.text
    # The old last APP beat now has a successor 30 s on; the new "other" beats credit 60 s.
    assert await statusbar(client, alice) == {
        "app": 60.0,
        " App": 30.0,
        "APP": 120.0,
        "renamed": 120.0,
    }
    assert await durations_total(client, db, alice, "other") == 120.0


async def test_file_experts_count_the_stored_names_of_the_askers_project(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account
) -> None:
    entity = "/srv/app/main.py"
    for account, project in ((alice, "APP"), (bob, "app")):
        beats = [beat(START + n * 30 * SECOND, project, entity=entity) for n in range(5)]
        await store_beats(db, account, [*beats, beat(START + 150 * SECOND, project)])
    await aliases.merge(db, alice.user.id, "app", ["APP"])
    # Bob's own alias of his stored "app" changes nothing of what Alice asks.
    await aliases.rename(db, bob.user.id, "app", "bobs-app")

    async def experts(project: str) -> dict[str, float]:
        response = await client.post(
            f"{WAKATIME_BASE}/users/current/file_experts",
            json={"entity": entity, "project": project},
            headers=alice.bearer,
        )
        assert response.status_code == 200, response.text
        return {
            item["user"]["name"]: item["total"]["total_seconds"] for item in response.json()["data"]
        }

    assert await experts("app") == {"alice": 150.0, "bob": 150.0}
    assert await experts("APP") == {"alice": 150.0, "bob": 150.0}
    assert await experts("bobs-app") == {}


@pytest.mark.usefixtures("history")
async def test_merged_names_make_one_duration_run(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    async def runs() -> list[tuple[str, float, float]]:
        params = {"date": DAY.isoformat(), "slice_by": "language"}
        path = f"{WAKATIME_BASE}/users/current/durations"
        body = await get_json(client, alice, path, params)
        return [
            (run["project"], run["time"] - START / 1000, run["duration"]) for run in body["data"]
        ]

    await aliases.merge(db, alice.user.id, MERGE[0], MERGE[1:])
    assert await runs() == [("app", 0.0, 180.0), ("other", 180.0, 60.0), ("app", 240.0, 0.0)]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        pytest.param("REN", ["renamed"], id="new-name"),
        pytest.param("oth", [], id="old-name-is-not-shown"),
        pytest.param("app", ["APP", " App", "app"], id="untouched"),
    ],
)
@pytest.mark.usefixtures("history")
async def test_project_search_looks_at_shown_names(
    client: httpx.AsyncClient, db: Database, alice: Account, query: str, found: list[str]
) -> None:
    await aliases.rename(db, alice.user.id, "other", "renamed")
    path = f"{WAKATIME_BASE}/users/current/projects"
    body = await get_json(client, alice, path, {"q": query})
    assert [item["name"] for item in body["data"]] == found


async def test_a_projects_last_activity_counts_every_stored_name(
    db: Database, alice: Account, history: None
) -> None:
    assert await history_module.project_last_seen(db, alice.user.id, "app") == START + 30 * SECOND
    await aliases.merge(db, alice.user.id, "app", MERGE[1:])
    # The last heartbeat of the merged project is the ninth, stored as "APP".
    for name in MERGE:
        assert await history_module.project_last_seen(db, alice.user.id, name) == (
            START + 8 * 30 * SECOND
        )
