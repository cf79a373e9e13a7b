"""The seed's Hackatime API: stats, raw heartbeats, user lookups, trust factor (issue 3).

Expected numbers are written out by hand for a small fixed data set, and checked against the
plain-Python reference of the duration rule (tests/oracle.py) for time zones and random data.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app import create_app
from hackatime import ingest, users
from hackatime.config import Settings
from hackatime.db import Database
from hackatime.heartbeats import Heartbeat
from tests.conftest import Account
from tests.helpers import now_ms, post_heartbeats
from tests.oracle import OracleRow, reference_breakdown

TIMEOUT_MS = 120_000
STATS_FEATURES = ("languages", "projects", "editors", "operating_systems", "machines", "categories")
HEARTBEAT_FIELDS = {
    "id",
    "time",
    "entity",
    "type",
    "category",
    "project",
    "branch",
    "language",
    "editor",
    "operating_system",
    "machine",
    "is_write",
    "lineno",
    "cursorpos",
    "lines",
    "dependencies",
    "user_agent",
    "created_at",
}
VIM_AGENT = "wakatime/v1.90.0 (linux-6.1.0) go1.22.1 vim/9.1.0 vim-wakatime/11.2.0"
VSCODE_AGENT = (
    "wakatime/v1.90.0 (darwin-23.1.0-arm64) go1.22.1 vscode/1.85.0 vscode-wakatime/24.4.0"
)


def utc_ms(*parts: int) -> int:
    return round(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


def local_midnight_ms(day: date, zone: str) -> int:
    return round(datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def instant_ms(text: str) -> int:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"{text!r} carries no offset"
    return round(moment.timestamp() * 1000)


def assert_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    assert body["error"]
    return body["error"]


def pairs(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    return [(item["name"], item["seconds"]) for item in items]


def seconds_of(ranked: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(name, ms // 1000) for name, ms in ranked]


# --- The fixed data set ------------------------------------------------------------------------
#
# Day 1 (2026-03-02 UTC) is issue 2's worked example plus two heartbeats:
#   10:00:00 api, 10:00:30 web, 10:01:00 api, 10:01:30 web, 10:06:40 api (gap 310 s -> 120),
#   10:07:30 no project (debugging), 10:07:50 api.
#   Total 280 s: api 30+30+50 = 110, web 30+120 = 150, Unknown 20.
# Day 2 (2026-03-03 UTC): api in Rust every 60 s from 09:00 to 10:00 (3600 s), then docs at
#   10:01, 10:02, 10:03: api gets the 10:00->10:01 gap, docs 120. Total 3780 s.
# All time adds the gap from day 1's last heartbeat to day 2's first, 120 s, to api: the gap
# across midnight counts for neither day alone. Total 4180 s.

DAY1_MS = utc_ms(2026, 3, 2, 10)
DAY2_MS = utc_ms(2026, 3, 3, 9)
ALL_TIME_TOTAL = 4180
DAY1_TOTAL = 280
DAY2_TOTAL = 3780

_API_DAY1 = {
    "project": "api",
    "language": "Python",
    "editor": "vim",
    "operating_system": "Linux",
    "machine": "pi",
}
_API_DAY2 = {**_API_DAY1, "language": "Rust"}
_WEB = {
    "project": "web",
    "language": "TypeScript",
    "editor": "vscode",
    "operating_system": "macOS",
    "machine": "laptop",
}
_DOCS = {
    "project": "docs",
    "language": "Markdown",
    "editor": "vscode",
    "operating_system": "Linux",
    "machine": "laptop",
    "category": "writing docs",
}
_BARE = {"category": "debugging", "machine": "laptop"}

ALL_TIME_SPLITS = {
    "projects": [("api", 3890), ("web", 150), ("docs", 120), ("Unknown", 20)],
    "languages": [
        ("Rust", 3660),
        ("Python", 230),
        ("TypeScript", 150),
        ("Markdown", 120),
        ("Unknown", 20),
    ],
    "editors": [("vim", 3890), ("vscode", 270), ("Unknown", 20)],
    "operating_systems": [("Linux", 4010), ("macOS", 150), ("Unknown", 20)],
    "machines": [("pi", 3890), ("laptop", 290)],
    "categories": [("coding", 4040), ("writing docs", 120), ("debugging", 20)],
}


def _beat(time_ms: int, entity: str, fields: Mapping[str, Any]) -> Heartbeat:
    return Heartbeat(
        time_ms=time_ms,
        entity=entity,
        type="file",
        category=fields.get("category", "coding"),
        **{name: value for name, value in fields.items() if name != "category"},
    )


def alice_heartbeats() -> list[Heartbeat]:
    first = Heartbeat(
        time_ms=DAY1_MS,
        entity="/home/alice/api/app.py",
        type="file",
        category="coding",
        branch="main",
        is_write=True,
        lineno=12,
        cursorpos=340,
        lines=200,
        dependencies=("requests", "orjson"),
        user_agent=VIM_AGENT,
        **_API_DAY1,
    )
    day1 = [
        first,
        _beat(DAY1_MS + 30_000, "/home/alice/web/index.ts", _WEB),
        _beat(DAY1_MS + 60_000, "/home/alice/api/db.py", _API_DAY1),
        _beat(DAY1_MS + 90_000, "/home/alice/web/app.ts", _WEB),
        _beat(DAY1_MS + 400_000, "/home/alice/api/models.py", _API_DAY1),
        _beat(DAY1_MS + 450_000, "/tmp/scratch", _BARE),
        _beat(DAY1_MS + 470_000, "/home/alice/api/views.py", _API_DAY1),
    ]
    day2 = [
        _beat(DAY2_MS + minute * 60_000, f"/home/alice/api/src/m{minute}.rs", _API_DAY2)
        for minute in range(61)
    ]
    day2 += [
        _beat(DAY2_MS + minute * 60_000, f"/home/alice/docs/p{minute}.md", _DOCS)
        for minute in (61, 62, 63)
    ]
    return day1 + day2


@dataclass
class Seeded:
    alice_ids: list[int]
    bob_ids: list[int]

    @property
    def day1_ids(self) -> list[int]:
        return self.alice_ids[:7]

    @property
    def day2_ids(self) -> list[int]:
        return self.alice_ids[7:]


async def store(db: Database, account: Account, beats: list[Heartbeat]) -> list[int]:
    stored = await ingest.store(db, account.user.id, beats)
    return await ingest.stored_ids(db, account.user.id, stored)


@pytest.fixture
async def seeded(db: Database, alice: Account, bob: Account) -> Seeded:
    alice_ids = await store(db, alice, alice_heartbeats())
    # Bob works at the same moments on his own project: none of it may reach alice's answers.
    bob_beats = [
        _beat(DAY1_MS + offset, f"/home/bob/secret{offset}.go", {"project": "bob-secret"})
        for offset in (0, 15_000, 45_000, 60_000, 300_000)
    ]
    bob_beats.append(_beat(DAY2_MS + 63 * 60_000, "/home/bob/late.go", {"project": "bob-secret"}))
    bob_ids = await store(db, bob, bob_beats)
    return Seeded(alice_ids, bob_ids)


async def get_stats(
    client: httpx.AsyncClient, account: Account, ident: str = "my", **params: str
) -> httpx.Response:
    return await client.get(f"/api/v1/users/{ident}/stats", params=params, headers=account.bearer)


async def get_ok(
    client: httpx.AsyncClient, path: str, account: Account, **params: str
) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=account.bearer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


# --- 1. /api/v1/users/{username}/stats ---------------------------------------------------------


async def test_stats_all_time_shape_and_values(
    client: httpx.AsyncClient, alice: Account, seeded: Seeded
) -> None:
    body = await get_ok(client, "/api/v1/users/alice/stats", alice)

    assert body["user"] == "alice"
    assert body["total_seconds"] == ALL_TIME_TOTAL
    assert type(body["total_seconds"]) is int
    assert pairs(body["projects"]) == ALL_TIME_SPLITS["projects"]
    assert pairs(body["languages"]) == ALL_TIME_SPLITS["languages"]
    keys = ("name", "seconds", "total_seconds", "text", "hours", "minutes", "percent", "digital")
    assert [{key: item[key] for key in keys} for item in body["projects"]] == [
        {
            "name": "api",
            "seconds": 3890,
            "total_seconds": 3890,
            "text": "1 hr 4 mins",
            "hours": 1,
            "minutes": 4,
            "percent": 93.06,
            "digital": "01:04:50",
        },
        {
            "name": "web",
            "seconds": 150,
            "total_seconds": 150,
            "text": "2 mins",
            "hours": 0,
            "minutes": 2,
            "percent": 3.59,
            "digital": "00:02:30",
        },
        {
            "name": "docs",
            "seconds": 120,
            "total_seconds": 120,
            "text": "2 mins",
            "hours": 0,
            "minutes": 2,
            "percent": 2.87,
            "digital": "00:02:00",
        },
        {
            "name": "Unknown",
            "seconds": 20,
            "total_seconds": 20,
            "text": "20 secs",
            "hours": 0,
            "minutes": 0,
            "percent": 0.48,
            "digital": "00:00:20",
        },
    ]
    assert all(type(item["seconds"]) is int for item in body["projects"] + body["languages"])
    assert [item["percent"] for item in body["languages"]] == [87.56, 5.5, 3.59, 2.87, 0.48]
    assert body["trust_factor"] == {"trust_level": "yellow", "trust_value": 0}

    data = body["data"]
    assert data["status"] == "ok"
    assert data["username"] == "alice"
    assert str(data["user_id"]) == str(alice.user.id)
    assert data["total_seconds"] == ALL_TIME_TOTAL
    assert data["human_readable_total"] == "1 hr 9 mins"
    assert data["projects"] == body["projects"]
    assert data["languages"] == body["languages"]
    for key in ("range", "human_readable_range", "human_readable_daily_average"):
        assert isinstance(data[key], str)
    assert isinstance(data["daily_average"], int | float)
    # All time starts no later than the first heartbeat and ends no earlier than the last.
    assert instant_ms(data["start"]) <= DAY1_MS
    assert instant_ms(data["end"]) >= DAY2_MS + 63 * 60_000
    # Only the requested lists: languages and projects by default.
    assert "editors" not in body
    assert "editors" not in data


async def test_stats_custom_range_data(
    client: httpx.AsyncClient, alice: Account, seeded: Seeded
) -> None:
    body = await get_ok(
        client, "/api/v1/users/alice/stats", alice, start_date="2026-03-02", end_date="2026-03-03"
    )
    data = body["data"]
    assert body["total_seconds"] == ALL_TIME_TOTAL
    assert instant_ms(data["start"]) == utc_ms(2026, 3, 2)
    # The end date is inclusive: the range runs to the midnight after it.
    assert instant_ms(data["end"]) == utc_ms(2026, 3, 4)
    assert data["total_seconds"] == ALL_TIME_TOTAL
    # Both days have time, so any reading of "daily average" gives 4180 / 2.
    assert data["daily_average"] == 2090
    assert data["human_readable_daily_average"] == "34 mins"
    assert data["human_readable_total"] == "1 hr 9 mins"
    assert data["status"] == "ok"


@pytest.mark.parametrize(
    ("ident", "viewer"),
    [
        pytest.param("alice", "alice", id="username"),
        pytest.param("{id}", "alice", id="numeric-id"),
        pytest.param("U024ALICE", "alice", id="slack-uid"),
        pytest.param("my", "alice", id="my"),
        pytest.param("{id}", "bob", id="numeric-id-by-other-user"),
    ],
)
async def test_stats_target_forms(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    seeded: Seeded,
    ident: str,
    viewer: str,
) -> None:
    await users.update_user(db, "alice", slack_uid="U024ALICE")
    account = {"alice": alice, "bob": bob}[viewer]
    response = await get_stats(client, account, ident.format(id=alice.user.id))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == "alice"
    assert body["data"]["username"] == "alice"
    assert body["total_seconds"] == ALL_TIME_TOTAL
    assert pairs(body["projects"]) == ALL_TIME_SPLITS["projects"]


@pytest.mark.parametrize(
    ("params", "total", "projects", "languages"),
    [
        pytest.param(
            {"start_date": "2026-03-02", "end_date": "2026-03-02"},
            DAY1_TOTAL,
            [("web", 150), ("api", 110), ("Unknown", 20)],
            [("TypeScript", 150), ("Python", 110), ("Unknown", 20)],
            id="one-day-gap-across-midnight-excluded",
        ),
        pytest.param(
            {"start_date": "2026-03-03", "end_date": "2026-03-03"},
            DAY2_TOTAL,
            [("api", 3660), ("docs", 120)],
            [("Rust", 3660), ("Markdown", 120)],
            id="second-day",
        ),
        pytest.param(
            {"start_date": "2026-03-02", "end_date": "2026-03-03"},
            ALL_TIME_TOTAL,
            ALL_TIME_SPLITS["projects"],
            ALL_TIME_SPLITS["languages"],
            id="two-days-end-inclusive",
        ),
        pytest.param(
            {"start_date": "2026-03-04", "end_date": "2026-03-10"},
            0,
            [],
            [],
            id="empty-range",
        ),
        pytest.param(
            # 09:30Z to 10:02Z: api 09:30..10:00 is 30 gaps of 60 s, plus 10:00->10:01; the
            # docs heartbeat at 10:01 has no successor inside the range.
            {"start_date": "2026-03-03T10:30:00+01:00", "end_date": "2026-03-03T10:02:00Z"},
            1860,
            [("api", 1860)],
            [("Rust", 1860)],
            id="iso-datetimes-end-exclusive",
        ),
        pytest.param(
            {"end_date": "2026-03-02"},
            DAY1_TOTAL,
            [("web", 150), ("api", 110), ("Unknown", 20)],
            [("TypeScript", 150), ("Python", 110), ("Unknown", 20)],
            id="end-date-only",
        ),
        pytest.param(
            {"start_date": "2026-03-03"},
            DAY2_TOTAL,
            [("api", 3660), ("docs", 120)],
            [("Rust", 3660), ("Markdown", 120)],
            id="start-date-only",
        ),
    ],
)
async def test_stats_ranges(
    client: httpx.AsyncClient,
    alice: Account,
    seeded: Seeded,
    params: dict[str, str],
    total: int,
    projects: list[tuple[str, int]],
    languages: list[tuple[str, int]],
) -> None:
    body = await get_ok(client, "/api/v1/users/alice/stats", alice, **params)
    assert body["total_seconds"] == total
    assert body["data"]["total_seconds"] == total
    assert pairs(body["projects"]) == projects
    assert pairs(body["languages"]) == languages


@pytest.mark.parametrize("feature", STATS_FEATURES)
async def test_stats_each_feature(
    client: httpx.AsyncClient, alice: Account, seeded: Seeded, feature: str
) -> None:
    body = await get_ok(client, "/api/v1/users/alice/stats", alice, features=feature)
    assert pairs(body[feature]) == ALL_TIME_SPLITS[feature]
    assert pairs(body["data"][feature]) == ALL_TIME_SPLITS[feature]
    assert sum(item["seconds"] for item in body[feature]) == body["total_seconds"]
    others = set(STATS_FEATURES) - {feature}
    assert not others & set(body)


async def test_stats_all_features_at_once(
    client: httpx.AsyncClient, alice: Account, seeded: Seeded
) -> None:
    body = await get_ok(
        client, "/api/v1/users/alice/stats", alice, features=" , ".join(STATS_FEATURES)
    )
    for feature in STATS_FEATURES:
        assert pairs(body[feature]) == ALL_TIME_SPLITS[feature], feature


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param("1", 1, id="one"),
        pytest.param("2", 2, id="two"),
        pytest.param("50", 5, id="more-than-there-are"),
    ],
)
async def test_stats_limit(
    client: httpx.AsyncClient, alice: Account, seeded: Seeded, limit: str, expected: int
) -> None:
    body = await get_ok(client, "/api/v1/users/alice/stats", alice, limit=limit)
    assert pairs(body["languages"]) == ALL_TIME_SPLITS["languages"][:expected]
    assert pairs(body["projects"]) == ALL_TIME_SPLITS["projects"][:expected]
    # The total is never cut, nor the percentages.
    assert body["total_seconds"] == ALL_TIME_TOTAL
    assert body["languages"][0]["percent"] == 87.56


@pytest.mark.parametrize(
    ("params", "matching"),
    [
        pytest.param({"filter_by_project": "api"}, {"project": ["api"]}, id="one-project"),
        pytest.param(
            {"filter_by_project": "web,docs"}, {"project": ["web", "docs"]}, id="two-projects"
        ),
        pytest.param(
            {"filter_by_project": "Unknown"}, {"project": ["Unknown"]}, id="project-unknown"
        ),
        pytest.param(
            {"filter_by_category": "writing docs"},
            {"category": ["writing docs"]},
            id="category-with-space",
        ),
        pytest.param(
            {"filter_by_category": "coding,debugging"},
            {"category": ["coding", "debugging"]},
            id="two-categories",
        ),
        pytest.param(
            {"filter_by_project": "api,docs", "filter_by_category": "writing docs"},
            {"project": ["api", "docs"], "category": ["writing docs"]},
            id="project-and-category",
        ),
        pytest.param({"filter_by_project": "nothing"}, {"project": ["nothing"]}, id="no-match"),
        pytest.param(
            {"filter_by_project": " api , web ,"}, {"project": ["api", "web"]}, id="spaces-commas"
        ),
    ],
)
async def test_stats_filters_keep_the_unfiltered_credit(
    client: httpx.AsyncClient,
    alice: Account,
    seeded: Seeded,
    params: dict[str, str],
    matching: dict[str, list[str]],
) -> None:
    features = "projects,languages,categories"
    unfiltered = await get_ok(client, "/api/v1/users/alice/stats", alice, features=features)
    filtered = await get_ok(client, "/api/v1/users/alice/stats", alice, features=features, **params)
    # Filtering by project and category at once: the entries of the unfiltered split by
    # project cannot say how a project's time divides by category, so use the reference.
    rows = [
        OracleRow(beat.time_ms, heartbeat_id, {"project": beat.project, "category": beat.category})
        for heartbeat_id, beat in zip(seeded.alice_ids, alice_heartbeats(), strict=True)
    ]
    expected = reference_breakdown(rows, 0, 2**62, TIMEOUT_MS, "projects", filters=matching)
    assert filtered["total_seconds"] == expected.total_ms // 1000
    assert pairs(filtered["projects"]) == seconds_of(expected.ranked)
    if len(matching) == 1:
        ((column, values),) = matching.items()
        split = {"project": "projects", "category": "categories"}[column]
        entries = dict(pairs(unfiltered[split]))
        assert filtered["total_seconds"] == sum(entries.get(value, 0) for value in values)
    assert sum(item["seconds"] for item in filtered["languages"]) == filtered["total_seconds"]


async def test_stats_filter_by_project_splits_languages(
    client: httpx.AsyncClient, alice: Account, seeded: Seeded
) -> None:
    body = await get_ok(client, "/api/v1/users/alice/stats", alice, filter_by_project="api")
    assert body["total_seconds"] == 3890
    assert pairs(body["languages"]) == [("Rust", 3660), ("Python", 230)]
    assert pairs(body["projects"]) == [("api", 3890)]
    assert body["projects"][0]["percent"] == 100.0


@pytest.mark.parametrize(
    ("viewer", "change", "status"),
    [
        pytest.param("bob", {}, 200, id="other-user-public-target"),
        pytest.param("bob", {"trust_level": "green"}, 200, id="other-user-green-target"),
        pytest.param("bob", {"is_public": False}, 404, id="other-user-private-target"),
        pytest.param("bob", {"trust_level": "red"}, 404, id="other-user-red-target"),
        pytest.param("admin", {"is_public": False}, 200, id="admin-private-target"),
        pytest.param("admin", {"trust_level": "red"}, 200, id="admin-red-target"),
        pytest.param("alice", {"is_public": False}, 200, id="self-private"),
        pytest.param("alice", {"trust_level": "red"}, 200, id="self-red"),
    ],
)
async def test_stats_access(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    admin: Account,
    seeded: Seeded,
    viewer: str,
    change: dict[str, Any],
    status: int,
) -> None:
    if change:
        await users.update_user(db, "alice", **change)
    account = {"alice": alice, "bob": bob, "admin": admin}[viewer]
    response = await get_stats(client, account, "alice")
    if status != 200:
        assert_error(response, status)
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == "alice"
    assert body["total_seconds"] == ALL_TIME_TOTAL
    level = change.get("trust_level", "yellow")
    assert body["trust_factor"] == {
        "trust_level": level,
        "trust_value": {"yellow": 0, "red": 1, "green": 2}[level],
    }


async def test_stats_private_user_answers_as_an_unknown_one(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, seeded: Seeded
) -> None:
    await users.update_user(db, "alice", slack_uid="U024ALICE", is_public=False)
    unknown = await get_stats(client, bob, "nobody")
    assert_error(unknown, 404)
    for ident in ("alice", str(alice.user.id), "U024ALICE"):
        response = await get_stats(client, bob, ident)
        assert (response.status_code, response.content) == (404, unknown.content)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/users/{ident}/stats", id="stats"),
        pytest.param("/api/v1/users/{ident}/trust_factor", id="trust-factor"),
    ],
)
async def test_a_slack_uid_names_a_public_user_only_to_admins_and_themselves(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    admin: Account,
    seeded: Seeded,
    path: str,
) -> None:
    await users.update_user(db, "alice", slack_uid="U024ALICE")
    unknown = await client.get(path.format(ident="U000NOBODY"), headers=bob.bearer)
    by_bob = await client.get(path.format(ident="U024ALICE"), headers=bob.bearer)
    assert (by_bob.status_code, by_bob.content) == (404, unknown.content)
    assert b"alice" not in by_bob.content
    for account in (admin, alice):
        response = await client.get(path.format(ident="U024ALICE"), headers=account.bearer)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param({}, 200, id="public"),
        pytest.param({"trust_level": "red"}, 200, id="public-red"),
        pytest.param({"is_public": False}, 404, id="private"),
        pytest.param({"is_public": False, "trust_level": "green"}, 404, id="private-green"),
    ],
)
async def test_trust_factor_of_a_private_user_is_not_told(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    admin: Account,
    change: dict[str, Any],
    status: int,
) -> None:
    if change:
        await users.update_user(db, "alice", **change)
    unknown = await client.get("/api/v1/users/nobody/trust_factor", headers=bob.bearer)
    response = await client.get("/api/v1/users/alice/trust_factor", headers=bob.bearer)
    assert response.status_code == status
    if status == 404:
        assert response.content == unknown.content
    for account in (admin, alice):
        own = await client.get("/api/v1/users/alice/trust_factor", headers=account.bearer)
        assert own.status_code == 200


@pytest.mark.parametrize(
    "ident",
    [
        pytest.param("nobody", id="unknown-name"),
        pytest.param("999999", id="unknown-id"),
        pytest.param("U000NOBODY", id="unknown-slack-uid"),
    ],
)
async def test_stats_unknown_user(
    client: httpx.AsyncClient, alice: Account, admin: Account, ident: str
) -> None:
    for account in (alice, admin):
        assert_error(await get_stats(client, account, ident), 404)


async def test_stats_no_heartbeats(client: httpx.AsyncClient, alice: Account) -> None:
    body = await get_ok(client, "/api/v1/users/my/stats", alice)
    assert body["user"] == "alice"
    assert body["total_seconds"] == 0
    assert body["languages"] == []
    assert body["projects"] == []
    assert body["data"]["total_seconds"] == 0
    assert body["data"]["daily_average"] == 0
    assert body["data"]["status"] == "ok"


# --- 2. /api/v1/stats --------------------------------------------------------------------------


async def test_own_stats(client: httpx.AsyncClient, alice: Account, seeded: Seeded) -> None:
    body = await get_ok(client, "/api/v1/stats", alice)
    assert body["user"] == "alice"
    assert body["total_seconds"] == ALL_TIME_TOTAL
    assert pairs(body["projects"]) == ALL_TIME_SPLITS["projects"]
    assert pairs(body["languages"]) == ALL_TIME_SPLITS["languages"]
    assert body["data"]["status"] == "ok"
    assert body["trust_factor"] == {"trust_level": "yellow", "trust_value": 0}


async def test_own_stats_takes_the_same_parameters(
    client: httpx.AsyncClient, alice: Account, seeded: Seeded
) -> None:
    body = await get_ok(
        client,
        "/api/v1/stats",
        alice,
        start_date="2026-03-02",
        end_date="2026-03-02",
        features="editors,machines",
        limit="1",
        filter_by_category="coding",
    )
    assert body["total_seconds"] == 260
    assert pairs(body["editors"]) == [("vscode", 150)]
    assert pairs(body["machines"]) == [("laptop", 150)]
    assert "languages" not in body


async def test_own_stats_of_bob_never_includes_alice(
    client: httpx.AsyncClient, bob: Account, seeded: Seeded
) -> None:
    body = await get_ok(client, "/api/v1/stats", bob)
    assert body["user"] == "bob"
    # Bob: gaps 15, 30, 15, 120 on day 1, then 120 across to day 2.
    assert body["total_seconds"] == 300
    assert pairs(body["projects"]) == [("bob-secret", 300)]


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"username": "alice"}, id="username"),
        pytest.param({"user_email": "alice@example.com"}, id="user-email"),
    ],
)
async def test_own_stats_admin_asks_for_another_user(
    client: httpx.AsyncClient, admin: Account, seeded: Seeded, params: dict[str, str]
) -> None:
    body = await get_ok(client, "/api/v1/stats", admin, **params)
    assert body["user"] == "alice"
    assert body["total_seconds"] == ALL_TIME_TOTAL
    assert pairs(body["projects"]) == ALL_TIME_SPLITS["projects"]


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"username": "nobody"}, id="username"),
        pytest.param({"user_email": "nobody@example.com"}, id="user-email"),
    ],
)
async def test_own_stats_admin_unknown_user(
    client: httpx.AsyncClient, admin: Account, params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/stats", params=params, headers=admin.bearer)
    assert_error(response, 404)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"username": "alice"}, id="username"),
        pytest.param({"user_email": "alice@example.com"}, id="user-email"),
    ],
)
async def test_own_stats_non_admin_may_not_ask_for_another_user(
    client: httpx.AsyncClient, bob: Account, seeded: Seeded, params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/stats", params=params, headers=bob.bearer)
    assert_error(response, 403)


# --- 3. /api/v1/my/heartbeats ------------------------------------------------------------------


async def test_my_heartbeats_all(client: httpx.AsyncClient, alice: Account, seeded: Seeded) -> None:
    body = await get_ok(client, "/api/v1/my/heartbeats", alice)
    beats = body["heartbeats"]
    assert [beat["id"] for beat in beats] == seeded.alice_ids
    assert [beat["time"] for beat in beats] == [beat.time_ms / 1000 for beat in alice_heartbeats()]
    assert body["total_seconds"] == ALL_TIME_TOTAL
    assert body["next"] is None
    for beat in beats:
        assert set(beat) >= HEARTBEAT_FIELDS

    first = beats[0]
    created_at = first.pop("created_at")
    assert {key: first[key] for key in HEARTBEAT_FIELDS - {"created_at"}} == {
        "id": seeded.alice_ids[0],
        "time": 1772445600,
        "entity": "/home/alice/api/app.py",
        "type": "file",
        "category": "coding",
        "project": "api",
        "branch": "main",
        "language": "Python",
        "editor": "vim",
        "operating_system": "Linux",
        "machine": "pi",
        "is_write": True,
        "lineno": 12,
        "cursorpos": 340,
        "lines": 200,
        "dependencies": ["requests", "orjson"],
        "user_agent": VIM_AGENT,
    }
    assert datetime.fromisoformat(created_at).tzinfo is not None
    bare = beats[5]
    assert (bare["project"], bare["language"], bare["category"]) == (None, None, "debugging")


async def test_my_heartbeats_only_the_callers(
    client: httpx.AsyncClient, alice: Account, bob: Account, seeded: Seeded
) -> None:
    alice_body = await get_ok(client, "/api/v1/my/heartbeats", alice)
    bob_body = await get_ok(client, "/api/v1/my/heartbeats", bob)
    assert [beat["id"] for beat in alice_body["heartbeats"]] == seeded.alice_ids
    assert [beat["id"] for beat in bob_body["heartbeats"]] == seeded.bob_ids
    assert {beat["project"] for beat in bob_body["heartbeats"]} == {"bob-secret"}
    assert bob_body["total_seconds"] == 300


_DAY1_START_S = utc_ms(2026, 3, 2) // 1000
_DAY1_END_S = utc_ms(2026, 3, 3) // 1000


@pytest.mark.parametrize(
    ("params", "day"),
    [
        pytest.param({"start": "2026-03-02", "end": "2026-03-02"}, 1, id="dates-end-inclusive"),
        pytest.param(
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}, 1, id="iso-utc"
        ),
        pytest.param(
            {"start": "2026-03-02T01:00:00+01:00", "end": "2026-03-02T19:00:00-05:00"},
            1,
            id="iso-offsets",
        ),
        pytest.param({"start": str(_DAY1_START_S), "end": str(_DAY1_END_S)}, 1, id="epoch-seconds"),
        pytest.param(
            {"start_time": str(_DAY1_START_S), "end_time": str(_DAY1_END_S)},
            1,
            id="start-time-end-time-epoch",
        ),
        pytest.param(
            {"start_time": "2026-03-02", "end_time": "2026-03-02"},
            1,
            id="start-time-end-time-dates",
        ),
        pytest.param({"end": "2026-03-02"}, 1, id="end-only"),
        pytest.param({"start": "2026-03-03"}, 2, id="start-only"),
        pytest.param({"start": "2026-03-03", "end": "2026-03-03"}, 2, id="second-day"),
    ],
)
async def test_my_heartbeats_range(
    client: httpx.AsyncClient,
    alice: Account,
    seeded: Seeded,
    params: dict[str, str],
    day: int,
) -> None:
    body = await get_ok(client, "/api/v1/my/heartbeats", alice, **params)
    ids, total = (seeded.day1_ids, DAY1_TOTAL) if day == 1 else (seeded.day2_ids, DAY2_TOTAL)
    assert [beat["id"] for beat in body["heartbeats"]] == ids
    assert body["total_seconds"] == total
    assert body["next"] is None


async def test_my_heartbeats_empty_range(
    client: httpx.AsyncClient, alice: Account, seeded: Seeded
) -> None:
    body = await get_ok(
        client, "/api/v1/my/heartbeats", alice, start="2026-03-05", end="2026-03-06"
    )
    assert body["heartbeats"] == []
    assert body["total_seconds"] == 0
    assert body["next"] is None


@pytest.mark.parametrize(
    ("limit", "page_size"),
    [
        pytest.param(None, 100, id="default-100"),
        pytest.param("100", 100, id="exactly-100"),
        pytest.param("101", 100, id="capped-just-over"),
        pytest.param("5000", 100, id="capped-far-over"),
        pytest.param("10", 10, id="ten"),
        pytest.param("1", 1, id="one"),
    ],
)
async def test_my_heartbeats_limit(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    limit: str | None,
    page_size: int,
) -> None:
    start = utc_ms(2026, 3, 10)
    ids = await store(
        db,
        alice,
        [_beat(start + n * 30_000, f"/src/f{n}.py", {"project": "p"}) for n in range(150)],
    )
    params = {} if limit is None else {"limit": limit}
    body = await get_ok(client, "/api/v1/my/heartbeats", alice, **params)
    assert [beat["id"] for beat in body["heartbeats"]] == ids[:page_size]
    assert body["next"] is not None
    assert body["total_seconds"] == 149 * 30


async def follow_pages(
    client: httpx.AsyncClient, account: Account, **params: str
) -> tuple[list[dict[str, Any]], list[float]]:
    """Every heartbeat reached by following `next`, and each page's total_seconds."""
    body = await get_ok(client, "/api/v1/my/heartbeats", account, **params)
    beats, totals = list(body["heartbeats"]), [body["total_seconds"]]
    for _ in range(1000):
        if body["next"] is None:
            break
        response = await client.get(body["next"], headers=account.bearer)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["heartbeats"], "a `next` link led to an empty page"
        beats.extend(body["heartbeats"])
        totals.append(body["total_seconds"])
    else:
        raise AssertionError("`next` links never ended")
    return beats, totals


