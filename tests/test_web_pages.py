"""Every dashboard page signed in and signed out, another user's pages, a private user's profile;
signing in and out, forms from other sites, and the numbers beside the API's."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app import create_app
from hackatime import goals, users
from hackatime.config import Settings
from hackatime.db import Database
from hackatime.ratelimit import FailureLimiter
from hackatime.web import sessions
from tests.conftest import Account
from tests.helpers import beat, local_today, midday_zone, now_ms, set_zone, store_beats


@pytest.fixture
async def browser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A second client with its own cookie jar, as a browser is."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def zone(db: Database, alice: Account, bob: Account) -> str:
    """A zone where it is midday now, so today holds the last hours whenever the test runs."""
    name = midday_zone()
    await set_zone(db, alice, name)
    await set_zone(db, bob, name)
    return name


@pytest.fixture
async def alice_codes(db: Database, alice: Account, zone: str) -> None:
    now = now_ms()
    beats = [
        beat(now - 3_600_000 + n * 60_000, project=project, language=language, entity=entity)
        for n, (project, language, entity) in enumerate(
            [("app", "Python", "/home/alice/app/secret_plans.py"), ("web", "Go", "/srv/web.go")]
            * 20
        )
    ]
    beats += [beat(now - 3 * 86_400_000 + n * 90_000, project="app") for n in range(30)]
    await store_beats(db, alice, beats)


async def sign_in(http: httpx.AsyncClient, key: str) -> httpx.Response:
    return await http.post("/signin", data={"key": key})


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert match, page
    return match[1]


def text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert match, element_id
    return unescape(match[1])


@pytest.mark.parametrize("path", ["/goals", "/settings", "/projects/app"])
async def test_signed_out_pages_send_to_the_sign_in_form(
    client: httpx.AsyncClient, alice_codes: None, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("path", ["/settings", "/settings/key", "/signout"])
async def test_signed_out_forms_change_nothing(
    client: httpx.AsyncClient, db: Database, alice: Account, path: str
) -> None:
    response = await client.post(path, data={"timezone": "Asia/Tokyo"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    user = await users.get_user_by_name(db, "alice")
    assert user is not None
    assert user.timezone == "UTC"
    assert (await client.get("/api/v1/stats", headers=alice.bearer)).status_code == 200


async def test_signed_out_overview_is_the_sign_in_form(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<form method="post" action="/signin">' in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_signing_in_sets_a_session_cookie_whose_token_is_stored_only_hashed(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    response = await sign_in(client, alice.key)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    token = client.cookies[sessions.COOKIE]
    rows = await db.fetch_all("SELECT token_sha256, user_id FROM web_sessions")
    assert [tuple(row) for row in rows] == [
        (hashlib.sha256(token.encode()).hexdigest(), alice.user.id)
    ]
    page = await client.get("/")
    assert "Today:" in page.text
    assert "alice" in page.text


async def test_the_cookie_is_secure_over_https(app: Starlette, alice: Account) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        response = await sign_in(http, alice.key)
    assert "Secure" in response.headers["set-cookie"]


async def test_a_wrong_key_shows_the_form_again_and_counts_as_a_failed_authentication(
    app: Starlette, client: httpx.AsyncClient, alice: Account
) -> None:
    app.state.auth_failures = FailureLimiter(2)
    for _ in range(2):
        response = await sign_in(client, "not-a-key")
        assert response.status_code == 401
        assert "That is not a valid API key." in response.text
        assert sessions.COOKIE not in client.cookies
    refused = await sign_in(client, "not-a-key")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    # The same count as the API's: a wrong key there is refused too, a right one never.
    api = await client.get("/api/v1/stats", headers={"Authorization": "Bearer nope"})
    assert api.status_code == 429
    assert (await sign_in(client, alice.key)).status_code == 303


async def test_the_overview_shows_the_apis_numbers(
    client: httpx.AsyncClient, alice: Account, alice_codes: None, zone: str
) -> None:
    await sign_in(client, alice.key)
    statusbar = await client.get(
        "/api/hackatime/v1/users/current/statusbar/today", headers=alice.bearer
    )
    today = local_today(zone)
    week = await client.get(
        "/api/v1/stats",
        params={"start_date": str(today - timedelta(days=6)), "end_date": str(today)},
        headers=alice.bearer,
    )
    every = await client.get("/api/v1/stats", headers=alice.bearer)
    page = (await client.get("/")).text
    assert text_of(page, "today-total") == statusbar.json()["data"]["grand_total"]["text"]
    assert text_of(page, "range-total") == week.json()["data"]["human_readable_total"]
    all_time = (await client.get("/", params={"range": "all_time"})).text
    assert text_of(all_time, "range-total") == every.json()["data"]["human_readable_total"]
    assert 'href="/projects/app"' in page
    for title in ("Projects", "Languages", "Editors", "Operating systems", "Machines"):
        assert f"<caption>{title}</caption>" in page


async def test_a_custom_range_and_a_bad_one(
    client: httpx.AsyncClient, alice: Account, alice_codes: None, zone: str
) -> None:
    await sign_in(client, alice.key)
    today = local_today(zone)
    first = str(today - timedelta(days=3))
    api = await client.get(
        "/api/v1/stats",
        params={"start_date": first, "end_date": first},
        headers=alice.bearer,
    )
    page = (await client.get("/", params={"start": first, "end": first})).text
    assert text_of(page, "range-total") == api.json()["data"]["human_readable_total"] != "0 secs"
    bad = await client.get("/", params={"start": "2026-02-30", "end": first})
    assert bad.status_code == 200
    assert "start: " in bad.text
    assert "Last 7 days" in bad.text


async def test_a_project_page_shows_the_projects_numbers(
    client: httpx.AsyncClient, alice: Account, alice_codes: None
) -> None:
    await sign_in(client, alice.key)
    api = await client.get(
        "/api/v1/stats", params={"filter_by_project": "app"}, headers=alice.bearer
    )
    page = await client.get("/projects/app")
    assert page.status_code == 200
    assert text_of(page.text, "range-total") == api.json()["data"]["human_readable_total"]
    assert "/home/alice/app/secret_plans.py" in page.text
    assert "Last activity:" in page.text
    assert (await client.get("/projects/never")).status_code == 404


async def test_range_links_of_a_project_keep_its_name(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    await store_beats(db, alice, [beat(now_ms() - 60_000, "c#?%")])
    await sign_in(client, alice.key)
    page = await client.get("/projects/c%23%3F%25")
    assert page.status_code == 200
    assert 'href="/projects/c%23%3F%25?range=all_time"' in page.text
    assert 'action="/projects/c%23%3F%25"' in page.text


async def test_another_users_project_is_not_found(
    client: httpx.AsyncClient, bob: Account, alice_codes: None
) -> None:
    await sign_in(client, bob.key)
    response = await client.get("/projects/app")
    assert response.status_code == 404
    assert "Not found" in response.text
    assert "secret_plans" not in response.text


async def test_goals_page_shows_each_goal_and_its_periods(
    client: httpx.AsyncClient, db: Database, alice: Account, alice_codes: None
) -> None:
    await goals.add_goal(db, "alice", title="Ten minutes a day", seconds=600, period="day")
    await sign_in(client, alice.key)
    page = (await client.get("/goals")).text
    api = await client.get("/api/v1/users/current/goals", headers=alice.bearer)
    chart = api.json()["data"][0]["chart_data"]
    words = {"success": "met", "fail": "missed", "pending": "in progress"}
    rows = re.findall(r'<th scope="row">[^<]*</th><td>([^<]*)</td><td>([^<]*)</td>', page)
    assert rows == [
        (period["actual_seconds_text"], words[period["range_status"]]) for period in chart
    ]
    assert rows[-1][1] == "met"
    overview = (await client.get("/")).text
    assert "Ten minutes a day:" in overview


async def test_settings_change_the_zone_and_visibility(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    await sign_in(client, alice.key)
    page = (await client.get("/settings")).text
    assert "api_url = http://testserver/api/hackatime/v1" in page
    response = await client.post(
        "/settings", data={"csrf": csrf_of(page), "timezone": "Asia/Tokyo"}
    )
    assert response.status_code == 303
    user = await users.get_user_by_name(db, "alice")
    assert user is not None
    assert user.timezone == "Asia/Tokyo"
    assert not user.is_public
    bad = await client.post("/settings", data={"csrf": csrf_of(page), "timezone": "Mars/Base"})
    assert bad.status_code == 400
    assert "not an IANA time zone" in bad.text


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        pytest.param({"csrf": "0" * 64}, {}, id="wrong-token"),
        pytest.param({}, {}, id="no-token"),
        pytest.param(None, {"Origin": "http://evil.example"}, id="other-origin"),
        pytest.param(None, {"Sec-Fetch-Site": "cross-site"}, id="cross-site"),
    ],
)
async def test_forms_from_elsewhere_are_refused(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    fields: dict[str, str] | None,
    headers: dict[str, str],
) -> None:
    await sign_in(client, alice.key)
    csrf = csrf_of((await client.get("/settings")).text)
    data = {"timezone": "Asia/Tokyo", **(fields if fields is not None else {"csrf": csrf})}
    for path in ("/settings", "/settings/key", "/signout"):
        response = await client.post(path, data=data, headers=headers)
        assert response.status_code == 403, path
    user = await users.get_user_by_name(db, "alice")
    assert user is not None
    assert user.timezone == "UTC"
    assert (await client.get("/api/v1/stats", headers=alice.bearer)).status_code == 200
    assert "Today:" in (await client.get("/")).text


async def test_rotating_the_key_shows_it_once_and_ends_every_other_session(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, alice: Account
) -> None:
    await sign_in(client, alice.key)
    await sign_in(browser, alice.key)
    csrf = csrf_of((await client.get("/settings")).text)
    response = await client.post("/settings/key", data={"csrf": csrf})
    assert response.status_code == 200
    new_key = text_of(response.text, "new-key")
    assert f"api_key = {new_key}" in response.text
    assert (await client.get("/api/v1/stats", headers=alice.bearer)).status_code == 401
    fresh = await client.get("/api/v1/stats", headers={"Authorization": f"Bearer {new_key}"})
    assert fresh.status_code == 200
    # This browser stays signed in; the other one is signed out, and the key is not shown again.
    assert "Today:" in (await client.get("/")).text
    assert new_key not in (await client.get("/settings")).text
    assert "Sign in" in (await browser.get("/")).text


async def test_a_key_rotated_on_the_command_line_ends_the_sessions(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    await sign_in(client, alice.key)
    await users.rotate_key(db, "alice")
    page = await client.get("/")
    assert '<form method="post" action="/signin">' in page.text
    assert sessions.COOKIE not in client.cookies


async def test_signing_out_ends_the_session(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    await sign_in(client, alice.key)
    token = client.cookies[sessions.COOKIE]
    csrf = csrf_of((await client.get("/")).text)
    response = await client.post("/signout", data={"csrf": csrf})
    assert response.status_code == 303
    assert await db.fetch_value("SELECT count(*) FROM web_sessions") == 0
    client.cookies.set(sessions.COOKIE, token)
    assert "Sign in" in (await client.get("/")).text


async def test_a_public_profile_shows_totals_without_files(
    client: httpx.AsyncClient, alice: Account, bob: Account, alice_codes: None, zone: str
) -> None:
    today = local_today(zone)
    api = await client.get(
        "/api/v1/users/alice/stats",
        params={"start_date": str(today - timedelta(days=6)), "end_date": str(today)},
        headers=alice.bearer,
    )
    expected = api.json()["data"]["human_readable_total"]
    page = await client.get("/@alice")
    assert page.status_code == 200
    assert text_of(page.text, "range-total") == expected
    assert "Python" in page.text
    assert "secret_plans" not in page.text
    assert "Machines" not in page.text
    # Another user sees the same.
    await sign_in(client, bob.key)
    seen_by_bob = await client.get("/@alice")
    assert text_of(seen_by_bob.text, "range-total") == expected
    assert '<span class="who">bob</span>' in seen_by_bob.text


@pytest.mark.parametrize(
    ("change", "viewer"),
    [
        pytest.param({"is_public": False}, None, id="private-signed-out"),
        pytest.param({"is_public": False}, "bob", id="private-to-another-user"),
        pytest.param({"trust_level": "red"}, None, id="red"),
    ],
)
async def test_hidden_profiles_are_not_found(
    client: httpx.AsyncClient,
    db: Database,
    bob: Account,
    alice_codes: None,
    change: dict[str, object],
    viewer: str | None,
) -> None:
    await users.update_user(db, "alice", **change)  # type: ignore[arg-type]
    if viewer:
        await sign_in(client, bob.key)
    response = await client.get("/@alice")
    assert response.status_code == 404
    assert "Not found" in response.text
    assert "Python" not in response.text
    assert (await client.get("/@nobody")).status_code == 404


@pytest.mark.parametrize(
    "viewer", [pytest.param("alice", id="self"), pytest.param("root", id="admin")]
)
async def test_a_private_profile_is_seen_by_its_owner_and_admins(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    admin: Account,
    alice_codes: None,
    viewer: str,
) -> None:
    """The API's rule (users.may_view_stats): self and admins always see it."""
    await users.update_user(db, "alice", is_public=False)
    await sign_in(client, alice.key if viewer == "alice" else admin.key)
    response = await client.get("/@alice")
    assert response.status_code == 200
    assert "Python" in response.text


