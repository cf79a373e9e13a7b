"""WakaTime's reporting endpoints: summaries, stats, all_time_since_today and leaders."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx
import pytest

from hackatime import users
from hackatime.config import Settings
from hackatime.db import Database
from hackatime.summaries import clock, decimal_hours, human_text
from tests.conftest import Account, Clock
from tests.helpers import (
    API_BASES,
    HOUR,
    MINUTE,
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
from tests.oracle import OracleRow, ReferenceBreakdown, load_rows, reference_breakdown

# The app's clock in this module's tests (see the `clock` fixture): no test depends on the hour
# it runs at.
PINNED_S = 1_773_140_400.0  # 2026-03-10T11:00:00Z


@pytest.fixture(autouse=True)
def pinned_clock(clock: Clock) -> None:
    clock.now_s = PINNED_S


TIMEOUT_MS = 120 * SECOND
LIST_DIMENSIONS = (
    "categories",
    "projects",
    "languages",
    "editors",
    "operating_systems",
    "machines",
)


def brief(items: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(item["name"], item["total_seconds"]) for item in items]


def ranked_seconds(split: list[tuple[str, int]]) -> list[tuple[str, float]]:
    return [(name, ms / 1000) for name, ms in split]


def last_second(day: date, zone: str) -> str:
    """WakaTime's `end`: the last second of the day."""
    return iso_z(day_start_ms(day + timedelta(days=1), zone) - SECOND)


async def assert_bad_request(
    client: httpx.AsyncClient, account: Account, path: str, params: dict[str, str]
) -> None:
    response = await client.get(path, params=params, headers=account.bearer)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)


# --- summaries -------------------------------------------------------------------------------

D1 = date(2025, 6, 2)  # past days: nothing in these scenarios depends on the wall clock
D2, D3, D4 = (D1 + timedelta(days=n) for n in (1, 2, 3))


async def store_summary_days(db: Database, account: Account) -> None:
    """D1: the worked example (A = 60 s, B = 150 s); D2 23:58-23:59 A (60 s); D3 00:00:30-
    00:01:00 B (30 s): the 90 s between them cross midnight and count for neither; D4 empty."""
    origin = day_start_ms(D1, "UTC") + 10 * HOUR
    a = {"language": "Python", "dependencies": ("requests",)}
    b = {"language": "Go", "branch": "dev", "entity": "/src/B/main.go"}
    d2_end = day_start_ms(D3, "UTC")
    await store_beats(
        db,
        account,
        [
            beat(origin, "A", branch="main", **a),
            beat(origin + 30 * SECOND, "B", **b),
            beat(origin + 60 * SECOND, "A", branch="feature", **a),
            beat(origin + 90 * SECOND, "B", **b),
            beat(origin + 400 * SECOND, "A", branch="main", **a),
            beat(d2_end - 2 * MINUTE, "A", branch="main", **a),
            beat(d2_end - MINUTE, "A", branch="main", **a),
            beat(d2_end + 30 * SECOND, "B", **b),
            beat(d2_end + MINUTE, "B", **b),
        ],
    )