@pytest.mark.parametrize(
    "limit",
    [
        pytest.param("100", id="pages-of-100"),
        pytest.param("7", id="pages-of-7"),
        pytest.param("250", id="capped-pages"),
    ],
)
async def test_my_heartbeats_next_reaches_each_once_with_shared_timestamp(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, limit: str
) -> None:
    crowd = utc_ms(2026, 3, 5, 12)
    before = [
        _beat(crowd - n * 60_000, f"/src/before{n}.py", {"project": "p"}) for n in range(1, 11)
    ]
    same = [_beat(crowd, f"/src/same{n}.py", {"project": "crowd"}) for n in range(250)]
    after = [_beat(crowd + n * 60_000, f"/src/after{n}.py", {"project": "p"}) for n in range(1, 11)]
    outside = [
        _beat(utc_ms(2026, 3, 4, 23, 59, 59), "/src/eve.py", {"project": "p"}),
        _beat(utc_ms(2026, 3, 6), "/src/morning.py", {"project": "p"}),
    ]
    # Stored out of order, as offline queues replay them.
    inside_ids = await store(db, alice, after + same)
    inside_ids += await store(db, alice, before)
    await store(db, alice, outside)
    await store(db, bob, [_beat(crowd, f"/bob/same{n}.py", {}) for n in range(250)])

    beats, totals = await follow_pages(
        client, alice, start="2026-03-05", end="2026-03-05", limit=limit
    )

    returned = [beat["id"] for beat in beats]
    assert len(returned) == len(set(returned)) == 270
    assert set(returned) == set(inside_ids)
    keys = [(beat["time"], beat["id"]) for beat in beats]
    assert keys == sorted(keys)
    # 10 minutes before the crowd and 10 after: the 250 shared timestamps add nothing.
    assert set(totals) == {1200}
    rows = [OracleRow(beat["time_ms"], beat["id"], {}) for beat in await _rows(db, alice.user.id)]
    reference = reference_breakdown(rows, utc_ms(2026, 3, 5), utc_ms(2026, 3, 6), TIMEOUT_MS)
    assert reference.total_ms == 1_200_000


