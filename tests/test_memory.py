"""Memory stays bounded whatever a key holder sends: a real server fed a long run of valid but
hostile heartbeats keeps its resident memory under 100 MB, and every answer about that user
stays a few megabytes; in process, pages stop at their size and lists at their length."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from hackatime import summaries
from hackatime.api.common import MAX_PAGE_BYTES
from hackatime.db import Database
from hackatime.heartbeats import Heartbeat
from tests.conftest import Account, Clock
from tests.helpers import beat, running_server, store_beats

RSS_CEILING_BYTES = 100 * 1024 * 1024
ANSWER_CEILING_BYTES = 4 * 1024 * 1024
BATCHES = 60
PER_BATCH = 80


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def hostile_batch(batch: int, start_s: float) -> list[dict[str, Any]]:
    """Every heartbeat with its own 1 KB user agent, 1 KB project name, file, and 1 KB list of
    dependencies."""
    items = []
    for n in range(PER_BATCH):
        serial = f"{batch:03d}-{n:03d}"
        items.append(
            {
                "entity": f"/src/{serial}/main.py",
                "time": start_s + batch * PER_BATCH + n,
                "project": f"project-{serial}-" + "p" * 1000,
                "branch": f"branch-{serial}",
                "user_agent": f"wakatime/v1.90.0 (linux-{serial}) " + "u" * 990,
                "dependencies": [f"dep-{serial}-{k}-" + "d" * 30 for k in range(20)],
            }
        )
    return items


@pytest.mark.slow
def test_hostile_input_keeps_memory_and_answers_small(tmp_path: Path) -> None:
    with running_server(tmp_path / "hackatime.db", env={"LOGNAME": "pi"}) as server:
        key = next(
            line.split("=", 1)[1].strip()
            for line in server.startup_output.splitlines()
            if line.startswith("api_key = ")
        )
        auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
        # Two hours back, so every heartbeat lies in the past, all on one day or two.
        start_s = time.time() - 2 * 3600
        with httpx.Client(base_url=server.base_url, headers=auth, timeout=60) as http:
            for batch in range(BATCHES):
                response = http.post(
                    "/api/hackatime/v1/users/current/heartbeats.bulk",
                    json=hostile_batch(batch, start_s),
                    headers={"User-Agent": "x" * 5000},
                )
                assert response.status_code == 201, response.text[:300]
                assert {status for _, status in response.json()["responses"]} == {201}
            day = datetime.fromtimestamp(start_s, UTC).date().isoformat()
            answers = {
                path: http.get(path)
                for path in (
                    "/api/hackatime/v1/users/current/statusbar/today",
                    "/api/hackatime/v1/users/current/stats/last_7_days",
                    "/api/hackatime/v1/users/current/summaries?range=last_7_days&project="
                    + f"project-000-000-{'p' * 1000}",
                    "/api/hackatime/v1/users/current/summaries?range=last_7_days",
                    "/api/hackatime/v1/users/current/all_time_since_today",
                    "/api/hackatime/v1/users/current/projects",
                    f"/api/hackatime/v1/users/current/heartbeats?date={day}&timezone=UTC",
                    f"/api/hackatime/v1/users/current/durations?date={day}&timezone=UTC",
                    f"/api/hackatime/v1/users/current/durations?date={day}&timezone=UTC"
                    "&slice_by=dependencies",
                    "/api/v1/my/heartbeats",
                    "/api/v1/users/my/stats?features=languages,projects,editors,"
                    "operating_systems,machines,categories",
                    "/api/v1/stats",
                    "/api/v1/leaders",
                )
            }
        rss = rss_bytes(server.process.pid)

    for path, response in answers.items():
        assert response.status_code == 200, f"{path}: {response.text[:300]}"
        assert len(response.content) < ANSWER_CEILING_BYTES, path
    assert rss < RSS_CEILING_BYTES, f"{rss / 2**20:.1f} MB"
    projects = answers["/api/hackatime/v1/users/current/projects"].json()
    assert (len(projects["data"]), projects["total"], projects["next_page"]) == (100, 4800, 2)
    stats = answers["/api/hackatime/v1/users/current/stats/last_7_days"].json()["data"]
    assert len(stats["projects"]) == 100
    assert len(stats["dependencies"]) == 100
    page = answers["/api/v1/my/heartbeats"].json()
    assert page["next"] is not None
    assert page["next"].startswith("/api/v1/my/heartbeats?cursor=")
    assert key not in page["next"]


# --- In process: the bounds one by one ----------------------------------------------------------

DAY = datetime(2026, 3, 10, tzinfo=UTC)
DAY_MS = int(DAY.timestamp() * 1000)


def heavy(n: int) -> Heartbeat:
    """A heartbeat of about 500 KB: 500 dependencies of 1000 characters."""
    dependencies = tuple(f"{n}-{k}-" + "d" * 990 for k in range(500))
    return beat(DAY_MS + n * 1000, dependencies=dependencies, entity=f"/src/{n}.py")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/my/heartbeats?limit=100", id="my-heartbeats"),
        pytest.param(
            "/api/hackatime/v1/users/current/heartbeats?date=2026-03-10", id="day-heartbeats"
        ),
    ],
)
async def test_a_page_of_heartbeats_stops_near_its_size(
    client: httpx.AsyncClient, db: Database, alice: Account, path: str
) -> None:
    await store_beats(db, alice, [heavy(n) for n in range(12)])
    seen, sizes, url = [], [], path
    while url:
        response = await client.get(url, headers=alice.bearer)
        assert response.status_code == 200, response.text
        body = response.json()
        rows = body.get("heartbeats", body.get("data"))
        seen += [row["entity"] for row in rows]
        sizes.append(len(response.content))
        url = body["next"]
    assert seen == [f"/src/{n}.py" for n in range(12)]
    # About 500 KB a row and 2 MiB a page: four rows, then four, then four.
    assert len(sizes) == 3
    assert max(sizes) < MAX_PAGE_BYTES + 600_000


async def test_lists_hold_their_largest_items(
    client: httpx.AsyncClient, db: Database, alice: Account, clock: Clock
) -> None:
    clock.now_s = DAY.timestamp() + 20 * 3600
    beats = [beat(DAY_MS + n * 60_000, project=f"p{n:03d}") for n in range(150)]
    await store_beats(db, alice, beats)
    stats = await client.get(
        "/api/hackatime/v1/users/current/stats/last_7_days", headers=alice.bearer
    )
    summary = await client.get(
        "/api/hackatime/v1/users/current/summaries?range=Today", headers=alice.bearer
    )
    seed = await client.get("/api/v1/users/my/stats", headers=alice.bearer)
    lists = [
        stats.json()["data"]["projects"],
        summary.json()["data"][0]["projects"],
        seed.json()["projects"],
    ]
    assert [len(items) for items in lists] == [summaries.MAX_LIST_ITEMS] * 3
    # Each of the first 149 projects has 60 s; the last none: ties ranked by name.
    assert [item["name"] for item in lists[0]] == [f"p{n:03d}" for n in range(100)]
    assert stats.json()["data"]["total_seconds"] == 149 * 60


@pytest.mark.parametrize(
    ("lists", "expected"),
    [
        pytest.param(1, 100, id="one-list"),
        pytest.param(7 * 7, 100, id="a-week-of-summaries"),
        pytest.param(366 * 7, 7, id="a-year-of-summaries"),
        pytest.param(10**6, 1, id="never-none"),
    ],
)
def test_a_long_summary_holds_fewer_items_per_list(lists: int, expected: int) -> None:
    assert summaries.list_limit(lists) == expected


async def test_projects_come_in_pages(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    beats = [beat(DAY_MS + n * 60_000, project=f"p{n:03d}") for n in range(150)]
    await store_beats(db, alice, beats)
    pages = [
        (
            await client.get(
                f"/api/hackatime/v1/users/current/projects?page={page}", headers=alice.bearer
            )
        ).json()
        for page in (1, 2, 3)
    ]
    assert [len(page["data"]) for page in pages] == [100, 50, 0]
    assert [(page["prev_page"], page["next_page"]) for page in pages] == [
        (None, 2),
        (1, None),
        (2, None),
    ]
    assert {page["total"] for page in pages} == {150}
    # Latest first, across pages.
    names = [item["name"] for page in pages for item in page["data"]]
    assert names == [f"p{n:03d}" for n in range(149, -1, -1)]