@pytest.mark.parametrize("base", API_BASES)
async def test_summaries_each_day_is_its_own_range(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    await store_summary_days(db, alice)

    body = await get_json(
        client,
        alice,
        f"{base}/users/current/summaries",
        {"start": D1.isoformat(), "end": D4.isoformat()},
    )

    days = body["data"]
    assert [day["range"]["date"] for day in days] == [d.isoformat() for d in (D1, D2, D3, D4)]
    assert [day["grand_total"]["total_seconds"] for day in days] == [210.0, 60.0, 30.0, 0.0]
    first = days[0]
    assert first["grand_total"] == {
        "total_seconds": 210.0,
        "text": "3 mins",
        "hours": 0,
        "minutes": 3,
        "digital": "0:03",
        "decimal": "0.05",
    }
    assert brief(first["projects"]) == [("B", 150.0), ("A", 60.0)]
    assert brief(first["languages"]) == [("Go", 150.0), ("Python", 60.0)]
    assert brief(first["editors"]) == [("vim", 210.0)]
    assert brief(first["operating_systems"]) == [("Linux", 210.0)]
    assert brief(first["machines"]) == [("pi", 210.0)]
    assert brief(first["categories"]) == [("coding", 210.0)]
    assert brief(first["dependencies"]) == [("requests", 60.0)]
    assert first["projects"][0]["percent"] == 71.43
    assert brief(days[1]["projects"]) == [("A", 60.0)]
    assert brief(days[2]["projects"]) == [("B", 30.0)]
    for day in days:
        assert "branches" not in day
        assert "entities" not in day
        assert set(day) >= {"grand_total", "range", "dependencies", *LIST_DIMENSIONS}
    assert first["range"] == {
        "date": "2025-06-02",
        "start": "2025-06-02T00:00:00Z",
        "end": "2025-06-02T23:59:59Z",
        "text": "Mon Jun 2nd 2025",
        "timezone": "UTC",
    }
    assert body["cumulative_total"] == {
        "seconds": 300.0,
        "text": "5 mins",
        "digital": "0:05",
        "decimal": "0.08",
    }
    average = body["daily_average"]
    assert {key: average[key] for key in AVERAGE_KEYS} == {
        "holidays": 1,
        "days_including_holidays": 4,
        "days_minus_holidays": 3,
        "seconds": 100.0,
        "text": "1 min",
    }
    assert body["start"] == "2025-06-02T00:00:00Z"
    assert body["end"] == "2025-06-05T23:59:59Z"


AVERAGE_KEYS = ("holidays", "days_including_holidays", "days_minus_holidays", "seconds", "text")


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("project", "branches", "total", "branch_split"),
    [
        pytest.param("A", None, 60.0, [("feature", 30.0), ("main", 30.0)], id="A"),
        pytest.param("A", "main", 30.0, [("main", 30.0)], id="A-main"),
        pytest.param("A", "main,feature", 60.0, [("feature", 30.0), ("main", 30.0)], id="A-both"),
        pytest.param("B", None, 150.0, [("dev", 150.0)], id="B"),
        pytest.param("B", "main", 0.0, [], id="B-main"),
        pytest.param("C", None, 0.0, [], id="no-such-project"),
    ],
)
async def test_summaries_project_and_branches_filters(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    project: str,
    branches: str | None,
    total: float,
    branch_split: list[tuple[str, float]],
) -> None:
    await store_summary_days(db, alice)
    url = f"{base}/users/current/summaries"
    params = {"start": D1.isoformat(), "end": D1.isoformat(), "project": project}
    if branches:
        params["branches"] = branches

    (day,) = (await get_json(client, alice, url, params))["data"]

    assert day["grand_total"]["total_seconds"] == total
    assert brief(day["branches"]) == branch_split
    assert brief(day["projects"]) == ([(project, total)] if total else [])
    if not branches:
        # Filtered total == the project's entry when nothing is filtered (not a rerun of the
        # rule over the project's heartbeats alone, which would give A 180 s).
        (unfiltered,) = (
            await get_json(client, alice, url, {"start": D1.isoformat(), "end": D1.isoformat()})
        )["data"]
        assert total == dict(brief(unfiltered["projects"])).get(project, 0.0)
        entity = {"A": "/src/A/main.py", "B": "/src/B/main.go"}.get(project)
        assert brief(day["entities"]) == ([(entity, total)] if total else [])


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("offsets_s", "expected"),
    [
        pytest.param(
            [],
            {"total_seconds": 0.0, "text": "0 secs", "hours": 0, "minutes": 0},
            id="empty",
        ),
        pytest.param(
            [0, 45],
            {"total_seconds": 45.0, "text": "45 secs", "hours": 0, "minutes": 0},
            id="seconds",
        ),
        pytest.param(
            [*range(0, 3721, 120), 3725],
            {"total_seconds": 3725.0, "text": "1 hr 2 mins", "hours": 1, "minutes": 2},
            id="one-hour-two-minutes",
        ),
        pytest.param(
            [*range(0, 36241, 120), 36300],
            {"total_seconds": 36300.0, "text": "10 hrs 5 mins", "hours": 10, "minutes": 5},
            id="ten-hours",
        ),
    ],
)
async def test_summaries_grand_total_types(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    offsets_s: list[int],
    expected: dict[str, Any],
) -> None:
    origin = day_start_ms(D1, "UTC") + HOUR
    await store_beats(db, alice, [beat(origin + s * SECOND) for s in offsets_s])

    body = await get_json(
        client,
        alice,
        f"{base}/users/current/summaries",
        {"start": D1.isoformat(), "end": D1.isoformat()},
    )

    grand = body["data"][0]["grand_total"]
    digital = f"{expected['hours']}:{expected['minutes']:02d}"
    decimal = f"{expected['hours'] + expected['minutes'] / 60:.2f}"
    assert grand == {**expected, "digital": digital, "decimal": decimal}
    assert type(grand["hours"]) is int
    assert type(grand["minutes"]) is int
    assert type(grand["total_seconds"]) is float
    assert isinstance(grand["decimal"], str)


