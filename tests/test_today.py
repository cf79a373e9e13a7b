"""Every "today" and "now" of the API is the user's, read from the app's clock.

The clock is pinned half an hour after UTC midnight and the user lives eleven hours behind UTC:
UTC's date is already tomorrow for them. A heartbeat early in their day lies in UTC's yesterday,
so an endpoint that takes today's date (or its day) from UTC misses it, on any machine at any
hour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hackatime import users
from hackatime.db import Database
from tests.conftest import Account, Clock
from tests.helpers import HACKATIME_BASE, post_heartbeats

ZONE = "Pacific/Pago_Pago"  # UTC-11, no daylight saving time
NOW = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)  # 2026-03-10 13:30 for the user
LOCAL_TODAY = "2026-03-10"
# 01:00, 01:01 and 01:02 of the user's today: 120 seconds, all on UTC's yesterday.
BEATS_S = [datetime(2026, 3, 10, 12, minute, tzinfo=UTC).timestamp() for minute in (0, 1, 2)]
# 23:55 of the user's yesterday, two minutes before their midnight gap: never today's.
YESTERDAY_S = datetime(2026, 3, 10, 10, 55, tzinfo=UTC).timestamp()


@pytest.fixture
async def today_user(
    client: httpx.AsyncClient, db: Database, alice: Account, clock: Clock
) -> Account:
    clock.now_s = NOW.timestamp()
    await users.update_user(db, "alice", timezone=ZONE)
    items = [
        {"entity": "/src/app.py", "time": seconds, "project": "app"}
        for seconds in (YESTERDAY_S, *BEATS_S)
    ]
    response = await post_heartbeats(client, alice, items)
    assert response.json()["responses"] == [[{"data": None, "error": None}, 201]] * 4
    return alice


def _statusbar(body: dict[str, Any]) -> tuple[str, float]:
    data = body["data"]
    return data["range"]["date"], data["grand_total"]["total_seconds"]


def _summaries(body: dict[str, Any]) -> tuple[str, float]:
    (day,) = body["data"]
    return day["range"]["date"], day["grand_total"]["total_seconds"]


def _stats(body: dict[str, Any]) -> tuple[str, float]:
    data = body["data"]
    assert data["is_including_today"] is True
    # The last second of the user's today, in UTC.
    assert data["end"] == "2026-03-11T10:59:59Z"
    return LOCAL_TODAY, data["total_seconds"]


def _all_time(body: dict[str, Any]) -> tuple[str, float]:
    data = body["data"]
    assert data["range"]["end_text"] == "Today"
    return data["range"]["end_date"], data["total_seconds"]


def _durations(body: dict[str, Any]) -> tuple[str, float]:
    return body["start"][:10], sum(item["duration"] for item in body["data"])


def _heartbeats(body: dict[str, Any]) -> tuple[str, float]:
    times = [item["time"] for item in body["data"]]
    assert times == BEATS_S
    return body["start"][:10], times[-1] - times[0]


@pytest.mark.parametrize(
    ("path", "read"),
    [
        pytest.param("/users/current/statusbar/today", _statusbar, id="statusbar-today"),
        pytest.param("/users/current/summaries?range=Today", _summaries, id="summaries-today"),
        pytest.param("/users/current/stats/last_7_days", _stats, id="stats-last-7-days"),
        pytest.param("/users/current/all_time_since_today", _all_time, id="all-time-since-today"),
        pytest.param("/users/current/durations", _durations, id="durations-default-day"),
        pytest.param("/users/current/heartbeats", _heartbeats, id="heartbeats-default-day"),
    ],
)
async def test_today_is_the_users_day_not_utcs(
    client: httpx.AsyncClient,
    today_user: Account,
    path: str,
    read: Callable[[dict[str, Any]], tuple[str, float]],
) -> None:
    response = await client.get(f"{HACKATIME_BASE}{path}", headers=today_user.bearer)
    assert response.status_code == 200, response.text
    assert read(response.json()) == (LOCAL_TODAY, 120)


async def test_durations_and_heartbeats_start_at_the_users_midnight(
    client: httpx.AsyncClient, today_user: Account
) -> None:
    for path in ("/users/current/durations", "/users/current/heartbeats"):
        response = await client.get(f"{HACKATIME_BASE}{path}", headers=today_user.bearer)
        body = response.json()
        assert (body["start"], body["end"]) == ("2026-03-10T11:00:00Z", "2026-03-11T11:00:00Z")


async def test_most_recent_time_ago_reads_the_apps_clock(
    client: httpx.AsyncClient, today_user: Account
) -> None:
    response = await client.get("/api/v1/my/heartbeats/most_recent", headers=today_user.bearer)
    assert response.json()["time_ago"] == "12 hours ago"


async def test_a_heartbeat_more_than_an_hour_past_the_apps_clock_is_refused(
    client: httpx.AsyncClient, today_user: Account
) -> None:
    later_s = NOW.timestamp() + 3600
    response = await post_heartbeats(
        client,
        today_user,
        [{"entity": "/a.py", "time": later_s}, {"entity": "/a.py", "time": later_s + 1}],
    )
    statuses = [status for _, status in response.json()["responses"]]
    assert statuses == [201, 400]