async def _rows(db: Database, user_id: int) -> list[dict[str, Any]]:
    rows = await db.fetch_all("SELECT id, time_ms FROM heartbeats WHERE user_id = ?", (user_id,))
    return [dict(row) for row in rows]


@pytest.mark.parametrize(
    "key_name", [pytest.param("api_key", id="api-key"), pytest.param("API_KEY", id="upper-case")]
)
async def test_my_heartbeats_next_never_carries_the_key_or_the_host(
    client: httpx.AsyncClient, db: Database, alice: Account, key_name: str
) -> None:
    """`next` is relative to the server (a forged Host header never reaches it) and holds no
    key: a curl user authenticating with ?api_key= sends it again with the next request."""
    start = utc_ms(2026, 3, 10)
    ids = await store(db, alice, [_beat(start + n, f"/f{n}", {}) for n in range(5)])
    headers = {"Host": "evil.example"}
    response = await client.get(
        "/api/v1/my/heartbeats",
        params={"api_key": alice.key, key_name: alice.key, "limit": "2"},
        headers=headers,
    )
    seen, links = [], []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [beat["id"] for beat in body["heartbeats"]]
        if body["next"] is None:
            break
        links.append(body["next"])
        response = await client.get(f"{body['next']}&api_key={alice.key}", headers=headers)
    assert seen == ids
    assert len(links) == 2
    for link in links:
        assert link.startswith("/api/v1/my/heartbeats?limit=2&cursor=")
        assert alice.key not in link
        assert "evil" not in link