def summary_range(name: str, today: date) -> tuple[date, date]:
    """First and last day of WakaTime's named summary ranges; weeks start on Monday."""
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    yesterday = today - timedelta(days=1)
    return {
        "Today": (today, today),
        "Yesterday": (yesterday, yesterday),
        "Last 7 Days": (today - timedelta(days=6), today),
        "Last 7 Days from Yesterday": (today - timedelta(days=7), yesterday),
        "Last 14 Days": (today - timedelta(days=13), today),
        "Last 30 Days": (today - timedelta(days=29), today),
        "This Week": (monday, today),
        "Last Week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "This Month": (first_of_month, today),
        "Last Month": (last_month_end.replace(day=1), last_month_end),
    }[name]


SUMMARY_RANGE_NAMES = [
    "Today",
    "Yesterday",
    "Last 7 Days",
    "Last 7 Days from Yesterday",
    "Last 14 Days",
    "Last 30 Days",
    "This Week",
    "Last Week",
    "This Month",
    "Last Month",
]


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in SUMMARY_RANGE_NAMES])
async def test_summaries_named_ranges(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, name: str
) -> None:
    # It is about noon in this zone, so "today" does not turn while the test runs.
    zone = midday_zone(PINNED_S)
    await set_zone(db, alice, zone)
    today = local_today(zone, PINNED_S)
    yesterday = today - timedelta(days=1)
    morning = day_start_ms(yesterday, zone) + 9 * HOUR
    await store_beats(db, alice, [beat(morning), beat(morning + 30 * SECOND)])
    first, last = summary_range(name, today)

    body = await get_json(client, alice, f"{base}/users/current/summaries", {"range": name})

    count = (last - first).days + 1
    assert [day["range"]["date"] for day in body["data"]] == [
        (first + timedelta(days=n)).isoformat() for n in range(count)
    ]
    assert [day["range"]["timezone"] for day in body["data"]] == [zone] * count
    totals = {day["range"]["date"]: day["grand_total"]["total_seconds"] for day in body["data"]}
    expected_yesterday = 30.0 if first <= yesterday <= last else None
    assert totals.get(yesterday.isoformat()) == expected_yesterday
    assert sum(totals.values()) == (expected_yesterday or 0.0)
    assert body["start"] == iso_z(day_start_ms(first, zone))
    assert body["end"] == last_second(last, zone)
    texts = {day["range"]["date"]: day["range"]["text"] for day in body["data"]}
    assert texts.get(today.isoformat(), "Today") == "Today"
    assert texts.get(yesterday.isoformat(), "Yesterday") == "Yesterday"


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("start", "end", "days_back"),
    [
        pytest.param("today", "today", [0], id="today-today"),
        pytest.param("-2", "today", [2, 1, 0], id="date-to-today"),
        pytest.param("-1", "-1", [1], id="one-date"),
        pytest.param("-3", "-2", [3, 2], id="end-inclusive"),
    ],
)
async def test_summaries_start_end(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    start: str,
    end: str,
    days_back: list[int],
) -> None:
    zone = midday_zone(PINNED_S)
    await set_zone(db, alice, zone)
    today = local_today(zone, PINNED_S)

    def resolve(value: str) -> str:
        return value if value == "today" else (today + timedelta(days=int(value))).isoformat()

    body = await get_json(
        client,
        alice,
        f"{base}/users/current/summaries",
        {"start": resolve(start), "end": resolve(end)},
    )

    assert [day["range"]["date"] for day in body["data"]] == [
        (today - timedelta(days=n)).isoformat() for n in days_back
    ]


