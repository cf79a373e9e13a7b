"""The dashboard's pages against the JSON calls whose numbers they show (issue 12).

The 7-day overview should render within 1.5x the time of those calls made one after another;
views over all time should take no longer than the API's all-time stats. Page requests and
JSON rounds alternate, so a noisy neighbour slows both alike.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import orjson

from bench import queries
from bench.queries import Timing

OVERVIEW_FEATURES = "projects,languages,editors,operating_systems,machines,categories"
PROFILE_FEATURES = "projects,languages,editors,operating_systems,categories"
# The overview's heatmap: the Monday 52 weeks before this week's, through today.
HEATMAP_WEEKS = 53


@dataclass(frozen=True)
class PageCase:
    name: str
    page: str
    # The JSON calls with the same numbers, made one after another.
    json_paths: list[str]
    stands_for: str
    limit: float


@dataclass(frozen=True)
class PageMeasured:
    case: PageCase
    page: Timing
    json: Timing
    page_bytes: int


def sign_in(port: int, key: str) -> dict[str, str]:
    """The cookie header of a fresh dashboard session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST",
        "/signin",
        body=urlencode({"key": key}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    match = re.match(r"(hackatime_session=[^;]+)", response.getheader("set-cookie") or "")
    if response.status != 303 or not match:
        raise RuntimeError(f"signing in answered {response.status}")
    return {"Cookie": match[1]}


def cases(
    port: int, headers: dict[str, str], zone: str, now_ms: int, username: str
) -> list[PageCase]:
    tz = ZoneInfo(zone)
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    week_first = today - timedelta(days=6)
    monday = today - timedelta(days=today.weekday(), weeks=HEATMAP_WEEKS - 1)
    top = _get_json(port, "/api/v1/stats?limit=1", headers)["projects"][0]["name"]
    week_stats = f"/api/v1/stats?start_date={week_first}&end_date={today}&features="
    return [
        PageCase(
            "overview, last 7 days",
            "/",
            [
                "/api/hackatime/v1/users/current/statusbar/today",
                f"/api/v1/users/current/summaries?start={week_first}&end={today}",
                week_stats + OVERVIEW_FEATURES,
                f"/api/v1/users/current/summaries?start={monday}&end={today}",
            ],
            "statusbar, 7-day summaries, 7-day stats, the heatmap year's summaries",
            1.5,
        ),
        PageCase(
            "overview, all time",
            "/?range=all_time",
            [f"/api/v1/stats?features={OVERVIEW_FEATURES}"],
            "all-time stats with the same six splits",
            1.0,
        ),
        PageCase(
            "public profile, all time",
            f"/@{username}?range=all_time",
            [f"/api/v1/users/{username}/stats?features={PROFILE_FEATURES}"],
            "the user's all-time stats with the same five splits",
            1.0,
        ),
        PageCase(
            "project page, all time",
            f"/projects/{quote(top, safe='')}",
            [f"/api/v1/users/{username}/stats"],
            "the API's all-time stats (seed form)",
            1.0,
        ),
    ]


def measure(
    port: int, case: PageCase, page_headers: dict[str, str], api_headers: dict[str, str]
) -> PageMeasured:
    client = queries.Client(port)
    page_bytes = len(client.fetch(case.page, page_headers))
    for path in case.json_paths:
        client.get(path, api_headers)

    def json_round() -> float:
        return sum(client.timed_get(path, api_headers) for path in case.json_paths)

    page, json = queries.alternate(
        lambda: client.timed_get(case.page, page_headers),
        json_round,
        budget=4.0,
        min_reps=5,
        max_reps=30,
    )
    client.close()
    return PageMeasured(case, page, json, page_bytes)


def _get_json(port: int, path: str, headers: dict[str, str]) -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return orjson.loads(body)