# --- 4. /api/v1/my/heartbeats/most_recent ------------------------------------------------------


@pytest.fixture
async def two_editors(client: httpx.AsyncClient, alice: Account, bob: Account) -> dict[str, float]:
    now = now_ms() / 1000
    times = {"vim": now - 305, "vscode": now - 125}
    for editor, agent in (("vim", VIM_AGENT), ("vscode", VSCODE_AGENT)):
        response = await post_heartbeats(
            client,
            alice,
            [{"entity": f"/home/alice/{editor}.py", "time": times[editor], "project": "api"}],
            headers={"User-Agent": agent},
        )
        assert response.status_code == 201, response.text
    # Bob's heartbeat is newer than both: alice must never see it.
    response = await post_heartbeats(
        client,
        bob,
        [{"entity": "/home/bob/x.py", "time": now - 5, "project": "bob-secret"}],
        headers={"User-Agent": VIM_AGENT},
    )
    assert response.status_code == 201, response.text
    return times


@pytest.mark.parametrize(
    ("editor", "expected", "time_ago"),
    [
        pytest.param(None, "vscode", "2 minutes ago", id="no-filter-latest"),
        pytest.param("vim", "vim", "5 minutes ago", id="vim"),
        pytest.param("VIM", "vim", "5 minutes ago", id="vim-upper-case"),
        pytest.param("VSCode", "vscode", "2 minutes ago", id="vscode-mixed-case"),
    ],
)
async def test_most_recent(
    client: httpx.AsyncClient,
    alice: Account,
    two_editors: dict[str, float],
    editor: str | None,
    expected: str,
    time_ago: str,
) -> None:
    params = {} if editor is None else {"editor": editor}
    body = await get_ok(client, "/api/v1/my/heartbeats/most_recent", alice, **params)
    assert set(body) >= {"has_heartbeat", "heartbeat", "editor", "time_ago"}
    assert body["has_heartbeat"] is True
    assert body["editor"] == expected
    assert body["time_ago"] == time_ago
    beat = body["heartbeat"]
    assert set(beat) >= HEARTBEAT_FIELDS
    assert beat["entity"] == f"/home/alice/{expected}.py"
    assert beat["editor"] == expected
    assert beat["time"] == pytest.approx(two_editors[expected], abs=0.001)
    assert beat["project"] == "api"
    agent, system = (VIM_AGENT, "Linux") if expected == "vim" else (VSCODE_AGENT, "macOS")
    assert beat["user_agent"] == agent
    assert beat["operating_system"] == system