@pytest.mark.parametrize("base", API_BASES)
async def test_summaries_take_epoch_seconds_and_datetimes(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    zone = midday_zone(PINNED_S)
    await set_zone(db, alice, zone)
    today = local_today(zone, PINNED_S)
    two_days_ago_noon = day_start_ms(today - timedelta(days=2), zone) + 12 * 3_600_000

    body = await get_json(
        client,
        alice,
        f"{base}/users/current/summaries",
        {"start": str(two_days_ago_noon // 1000), "end": f"{today.isoformat()}T00:30:00"},
    )

    assert [day["range"]["date"] for day in body["data"]] == [
        (today - timedelta(days=n)).isoformat() for n in (2, 1, 0)
    ]


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("day", "zone", "total", "range_start"),
    [
        pytest.param(D1, None, 60.0, "2025-06-02T00:00:00Z", id="users-zone"),
        pytest.param(D2, "Asia/Tokyo", 60.0, "2025-06-02T15:00:00Z", id="tokyo-next-day"),
        pytest.param(D1, "Asia/Tokyo", 0.0, "2025-06-01T15:00:00Z", id="tokyo-same-day"),
        pytest.param(D1, "America/New_York", 60.0, "2025-06-02T04:00:00Z", id="new-york"),
    ],
)
async def test_summaries_timezone_parameter_shifts_the_day(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    day: date,
    zone: str | None,
    total: float,
    range_start: str,
) -> None:
    late = day_start_ms(D1, "UTC") + 23 * HOUR  # 23:00 UTC: 08:00 next day in Tokyo
    await store_beats(db, alice, [beat(late), beat(late + MINUTE)])
    params = {"start": day.isoformat(), "end": day.isoformat()}
    if zone:
        params["timezone"] = zone

    (entry,) = (await get_json(client, alice, f"{base}/users/current/summaries", params))["data"]

    assert entry["grand_total"]["total_seconds"] == total
    assert entry["range"]["start"] == range_start
    assert entry["range"]["timezone"] == (zone or "UTC")


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"range": "Last Century"}, id="unknown-range"),
        pytest.param({"range": "last_year"}, id="stats-only-range"),
        pytest.param({"start": "2025-06-03", "end": "2025-06-02"}, id="start-after-end"),
        pytest.param({}, id="nothing"),
        pytest.param({"start": "2025-06-02"}, id="no-end"),
        pytest.param({"start": "2025-02-30", "end": "2025-03-02"}, id="not-a-date"),
        pytest.param(
            {"start": "2025-06-02", "end": "2025-06-02", "timezone": "Nowhere/Land"},
            id="unknown-timezone",
        ),
    ],
)
async def test_summaries_bad_parameters(
    client: httpx.AsyncClient, alice: Account, base: str, params: dict[str, str]
) -> None:
    await assert_bad_request(client, alice, f"{base}/users/current/summaries", params)


# --- stats -----------------------------------------------------------------------------------


def random_day(
    rng: random.Random, day: date, zone: str, *, first_hour: int = 2, last_hour: int = 20
) -> list[Any]:
    """A random working session on one local day, well away from either midnight."""
    time_ms = day_start_ms(day, zone) + first_hour * HOUR + rng.randrange(HOUR)
    stop = day_start_ms(day, zone) + last_hour * HOUR
    made = []
    for _ in range(rng.randrange(5, 40)):
        if time_ms >= stop:
            break
        made.append(
            beat(
                time_ms,
                rng.choice(["A", "B", "C"]),
                language=rng.choice(["Python", "Go", None]),
                editor=rng.choice(["vim", "vscode"]),
                operating_system=rng.choice(["Linux", "macOS"]),
                machine=rng.choice(["pi", "laptop", None]),
                category=rng.choice(["coding", "debugging"]),
            )
        )
        time_ms += rng.choice([rng.randrange(1, TIMEOUT_MS), rng.randrange(TIMEOUT_MS, HOUR)])
    return made


