"""The one JSON error shape, whatever goes wrong."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hackatime import durations, ingest
from tests.conftest import Account
from tests.helpers import now_ms

SECRET = "secret-detail-from-inside"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/nope", id="top-level"),
        pytest.param("/api/v1/nope", id="under-wakatime-base"),
        pytest.param("/api/hackatime/v1/users/current/nope", id="under-hackatime-base"),
        pytest.param("/api/v2/users/current/statusbar/today", id="unknown-version"),
    ],
)
async def test_unknown_route_is_json_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Not found"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        pytest.param("GET", "/api/v1/users/current/heartbeats.bulk", "POST", id="get-on-ingest"),
        pytest.param(
            "DELETE", "/api/hackatime/v1/users/current/heartbeats", "POST", id="delete-on-ingest"
        ),
        pytest.param(
            "POST", "/api/v1/users/current/statusbar/today", "GET", id="post-on-statusbar"
        ),
    ],
)
async def test_wrong_method_is_json_405(
    client: httpx.AsyncClient, alice: Account, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path, headers=alice.bearer)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == ["error"]
    assert allowed in response.headers["allow"]


@pytest.fixture
async def lenient_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the 500 response instead of the exception re-raised into the test."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(SECRET)


@pytest.mark.parametrize(
    ("target", "method", "path", "body"),
    [
        pytest.param(
            (durations, "breakdown"),
            "GET",
            "/api/hackatime/v1/users/current/statusbar/today",
            None,
            id="statusbar",
        ),
        pytest.param(
            (ingest, "store"),
            "POST",
            "/api/v1/users/current/heartbeats.bulk",
            [{"entity": "a.py"}],
            id="ingest",
        ),
    ],
)
async def test_unexpected_exception_is_json_500(
    lenient_client: httpx.AsyncClient,
    alice: Account,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    target: tuple[object, str],
    method: str,
    path: str,
    body: Any,
) -> None:
    monkeypatch.setattr(*target, _explode)
    if body is not None:
        body[0]["time"] = now_ms() / 1000

    with caplog.at_level(logging.ERROR, logger="hackatime"):
        response = await lenient_client.request(method, path, json=body, headers=alice.bearer)

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Internal server error"}
    assert "Traceback" not in response.text
    assert SECRET not in response.text
    # The traceback goes to the log instead.
    logged = [record for record in caplog.records if record.exc_info]
    assert logged
    assert isinstance(logged[0].exc_info[1], RuntimeError)