async def test_most_recent_unknown_editor(
    client: httpx.AsyncClient, alice: Account, two_editors: dict[str, float]
) -> None:
    body = await get_ok(client, "/api/v1/my/heartbeats/most_recent", alice, editor="emacs")
    assert body["has_heartbeat"] is False
    assert body["heartbeat"] is None


async def test_most_recent_without_heartbeats(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    await post_heartbeats(client, bob, [{"entity": "/x.py", "time": now_ms() / 1000}])
    body = await get_ok(client, "/api/v1/my/heartbeats/most_recent", alice)
    assert body["has_heartbeat"] is False
    assert body["heartbeat"] is None
    assert set(body) >= {"has_heartbeat", "heartbeat", "editor", "time_ago"}


# --- 5. lookups --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("alice@example.com", id="exact"),
        pytest.param("ALICE@Example.COM", id="other-case"),
    ],
)
async def test_lookup_email(
    client: httpx.AsyncClient, alice: Account, admin: Account, email: str
) -> None:
    body = await get_ok(client, f"/api/v1/users/lookup_email/{email}", admin)
    assert body == {"user_id": alice.user.id, "username": "alice", "email": "alice@example.com"}


async def test_lookup_slack_uid(
    client: httpx.AsyncClient, db: Database, alice: Account, admin: Account
) -> None:
    await users.update_user(db, "alice", slack_uid="U024ALICE")
    body = await get_ok(client, "/api/v1/users/lookup_slack_uid/U024ALICE", admin)
    assert body == {"user_id": alice.user.id, "username": "alice", "slack_uid": "U024ALICE"}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/users/lookup_email/alice@example.com", id="email-other-user"),
        pytest.param("/api/v1/users/lookup_email/bob@example.com", id="email-own"),
        pytest.param("/api/v1/users/lookup_email/nobody@example.com", id="email-unknown"),
        pytest.param("/api/v1/users/lookup_slack_uid/U024ALICE", id="slack-other-user"),
        pytest.param("/api/v1/users/lookup_slack_uid/U000NOBODY", id="slack-unknown"),
    ],
)
async def test_lookups_need_admin(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, path: str
) -> None:
    await users.update_user(db, "alice", slack_uid="U024ALICE")
    assert_error(await client.get(path, headers=bob.bearer), 403)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/users/lookup_email/nobody@example.com", id="email"),
        pytest.param("/api/v1/users/lookup_slack_uid/U000NOBODY", id="slack-uid"),
    ],
)
async def test_lookups_not_found(client: httpx.AsyncClient, admin: Account, path: str) -> None:
    response = await client.get(path, headers=admin.bearer)
    assert response.status_code == 404
    assert response.json() == {"error": "User not found"}