def by_day(
    rows: list[OracleRow],
    days: list[date],
    zone: str,
    dimension: str | None = None,
    filters: dict[str, list[str]] | None = None,
) -> ReferenceBreakdown:
    """The rule over each local day on its own, summed: what WakaTime's stats, built from daily
    summaries, report for a range; a gap between two days counts for neither of them."""
    total_ms, split = 0, Counter[str]()
    for day in days:
        start_ms = day_start_ms(day, zone)
        end_ms = day_start_ms(day + timedelta(days=1), zone)
        result = reference_breakdown(rows, start_ms, end_ms, TIMEOUT_MS, dimension, filters)
        total_ms += result.total_ms
        split.update(result.split)
    return ReferenceBreakdown(total_ms, dict(split))


class StatsCase(NamedTuple):
    path: str  # what follows stats/
    range_value: str
    days_in: list[date]
    days_out: list[date]
    # Earliest and latest acceptable first day (the same when WakaTime's is exact), last day.
    first_lo: date
    first_hi: date
    last: date


def stats_case(name: str, today: date) -> StatsCase:
    back = [today - timedelta(days=n) for n in range(501)]
    if name == "last_7_days":
        return StatsCase(name, name, [back[0], back[3], back[6]], [back[7]], *[back[6]] * 2, today)
    if name == "last_30_days":
        return StatsCase(name, name, [back[0], back[29]], [back[30]], *[back[29]] * 2, today)
    if name == "last_6_months":
        return StatsCase(name, name, [back[100], back[1]], [back[200]], back[184], back[180], today)
    if name == "last_year":
        return StatsCase(name, name, [back[300], back[2]], [back[400]], back[366], back[364], today)
    if name == "all_time":
        return StatsCase(name, name, [back[500], back[0]], [], *[back[500]] * 2, today)
    if name == "year":
        year = today.year - 1
        first, last = date(year, 1, 1), date(year, 12, 31)
        outside = [first - timedelta(days=1), last + timedelta(days=1)]
        return StatsCase(
            str(year), str(year), [first, date(year, 6, 15), last], outside, first, first, last
        )
    assert name == "month"
    first, last = date(2024, 2, 1), date(2024, 2, 29)  # a leap February
    outside = [date(2024, 1, 31), date(2024, 3, 1)]
    return StatsCase("2024-02", "2024-02", [first, last], outside, first, first, last)


