"""The seed's /api/v1/users/{username}/stats for README cards: github-readme-stats' WakaTime
card asks it with no key; public, non-red users answer, everyone else is the same 404 with or
without a key, and a request with no key never counts as a failed sign-in."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from hackatime import users
from hackatime.db import Database
from tests.conftest import Account
from tests.helpers import MINUTE, SECOND, beat, day_start_ms, store_beats

# The card's request, as github-readme-stats (src/fetchers/wakatime.js, axios 1.x on Node)
# sends it: no key, axios' default headers, the one query parameter.
CARD_PATH = "/api/v1/users/{username}/stats?is_including_today=true"
CARD_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "User-Agent": "axios/1.13.2",
    "Accept-Encoding": "gzip, compress, deflate, br",
    "Connection": "close",
}
WRONG_KEY = "00000000-0000-4000-8000-000000000000"
DAY = date(2025, 6, 2)


async def card_request(client: httpx.AsyncClient, username: str) -> httpx.Response:
    # Built by hand so that httpx adds no query encoding or header of its own choosing.
    request = client.build_request("GET", CARD_PATH.format(username=username))
    for name in list(request.headers):
        if name.lower() != "host":
            del request.headers[name]
    request.headers.update(CARD_HEADERS)
    return await client.send(request)


async def store_alice_day(db: Database, alice: Account) -> None:
    """Python 3 min then Go 1 min: 240 s in all."""
    start = day_start_ms(DAY, "UTC") + 9 * 60 * MINUTE
    await store_beats(
        db,
        alice,
        [
            beat(start, language="Python"),
            beat(start + 2 * MINUTE, language="Python"),
            beat(start + 3 * MINUTE, language="Go"),
            beat(start + 4 * MINUTE, language="Go"),
        ],
    )


def card_languages(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What the card reads of each language."""
    return [
        (item["name"], item["percent"], item["text"], item["hours"], item["minutes"])
        for item in body["data"]["languages"]
    ]


