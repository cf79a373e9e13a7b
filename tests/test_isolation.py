"""Guarantee 4: one user's key never reads or writes another's data, private stats stay private,
admin-only routes refuse others, and no API key is ever written in clear: not to the database
file, not to the access log."""

from __future__ import annotations

import logging
import re
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import create_app
from hackatime import goals, users
from hackatime.api.openapi import openapi_document
from hackatime.config import Settings
from hackatime.db import Database
from hackatime.logs import RedactApiKeys
from tests.clients import add_user
from tests.conftest import Account
from tests.helpers import now_ms, post_heartbeats, running_server, stored_heartbeats

SECRET = "alice-secret"  # in every heartbeat of alice's: no answer to bob may contain it


@pytest.fixture
async def world(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, admin: Account
) -> dict[str, Any]:
    """Alice: private, with heartbeats and a goal. Bob: public, with his own heartbeats."""
    await users.update_user(db, "alice", is_public=False, slack_uid="UALICE")
    now = now_ms() / 1000
    alice_beats = [
        {
            "entity": f"/home/{SECRET}/plan{n}.py",
            "time": now - 600 + n * 30,
            "project": f"{SECRET}-project",
            "branch": f"{SECRET}-branch",
            "user_agent": f"wakatime/v1.90.0 (linux-6.1) go1.22 {SECRET}-wakatime/1.0",
        }
        for n in range(5)
    ]
    bob_beats = [
        {"entity": f"/home/bob/file{n}.py", "time": now - 500 + n * 30, "project": "bob-project"}
        for n in range(3)
    ]
    for account, beats in ((alice, alice_beats), (bob, bob_beats)):
        response = await post_heartbeats(client, account, beats)
        assert response.status_code == 201, response.text
    goal = await goals.add_goal(
        db, "alice", title=f"{SECRET} goal", seconds=60, period="day", project=f"{SECRET}-project"
    )
    return {"goal_id": goal.id, "alice_entity": alice_beats[0]["entity"]}


def _bases(path: str) -> list[str]:
    return [
        base
        for base in ("/api/hackatime/v1", "/api/v1")
        if path == base or path.startswith(base + "/")
    ]


