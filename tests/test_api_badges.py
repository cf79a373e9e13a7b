"""The badge routes of hackatime/api/badges.py: /api/v1/badge and /api/v1/shields, for users
and their projects, public or not, with and without a key; their numbers are WakaTime stats'."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from hackatime import users
from hackatime.db import Database
from hackatime.summaries import human_text
from tests.conftest import Account, Clock
from tests.helpers import HOUR, MINUTE, beat, day_start_ms, store_beats

TODAY = date(2025, 6, 10)
# Noon on TODAY in UTC: the clock both the badge and the stats it is compared with read.
NOW_MS = day_start_ms(TODAY, "UTC") + 12 * HOUR
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def fixed_clock(clock: Clock) -> None:
    clock.now_s = NOW_MS / 1000


async def store_history(db: Database, account: Account) -> None:
    """Runs of beats a minute apart. Forty days ago: web 30 min. Three days ago (Saturday): api
    4 min, whose last beat also gets the 2 min timeout before web's run starts at 15:00 (6 min
    in all), then web 6 min. Today (Tuesday, before noon): api 10 min. A run's last beat
    before another day gets nothing: each day is measured on its own."""

    def run(day: date, hour: int, project: str, minutes: int) -> list[Any]:
        start = day_start_ms(day, "UTC") + hour * HOUR
        return [beat(start + n * MINUTE, project) for n in range(minutes + 1)]

    await store_beats(
        db,
        account,
        [
            *run(TODAY - timedelta(days=40), 9, "web", 30),
            *run(TODAY - timedelta(days=3), 9, "api", 4),
            *run(TODAY - timedelta(days=3), 15, "web", 6),
            *run(TODAY, 9, "api", 10),
        ],
    )


def message_of(svg: str) -> tuple[str, str]:
    """The badge's (label, message), as drawn."""
    shown = [text.text or "" for text in ET.fromstring(svg).iter(f"{SVG}text")]
    return shown[1], shown[-1]


async def stats_total(
    client: httpx.AsyncClient, account: Account, range_name: str, project: str | None = None
) -> str:
    params = {"project": project} if project else {}
    response = await client.get(
        f"/api/v1/users/current/stats/{range_name}", params=params, headers=account.bearer
    )
    assert response.status_code == 200, response.text
    return human_text(round(response.json()["data"]["total_seconds"] * 1000))


@pytest.mark.parametrize(
    ("range_name", "expected"),
    [
        pytest.param(None, "52 mins", id="default-all-time"),
        pytest.param("all_time", "52 mins", id="all-time"),
        pytest.param("last_7_days", "22 mins", id="last-7-days"),
        pytest.param("last_30_days", "22 mins", id="last-30-days"),
        pytest.param("last_year", "52 mins", id="last-year"),
        pytest.param("2025-06", "22 mins", id="month"),
    ],
)
async def test_user_badge_without_a_key_equals_wakatime_stats(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    range_name: str | None,
    expected: str,
) -> None:
    await store_history(db, alice)
    params = {"range": range_name} if range_name else {}

    response = await client.get("/api/v1/badge/alice", params=params)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert message_of(response.text) == ("hackatime", expected)
    assert expected == await stats_total(client, alice, range_name or "all_time")


@pytest.mark.parametrize(
    ("range_name", "expected"),
    [
        pytest.param("today", "10 mins", id="today"),
        pytest.param("yesterday", "0 secs", id="yesterday"),
        pytest.param("this_week", "10 mins", id="this-week"),
        pytest.param("Last 7 Days", "22 mins", id="human-name"),
    ],
)
async def test_summary_ranges_equal_the_summaries_total(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    range_name: str,
    expected: str,
) -> None:
    await store_history(db, alice)
    badge = await client.get("/api/v1/badge/alice", params={"range": range_name})
    summaries = await client.get(
        "/api/v1/users/current/summaries", params={"range": range_name}, headers=alice.bearer
    )
    assert message_of(badge.text)[1] == expected
    seconds = summaries.json()["cumulative_total"]["seconds"]
    assert human_text(round(seconds * 1000)) == expected