async def test_the_cards_request_for_a_public_user_reads_what_the_card_shows(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    await store_alice_day(db, alice)

    response = await card_request(client, "alice")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    data = response.json()["data"]
    assert card_languages(response.json()) == [
        ("Python", 75.0, "3 mins", 0, 3),
        ("Go", 25.0, "1 min", 0, 1),
    ]
    assert data["is_coding_activity_visible"] is True
    assert data["is_other_usage_visible"] is True
    assert data["total_seconds"] == 240


async def test_a_public_user_with_no_heartbeats_shows_no_activity_not_private(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await card_request(client, "alice")

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    # The card's three messages: languages, "no coding activity", or "not public".
    assert data["languages"] == []
    assert data["is_coding_activity_visible"] is True
    assert data["is_other_usage_visible"] is True


async def test_the_card_gets_the_same_numbers_as_a_keyed_request(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account
) -> None:
    await store_alice_day(db, alice)
    anonymous = await card_request(client, "alice")
    keyed = await client.get(
        "/api/v1/users/alice/stats", params={"is_including_today": "true"}, headers=bob.bearer
    )
    assert keyed.status_code == 200
    assert anonymous.json() == keyed.json()


VIEWERS = [
    pytest.param("none", id="no-key"),
    pytest.param("bob", id="another-users-key"),
]
HIDDEN = [
    pytest.param({"is_public": False}, id="private"),
    pytest.param({"trust_level": "red"}, id="red"),
    pytest.param({"is_public": False, "trust_level": "green"}, id="private-green"),
]


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("change", HIDDEN)
async def test_private_and_red_users_are_the_same_404_as_unknown_ones(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    viewer: str,
    change: dict[str, Any],
) -> None:
    await store_alice_day(db, alice)
    await users.update_user(db, "alice", **change)
    headers = bob.bearer if viewer == "bob" else {}

    hidden = await client.get("/api/v1/users/alice/stats", headers=headers)
    unknown = await client.get("/api/v1/users/nobody/stats", headers=headers)

    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json() == {"error": "User not found"}
    if viewer == "none":
        assert (await card_request(client, "alice")).json() == unknown.json()


async def test_a_public_user_named_by_id_answers_without_a_key(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    await store_alice_day(db, alice)
    response = await client.get(f"/api/v1/users/{alice.user.id}/stats")
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert response.json()["total_seconds"] == 240


async def test_a_slack_uid_names_nobody_without_a_key(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    """A Slack uid names a user only to admins and its owner, as its lookup does."""
    await store_alice_day(db, alice)
    await users.update_user(db, "alice", slack_uid="U024ALICE")
    unknown = await client.get("/api/v1/users/U000NOBODY/stats")
    response = await client.get("/api/v1/users/U024ALICE/stats")
    assert (response.status_code, response.content) == (404, unknown.content)


@pytest.mark.parametrize(
    "account",
    [pytest.param("alice", id="self"), pytest.param("admin", id="admin")],
)
async def test_self_and_admins_still_see_a_private_user_with_a_key(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    admin: Account,
    account: str,
) -> None:
    await store_alice_day(db, alice)
    await users.update_user(db, "alice", is_public=False)
    viewer = alice if account == "alice" else admin
    response = await client.get("/api/v1/users/alice/stats", headers=viewer.bearer)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["total_seconds"] == 240
    # Not visible to others: a card pointed at this user would say so.
    assert data["is_coding_activity_visible"] is False


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/users/my/stats", id="my"),
        pytest.param("/api/v1/users/current/stats", id="current"),
    ],
)
async def test_the_caller_aliases_still_need_a_key(
    client: httpx.AsyncClient, alice: Account, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json() == {"error": "Missing API key"}


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param({"headers": {"Authorization": f"Bearer {WRONG_KEY}"}}, id="bearer"),
        pytest.param({"params": {"api_key": WRONG_KEY}}, id="query"),
    ],
)
async def test_a_wrong_key_on_the_public_route_is_refused_and_counted(
    client: httpx.AsyncClient, alice: Account, auth: dict[str, dict[str, str]]
) -> None:
    """A key that is sent must be right even where none is needed: else it is a guess."""
    limit = 20
    for _ in range(limit):
        response = await client.get("/api/v1/users/alice/stats", **auth)
        assert response.status_code == 401
    blocked = await client.get("/api/v1/users/alice/stats", **auth)
    assert blocked.status_code == 429
    # Cards keep working from the same address: they send no key.
    assert (await card_request(client, "alice")).status_code == 200


async def test_a_card_host_asking_often_is_never_refused(
    client: httpx.AsyncClient, alice: Account, bob: Account, db: Database
) -> None:
    await users.update_user(db, "bob", is_public=False)
    for _ in range(3 * 20):
        assert (await card_request(client, "alice")).status_code == 200
        assert (await card_request(client, "bob")).status_code == 404
        assert (await card_request(client, "nobody")).status_code == 404
    # Nothing was counted: the address still has its whole allowance for wrong keys.
    wrong = {"Authorization": f"Bearer {WRONG_KEY}"}
    for _ in range(20):
        assert (await client.get("/api/v1/users/alice/stats", headers=wrong)).status_code == 401
    assert (await client.get("/api/v1/users/alice/stats", headers=wrong)).status_code == 429


async def test_the_seconds_the_card_turns_into_hours_and_minutes(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    """hours and minutes are whole numbers of the language's own time (the card hides a
    language showing neither). Rust: 62 gaps of 2 min (the last one capped); C: 30 s."""
    start = day_start_ms(DAY, "UTC")
    beats = [beat(start + n * 2 * MINUTE, language="Rust") for n in range(62)]
    beats.append(beat(start + 200 * MINUTE, language="C"))
    beats.append(beat(start + 200 * MINUTE + 30 * SECOND, language="C"))
    await store_beats(db, alice, beats)
    body = (await card_request(client, "alice")).json()
    assert card_languages(body) == [
        ("Rust", 99.6, "2 hrs 4 mins", 2, 4),
        ("C", 0.4, "30 secs", 0, 0),
    ]


@pytest.mark.parametrize(
    ("change", "visible"),
    [
        pytest.param({}, True, id="public"),
        pytest.param({"is_public": False}, False, id="private"),
        pytest.param({"trust_level": "red"}, False, id="red"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/users/my/stats", id="seed-shape"),
        pytest.param("/api/v1/users/current/stats", id="wakatime-shape"),
    ],
)
async def test_visibility_flags_follow_the_one_listing_rule(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    change: dict[str, Any],
    visible: bool,
    path: str,
) -> None:
    await users.update_user(db, "alice", **change)
    data = (await client.get(path, headers=alice.bearer)).json()["data"]
    assert data["is_coding_activity_visible"] is visible
    assert data["is_other_usage_visible"] is visible