STATS_RANGES = [
    "last_7_days",
    "last_30_days",
    "last_6_months",
    "last_year",
    "all_time",
    "year",
    "month",
]
STATS_FIELDS = {
    "total_seconds",
    "daily_average",
    "human_readable_total",
    "human_readable_daily_average",
    *LIST_DIMENSIONS,
    "best_day",
    "range",
    "start",
    "end",
    "timezone",
    "is_up_to_date",
    "status",
    "username",
    "user_id",
}


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in STATS_RANGES])
async def test_stats_ranges_against_the_reference(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    alice: Account,
    base: str,
    name: str,
) -> None:
    zone = midday_zone(PINNED_S)
    await set_zone(db, alice, zone)
    today = local_today(zone, PINNED_S)
    case = stats_case(name, today)
    rng = random.Random(f"{name}-{base}")
    for day in [*case.days_in, *case.days_out]:
        # Today's session ends hours before now (about noon here).
        last_hour = 10 if day == today else 20
        await store_beats(db, alice, random_day(rng, day, zone, last_hour=last_hour))

    data = (await get_json(client, alice, f"{base}/users/current/stats/{case.path}"))["data"]

    assert set(data) >= STATS_FIELDS
    first = datetime.fromisoformat(data["start"]).astimezone(ZoneInfo(zone)).date()
    assert case.first_lo <= first <= case.first_hi
    start_ms = day_start_ms(first, zone)
    end_ms = day_start_ms(case.last + timedelta(days=1), zone)
    assert data["start"] == iso_z(start_ms)
    assert data["end"] == iso_z(end_ms - SECOND)
    rows = load_rows(settings.db_path, alice.user.id)
    # Every day of the range is its own range, as in summaries (see by_day).
    whole = by_day(rows, case.days_in, zone)
    assert whole.total_ms > 0
    assert data["total_seconds"] == whole.total_ms / 1000
    assert data["human_readable_total"] == human_text(whole.total_ms)
    for dimension in LIST_DIMENSIONS:
        split = by_day(rows, case.days_in, zone, dimension)
        assert brief(data[dimension]) == ranked_seconds(split.ranked), dimension
        for item in data[dimension]:
            assert type(item["hours"]) is int
            assert type(item["minutes"]) is int
            assert type(item["seconds"]) is int
    daily = {day: by_day(rows, [day], zone).total_ms for day in case.days_in}
    active = [day for day, ms in daily.items() if ms]
    best = max(sorted(active), key=lambda day: daily[day])
    assert data["best_day"] == {
        "date": best.isoformat(),
        "total_seconds": daily[best] / 1000,
        "text": human_text(daily[best]),
    }
    assert data["daily_average"] == pytest.approx(whole.total_ms / len(active) / 1000, abs=0.001)
    assert data["human_readable_daily_average"] == human_text(whole.total_ms // len(active))
    assert data["days_including_holidays"] == (case.last - first).days + 1
    assert data["days_minus_holidays"] == len(active)
    assert data["range"] == case.range_value
    assert data["timezone"] == zone
    assert data["is_up_to_date"] is True
    assert data["status"] == "ok"
    assert data["username"] == "alice"
    assert data["user_id"] == str(alice.user.id)


@pytest.mark.parametrize("base", API_BASES)
async def test_stats_without_a_range_is_last_7_days_in_wakatimes_shape(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    # Under /api/v1 this path belongs to the seed's /users/{username}/stats, which hands
    # `current` over to WakaTime's stats.
    zone = midday_zone(PINNED_S)
    await set_zone(db, alice, zone)
    today = local_today(zone, PINNED_S)
    rng = random.Random(7)
    for back in (0, 2, 9):
        day = today - timedelta(days=back)
        await store_beats(db, alice, random_day(rng, day, zone, last_hour=10))

    plain = await get_json(client, alice, f"{base}/users/current/stats")
    named = await get_json(client, alice, f"{base}/users/current/stats/last_7_days")

    assert set(plain) == {"data"}
    assert set(plain["data"]) >= STATS_FIELDS
    assert plain["data"]["range"] == "last_7_days"
    assert plain == named


@pytest.mark.parametrize("base", API_BASES)
async def test_stats_of_a_user_without_heartbeats(
    client: httpx.AsyncClient, alice: Account, base: str
) -> None:
    data = (await get_json(client, alice, f"{base}/users/current/stats/last_7_days"))["data"]
    assert data["total_seconds"] == 0.0
    assert data["human_readable_total"] == "0 secs"
    assert data["daily_average"] == 0.0
    assert all(data[name] == [] for name in LIST_DIMENSIONS)
    assert not data["best_day"]


@pytest.mark.parametrize("base", API_BASES)
async def test_stats_total_is_the_sum_of_its_days(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    # Two days ago 60 s, yesterday 30 s. Summed over the whole range as one, the rule would add
    # the 120 s that the evening-to-morning gap caps at; as days, it counts for neither day,
    # and stats agree with the summaries of the same days and with their own best day.
    zone = midday_zone(PINNED_S)
    await set_zone(db, alice, zone)
    today = local_today(zone, PINNED_S)
    two_days_ago = day_start_ms(today - timedelta(days=2), zone) + 10 * HOUR
    yesterday = day_start_ms(today - timedelta(days=1), zone) + 10 * HOUR
    await store_beats(
        db,
        alice,
        [
            beat(two_days_ago),
            beat(two_days_ago + MINUTE),
            beat(yesterday),
            beat(yesterday + 30 * SECOND),
        ],
    )
    url = f"{base}/users/current"

    stats = (await get_json(client, alice, f"{url}/stats/last_7_days"))["data"]
    summaries = await get_json(client, alice, f"{url}/summaries", {"range": "Last 7 Days"})
    all_time = (await get_json(client, alice, f"{url}/all_time_since_today"))["data"]

    assert summaries["cumulative_total"]["seconds"] == 90.0
    assert stats["best_day"] == {
        "date": (today - timedelta(days=2)).isoformat(),
        "total_seconds": 60.0,
        "text": "1 min",
    }
    assert stats["days_minus_holidays"] == 2
    assert (stats["total_seconds"], stats["human_readable_total"]) == (90.0, "1 min")
    assert brief(stats["projects"]) == [("app", 90.0)]
    assert stats["daily_average"] == 45.0
    assert (all_time["total_seconds"], all_time["text"]) == (90.0, "1 min")


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("last_century", id="unknown-name"),
        pytest.param("yesterday", id="summary-only-name"),
        pytest.param("1999", id="year-before-2000"),
        pytest.param("2024-13", id="month-13"),
        pytest.param("20245", id="five-digit-year"),
        pytest.param("2024-1", id="one-digit-month"),
    ],
)
async def test_stats_unknown_range(
    client: httpx.AsyncClient, alice: Account, base: str, path: str
) -> None:
    await assert_bad_request(client, alice, f"{base}/users/current/stats/{path}", {})


# --- all_time_since_today --------------------------------------------------------------------


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    "project",
    [
        pytest.param(None, id="all-projects"),
        pytest.param("A", id="project-A"),
        pytest.param("C", id="project-C"),
        pytest.param("nothing-here", id="no-such-project"),
    ],
)
async def test_all_time_since_today(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    alice: Account,
    base: str,
    project: str | None,
) -> None:
    zone = midday_zone(PINNED_S)
    await set_zone(db, alice, zone)
    today = local_today(zone, PINNED_S)
    first_day = today - timedelta(days=40)
    rng = random.Random(f"all-time-{base}")
    days = [first_day, today - timedelta(days=3), today]
    for day in days:
        await store_beats(db, alice, random_day(rng, day, zone, last_hour=10))
    params = {"project": project} if project else {}

    data = (await get_json(client, alice, f"{base}/users/current/all_time_since_today", params))[
        "data"
    ]

    start_ms = day_start_ms(first_day, zone)
    rows = load_rows(settings.db_path, alice.user.id)
    filters = {"project": [project]} if project else None
    total_ms = by_day(rows, days, zone, filters=filters).total_ms
    if project:
        unfiltered = by_day(rows, days, zone, "projects")
        assert total_ms == unfiltered.split.get(project, 0)
    else:
        assert total_ms > 0
    assert data["total_seconds"] == total_ms / 1000
    assert data["text"] == human_text(total_ms)
    assert data["decimal"] == decimal_hours(total_ms)
    assert data["digital"] == clock(total_ms)
    if total_ms:
        assert total_ms / 41 / 1000 <= data["daily_average"] <= total_ms / 1000
    else:
        assert data["daily_average"] == 0
    assert data["is_up_to_date"] is True
    assert data["percent_calculated"] == 100
    assert data["timeout"] == 2
    span = data["range"]
    assert span["end_date"] == today.isoformat()
    assert span["end"] == last_second(today, zone)
    assert span["timezone"] == zone
    if not project:
        assert span["start_date"] == first_day.isoformat()
        assert span["start"] == iso_z(start_ms)