@pytest.mark.parametrize(
    ("project", "range_name", "expected"),
    [
        pytest.param("api", "all_time", "16 mins", id="api-all-time"),
        pytest.param("web", "all_time", "36 mins", id="web-all-time"),
        pytest.param("web", "last_7_days", "6 mins", id="web-week"),
        pytest.param("never", "all_time", "0 secs", id="no-such-project"),
    ],
)
async def test_project_badge_equals_stats_for_the_project(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    project: str,
    range_name: str,
    expected: str,
) -> None:
    await store_history(db, alice)
    response = await client.get(f"/api/v1/badge/alice/{project}", params={"range": range_name})
    assert response.status_code == 200
    assert message_of(response.text) == (project, expected)
    assert expected == await stats_total(client, alice, range_name, project)


async def test_label_and_colour(client: httpx.AsyncClient, db: Database, alice: Account) -> None:
    await store_history(db, alice)
    response = await client.get(
        "/api/v1/badge/alice/api", params={"label": "coding <api>", "color": "brightgreen"}
    )
    assert message_of(response.text) == ("coding <api>", "16 mins")
    assert "coding &lt;api&gt;" in response.text
    assert 'fill="#4c1"' in response.text


async def test_shields_endpoint(client: httpx.AsyncClient, db: Database, alice: Account) -> None:
    await store_history(db, alice)
    response = await client.get(
        "/api/v1/shields/alice/web", params={"range": "last_7_days", "color": "ff69b4"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.json() == {
        "schemaVersion": 1,
        "label": "web",
        "message": "6 mins",
        "color": "ff69b4",
        "cacheSeconds": 300,
    }
    whole = await client.get("/api/v1/shields/alice")
    assert whole.json()["label"] == "hackatime"
    assert whole.json()["message"] == "52 mins"


PATHS = [
    pytest.param("/api/v1/badge/{name}", id="badge"),
    pytest.param("/api/v1/badge/{name}/api", id="project-badge"),
    pytest.param("/api/v1/shields/{name}", id="shields"),
    pytest.param("/api/v1/shields/{name}/api", id="project-shields"),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("viewer", [pytest.param(None, id="no-key"), pytest.param("bob", id="bob")])
@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"is_public": False}, id="private"),
        pytest.param({"trust_level": "red"}, id="red"),
    ],
)
async def test_private_and_red_users_have_no_badge(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    path: str,
    viewer: str | None,
    change: dict[str, Any],
) -> None:
    await store_history(db, alice)
    await users.update_user(db, "alice", **change)
    headers = bob.bearer if viewer else {}
    hidden = await client.get(path.format(name="alice"), headers=headers)
    unknown = await client.get(path.format(name="nobody"), headers=headers)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json() == {"error": "User not found"}


@pytest.mark.parametrize("path", PATHS)
async def test_own_private_badge_with_the_key_is_kept_out_of_shared_caches(
    client: httpx.AsyncClient, db: Database, alice: Account, admin: Account, path: str
) -> None:
    await store_history(db, alice)
    await users.update_user(db, "alice", is_public=False)
    for account in (alice, admin):
        response = await client.get(path.format(name="alice"), headers=account.bearer)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, max-age=300"
    mine = await client.get(path.format(name="my"), headers=alice.bearer)
    assert mine.status_code == 200


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("auth", "error"),
    [
        pytest.param({}, "Missing API key", id="my-without-key"),
        pytest.param(
            {"Authorization": "Bearer 00000000-0000-4000-8000-000000000000"},
            "Invalid API key",
            id="wrong-key",
        ),
    ],
)
async def test_keys_that_are_needed_or_wrong(
    client: httpx.AsyncClient, alice: Account, path: str, auth: dict[str, str], error: str
) -> None:
    name = "my" if not auth else "alice"
    response = await client.get(path.format(name=name), headers=auth)
    assert response.status_code == 401
    assert response.json() == {"error": error}


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"range": "last_century"}, id="unknown-range"),
        pytest.param({"range": "1999"}, id="year-out-of-range"),
        pytest.param({"label": "x" * 101}, id="label-too-long"),
        pytest.param({"range": "x" * 101}, id="range-too-long"),
    ],
)
async def test_bad_parameters_are_400(
    client: httpx.AsyncClient, alice: Account, params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/badge/alice", params=params)
    assert response.status_code == 400
    assert list(response.json()) == ["error"]


async def test_a_badge_of_a_user_with_no_heartbeats(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.get("/api/v1/badge/alice")
    assert response.status_code == 200
    assert message_of(response.text) == ("hackatime", "0 secs")
