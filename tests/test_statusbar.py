"""`GET {base}/users/current/statusbar/today`: what editors and `wakatime-cli --today` show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hackatime import heartbeats, ingest, users
from hackatime.db import Database
from tests.conftest import Account, Clock
from tests.helpers import API_BASES, today_midnight_ms

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
DIMENSIONS = ("categories", "languages", "projects", "editors", "operating_systems", "machines")
ITEM_KEYS = {"name", "total_seconds", "percent", "digital", "text", "hours", "minutes", "seconds"}
# The spec's worked example: project@seconds.
WORKED_EXAMPLE = [(0, "A"), (30, "B"), (60, "A"), (90, "B"), (400, "A")]
LANGUAGE_OF = {"A": "Python", "B": "Go"}
# The app's clock in these tests: 21:00 UTC, already 02:30 of the next day in Kolkata, so a
# "today" taken from UTC's date fails here on any machine at any hour.
NOW_MS = 1_773_176_400_000  # 2026-03-10T21:00:00Z


@pytest.fixture(autouse=True)
def pinned_clock(clock: Clock) -> None:
    clock.now_s = NOW_MS / 1000


async def store_at(db: Database, account: Account, placements: Sequence[tuple[int, str]]) -> None:
    """Store heartbeats at (UTC ms, project) directly: these tests are about reading time."""
    batch = [
        heartbeats.Heartbeat(
            time_ms=time_ms,
            entity=f"/src/{project}/main",
            type="file",
            category="coding",
            project=project,
            language=LANGUAGE_OF.get(project),
            editor="vim",
            operating_system="Linux",
        )
        for time_ms, project in placements
    ]
    await ingest.store(db, account.user.id, batch)


async def statusbar(
    client: httpx.AsyncClient,
    account: Account,
    base: str = "/api/hackatime/v1",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.get(
        f"{base}/users/current/statusbar/today", headers={**account.bearer, **(headers or {})}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def iso_utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


def brief(items: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(item["name"], item["total_seconds"]) for item in items]


@pytest.mark.parametrize("base", API_BASES)
async def test_worked_example(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    start = today_midnight_ms("UTC", NOW_MS) + HOUR
    await store_at(db, alice, [(start + s * SECOND, p) for s, p in WORKED_EXAMPLE])
    body = await statusbar(client, alice, base)

    data = body["data"]
    assert data["grand_total"] == {
        "total_seconds": 210.0,
        "text": "3 mins",
        "hours": 0,
        "minutes": 3,
        "digital": "0:03",
        "decimal": "0.05",
    }
    assert [{key: item[key] for key in ITEM_KEYS} for item in data["projects"]] == [
        {
            "name": "B",
            "total_seconds": 150.0,
            "percent": 71.43,
            "digital": "0:02:30",
            "text": "2 mins",
            "hours": 0,
            "minutes": 2,
            "seconds": 30,
        },
        {
            "name": "A",
            "total_seconds": 60.0,
            "percent": 28.57,
            "digital": "0:01:00",
            "text": "1 min",
            "hours": 0,
            "minutes": 1,
            "seconds": 0,
        },
    ]
    assert brief(data["languages"]) == [("Go", 150.0), ("Python", 60.0)]
    assert brief(data["categories"]) == [("coding", 210.0)]
    assert brief(data["editors"]) == [("vim", 210.0)]
    assert brief(data["operating_systems"]) == [("Linux", 210.0)]
    assert brief(data["machines"]) == [("Unknown", 210.0)]
    assert data["categories"][0]["percent"] == 100.0
    assert data["has_team_features"] is False
    assert body["has_team_features"] is False
    cached_at = datetime.fromisoformat(body["cached_at"])
    assert cached_at.utcoffset() == timedelta(0)
    assert cached_at.timestamp() == NOW_MS / 1000


async def test_every_item_has_wakatime_cli_types(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    start = today_midnight_ms("UTC", NOW_MS) + HOUR
    await store_at(db, alice, [(start + s * SECOND, p) for s, p in WORKED_EXAMPLE])

    data = (await statusbar(client, alice))["data"]

    for name in DIMENSIONS:
        assert data[name], name
        for item in data[name]:
            assert set(item) >= ITEM_KEYS, (name, item)
            for key in ("hours", "minutes", "seconds"):
                assert type(item[key]) is int, (name, key)
            assert type(item["total_seconds"]) is float
            assert type(item["percent"]) is float
        assert sum(item["total_seconds"] for item in data[name]) == 210.0
    for key in ("hours", "minutes"):
        assert type(data["grand_total"][key]) is int


@pytest.mark.parametrize(
    ("offsets_s", "expected"),
    [
        pytest.param(
            [],
            {"total_seconds": 0.0, "text": "0 secs", "hours": 0, "minutes": 0, "digital": "0:00"},
            id="no-heartbeats",
        ),
        pytest.param(
            [0],
            {"total_seconds": 0.0, "text": "0 secs", "hours": 0, "minutes": 0, "digital": "0:00"},
            id="one-heartbeat",
        ),
        pytest.param(
            [0, 45],
            {"total_seconds": 45.0, "text": "45 secs", "hours": 0, "minutes": 0, "digital": "0:00"},
            id="seconds",
        ),
        pytest.param(
            [0, 1000],
            {"total_seconds": 120.0, "text": "2 mins", "hours": 0, "minutes": 2, "digital": "0:02"},
            id="long-gap-counts-120s",
        ),
        pytest.param(
            [*range(0, 7321, 120), 7384],
            {
                "total_seconds": 7384.0,
                "text": "2 hrs 3 mins",
                "hours": 2,
                "minutes": 3,
                "digital": "2:03",
                "decimal": "2.05",
            },
            id="spec-example-2h03m",
        ),
    ],
)
async def test_grand_total(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    offsets_s: list[int],
    expected: dict[str, Any],
) -> None:
    start = today_midnight_ms("UTC", NOW_MS) + HOUR
    await store_at(db, alice, [(start + s * SECOND, "A") for s in offsets_s])

    data = (await statusbar(client, alice))["data"]

    grand = data["grand_total"]
    assert {key: grand[key] for key in expected} == expected
    if not expected["total_seconds"]:
        assert all(data[name] == [] for name in DIMENSIONS)


async def test_other_days_and_a_gap_across_midnight_do_not_count(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    midnight = today_midnight_ms("UTC", NOW_MS)
    await store_at(
        db,
        alice,
        [
            # Yesterday: 60 s of its own, then one just before midnight.
            (midnight - DAY + HOUR, "yesterday"),
            (midnight - DAY + HOUR + 30 * SECOND, "yesterday"),
            (midnight - DAY + HOUR + 60 * SECOND, "yesterday"),
            (midnight - 30 * SECOND, "yesterday"),
            # Today: the first heartbeat adds nothing; the gap before it belongs to no day.
            (midnight + 10 * SECOND, "today"),
            (midnight + 40 * SECOND, "today"),
            # Tomorrow (stored directly; the API would refuse it).
            (midnight + DAY + HOUR, "tomorrow"),
            (midnight + DAY + HOUR + 30 * SECOND, "tomorrow"),
        ],
    )

    data = (await statusbar(client, alice))["data"]

    assert data["grand_total"]["total_seconds"] == 30.0
    assert brief(data["projects"]) == [("today", 30.0)]


async def test_other_users_heartbeats_do_not_count(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account
) -> None:
    start = today_midnight_ms("UTC", NOW_MS) + HOUR
    await store_at(db, bob, [(start + s * SECOND, p) for s, p in WORKED_EXAMPLE])
    await store_at(db, alice, [(start + 15 * SECOND, "mine"), (start + 75 * SECOND, "mine")])

    data = (await statusbar(client, alice))["data"]

    assert brief(data["projects"]) == [("mine", 60.0)]


@pytest.mark.parametrize("base", API_BASES)
async def test_range_for_a_utc_user(client: httpx.AsyncClient, alice: Account, base: str) -> None:
    midnight = today_midnight_ms("UTC", NOW_MS)

    data = (await statusbar(client, alice, base))["data"]

    assert data["range"] == {
        "date": datetime.fromtimestamp(midnight / 1000, ZoneInfo("UTC")).date().isoformat(),
        "start": iso_utc(midnight),
        # WakaTime prints the last second inside the day.
        "end": iso_utc(midnight + DAY - SECOND),
        "timezone": "UTC",
        "text": "Today",
    }


async def kolkata_by_explicit_zone(db: Database, client: httpx.AsyncClient) -> Account:
    user, key = await users.create_user(db, "ravi", timezone="Asia/Kolkata")
    return Account(user, key)


async def kolkata_explicit_over_header(db: Database, client: httpx.AsyncClient) -> Account:
    account = await kolkata_by_explicit_zone(db, client)
    await statusbar(client, account, headers={"Timezone": "America/Los_Angeles"})
    return account


async def kolkata_from_an_earlier_header(db: Database, client: httpx.AsyncClient) -> Account:
    user, key = await users.create_user(db, "ravi")
    account = Account(user, key)
    # Days before today anywhere: the heartbeat counts in none of the totals read below.
    old = {"entity": "/src/old.py", "time": (NOW_MS - 5 * DAY) / 1000}
    response = await client.post(
        "/api/v1/users/current/heartbeats",
        json=old,
        headers={**account.bearer, "Timezone": "Asia/Kolkata"},
    )
    assert response.status_code == 202
    return account


@pytest.mark.parametrize(
    ("make_user", "header"),
    [
        pytest.param(kolkata_by_explicit_zone, None, id="explicit-zone"),
        pytest.param(kolkata_explicit_over_header, "Europe/London", id="explicit-over-header"),
        pytest.param(kolkata_from_an_earlier_header, None, id="detected-from-earlier-header"),
        pytest.param(kolkata_from_an_earlier_header, "Asia/Kolkata", id="header-every-request"),
    ],
)
async def test_today_is_the_users_local_day(
    client: httpx.AsyncClient, db: Database, make_user: Any, header: str | None
) -> None:
    account = await make_user(db, client)
    now = NOW_MS
    midnight = today_midnight_ms("Asia/Kolkata", now)
    # A few minutes before now, never before this local midnight, even just after it.
    first = max(midnight, now - 30 * MINUTE) // SECOND * SECOND
    await store_at(
        db,
        account,
        [
            (midnight - 10 * MINUTE, "before-local-midnight"),
            (midnight - 10 * MINUTE + 30 * SECOND, "before-local-midnight"),
            (midnight - 20 * SECOND, "before-local-midnight"),
            (first, "local-today"),
            (first + 30 * SECOND, "local-today"),
            (first + 60 * SECOND, "local-today"),
            (midnight + DAY + 10 * MINUTE, "after-local-midnight"),
            (midnight + DAY + 10 * MINUTE + 30 * SECOND, "after-local-midnight"),
        ],
    )

    data = (await statusbar(client, account, headers={"Timezone": header} if header else {}))[
        "data"
    ]

    assert data["range"] == {
        "date": "2026-03-11",
        "start": iso_utc(midnight),
        # WakaTime prints the last second inside the day.
        "end": iso_utc(midnight + DAY - SECOND),
        "timezone": "Asia/Kolkata",
        "text": "Today",
    }
    assert data["grand_total"]["total_seconds"] == 60.0
    assert brief(data["projects"]) == [("local-today", 60.0)]


async def test_timezone_header_applies_to_the_request_that_carries_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    user, key = await users.create_user(db, "carol")
    carol = Account(user, key)

    data = (await statusbar(client, carol, headers={"Timezone": "Asia/Kolkata"}))["data"]

    assert data["range"]["timezone"] == "Asia/Kolkata"


async def test_user_without_any_zone_gets_the_server_default(
    client: httpx.AsyncClient, db: Database
) -> None:
    user, key = await users.create_user(db, "carol")

    data = (await statusbar(client, Account(user, key)))["data"]

    assert data["range"]["timezone"] == "UTC"


@pytest.mark.parametrize(
    ("path_user", "status"),
    [
        pytest.param("alice", 200, id="own-name"),
        pytest.param("bob", 403, id="someone-else"),
    ],
)
async def test_statusbar_user_in_path(
    client: httpx.AsyncClient, alice: Account, bob: Account, path_user: str, status: int
) -> None:
    response = await client.get(f"/api/v1/users/{path_user}/statusbar/today", headers=alice.bearer)
    assert response.status_code == status