# What bob's key gets for each documented operation when aimed at alice. Keys are the path
# below the base; values: (path parameters, query, body, expected status). Every documented
# operation must be here: a new route fails test_every_route_is_covered until it is added.
ALICE = "alice"
AIMED_AT_ALICE: dict[tuple[str, str], list[tuple[dict[str, str], dict[str, str], Any, int]]] = {
    ("get", "/users/{user}"): [({"user": ALICE}, {}, None, 403)],
    # The base names no user: always the caller's own (an empty batch, so nothing is stored).
    ("post", ""): [({}, {"user": ALICE}, [], 201)],
    ("post", "/"): [({}, {"user": ALICE}, [], 201)],
    ("post", "/users/{user}/heartbeats"): [
        ({"user": ALICE}, {}, {"entity": "/bob/x.py", "time": "NOW"}, 403),
        ({"user": ALICE}, {}, [{"entity": "/bob/x.py", "time": "NOW"}], 403),
    ],
    ("post", "/users/{user}/heartbeats.bulk"): [
        ({"user": ALICE}, {}, [{"entity": "/bob/x.py", "time": "NOW"}], 403),
    ],
    ("get", "/users/{user}/heartbeats"): [({"user": ALICE}, {}, None, 403)],
    ("get", "/users/{user}/statusbar/today"): [({"user": ALICE}, {}, None, 403)],
    ("get", "/users/{user}/projects"): [({"user": ALICE}, {}, None, 403)],
    ("get", "/users/{user}/durations"): [({"user": ALICE}, {}, None, 403)],
    ("post", "/users/{user}/file_experts"): [
        ({"user": ALICE}, {}, {"entity": "ALICE_ENTITY"}, 403),
        # Asking as oneself about alice's file: she is private, so she is not listed.
        ({"user": "current"}, {}, {"entity": "ALICE_ENTITY"}, 200),
    ],
    ("post", "/plugins/errors"): [({}, {}, {"error": "x"}, 201)],
    ("get", "/users/{user}/summaries"): [({"user": ALICE}, {"range": "today"}, None, 403)],
    ("get", "/users/{user}/stats"): [({"user": ALICE}, {}, None, 403)],
    ("get", "/users/{user}/stats/{range}"): [({"user": ALICE, "range": "all_time"}, {}, None, 403)],
    ("get", "/users/{user}/all_time_since_today"): [({"user": ALICE}, {}, None, 403)],
    ("get", "/leaders"): [({}, {}, None, 200)],
    ("get", "/users/{user}/goals"): [
        ({"user": ALICE}, {}, None, 403),
        ({"user": "current"}, {}, None, 200),
    ],
    ("get", "/users/{user}/goals/{goal_id}"): [
        ({"user": ALICE, "goal_id": "GOAL"}, {}, None, 403),
        ({"user": "current", "goal_id": "GOAL"}, {}, None, 404),
    ],
    ("get", "/stats"): [
        ({}, {"username": ALICE}, None, 403),
        ({}, {"user_email": "alice@example.com"}, None, 403),
        ({}, {}, None, 200),
    ],
    ("get", "/my/heartbeats"): [
        ({}, {}, None, 200),
        # A cursor naming one of alice's rows moves bob's page, never onto her rows.
        ({}, {"cursor": "0.1"}, None, 200),
    ],
    ("get", "/my/heartbeats/most_recent"): [({}, {}, None, 200)],
    ("get", "/users/lookup_email/{email}"): [({"email": "alice@example.com"}, {}, None, 403)],
    ("get", "/users/lookup_slack_uid/{slack_uid}"): [({"slack_uid": "UALICE"}, {}, None, 403)],
    # A private user is as unknown as a free name, to stats, badges and shields alike.
    ("get", "/users/{username}/stats"): [({"username": ALICE}, {}, None, 404)],
    ("get", "/badge/{username}"): [({"username": ALICE}, {}, None, 404)],
    ("get", "/badge/{username}/{project}"): [
        ({"username": ALICE, "project": f"{SECRET}-project"}, {}, None, 404)
    ],
    ("get", "/shields/{username}"): [({"username": ALICE}, {}, None, 404)],
    ("get", "/shields/{username}/{project}"): [
        ({"username": ALICE, "project": f"{SECRET}-project"}, {}, None, 404)
    ],
    # The terminal overview is the caller's own.
    ("get", "/"): [({}, {}, None, 200)],
    # Alice is private: to bob she is a user who does not exist, trust level included.
    ("get", "/users/{username}/trust_factor"): [({"username": ALICE}, {}, None, 404)],
    ("get", "/openapi.json"): [({}, {}, None, 200)],
    ("get", "/health"): [({}, {}, None, 200)],
    # Bob's own export holds his heartbeats only.
    ("get", "/users/{user}/export"): [
        ({"user": ALICE}, {}, None, 403),
        ({"user": "current"}, {}, None, 200),
        ({"user": "current"}, {"format": "csv"}, None, 200),
    ],
}


def _documented() -> list[tuple[str, str, str]]:
    """(method, full path, path below the base) for every documented operation."""
    found = []
    for path, methods in openapi_document()["paths"].items():
        bases = _bases(path) or ["/api"]
        for method in methods:
            found.append((method, path, path.removeprefix(bases[0])))
    return found


def test_every_route_is_covered() -> None:
    missing = {(method, below) for method, _, below in _documented()} - set(AIMED_AT_ALICE)
    assert not missing


def _fill(path: str, params: dict[str, str], world: dict[str, Any]) -> str:
    values = {
        name: str(world["goal_id"]) if value == "GOAL" else value for name, value in params.items()
    }
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


def _body(value: Any, world: dict[str, Any]) -> Any:
    """The table's body with its placeholders filled in."""
    if value == "NOW":
        return now_ms() / 1000 - 5
    if value == "ALICE_ENTITY":
        return world["alice_entity"]
    if isinstance(value, list):
        return [_body(item, world) for item in value]
    if isinstance(value, dict):
        return {name: _body(item, world) for name, item in value.items()}
    return value