async def test_the_json_api_keeps_json_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not found"}
    unauthorized = await client.get("/api/v1/stats")
    assert unauthorized.status_code == 401
    assert "error" in unauthorized.json()


async def test_names_are_escaped(client: httpx.AsyncClient, db: Database, alice: Account) -> None:
    evil = '<script>alert("x")</script>'
    await store_beats(db, alice, [beat(now_ms() - 60_000 * n, project=evil) for n in range(3)])
    await sign_in(client, alice.key)
    page = (await client.get("/")).text
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


async def test_a_heavy_users_overview_stays_small(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    now = now_ms()
    beats = [
        beat(
            now - n * 30_000,
            project=f"project-with-a-long-name-{n % 300}",
            language=f"language-{n % 80}",
            editor=f"editor-{n % 20}",
            machine=f"machine-{n % 40}",
            entity=f"/home/alice/a/very/long/path/to/file-{n}.py",
        )
        for n in range(2000)
    ]
    await store_beats(db, alice, beats)
    await sign_in(client, alice.key)
    page = await client.get("/")
    assert page.status_code == 200
    assert len(page.content) < 200_000
    assert "Other" in page.text


async def test_a_sign_in_posted_from_another_site_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(
        "/signin", data={"key": alice.key}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert sessions.COOKIE not in client.cookies


async def test_a_sign_in_form_that_stops_arriving_is_refused_in_time(tmp_path: Path) -> None:
    """A slow client may not hold a form request open, as it may not hold an API request."""
    settings = Settings(
        db_path=tmp_path / "hackatime.db", create_first_user=False, request_timeout_seconds=1
    )
    application = create_app(settings)

    async def stalled() -> AsyncIterator[bytes]:
        yield b"key="
        await asyncio.sleep(5)
        yield b"x"

    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post(
                "/signin",
                content=stalled(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
    assert response.status_code == 408
    assert response.json() == {"error": "Body not received within 1 seconds"}
