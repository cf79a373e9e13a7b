"""GET /metrics: off unless HACKATIME_METRICS=1; then Prometheus text with requests by route
template and status, their latency, heartbeats stored and rejected, database size and users.
Each app counts in its own registry."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from app import create_app
from hackatime import metrics, users
from hackatime.config import ConfigError, Settings, load_settings

BULK = "/api/hackatime/v1/users/{user}/heartbeats.bulk"
SINGLE = "/api/hackatime/v1/users/{user}/heartbeats"


@pytest.fixture
async def metered(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    application = create_app(dataclasses.replace(settings, metrics=True))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def beat(time_s: float, entity: str = "/src/app.py") -> dict[str, Any]:
    return {"entity": entity, "time": time_s, "type": "file"}


async def test_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


async def test_counts_requests_heartbeats_size_and_users(
    metered: tuple[Starlette, httpx.AsyncClient],
) -> None:
    application, http = metered
    db = application.state.db
    _, key = await users.create_user(db, "ada")
    auth = {"Authorization": f"Bearer {key}"}
    t0 = 1_700_000_000
    bulk = await http.post(
        "/api/hackatime/v1/users/current/heartbeats.bulk",
        json=[beat(t0), beat(t0 + 60), {"time": t0}],
        headers=auth,
    )
    single = await http.post(
        "/api/hackatime/v1/users/ada/heartbeats", json={"entity": ""}, headers=auth
    )
    missing = await http.get("/no/such/page")
    # Made-up methods share one label: a scanner cannot grow the label set.
    for made_up in ("BREW", "PROPFIND", "X-SCAN"):
        await http.request(made_up, "/no/such/page")
    assert (bulk.status_code, single.status_code, missing.status_code) == (201, 400, 404)

    response = await http.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found = samples(response.text)
    assert found[("hackatime_heartbeats_stored_total", ())] == 2
    assert found[("hackatime_heartbeats_rejected_total", ())] == 2
    requests = {
        labels: value
        for (name, labels), value in found.items()
        if name == "hackatime_requests_total"
    }
    assert requests == {
        (("method", "POST"), ("route", BULK), ("status", "201")): 1,
        (("method", "POST"), ("route", SINGLE), ("status", "400")): 1,
        (("method", "GET"), ("route", metrics.UNMATCHED), ("status", "404")): 1,
        (("method", "other"), ("route", metrics.UNMATCHED), ("status", "404")): 3,
    }
    assert found[("hackatime_request_duration_seconds_count", (("route", BULK),))] == 1
    assert (
        found[("hackatime_request_duration_seconds_bucket", (("le", "+Inf"), ("route", BULK)))] == 1
    )
    assert found[("hackatime_users", ())] == 1
    assert found[("hackatime_database_bytes", ())] == metrics.database_bytes(db.path) > 0


async def test_each_app_counts_on_its_own(
    metered: tuple[Starlette, httpx.AsyncClient], settings: Settings
) -> None:
    _, http = metered
    await http.get("/api/health")
    other = create_app(dataclasses.replace(settings, metrics=True))
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
            text = (await fresh.get("/metrics")).text

    health = (
        "hackatime_requests_total",
        (("method", "GET"), ("route", "/api/health"), ("status", "200")),
    )
    assert health not in samples(text)
    assert samples((await http.get("/metrics")).text)[health] == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("1", True, id="one"),
        pytest.param("true", True, id="true"),
        pytest.param("0", False, id="zero"),
        pytest.param("", False, id="empty"),
    ],
)
def test_the_setting(raw: str, expected: bool) -> None:
    assert load_settings({"HACKATIME_METRICS": raw, "TZ": "UTC"}).metrics is expected
    assert load_settings({"TZ": "UTC"}).metrics is False


def test_a_bad_setting_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="HACKATIME_METRICS must be 1 or 0, got 'maybe'"):
        load_settings({"HACKATIME_METRICS": "maybe", "TZ": "UTC"})