async def test_bobs_key_never_reaches_alice(
    client: httpx.AsyncClient,
    db: Database,
    world: dict[str, Any],
    alice: Account,
    bob: Account,
) -> None:
    alice_rows = await stored_heartbeats(db, alice.user.id)
    bob_rows = await stored_heartbeats(db, bob.user.id)
    checked = 0
    for method, path, below in _documented():
        for params, query, body, expected in AIMED_AT_ALICE[(method, below)]:
            targets = [params]
            # The numeric id names alice as well as her username does.
            if params.get("user") == ALICE:
                targets.append({**params, "user": str(alice.user.id)})
            if params.get("username") == ALICE:
                targets.append({**params, "username": str(alice.user.id)})
            for target in targets:
                url = _fill(path, target, world)
                response = await client.request(
                    method.upper(),
                    url,
                    params=query,
                    json=_body(body, world),
                    headers=bob.bearer,
                )
                where = f"{method.upper()} {url} {query}"
                assert response.status_code == expected, f"{where}: {response.text}"
                assert SECRET not in response.text, f"{where} leaked: {response.text}"
                if response.status_code >= 400:
                    assert list(response.json()) == ["error"], where
                checked += 1
    assert checked > 40
    # Nothing bob sent landed in alice's history, and what he posted at her was not stored.
    assert await stored_heartbeats(db, alice.user.id) == alice_rows
    assert [row["entity"] for row in await stored_heartbeats(db, bob.user.id)] == [
        row["entity"] for row in bob_rows
    ]


async def test_my_heartbeats_are_only_mine(
    client: httpx.AsyncClient, world: dict[str, Any], bob: Account
) -> None:
    response = await client.get("/api/v1/my/heartbeats", headers=bob.bearer)
    assert response.status_code == 200
    assert [beat["entity"] for beat in response.json()["heartbeats"]] == [
        f"/home/bob/file{n}.py" for n in range(3)
    ]
    recent = await client.get("/api/v1/my/heartbeats/most_recent", headers=bob.bearer)
    assert recent.json()["heartbeat"]["entity"] == "/home/bob/file2.py"


async def test_statusbar_and_stats_count_only_mine(
    client: httpx.AsyncClient, world: dict[str, Any], bob: Account
) -> None:
    today = await client.get("/api/hackatime/v1/users/current/statusbar/today", headers=bob.bearer)
    assert [item["name"] for item in today.json()["data"]["projects"]] == ["bob-project"]
    stats = await client.get("/api/v1/stats", headers=bob.bearer)
    assert stats.json()["total_seconds"] == 60
    assert [item["name"] for item in stats.json()["projects"]] == ["bob-project"]


async def test_admin_only_routes_answer_admins(
    client: httpx.AsyncClient, world: dict[str, Any], admin: Account, alice: Account
) -> None:
    for url in (
        "/api/v1/users/lookup_email/alice@example.com",
        "/api/v1/users/lookup_slack_uid/UALICE",
        "/api/v1/users/alice/stats",
        "/api/v1/stats?username=alice",
    ):
        response = await client.get(url, headers=admin.bearer)
        assert response.status_code == 200, f"{url}: {response.text}"
    # Alice herself sees her private stats.
    response = await client.get("/api/v1/users/alice/stats", headers=alice.bearer)
    assert response.status_code == 200


async def test_public_stats_are_visible_private_are_not(
    client: httpx.AsyncClient, db: Database, world: dict[str, Any], bob: Account
) -> None:
    await users.update_user(db, "alice", is_public=True)
    response = await client.get("/api/v1/users/alice/stats", headers=bob.bearer)
    assert response.status_code == 200
    # A convicted (red) user's stats are hidden even when public.
    await users.update_user(db, "alice", trust_level="red")
    response = await client.get("/api/v1/users/alice/stats", headers=bob.bearer)
    assert response.status_code == 404


# --- Keys are never written in clear ---------------------------------------------------------


