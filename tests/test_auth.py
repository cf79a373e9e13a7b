"""API keys: where a request carries one, and what the server keeps of it."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from hackatime import users
from hackatime.auth import extract_api_key
from hackatime.db import Database
from hackatime.users import key_digest
from tests.conftest import Account
from tests.helpers import API_BASES, API_KEY_PATTERN, now_ms

KEY = "0b7e1b39-4a5e-4d4b-9e57-1c2d3e4f5a6b"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        pytest.param({"authorization": f"Bearer {KEY}"}, {}, KEY, id="bearer"),
        pytest.param({"authorization": f"bearer {KEY}"}, {}, KEY, id="bearer-lowercase"),
        pytest.param({"authorization": f"  Bearer   {KEY}  "}, {}, KEY, id="bearer-spaces"),
        pytest.param({"authorization": f"Basic {b64(KEY)}"}, {}, KEY, id="basic-key-alone"),
        pytest.param({"authorization": f"Basic {b64(KEY + ':')}"}, {}, KEY, id="basic-key-colon"),
        pytest.param({"authorization": f"BASIC {b64(KEY)}"}, {}, KEY, id="basic-uppercase"),
        pytest.param({}, {"api_key": KEY}, KEY, id="query"),
        pytest.param(
            {"authorization": f"Bearer {KEY}"}, {"api_key": "other"}, KEY, id="header-over-query"
        ),
        pytest.param({"authorization": "Basic !!!not-base64!!!"}, {}, None, id="garbage-base64"),
        pytest.param({"authorization": "Basic " + b64("x")[:-1]}, {}, None, id="bad-padding"),
        pytest.param(
            {"authorization": "Basic " + base64.b64encode(b"\xff\xfe").decode()},
            {},
            None,
            id="basic-not-utf8",
        ),
        pytest.param({"authorization": f"Basic {b64(':')}"}, {}, None, id="basic-only-colon"),
        pytest.param({"authorization": "Bearer"}, {}, None, id="bearer-without-key"),
        pytest.param({"authorization": "Bearer "}, {"api_key": KEY}, KEY, id="empty-bearer-query"),
        pytest.param({}, {"api_key": ""}, None, id="empty-query"),
        pytest.param({}, {}, None, id="missing"),
    ],
)
def test_extract_api_key(
    headers: dict[str, str], query: dict[str, str], expected: str | None
) -> None:
    assert extract_api_key(headers, query) == expected


def bearer(account: Account) -> tuple[dict[str, str], dict[str, str]]:
    return account.bearer, {}


def basic(account: Account) -> tuple[dict[str, str], dict[str, str]]:
    return account.basic, {}


def basic_with_colon(account: Account) -> tuple[dict[str, str], dict[str, str]]:
    return {"Authorization": f"Basic {b64(account.key + ':')}"}, {}


def query(account: Account) -> tuple[dict[str, str], dict[str, str]]:
    return {}, {"api_key": account.key}


AuthForm = Callable[[Account], tuple[dict[str, str], dict[str, str]]]


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(bearer, id="bearer"),
        pytest.param(basic, id="basic"),
        pytest.param(basic_with_colon, id="basic-trailing-colon"),
        pytest.param(query, id="query-api-key"),
    ],
)
@pytest.mark.parametrize("base", API_BASES)
async def test_each_key_form_accepted(
    client: httpx.AsyncClient, alice: Account, base: str, form: AuthForm
) -> None:
    headers, params = form(alice)
    response = await client.get(
        f"{base}/users/current/statusbar/today", headers=headers, params=params
    )
    assert response.status_code == 200
    assert response.json()["data"]["range"]["text"] == "Today"


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        pytest.param({}, {}, id="missing"),
        pytest.param({"Authorization": f"Bearer {KEY}"}, {}, id="unknown-bearer"),
        pytest.param({"Authorization": f"Basic {b64(KEY)}"}, {}, id="unknown-basic"),
        pytest.param({}, {"api_key": KEY}, id="unknown-query"),
        pytest.param({"Authorization": "Basic %%%"}, {}, id="garbage-basic"),
        pytest.param({"Authorization": "Token abc"}, {}, id="unknown-scheme"),
    ],
)
@pytest.mark.parametrize("base", API_BASES)
async def test_missing_or_wrong_key_is_401(
    client: httpx.AsyncClient,
    alice: Account,
    base: str,
    headers: dict[str, str],
    params: dict[str, str],
) -> None:
    response = await client.get(
        f"{base}/users/current/statusbar/today", headers=headers, params=params
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    assert body["error"]


async def test_401_on_ingest_stores_nothing(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post(
        "/api/hackatime/v1/users/current/heartbeats.bulk",
        json=[{"entity": "a.py", "time": now_ms() / 1000}],
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status_code == 401
    assert await db.fetch_value("SELECT count(*) FROM heartbeats") == 0


async def test_rotated_key_replaces_the_old_one(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    url = "/api/hackatime/v1/users/current/statusbar/today"
    new_key = await users.rotate_key(db, "alice")

    assert new_key != alice.key
    old = await client.get(url, headers=alice.bearer)
    new = await client.get(url, headers={"Authorization": f"Bearer {new_key}"})
    assert old.status_code == 401
    assert new.status_code == 200


STATUSBAR = "/api/hackatime/v1/users/current/statusbar/today"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@asynccontextmanager
async def another_process(db: Database) -> AsyncIterator[Database]:
    """The database as another process (the CLI) sees it: a connection of its own."""
    other = Database(db.path)
    await other.open()
    try:
        yield other
    finally:
        await other.close()


async def test_a_key_rotated_by_this_server_stops_working_at_once(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    assert (await client.get(STATUSBAR, headers=alice.bearer)).status_code == 200

    new_key = await users.rotate_key(db, "alice")

    assert (await client.get(STATUSBAR, headers=alice.bearer)).status_code == 401
    assert (await client.get(STATUSBAR, headers=bearer(new_key))).status_code == 200


async def test_a_lookup_during_a_rotation_is_not_remembered(db: Database, alice: Account) -> None:
    # Lookups that read the old row while the rotation commits must not keep it.
    async def look_up_while(rotation: asyncio.Task[str]) -> None:
        while not rotation.done():
            await users.get_user_by_key(db, alice.key)
            # A remembered key answers without awaiting anything: let the rotation run.
            await asyncio.sleep(0)

    for _ in range(20):
        rotation = asyncio.create_task(users.rotate_key(db, "alice"))
        await asyncio.gather(rotation, look_up_while(rotation))

        assert await users.get_user_by_key(db, alice.key) is None
        new_key = rotation.result()
        assert (await users.get_user_by_key(db, new_key)) is not None
        alice = Account(alice.user, new_key)


async def test_a_key_rotated_by_another_process_stops_working_once_forgotten(
    client: httpx.AsyncClient, db: Database, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await client.get(STATUSBAR, headers=alice.bearer)).status_code == 200
    # `hackatime user key alice --rotate` while the server runs: its own connection.
    async with another_process(db) as other:
        new_key = await users.rotate_key(other, "alice")

    assert (await client.get(STATUSBAR, headers=alice.bearer)).status_code == 200
    assert (await client.get(STATUSBAR, headers=bearer(new_key))).status_code == 200
    monkeypatch.setattr(users, "KEY_MEMORY_SECONDS", 0.0)
    assert (await client.get(STATUSBAR, headers=alice.bearer)).status_code == 401
    assert (await client.get(STATUSBAR, headers=bearer(new_key))).status_code == 200


async def test_an_unknown_key_is_not_remembered_as_unknown(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    key = users.new_api_key()
    assert (await client.get(STATUSBAR, headers=bearer(key))).status_code == 401
    async with another_process(db) as other:
        await other.write(
            "UPDATE users SET api_key_sha256 = ? WHERE username = 'alice'", (key_digest(key),)
        )

    response = await client.get("/api/hackatime/v1/users/current", headers=bearer(key))

    assert response.status_code == 200
    assert response.json()["data"]["username"] == "alice"


async def test_each_key_belongs_to_its_user(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    t = now_ms() / 1000
    for account in (alice, bob):
        response = await client.post(
            f"/api/v1/users/{account.user.username}/heartbeats",
            json={"entity": "a.py", "time": t},
            headers=account.bearer,
        )
        assert response.status_code == 202
        assert response.json()["data"]["user_id"] == account.user.id


async def test_keys_are_lowercase_uuid4(db: Database, alice: Account, bob: Account) -> None:
    rotated = await users.rotate_key(db, "bob")
    keys = [alice.key, bob.key, rotated, users.new_api_key()]
    for key in keys:
        assert API_KEY_PATTERN.fullmatch(key), key
    assert len(set(keys)) == len(keys)


async def test_database_never_holds_a_key_in_clear(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account
) -> None:
    t = now_ms() / 1000
    for account in (alice, bob):
        response = await client.post(
            "/api/hackatime/v1/users/current/heartbeats.bulk",
            params={"api_key": account.key},
            json=[{"entity": "a.py", "time": t}, {"entity": "b.py", "time": t + 30}],
        )
        assert response.status_code == 201
    rotated = await users.rotate_key(db, "alice")

    # The main file and its WAL: committed rows may not be checkpointed yet.
    path = Path(db.path)
    contents = b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )
    for key in (alice.key, bob.key, rotated):
        assert key.encode() not in contents
        assert key.replace("-", "").encode() not in contents
    # The digests are there, so the bytes read are the ones the server wrote.
    assert key_digest(rotated).encode() in contents
    assert key_digest(bob.key).encode() in contents


async def test_the_keys_remembered_are_bounded(
    db: Database, alice: Account, bob: Account, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users, "REMEMBERED_KEYS", 2)
    for account in (alice, bob, admin, alice):
        assert await users.get_user_by_key(db, account.key) == account.user

    # The oldest lookup (bob's) was forgotten; alice's second lookup made hers the newest.
    assert list(users._BY_KEY[db]) == [key_digest(admin.key), key_digest(alice.key)]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(str.upper, id="upper-case"),
        pytest.param(lambda key: key[0].upper() + key[1:] if key[0].isalpha() else key.upper(),
                     id="one-letter"),
        pytest.param(str.swapcase, id="swapped"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("form", ["bearer", "basic", "query"])
async def test_a_key_with_its_letters_case_changed_is_refused(
    client: httpx.AsyncClient, alice: Account, change: Callable[[str], str], form: str
) -> None:
    """A key is compared as sent, byte for byte (its SHA-256): the keys handed out are
    lowercase, and a key that differs in any character is another key."""
    changed = change(alice.key)
    assert changed != alice.key
    requests = {
        "bearer": {"headers": bearer(changed)},
        "basic": {"headers": Account(alice.user, changed).basic},
        "query": {"params": {"api_key": changed}},
    }
    response = await client.get(STATUSBAR, **requests[form])
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid API key"}
    assert (await client.get(STATUSBAR, headers=alice.bearer)).status_code == 200