@pytest.mark.parametrize("base", API_BASES)
async def test_all_time_since_today_without_heartbeats(
    client: httpx.AsyncClient, alice: Account, base: str
) -> None:
    data = (await get_json(client, alice, f"{base}/users/current/all_time_since_today"))["data"]
    assert {key: data[key] for key in ("total_seconds", "text", "decimal", "digital")} == {
        "total_seconds": 0.0,
        "text": "0 secs",
        "decimal": "0.00",
        "digital": "0:00",
    }
    assert data["is_up_to_date"] is True
    assert data["percent_calculated"] == 100
    assert data["range"]["start_date"] == data["range"]["end_date"]


# --- leaders ---------------------------------------------------------------------------------


def every_30s(start_ms: int, count: int, **fields: Any) -> list[Any]:
    return [beat(start_ms + n * 30 * SECOND, **fields) for n in range(count)]


async def store_leaders(db: Database, alice: Account, bob: Account) -> dict[str, Account]:
    """Last 7 days (UTC): bob 600 s of Python; alice 300 s of Python then 60 s of Go, and an
    old hour that is out of range; carol (private) and dave (red) more than both; erin only
    long ago."""
    names = ("carol", "dave", "erin")
    made = {name: Account(*await users.create_user(db, name)) for name in names}
    await users.update_user(db, "carol", is_public=False)
    await users.update_user(db, "dave", trust_level="red")
    today = local_today("UTC", PINNED_S)
    noon = {n: day_start_ms(today - timedelta(days=n), "UTC") + 12 * HOUR for n in (1, 3, 10)}
    await store_beats(
        db,
        alice,
        [
            *every_30s(noon[1], 10, language="Python"),
            *every_30s(noon[1] + 300 * SECOND, 3, language="Go"),
            *every_30s(noon[10], 121, language="Go"),
        ],
    )
    await store_beats(db, bob, every_30s(noon[3], 21, language="Python"))
    await store_beats(db, made["carol"], every_30s(noon[1], 61, language="Go"))
    await store_beats(db, made["dave"], every_30s(noon[1], 81, language="Go"))
    await store_beats(db, made["erin"], every_30s(noon[10], 200, language="Go"))
    return made