def _file_bytes(db_path: Path) -> bytes:
    parts = [db_path, db_path.with_name(db_path.name + "-wal")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


async def test_database_file_never_holds_a_key(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    world: dict[str, Any],
    alice: Account,
    bob: Account,
    admin: Account,
) -> None:
    rotated = await users.rotate_key(db, "bob")
    # Keys that went over the wire in every form, on ingest and on reads.
    now = now_ms() / 1000
    await client.post(
        "/api/v1/users/current/heartbeats.bulk",
        params={"api_key": rotated},
        json=[{"entity": "/home/bob/after.py", "time": now - 1}],
    )
    await client.get("/api/v1/my/heartbeats", params={"api_key": rotated})
    await client.get("/api/v1/stats", headers=admin.basic)
    await client.post("/api/v1/plugins/errors", json={"note": "x"}, headers=alice.bearer)

    stored = _file_bytes(settings.db_path)
    for key in (alice.key, bob.key, rotated, admin.key):
        assert key.encode() not in stored
        assert key.replace("-", "").encode() not in stored
    # The file read is the live one: it does hold the digest of the key.
    assert users.key_digest(rotated).encode() in stored


# --- Keys never reach the access log ---------------------------------------------------------

KEY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
QUERIES = [
    pytest.param(f"?api_key={KEY}", id="alone"),
    pytest.param(f"?limit=5&api_key={KEY}&start=2026-01-01", id="among-others"),
    pytest.param(f"?API_KEY={KEY}", id="upper-case"),
    pytest.param(f"?api_key={KEY}&api_key={KEY}", id="twice"),
    pytest.param(f"?api%5Fkey={KEY}", id="name-percent-encoded"),
    pytest.param(f"?%61pi_key={KEY}", id="letter-percent-encoded"),
    pytest.param(f"?api_key={KEY.replace('-', '%2D')}", id="value-percent-encoded"),
]


def _uvicorn_access_record(path_with_query: str) -> logging.LogRecord:
    # The shape uvicorn's access logger emits (uvicorn/protocols/http/h11_impl.py).
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:50000", "GET", "/api/v1/my/heartbeats" + path_with_query, "1.1", 200),
        None,
    )


def _key_in(text: str) -> bool:
    return KEY in text or KEY.replace("-", "%2D") in text


@pytest.mark.parametrize("query", QUERIES)
def test_access_log_filter_redacts_the_key(query: str) -> None:
    record = _uvicorn_access_record(query)
    assert RedactApiKeys().filter(record)
    message = record.getMessage()
    assert not _key_in(message), message
    assert message.startswith('127.0.0.1:50000 - "GET /api/v1/my/heartbeats?')


def test_real_server_access_log_never_shows_a_key(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "hackatime.db"
    key = add_user(db_path, "carol")
    queries = [str(query.values[0]).replace(KEY, key) for query in QUERIES]
    with running_server(db_path) as server, httpx.Client(base_url=server.base_url) as http:
        statuses = []
        for query in queries:
            statuses.append(http.get("/api/v1/my/heartbeats" + query, timeout=10).status_code)
            statuses.append(
                http.post(
                    "/api/hackatime/v1/users/current/heartbeats.bulk" + query, json=[], timeout=10
                ).status_code
            )
        server.stop(signal.SIGTERM)
    everything = server.output + server.log()
    # The requests were logged (so the check below looks at the right lines)...
    assert everything.count("/api/v1/my/heartbeats?") == len(queries)
    # ...and most authenticated with the key, in all its spellings.
    assert statuses.count(200) >= 4
    for spelling in (key, key.replace("-", "%2D"), key.replace("-", "")):
        assert spelling not in everything, everything


def test_any_way_of_serving_the_app_redacts_keys_from_the_access_log(tmp_path: Path) -> None:
    access = logging.getLogger("uvicorn.access")
    saved = list(access.filters)
    for existing in saved:
        access.removeFilter(existing)
    try:
        create_app(Settings(db_path=tmp_path / "x.db", create_first_user=False))
        create_app(Settings(db_path=tmp_path / "y.db", create_first_user=False))
        redactors = [f for f in access.filters if isinstance(f, RedactApiKeys)]
        assert len(redactors) == 1
    finally:
        for existing in list(access.filters):
            access.removeFilter(existing)
        for existing in saved:
            access.addFilter(existing)
