"""Guarantee 5: key guessing from one address is slowed to 20 failures a minute (429 with
Retry-After), while valid keys, even from that address, are never refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from hackatime.ratelimit import FailureLimiter
from tests.conftest import Account

LIMIT = 20
WINDOW = 60.0
WRONG_KEY = "00000000-0000-4000-8000-000000000000"


def fail_times(limiter: FailureLimiter, address: str, times: list[float]) -> list[int | None]:
    return [limiter.record_failure(address, now) for now in times]


def test_twenty_failures_a_minute_are_allowed_the_21st_waits() -> None:
    limiter = FailureLimiter(LIMIT, WINDOW)
    assert fail_times(limiter, "10.0.0.1", [1000.0 + n for n in range(LIMIT)]) == [None] * LIMIT
    # The oldest failure (t=1000) ages out at t=1060: 40 s from t=1020.
    assert limiter.record_failure("10.0.0.1", 1020.0) == 40


def test_retry_after_is_at_least_one_second() -> None:
    limiter = FailureLimiter(LIMIT, WINDOW)
    fail_times(limiter, "10.0.0.1", [0.0] * LIMIT)
    assert limiter.record_failure("10.0.0.1", 59.9) == 1


def test_failures_age_out_after_the_window() -> None:
    limiter = FailureLimiter(LIMIT, WINDOW)
    fail_times(limiter, "10.0.0.1", [float(n) for n in range(LIMIT)])
    # At t=60 the failure from t=0 is a minute old and no longer counts: this one is the 20th.
    assert limiter.record_failure("10.0.0.1", 60.0) is None
    assert limiter.record_failure("10.0.0.1", 60.5) is not None
    # A quiet minute later, a full allowance again.
    later = [200.0 + n / 10 for n in range(LIMIT)]
    assert fail_times(limiter, "10.0.0.1", later) == [None] * LIMIT


def test_hammering_keeps_the_address_blocked_but_not_forever() -> None:
    limiter = FailureLimiter(LIMIT, WINDOW)
    waits = fail_times(limiter, "10.0.0.1", [n / 2 for n in range(200)])
    assert waits[:LIMIT] == [None] * LIMIT
    assert all(wait is not None and 1 <= wait <= WINDOW for wait in waits[LIMIT:])
    # Blocked failures do not pile up: a minute after the last one it is over.
    assert limiter.record_failure("10.0.0.1", 100.0 + WINDOW) is None


def test_addresses_are_counted_apart() -> None:
    limiter = FailureLimiter(LIMIT, WINDOW)
    fail_times(limiter, "10.0.0.1", [0.0] * (LIMIT + 1))
    assert limiter.record_failure("10.0.0.2", 1.0) is None


def test_the_address_table_is_bounded() -> None:
    limiter = FailureLimiter(LIMIT, WINDOW, max_addresses=100)
    for n in range(10_000):
        limiter.record_failure(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", 1.0)
    # The table itself (private, but its size is the guarantee) holds at most max_addresses.
    assert len(limiter._failures) <= 100


def test_the_oldest_address_is_forgotten_first() -> None:
    limiter = FailureLimiter(LIMIT, WINDOW, max_addresses=3)
    fail_times(limiter, "attacker", [0.0] * LIMIT)
    for address in ("a", "b", "c"):
        limiter.record_failure(address, 1.0)
    # Pushed out of the table: counting starts afresh.
    assert limiter.record_failure("attacker", 2.0) is None


# --- Through the routes ------------------------------------------------------------------------

STATUSBAR = "/api/hackatime/v1/users/current/statusbar/today"


@pytest.fixture
async def other_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client from a second address."""
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


BAD_AUTH = [
    pytest.param({"headers": {"Authorization": f"Bearer {WRONG_KEY}"}}, id="bearer"),
    pytest.param({"headers": {"Authorization": "Basic bm9wZQ=="}}, id="basic"),
    pytest.param({"params": {"api_key": WRONG_KEY}}, id="query"),
    pytest.param({"headers": {"Authorization": "Basic !!"}}, id="malformed-basic"),
    pytest.param({"params": {"api_key": ""}}, id="empty-query-key"),
]


@pytest.mark.parametrize("bad", BAD_AUTH)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", STATUSBAR, id="statusbar"),
        pytest.param("POST", "/api/v1/users/current/heartbeats.bulk", id="ingest"),
        pytest.param("GET", "/api/v1/stats", id="seed-stats"),
    ],
)
async def test_21st_failure_from_one_address_is_429_valid_keys_still_work(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    alice: Account,
    method: str,
    path: str,
    bad: dict[str, dict[str, str]],
) -> None:
    for _ in range(LIMIT):
        response = await client.request(method, path, json=[], **bad)
        assert response.status_code == 401, response.text

    blocked = await client.request(method, path, json=[], **bad)
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/json"
    assert list(blocked.json()) == ["error"]
    assert 1 <= int(blocked.headers["retry-after"]) <= WINDOW

    # The same address with a valid key, in each form: never slowed.
    for auth in ({"headers": alice.bearer}, {"headers": alice.basic}):
        response = await client.request(method, path, json=[], **auth)
        assert response.status_code in (200, 201), response.text
    response = await client.request(method, path, json=[], params={"api_key": alice.key})
    assert response.status_code in (200, 201), response.text
    # Another address is not affected by this one's failures.
    response = await other_client.request(method, path, json=[], **bad)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", STATUSBAR, 401, id="statusbar"),
        pytest.param("POST", "/api/v1/users/current/heartbeats.bulk", 401, id="ingest"),
        pytest.param("GET", "/api/v1/users/my/stats", 401, id="seed-user-stats-my"),
        pytest.param("GET", "/api/v1/users/nobody/stats", 404, id="public-stats-unknown-user"),
        pytest.param("GET", "/api/v1/badge/nobody", 404, id="badge-unknown-user"),
        # Without a key, `/` is the dashboard's sign-in page.
        pytest.param("GET", "/", 200, id="overview"),
    ],
)
async def test_requests_with_no_key_at_all_are_never_counted(
    client: httpx.AsyncClient, alice: Account, method: str, path: str, status: int
) -> None:
    """A README card or a badge host asks with no key, often: that is no guess at a key."""
    for _ in range(LIMIT * 3):
        response = await client.request(method, path, json=[], headers={"Accept": "*/*"})
        assert response.status_code == status, response.text
    # The address has its whole allowance of wrong keys left.
    wrong = {"Authorization": f"Bearer {WRONG_KEY}"}
    for _ in range(LIMIT):
        response = await client.get(STATUSBAR, headers=wrong)
        assert response.status_code == 401
    response = await client.get(STATUSBAR, headers=wrong)
    assert response.status_code == 429