def leaders_brief(body: dict[str, Any]) -> list[tuple[int, str, float]]:
    return [
        (entry["rank"], entry["user"]["username"], entry["running_total"]["total_seconds"])
        for entry in body["data"]
    ]


@pytest.mark.parametrize("base", API_BASES)
@pytest.mark.parametrize(
    ("language", "ranked", "alice_rank"),
    [
        pytest.param(None, [(1, "bob", 600.0), (2, "alice", 360.0)], 2, id="all-languages"),
        pytest.param("Python", [(1, "bob", 600.0), (2, "alice", 300.0)], 2, id="python"),
        pytest.param("Go", [(1, "alice", 60.0)], 1, id="go"),
        pytest.param("Rust", [], None, id="nobody"),
    ],
)
async def test_leaders(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    base: str,
    language: str | None,
    ranked: list[tuple[int, str, float]],
    alice_rank: int | None,
) -> None:
    await store_leaders(db, alice, bob)
    params = {"language": language} if language else {}

    body = await get_json(client, alice, f"{base}/leaders", params)

    assert leaders_brief(body) == ranked
    if alice_rank is None:
        assert not body["current_user"] or body["current_user"].get("rank") is None
    else:
        current = body["current_user"]
        assert current["rank"] == alice_rank
        assert current["user"]["username"] == "alice"
        assert current["user"]["id"] == str(alice.user.id)
    today = local_today("UTC", PINNED_S)
    assert {key: body["range"][key] for key in ("start_date", "end_date")} == {
        "start_date": (today - timedelta(days=6)).isoformat(),
        "end_date": today.isoformat(),
    }
    assert body["range"]["text"] == "Last 7 Days"
    assert body["language"] == language
    if language is None:
        entry = body["data"][1]["running_total"]
        assert entry["human_readable_total"] == "6 mins"
        assert [(item["name"], item["total_seconds"]) for item in entry["languages"]] == [
            ("Python", 300.0),
            ("Go", 60.0),
        ]


@pytest.mark.parametrize("base", API_BASES)
async def test_leaders_leave_out_private_and_red_users_even_for_themselves(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, base: str
) -> None:
    made = await store_leaders(db, alice, bob)

    body = await get_json(client, made["carol"], f"{base}/leaders")

    assert [name for _, name, _ in leaders_brief(body)] == ["bob", "alice"]
    assert not body["current_user"] or body["current_user"].get("rank") is None


@pytest.mark.parametrize("base", API_BASES)
async def test_leaders_total_is_the_sum_of_its_days(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    # As in stats: the gap from one day's last heartbeat to the next day's first counts for
    # neither day, so 60 s two days ago and 30 s yesterday make 90 s, not 210 s.
    today = local_today("UTC", PINNED_S)
    two_days_ago = day_start_ms(today - timedelta(days=2), "UTC") + 12 * HOUR
    yesterday = day_start_ms(today - timedelta(days=1), "UTC") + 12 * HOUR
    await store_beats(db, alice, [*every_30s(two_days_ago, 3), *every_30s(yesterday, 2)])

    body = await get_json(client, alice, f"{base}/leaders")

    assert leaders_brief(body) == [(1, "alice", 90.0)]
    assert body["current_user"]["rank"] == 1