# --- 6. trust factor ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        pytest.param(None, {"trust_level": "yellow", "trust_value": 0}, id="default-yellow"),
        pytest.param("yellow", {"trust_level": "yellow", "trust_value": 0}, id="yellow"),
        pytest.param("red", {"trust_level": "red", "trust_value": 1}, id="red"),
        pytest.param("green", {"trust_level": "green", "trust_value": 2}, id="green"),
    ],
)
async def test_trust_factor(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    level: str | None,
    expected: dict[str, Any],
) -> None:
    if level is not None:
        await users.update_user(db, "alice", trust_level=level)
    assert await get_ok(client, "/api/v1/users/alice/trust_factor", bob) == expected
    assert await get_ok(client, f"/api/v1/users/{alice.user.id}/trust_factor", bob) == expected
    assert await get_ok(client, "/api/v1/users/my/trust_factor", alice) == expected
    assert await get_ok(client, "/api/v1/users/current/trust_factor", alice) == expected


async def test_trust_factor_unknown_user(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get("/api/v1/users/nobody/trust_factor", headers=alice.bearer)
    assert_error(response, 404)


# --- 7. errors ---------------------------------------------------------------------------------

ROUTES = [
    pytest.param("/api/v1/users/alice/stats", id="user-stats"),
    pytest.param("/api/v1/users/my/stats", id="my-stats"),
    pytest.param("/api/v1/stats", id="own-stats"),
    pytest.param("/api/v1/my/heartbeats", id="my-heartbeats"),
    pytest.param("/api/v1/my/heartbeats/most_recent", id="most-recent"),
    pytest.param("/api/v1/users/lookup_email/alice@example.com", id="lookup-email"),
    pytest.param("/api/v1/users/lookup_slack_uid/U024ALICE", id="lookup-slack-uid"),
    pytest.param("/api/v1/users/alice/trust_factor", id="trust-factor"),
]

BAD_AUTH = [
    pytest.param({}, {}, id="no-key"),
    pytest.param(
        {"Authorization": "Bearer 9b2f0a8e-3c1d-4e5f-8a9b-0c1d2e3f4a5b"}, {}, id="unknown-bearer"
    ),
    pytest.param({"Authorization": "Basic bm90LWEta2V5"}, {}, id="unknown-basic"),
    pytest.param({"Authorization": "Basic !!!"}, {}, id="garbled-basic"),
    pytest.param({}, {"api_key": "not-a-key"}, id="unknown-query-key"),
]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(("headers", "params"), BAD_AUTH)
async def test_every_route_needs_a_key(
    client: httpx.AsyncClient,
    admin: Account,
    seeded: Seeded,
    path: str,
    headers: dict[str, str],
    params: dict[str, str],
) -> None:
    response = await client.get(path, headers=headers, params=params)
    if path == "/api/v1/users/alice/stats" and not headers and not params:
        # README cards read a public user's stats with no key: tests/test_public_stats.py.
        assert response.status_code == 200
    else:
        assert_error(response, 401)


@pytest.mark.parametrize("path", ROUTES)
async def test_every_route_takes_each_key_form(
    client: httpx.AsyncClient, db: Database, admin: Account, alice: Account, path: str
) -> None:
    await users.update_user(db, "alice", slack_uid="U024ALICE")
    for headers, params in (
        (admin.bearer, {}),
        (admin.basic, {}),
        ({}, {"api_key": admin.key}),
    ):
        response = await client.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text


USER_STATS = "/api/v1/users/my/stats"
OWN_STATS = "/api/v1/stats"
HEARTBEATS = "/api/v1/my/heartbeats"

BAD_PARAMS = [
    pytest.param(USER_STATS, {"start_date": "2026-02-30"}, "start_date", id="stats-no-such-day"),
    pytest.param(USER_STATS, {"end_date": "yesterday"}, "end_date", id="stats-word-date"),
    pytest.param(USER_STATS, {"start_date": "03/02/2026"}, "start_date", id="stats-us-date"),
    pytest.param(
        USER_STATS,
        {"start_date": "2026-03-05", "end_date": "2026-03-01"},
        "start_date",
        id="stats-start-after-end",
    ),
    pytest.param(
        USER_STATS,
        {"start_date": "2026-03-02T10:00:00Z", "end_date": "2026-03-02T09:00:00Z"},
        "start_date",
        id="stats-start-after-end-datetimes",
    ),
    pytest.param(USER_STATS, {"features": "languages,colours"}, "features", id="stats-feature"),
    pytest.param(USER_STATS, {"features": "branches"}, "features", id="stats-feature-branches"),
    pytest.param(USER_STATS, {"limit": "0"}, "limit", id="stats-limit-zero"),
    pytest.param(USER_STATS, {"limit": "-1"}, "limit", id="stats-limit-negative"),
    pytest.param(USER_STATS, {"limit": "abc"}, "limit", id="stats-limit-word"),
    pytest.param(USER_STATS, {"limit": "1.5"}, "limit", id="stats-limit-fraction"),
    pytest.param(USER_STATS, {"limit": "\u00b2"}, "limit", id="stats-limit-superscript-two"),
    pytest.param(OWN_STATS, {"start_date": "2026-3-2"}, "start_date", id="own-stats-date"),
    pytest.param(OWN_STATS, {"end_date": "2026-03-02T25:00"}, "end_date", id="own-stats-hour"),
    pytest.param(OWN_STATS, {"features": "keyboards"}, "features", id="own-stats-feature"),
    pytest.param(OWN_STATS, {"limit": "abc"}, "limit", id="own-stats-limit"),
    pytest.param(HEARTBEATS, {"start": "soon"}, "start", id="heartbeats-start-word"),
    pytest.param(HEARTBEATS, {"end": "2026-13-01"}, "end", id="heartbeats-end-month-13"),
    pytest.param(HEARTBEATS, {"start_time": "nope"}, "start_time", id="heartbeats-start-time"),
    pytest.param(HEARTBEATS, {"end_time": "nan"}, "end_time", id="heartbeats-end-time-nan"),
    pytest.param(HEARTBEATS, {"end": "inf"}, "end", id="heartbeats-end-infinite"),
    pytest.param(
        HEARTBEATS,
        {"start": "2026-03-05", "end": "2026-03-01"},
        "start",
        id="heartbeats-start-after-end",
    ),
    pytest.param(
        HEARTBEATS,
        {"start_time": "1772500000", "end_time": "1772400000"},
        "start_time",
        id="heartbeats-start-time-after-end-time",
    ),
    pytest.param(HEARTBEATS, {"limit": "0"}, "limit", id="heartbeats-limit-zero"),
    pytest.param(HEARTBEATS, {"limit": "-1"}, "limit", id="heartbeats-limit-negative"),
    pytest.param(HEARTBEATS, {"limit": "abc"}, "limit", id="heartbeats-limit-word"),
    pytest.param(HEARTBEATS, {"limit": "\u00b2"}, "limit", id="heartbeats-limit-superscript"),
    pytest.param(HEARTBEATS, {"cursor": "garbage"}, "cursor", id="heartbeats-cursor-garbage"),
    pytest.param(
        HEARTBEATS,
        {"cursor": "99999999999999999999999.1"},
        "cursor",
        id="heartbeats-cursor-out-of-range",
    ),
]


@pytest.mark.parametrize(("path", "params", "name"), BAD_PARAMS)
async def test_bad_parameters(
    client: httpx.AsyncClient,
    alice: Account,
    seeded: Seeded,
    path: str,
    params: dict[str, str],
    name: str,
) -> None:
    response = await client.get(path, params=params, headers=alice.bearer)
    assert name in assert_error(response, 400)


@pytest.mark.parametrize(
    ("path", "params", "names"),
    [
        pytest.param(USER_STATS, {"end_date": "9999-12-31"}, ("end_date",), id="stats-last-date"),
        pytest.param(
            USER_STATS,
            {"start_date": "0001-01-01", "end_date": "2026-03-03"},
            ("start_date",),
            id="stats-first-date",
        ),
        pytest.param(
            USER_STATS, {"start_date": "9999-12-31"}, ("start_date",), id="stats-far-start"
        ),
        pytest.param(HEARTBEATS, {"end": "9999-12-31"}, ("end",), id="heartbeats-last-date"),
        pytest.param(HEARTBEATS, {"start": "99999999999"}, ("start",), id="heartbeats-far-epoch"),
    ],
)
async def test_extreme_dates_never_500(
    client: httpx.AsyncClient,
    alice: Account,
    seeded: Seeded,
    path: str,
    params: dict[str, str],
    names: tuple[str, ...],
) -> None:
    """Valid but extreme values: answered (200) or refused naming the parameter (400)."""
    response = await client.get(path, params=params, headers=alice.bearer)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        message = assert_error(response, 400)
        assert any(name in message for name in names)


# --- 8. time zones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "hours"),
    [
        pytest.param(
            "America/New_York",
            "2026-03-08",
            utc_ms(2026, 3, 8, 5),
            utc_ms(2026, 3, 9, 4),
            23,
            id="new-york-spring-forward-23h",
        ),
        pytest.param(
            "America/New_York",
            "2026-11-01",
            utc_ms(2026, 11, 1, 4),
            utc_ms(2026, 11, 2, 5),
            25,
            id="new-york-fall-back-25h",
        ),
        pytest.param(
            "America/New_York",
            "2026-03-07",
            utc_ms(2026, 3, 7, 5),
            utc_ms(2026, 3, 8, 5),
            24,
            id="new-york-ordinary-day",
        ),
        pytest.param(
            "Asia/Kolkata",
            "2026-03-08",
            utc_ms(2026, 3, 7, 18, 30),
            utc_ms(2026, 3, 8, 18, 30),
            24,
            id="kolkata-starts-1830-utc-day-before",
        ),
    ],
)
async def test_day_in_the_target_users_zone(
    client: httpx.AsyncClient,
    db: Database,
    bob: Account,
    admin: Account,
    zone: str,
    day: str,
    start: int,
    end: int,
    hours: int,
) -> None:
    user, key = await users.create_user(db, "zoned", timezone=zone)
    zoned = Account(user, key)
    # A heartbeat every 60 s from half an hour before the local day to half an hour after it.
    times = range(start - 1_800_000, end + 1_800_000 + 1, 60_000)
    ids = await store(db, zoned, [_beat(t, f"/z/{t}", {"project": "tz"}) for t in times])
    rows = [OracleRow(t, i, {"project": "tz"}) for t, i in zip(times, ids, strict=True)]
    expected = reference_breakdown(rows, start, end, TIMEOUT_MS, "projects")
    # The first heartbeat of the day adds nothing; every later one adds 60 s.
    assert expected.total_ms == hours * 3_600_000 - 60_000
    expected_seconds = expected.total_ms // 1000

    # Bob and the admin live in UTC: the range is still resolved in the target's zone.
    for viewer, ident in ((zoned, "my"), (bob, "zoned"), (admin, str(user.id))):
        for params in (
            {"start_date": day, "end_date": day},
            {"start_date": f"{day}T00:00:00", "end_date": _next_day(day) + "T00:00:00"},
        ):
            response = await get_stats(client, viewer, ident, **params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["total_seconds"] == expected_seconds, (ident, params)
            assert pairs(body["projects"]) == [("tz", expected_seconds)]
            assert instant_ms(body["data"]["start"]) == start
            assert instant_ms(body["data"]["end"]) == end

    admin_view = await get_ok(
        client, "/api/v1/stats", admin, username="zoned", start_date=day, end_date=day
    )
    assert admin_view["total_seconds"] == expected_seconds

    # my/heartbeats resolves dates in the caller's own zone.
    body = await get_ok(client, "/api/v1/my/heartbeats", zoned, start=day, end=day)
    assert body["total_seconds"] == expected.total_ms / 1000
    assert body["heartbeats"][0]["time"] == start / 1000
    assert len(body["heartbeats"]) == 100
    beats, _ = await follow_pages(client, zoned, start=day, end=day)
    assert beats[-1]["time"] == (end - 60_000) / 1000
    assert len(beats) == hours * 60


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


async def test_dates_follow_the_target_not_the_viewer(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    """Alice (UTC) asks about a Kolkata user: 2026-03-08 is the Kolkata day, not the UTC day."""
    user, key = await users.create_user(db, "priya", timezone="Asia/Kolkata")
    priya = Account(user, key)
    await store(
        db,
        priya,
        [
            # 18:00 and 18:29 UTC on the 7th are the 7th in Kolkata (23:30, 23:59 IST).
            _beat(utc_ms(2026, 3, 7, 18), "/a", {"project": "evening"}),
            _beat(utc_ms(2026, 3, 7, 18, 29), "/b", {"project": "evening"}),
            # 18:30 UTC is midnight in Kolkata: the 8th starts here.
            _beat(utc_ms(2026, 3, 7, 18, 30), "/c", {"project": "night"}),
            _beat(utc_ms(2026, 3, 7, 18, 31), "/d", {"project": "night"}),
            _beat(utc_ms(2026, 3, 7, 18, 32), "/e", {"project": "night"}),
        ],
    )
    body = await get_ok(
        client, "/api/v1/users/priya/stats", alice, start_date="2026-03-08", end_date="2026-03-08"
    )
    assert body["total_seconds"] == 120
    assert pairs(body["projects"]) == [("night", 120)]
    body = await get_ok(
        client, "/api/v1/users/priya/stats", alice, start_date="2026-03-07", end_date="2026-03-07"
    )
    # 18:00 -> 18:29 is 29 minutes: the timeout caps it at 120 s; 18:29 -> 18:30 crosses midnight.
    assert body["total_seconds"] == 120
    assert pairs(body["projects"]) == [("evening", 120)]


# --- 9. the rule, on random data ---------------------------------------------------------------

BASE_MS = utc_ms(2026, 3, 7)  # New York's spring-forward day falls inside the window
BASE_DAY = date(2026, 3, 7)
_PROJECTS = ("api", "web", "docs", None)
_LANGUAGES = ("Python", "Rust", "Go", None)
_CATEGORIES = ("coding", "debugging", "writing docs")
_ZONES = ("UTC", "America/New_York", "Asia/Kolkata")


@dataclass(frozen=True)
class Scenario:
    beats: list[Heartbeat]
    insert_order: list[int]
    batch_size: int
    zone: str
    stats_params: dict[str, str]
    heartbeat_params: dict[str, str]
    start_ms: int
    end_ms: int
    filters: dict[str, list[str]]


def _iso_z(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    count = draw(st.integers(0, 40))
    step = st.one_of(st.just(0), st.integers(1, TIMEOUT_MS + 30_000), st.integers(1, 14_400_000))
    moment = BASE_MS + draw(st.integers(-3 * 3_600_000, 30 * 3_600_000))
    beats = []
    for index in range(count):
        moment += draw(step)
        beats.append(
            Heartbeat(
                time_ms=moment,
                entity=f"/src/file-{index}",
                type="file",
                category=draw(st.sampled_from(_CATEGORIES)),
                project=draw(st.sampled_from(_PROJECTS)),
                language=draw(st.sampled_from(_LANGUAGES)),
            )
        )
    insert_order = draw(st.permutations(range(count)))
    batch_size = draw(st.integers(1, max(1, count)))
    zone = draw(st.sampled_from(_ZONES))

    modes = ("all-time", "dates", "datetimes", "end-date-only", "start-date-only")
    mode = draw(st.sampled_from(modes))
    if mode == "all-time":
        stats_params: dict[str, str] = {}
        heartbeat_params: dict[str, str] = {}
        start_ms, end_ms = 0, 2**62
    elif mode == "start-date-only":
        first = BASE_DAY + timedelta(days=draw(st.integers(-1, 3)))
        start_ms, end_ms = local_midnight_ms(first, zone), 2**62
        stats_params = {"start_date": first.isoformat()}
        heartbeat_params = {"start_time": first.isoformat()}
    elif mode in ("dates", "end-date-only"):
        first = BASE_DAY + timedelta(days=draw(st.integers(-1, 3)))
        last = first + timedelta(days=draw(st.integers(0, 2)))
        end_ms = local_midnight_ms(last + timedelta(days=1), zone)
        if mode == "dates":
            start_ms = local_midnight_ms(first, zone)
            stats_params = {"start_date": first.isoformat(), "end_date": last.isoformat()}
            heartbeat_params = {"start": first.isoformat(), "end": last.isoformat()}
        else:
            start_ms = 0
            stats_params = {"end_date": last.isoformat()}
            heartbeat_params = {"end_time": last.isoformat()}
    else:
        start_ms = BASE_MS + draw(st.integers(-3_600, 3 * 86_400)) * 1000
        end_ms = start_ms + draw(st.integers(0, 2 * 86_400)) * 1000
        stats_params = {"start_date": _iso_z(start_ms), "end_date": _iso_z(end_ms)}
        heartbeat_params = {"start": str(start_ms // 1000), "end": str(end_ms // 1000)}

    filters = {}
    projects = draw(st.lists(st.sampled_from(("api", "web", "docs", "Unknown")), unique=True))
    if projects:
        filters["project"] = projects
    categories = draw(st.lists(st.sampled_from(_CATEGORIES), unique=True, max_size=2))
    if categories:
        filters["category"] = categories
    return Scenario(
        beats,
        list(insert_order),
        batch_size,
        zone,
        stats_params,
        heartbeat_params,
        start_ms,
        end_ms,
        filters,
    )


async def _check_scenario(scenario: Scenario) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        application = create_app(
            Settings(
                db_path=Path(tmp) / "hackatime.db", default_timezone="UTC", create_first_user=False
            )
        )
        async with application.router.lifespan_context(application):
            db: Database = application.state.db
            user, key = await users.create_user(db, "alice", timezone=scenario.zone)
            account = Account(user, key)
            rows: list[OracleRow] = []
            order = scenario.insert_order
            for first in range(0, len(order), scenario.batch_size):
                batch = [
                    scenario.beats[index] for index in order[first : first + scenario.batch_size]
                ]
                resolved = await ingest.store(db, user.id, batch)
                ids = await ingest.stored_ids(db, user.id, resolved)
                for heartbeat_id, stored in zip(ids, resolved, strict=True):
                    fields = {
                        "project": stored.project,
                        "language": stored.language,
                        "category": stored.category,
                    }
                    rows.append(OracleRow(stored.time_ms, heartbeat_id, fields))
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                await _compare(http, account, scenario, rows)


async def _compare(
    http: httpx.AsyncClient, account: Account, scenario: Scenario, rows: list[OracleRow]
) -> None:
    def reference(dimension: str | None, filters: Mapping[str, Sequence[str]] | None = None) -> Any:
        return reference_breakdown(
            rows, scenario.start_ms, scenario.end_ms, TIMEOUT_MS, dimension, filters
        )

    features = "projects,languages,categories"
    for path in ("/api/v1/users/my/stats", "/api/v1/stats"):
        body = await get_ok(http, path, account, features=features, **scenario.stats_params)
        whole = reference("projects")
        assert body["total_seconds"] == whole.total_ms // 1000
        assert body["data"]["total_seconds"] == whole.total_ms / 1000
        for name, column in (("projects", "project"), ("languages", "language")):
            expected = reference(name)
            assert pairs(body[name]) == seconds_of(expected.ranked), name
            for item in body[name]:
                share = expected.split[item["name"]] * 100 / expected.total_ms
                assert abs(item["percent"] - share) <= 0.005 + 1e-9, (column, item)
        assert pairs(body["categories"]) == seconds_of(reference("categories").ranked)

    if scenario.filters:
        params = {
            {"project": "filter_by_project", "category": "filter_by_category"}[column]: ",".join(
                values
            )
            for column, values in scenario.filters.items()
        }
        body = await get_ok(
            http,
            "/api/v1/users/my/stats",
            account,
            features=features,
            **scenario.stats_params,
            **params,
        )
        for name in ("projects", "languages", "categories"):
            expected = reference(name, scenario.filters)
            assert body["total_seconds"] == expected.total_ms // 1000
            assert pairs(body[name]) == seconds_of(expected.ranked), name

    body = await get_ok(http, "/api/v1/my/heartbeats", account, **scenario.heartbeat_params)
    assert body["total_seconds"] == reference(None).total_ms / 1000
    inside = sorted(
        (row for row in rows if scenario.start_ms <= row.time_ms < scenario.end_ms),
        key=lambda row: (row.time_ms, row.id),
    )
    assert [beat["id"] for beat in body["heartbeats"]] == [row.id for row in inside]
    assert body["next"] is None


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_endpoints_follow_the_rule_on_random_heartbeats(scenario: Scenario) -> None:
    asyncio.run(_check_scenario(scenario))
