"""Heartbeat ingest over HTTP, under both API bases."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hackatime import ingest, users
from hackatime.db import Database
from hackatime.errors import ServiceUnavailable
from tests.conftest import Account
from tests.helpers import API_BASES, beat, now_ms, post_heartbeats, stored_heartbeats

OK = [{"data": None, "error": None}, 201]
ENDPOINTS = [
    pytest.param("heartbeats.bulk", id="bulk-path"),
    pytest.param("heartbeats", id="single-path"),
]


@pytest.fixture(params=API_BASES)
def base(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def t0() -> int:
    """An hour ago, in epoch seconds: comfortably valid for every heartbeat in a test."""
    return now_ms() // 1000 - 3600


def item(time: float, entity: str = "/src/app.py", **fields: Any) -> dict[str, Any]:
    return {"entity": entity, "time": time, "type": "file", **fields}


async def count_rows(db: Database) -> int:
    return await db.fetch_value("SELECT count(*) FROM heartbeats")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_array_answers_201_per_item_and_stores_the_valid_ones(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, endpoint: str, t0: int
) -> None:
    items = [
        item(t0, project="a"),
        item(t0 + 10, entity=None),
        item(t0 + 20, project="b"),
        item("soon", lineno="x"),
        item(t0 + 30, project="c"),
    ]
    response = await post_heartbeats(client, alice, items, base=base, endpoint=endpoint)

    assert response.status_code == 201
    responses = response.json()["responses"]
    assert [status for _, status in responses] == [201, 400, 201, 400, 201]
    assert responses[0] == responses[2] == responses[4] == OK
    assert list(responses[1][0]) == ["error"]
    assert "entity" in responses[1][0]["error"]
    assert "time" in responses[3][0]["error"]
    assert "lineno" in responses[3][0]["error"]
    rows = await stored_heartbeats(db, alice.user.id)
    assert [(row["time_ms"], row["project"]) for row in rows] == [
        (t0 * 1000, "a"),
        ((t0 + 20) * 1000, "b"),
        ((t0 + 30) * 1000, "c"),
    ]


async def test_all_invalid_array_still_201(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    items = [item(t0, entity=None), item("never"), {"nothing": True}, "not an object"]
    response = await post_heartbeats(client, alice, items, base=base)

    assert response.status_code == 201
    assert [status for _, status in response.json()["responses"]] == [400, 400, 400, 400]
    assert await count_rows(db) == 0


async def test_empty_array_is_201_with_no_responses(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    response = await post_heartbeats(client, alice, [], base=base)
    assert response.status_code == 201
    assert response.json() == {"responses": []}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_single_object_answers_202_with_the_stored_heartbeat(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, endpoint: str, t0: int
) -> None:
    raw = item(
        t0 + 0.5,
        entity="/home/pi/hackatime/app.py",
        project="hackatime",
        branch="main",
        is_write=True,
        lineno="42",
        cursorpos="7",
        lines="300",
        dependencies=["orjson", "starlette"],
        category=None,
        unknown_field="ignored",
    )
    headers = {
        "User-Agent": "wakatime/v1.90.0 (linux-6.1.0-rpi-arm64) go1.22.1 "
        "vim/9.1.0 vim-wakatime/11.2.0",
        "X-Machine-Name": "raspberrypi",
    }
    response = await post_heartbeats(
        client, alice, raw, base=base, endpoint=endpoint, headers=headers
    )

    assert response.status_code == 202
    data = response.json()["data"]
    (row,) = await stored_heartbeats(db, alice.user.id)
    expected = {
        "id": row["id"],
        "user_id": alice.user.id,
        "time": t0 + 0.5,
        "entity": "/home/pi/hackatime/app.py",
        "type": "file",
        "category": "coding",
        "project": "hackatime",
        "branch": "main",
        "language": "Python",
        "editor": "vim",
        "operating_system": "Linux",
        "machine": "raspberrypi",
        "is_write": True,
        "lineno": 42,
        "cursorpos": 7,
        "lines": 300,
        "dependencies": ["orjson", "starlette"],
    }
    assert {key: data[key] for key in expected} == expected
    assert "unknown_field" not in data
    assert row["time_ms"] == t0 * 1000 + 500
    assert row["language"] == "Python"
    assert row["lineno"] == 42
    assert row["is_write"] == 1
    assert orjson.loads(row["dependencies"]) == ["orjson", "starlette"]


async def test_invalid_single_object_is_400(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str
) -> None:
    response = await post_heartbeats(client, alice, {"time": "soon"}, base=base)

    assert response.status_code == 400
    error = response.json()["error"]
    assert "entity" in error
    assert "time" in error
    assert await count_rows(db) == 0


@pytest.mark.parametrize(
    ("content_type", "double_encoded"),
    [
        pytest.param("application/json", True, id="json-string-holding-the-array"),
        pytest.param("text/plain", False, id="text-plain"),
        pytest.param("text/plain;charset=UTF-8", True, id="text-plain-double-encoded"),
        pytest.param("application/x-www-form-urlencoded", False, id="form-content-type"),
    ],
)
async def test_body_forms_accepted(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    t0: int,
    content_type: str,
    double_encoded: bool,
) -> None:
    body = orjson.dumps([item(t0), item(t0 + 60)])
    if double_encoded:
        body = orjson.dumps(body.decode())
    response = await client.post(
        f"{base}/users/current/heartbeats.bulk",
        content=body,
        headers={**alice.bearer, "Content-Type": content_type},
    )

    assert response.status_code == 201
    assert response.json() == {"responses": [OK, OK]}
    assert [row["time_ms"] for row in await stored_heartbeats(db, alice.user.id)] == [
        t0 * 1000,
        (t0 + 60) * 1000,
    ]


async def test_exactly_100_items_accepted(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    response = await post_heartbeats(client, alice, [item(t0 + n) for n in range(100)], base=base)
    assert response.status_code == 201
    assert len(response.json()["responses"]) == 100
    assert await count_rows(db) == 100


async def test_more_than_100_items_is_400(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    response = await post_heartbeats(client, alice, [item(t0 + n) for n in range(101)], base=base)
    assert response.status_code == 400
    assert list(response.json()) == ["error"]
    assert await count_rows(db) == 0


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize(
    "streamed",
    [
        pytest.param(False, id="content-length-declared"),
        pytest.param(True, id="chunked-without-length"),
    ],
)
async def test_body_over_1_mib_is_413(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int, streamed: bool
) -> None:
    # Valid JSON, only too long: the size alone must be refused.
    padding = " " * (1024 * 1024)
    body = orjson.dumps([item(t0)])[:-1] + padding.encode() + b"]"
    url = f"{base}/users/current/heartbeats.bulk"
    content: bytes | AsyncIterator[bytes] = _chunks(body) if streamed else body
    response = await client.post(url, content=content, headers=alice.bearer)

    assert response.status_code == 413
    assert list(response.json()) == ["error"]
    assert await count_rows(db) == 0


NOT_JSON = "Body is not valid JSON"
WRONG_KIND = "Body must be a heartbeat object or an array of them, not "


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(b'[{"entity": "a.py", "time": 1', NOT_JSON, id="truncated"),
        pytest.param(b"", NOT_JSON, id="empty"),
        pytest.param(b"entity=a.py", NOT_JSON, id="form-encoded"),
        pytest.param(b"\xff\xfe", NOT_JSON, id="not-utf8"),
        # JSON, but neither a heartbeat object nor an array of them: the message says so.
        pytest.param(b'"not json inside a string"', WRONG_KIND + "a string", id="string"),
        pytest.param(b"42", WRONG_KIND + "a number", id="number"),
        pytest.param(b"null", WRONG_KIND + "true, false or null", id="null"),
        pytest.param(b"true", WRONG_KIND + "true, false or null", id="bool"),
        pytest.param(b'"42"', WRONG_KIND + "a number", id="string-holding-a-number"),
    ],
)
async def test_a_body_that_is_not_heartbeats_is_400(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, body: bytes, error: str
) -> None:
    response = await client.post(
        f"{base}/users/current/heartbeats.bulk", content=body, headers=alice.bearer
    )
    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert await count_rows(db) == 0


@pytest.mark.parametrize(
    "who",
    [
        pytest.param(lambda account: "current", id="current"),
        pytest.param(lambda account: account.user.username, id="own-username"),
        pytest.param(lambda account: str(account.user.id), id="own-id"),
    ],
)
async def test_user_in_path_may_be_the_caller(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int, who: Any
) -> None:
    response = await post_heartbeats(client, alice, [item(t0)], base=base, user=who(alice))
    assert response.status_code == 201
    assert len(await stored_heartbeats(db, alice.user.id)) == 1


@pytest.mark.parametrize(
    "who",
    [
        pytest.param(lambda account: account.user.username, id="other-username"),
        pytest.param(lambda account: str(account.user.id), id="other-id"),
        pytest.param(lambda account: "nobody", id="unknown-user"),
    ],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_user_in_path_someone_else_is_403(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bob: Account,
    base: str,
    t0: int,
    who: Any,
    endpoint: str,
) -> None:
    response = await post_heartbeats(
        client, alice, [item(t0)], base=base, user=who(bob), endpoint=endpoint
    )
    assert response.status_code == 403
    assert list(response.json()) == ["error"]
    assert await count_rows(db) == 0


async def test_resent_batch_is_stored_once(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    batch = [
        item(t0, project="p", lineno=1, cursorpos=2, is_write=True),
        item(t0 + 30, project="p", branch="main", language="Go"),
        item(t0 + 60, entity="https://example.com", type="domain", category="browsing"),
    ]
    first = await post_heartbeats(client, alice, batch, base=base)
    again = await post_heartbeats(client, alice, batch, base=base)

    assert first.status_code == again.status_code == 201
    assert again.json() == {"responses": [OK, OK, OK]}
    rows = await stored_heartbeats(db, alice.user.id)
    assert [row["time_ms"] for row in rows] == [t0 * 1000, (t0 + 30) * 1000, (t0 + 60) * 1000]


async def test_duplicate_within_one_batch_stored_once(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    response = await post_heartbeats(client, alice, [item(t0), item(t0)], base=base)
    assert response.json() == {"responses": [OK, OK]}
    assert await count_rows(db) == 1


async def test_resent_single_object_answers_the_stored_id(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    first = await post_heartbeats(client, alice, item(t0), base=base, endpoint="heartbeats")
    again = await post_heartbeats(client, alice, item(t0), base=base, endpoint="heartbeats")
    assert first.status_code == again.status_code == 202
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert await count_rows(db) == 1


@pytest.mark.parametrize(
    ("field", "differs"),
    [
        pytest.param("lineno", 5, id="lineno"),
        pytest.param("cursorpos", 9, id="cursorpos"),
        pytest.param("is_write", True, id="is-write"),
        pytest.param("branch", "dev", id="branch"),
        pytest.param("category", "debugging", id="category"),
    ],
)
async def test_heartbeats_differing_in_one_key_field_both_stored(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    t0: int,
    field: str,
    differs: Any,
) -> None:
    batch = [item(t0, project="p"), item(t0, project="p", **{field: differs})]
    await post_heartbeats(client, alice, batch, base=base)
    assert await count_rows(db) == 2


LAST = {
    "project": "<<LAST_PROJECT>>",
    "language": "<<LAST_LANGUAGE>>",
    "branch": "<<LAST_BRANCH>>",
}


async def test_placeholders_take_values_from_an_earlier_request(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    await post_heartbeats(
        client, alice, [item(t0, project="alpha", language="Go", branch="main")], base=base
    )
    await post_heartbeats(client, alice, [item(t0 + 30, entity="/src/x.txt", **LAST)], base=base)

    rows = await stored_heartbeats(db, alice.user.id)
    assert [(row["project"], row["language"], row["branch"]) for row in rows] == [
        ("alpha", "Go", "main"),
        ("alpha", "Go", "main"),
    ]


async def test_placeholders_take_values_from_earlier_in_the_same_batch(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    batch = [
        item(t0, project="alpha", language="Go", branch="main"),
        item(t0 + 30, project="beta", language="Rust", branch="dev"),
        item(t0 + 60, **LAST),
        # Only the project is a placeholder: the others stay as sent.
        item(t0 + 90, project="<<LAST_PROJECT>>", language="Zig", branch="feature"),
    ]
    response = await post_heartbeats(client, alice, batch, base=base)

    assert response.json() == {"responses": [OK, OK, OK, OK]}
    rows = await stored_heartbeats(db, alice.user.id)
    assert [(row["project"], row["language"], row["branch"]) for row in rows] == [
        ("alpha", "Go", "main"),
        ("beta", "Rust", "dev"),
        ("beta", "Rust", "dev"),
        ("beta", "Zig", "feature"),
    ]


async def test_placeholders_without_an_earlier_value(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    await post_heartbeats(client, alice, [item(t0, entity="/src/main.rs", **LAST)], base=base)

    (row,) = await stored_heartbeats(db, alice.user.id)
    # Never the placeholder itself; the language falls back to the extension.
    assert (row["project"], row["language"], row["branch"]) == (None, "Rust", None)


async def test_placeholders_never_use_another_users_values(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, base: str, t0: int
) -> None:
    await post_heartbeats(client, bob, [item(t0, project="bobs", branch="b")], base=base)
    await post_heartbeats(client, alice, [item(t0 + 30, **LAST)], base=base)

    (row,) = await stored_heartbeats(db, alice.user.id)
    assert (row["project"], row["branch"]) == (None, None)


@pytest.mark.parametrize(
    ("header", "item_machine", "expected"),
    [
        pytest.param("my+laptop%21", None, "my laptop!", id="url-decoded-header"),
        pytest.param("pi", "laptop", "pi", id="header-over-item"),
        pytest.param(None, "laptop", "laptop", id="item-without-header"),
    ],
)
async def test_machine_name(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    base: str,
    t0: int,
    header: str | None,
    item_machine: str | None,
    expected: str,
) -> None:
    headers = {"X-Machine-Name": header} if header else {}
    await post_heartbeats(
        client, alice, [item(t0, machine=item_machine)], base=base, headers=headers
    )
    (row,) = await stored_heartbeats(db, alice.user.id)
    assert row["machine"] == expected


async def test_editor_from_request_user_agent_unless_item_has_one(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    vscode_mac = (
        "wakatime/v1.90.0 (darwin-23.4.0-arm64) go1.22.1 vscode/1.88.1 vscode-wakatime/24.5.0"
    )
    legacy_vim = (
        "wakatime/13.1.0 (Linux-6.1.0-x86_64-with-glibc2.36) Python3.11.7.final.0 "
        "vim/9.0 vim-wakatime/9.0.0"
    )
    batch = [item(t0), item(t0 + 30, user_agent=vscode_mac)]
    await post_heartbeats(client, alice, batch, base=base, headers={"User-Agent": legacy_vim})

    rows = await stored_heartbeats(db, alice.user.id)
    assert [(row["editor"], row["operating_system"]) for row in rows] == [
        ("vim", "Linux"),
        ("vscode", "macOS"),
    ]


async def test_an_over_long_user_agent_header_rejects_no_item(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int
) -> None:
    vscode_mac = (
        "wakatime/v1.90.0 (darwin-23.4.0-arm64) go1.22.1 vscode/1.88.1 vscode-wakatime/24.5.0"
    )
    batch = [item(t0, user_agent=vscode_mac), item(t0 + 30)]
    headers = {"User-Agent": "x" * 8000}

    response = await post_heartbeats(client, alice, batch, base=base, headers=headers)

    assert response.json()["responses"] == [OK, OK]
    rows = await db.fetch_all(
        "SELECT ua.value FROM heartbeats h JOIN user_agents ua ON ua.id = h.user_agent_id"
        " ORDER BY h.time_ms"
    )
    assert [row[0] for row in rows] == [vscode_mac, "x" * 1024]


async def zones(db: Database, username: str) -> tuple[str | None, str | None]:
    row = await db.fetch_one(
        "SELECT timezone, detected_timezone FROM users WHERE username = ?", (username,)
    )
    assert row is not None
    return row["timezone"], row["detected_timezone"]


@pytest.mark.parametrize(
    ("explicit", "header", "expected"),
    [
        pytest.param(None, "Europe/Berlin", (None, "Europe/Berlin"), id="detected-when-unset"),
        pytest.param(None, "Mars/Olympus_Mons", (None, None), id="unknown-zone-ignored"),
        pytest.param(None, None, (None, None), id="no-header"),
        pytest.param("Asia/Tokyo", "Europe/Berlin", ("Asia/Tokyo", None), id="explicit-kept"),
    ],
)
async def test_timezone_header(
    client: httpx.AsyncClient,
    db: Database,
    base: str,
    t0: int,
    explicit: str | None,
    header: str | None,
    expected: tuple[str | None, str | None],
) -> None:
    user, key = await users.create_user(db, "carol", timezone=explicit)
    carol = Account(user, key)
    headers = {"Timezone": header} if header else {}

    response = await post_heartbeats(client, carol, [item(t0)], base=base, headers=headers)

    assert response.status_code == 201
    assert await zones(db, "carol") == expected


async def test_timezone_header_follows_the_machine(
    client: httpx.AsyncClient, db: Database, base: str, t0: int
) -> None:
    user, key = await users.create_user(db, "carol")
    carol = Account(user, key)
    for offset, zone in enumerate(["Europe/Berlin", "America/New_York"]):
        await post_heartbeats(
            client, carol, [item(t0 + offset)], base=base, headers={"Timezone": zone}
        )
    assert await zones(db, "carol") == (None, "America/New_York")


async def test_plugin_errors_answer_201_empty_object(
    client: httpx.AsyncClient, alice: Account, base: str
) -> None:
    report = {"message": "panic: runtime error", "stacktrace": "goroutine 1", "editor": "vim"}
    response = await client.post(f"{base}/plugins/errors", json=report, headers=alice.bearer)
    assert response.status_code == 201
    assert response.json() == {}


async def test_plugin_errors_need_a_key(client: httpx.AsyncClient, base: str) -> None:
    response = await client.post(f"{base}/plugins/errors", json={"message": "x"})
    assert response.status_code == 401


async def test_cors_preflight(client: httpx.AsyncClient, base: str) -> None:
    response = await client.options(
        f"{base}/users/current/heartbeats.bulk",
        headers={
            "Origin": "chrome-extension://abcdefghijklmnop",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-machine-name",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "x-machine-name"):
        assert header in allowed


async def test_cors_on_the_actual_post(
    client: httpx.AsyncClient, alice: Account, base: str, t0: int
) -> None:
    response = await post_heartbeats(
        client, alice, [item(t0)], base=base, headers={"Origin": "https://vscode.dev"}
    )
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "*"


# Batches written together: ingest.store straight, without HTTP.


async def test_a_placeholder_sees_the_users_batch_sent_just_before(
    db: Database, alice: Account
) -> None:
    t = now_ms() - 60_000
    first = [beat(t, project="proj")]
    second = [beat(t + 1000, project="<<LAST_PROJECT>>", entity="/src/b.py")]

    _, resolved = await asyncio.gather(
        ingest.store(db, alice.user.id, first), ingest.store(db, alice.user.id, second)
    )

    assert [heartbeat.project for heartbeat in resolved] == ["proj"]
    rows = await db.fetch_all("SELECT project FROM heartbeats ORDER BY id")
    assert [row["project"] for row in rows] == ["proj", "proj"]


async def test_one_users_backlog_holds_up_anothers_heartbeat_for_one_statement_at_most(
    db: Database, alice: Account, bob: Account
) -> None:
    t = now_ms() - 3_600_000
    backlog = [
        [beat(t + (batch * 100 + n) * 1000, entity=f"/src/{n}.py") for n in range(100)]
        for batch in range(5)
    ]
    # All queued before the writer first runs: alice's five full batches, then bob's one.
    await asyncio.gather(
        *(ingest.store(db, alice.user.id, batch) for batch in backlog),
        ingest.store(db, bob.user.id, [beat(t)]),
    )

    rows = await db.fetch_all("SELECT user_id, time_ms FROM heartbeats ORDER BY id")
    bob_position = [row["user_id"] for row in rows].index(bob.user.id)
    # Written with alice's first batch, not after her whole backlog; her order is kept.
    assert bob_position == 100
    alice_times = [row["time_ms"] for row in rows if row["user_id"] == alice.user.id]
    assert alice_times == sorted(alice_times)
    assert len(alice_times) == 500


async def test_a_failing_batch_does_not_fail_the_batches_written_with_it(
    db: Database, alice: Account
) -> None:
    t = now_ms() - 60_000
    # No user 999: the foreign key refuses the first batch when the group is written.
    results = await asyncio.gather(
        ingest.store(db, 999, [beat(t)]),
        ingest.store(db, alice.user.id, [beat(t), beat(t + 1000)]),
        return_exceptions=True,
    )

    assert isinstance(results[0], sqlite3.IntegrityError)
    assert [heartbeat.time_ms for heartbeat in results[1]] == [t, t + 1000]
    assert await count_rows(db) == 2


async def test_batches_queued_when_the_writer_is_cancelled_are_told_to_come_again(
    db: Database, alice: Account
) -> None:
    t = now_ms() - 60_000
    waiting = asyncio.create_task(ingest.store(db, alice.user.id, [beat(t)]))
    await asyncio.sleep(0)  # queued, and the writer task made but not yet run
    ingest._WRITES[db].writer.cancel()

    with pytest.raises(ServiceUnavailable):
        await asyncio.wait_for(waiting, 5)
    assert await ingest.store(db, alice.user.id, [beat(t + 1000)])
    assert await count_rows(db) == 1


async def test_shutdown_writes_what_is_queued_before_closing(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    await db.open()
    user, _ = await users.create_user(db, "alice")
    t = now_ms() - 60_000
    tasks = [asyncio.create_task(ingest.store(db, user.id, [beat(t + n * 1000)])) for n in range(5)]
    await asyncio.sleep(0)

    await ingest.drain(db)
    await db.close()

    assert all(task.done() and not task.exception() for task in tasks)
    conn = sqlite3.connect(tmp_path / "x.db")
    assert conn.execute("SELECT count(*) FROM heartbeats").fetchone()[0] == 5
    conn.close()


@pytest.mark.parametrize("slash", [pytest.param("", id="no-slash"), pytest.param("/", id="slash")])
async def test_heartbeats_posted_at_the_base_itself_are_stored(
    client: httpx.AsyncClient, db: Database, alice: Account, base: str, t0: int, slash: str
) -> None:
    """The legacy client (wakatime 13) posts to `api_url` exactly as the config gives it."""
    url = base + slash
    batch = await client.post(url, json=[item(t0), item(t0 + 60)], headers=alice.bearer)
    single = await client.post(url, json=item(t0 + 90), headers=alice.basic)

    assert batch.status_code == 201, batch.text
    assert batch.json() == {"responses": [[{"data": None, "error": None}, 201]] * 2}
    assert single.status_code == 202, single.text
    rows = await stored_heartbeats(db, alice.user.id)
    assert [(row["time_ms"], row["gap_next_ms"]) for row in rows] == [
        (t0 * 1000, 60_000),
        ((t0 + 60) * 1000, 30_000),
        ((t0 + 90) * 1000, None),
    ]


async def test_the_base_needs_a_key(client: httpx.AsyncClient, db: Database, base: str) -> None:
    response = await client.post(base, json=[item(now_ms() // 1000)])
    assert response.status_code == 401
    assert await count_rows(db) == 0


async def test_the_user_agents_remembered_are_bounded(
    db: Database, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "REMEMBERED_USER_AGENTS", 50)
    t = now_ms() - 3_600_000
    agents = [f"agent-{n:04d} " + "x" * 1000 for n in range(120)]
    for start in range(0, 120, 40):
        batch = [beat(t + n * 1000, user_agent=agents[n]) for n in range(start, start + 40)]
        await ingest.store(db, alice.user.id, batch)
    # One forgotten long ago comes back: it is still found, not stored twice.
    await ingest.store(db, alice.user.id, [beat(t + 500_000, user_agent=agents[0])])

    remembered = set(ingest._WRITES[db].user_agents)
    assert len(remembered) == 50
    assert agents[0] in remembered
    assert remembered - {agents[0]} <= set(agents[40:])
    rows = await db.fetch_all(
        "SELECT ua.value FROM heartbeats h JOIN user_agents ua ON ua.id = h.user_agent_id"
        " ORDER BY h.time_ms"
    )
    assert [row[0] for row in rows] == [*agents, agents[0]]
    assert await db.fetch_value("SELECT count(*) FROM user_agents") == 120


async def test_a_batch_past_the_waiting_bound_is_told_to_come_again(
    db: Database, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "MAX_WAITING_HEARTBEATS", 3)
    t = now_ms() - 3_600_000
    results = await asyncio.gather(
        ingest.store(db, alice.user.id, [beat(t), beat(t + 1000)]),
        ingest.store(db, alice.user.id, [beat(t + 2000), beat(t + 3000)]),
        return_exceptions=True,
    )

    assert isinstance(results[1], ServiceUnavailable)
    assert results[1].headers == {"Retry-After": "1"}
    assert await count_rows(db) == 2
    # Once the queue has drained, the same batch is taken.
    await ingest.store(db, alice.user.id, [beat(t + 2000), beat(t + 3000)])
    assert await count_rows(db) == 4
