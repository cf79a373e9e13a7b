"""A full disk: writes answer 507 naming the cause and store nothing, reads go on, and writes
resume once there is room. `PRAGMA max_page_count` on the write connection stands in for the
disk: the database cannot grow past it, and SQLite fails the write with SQLITE_FULL."""

from __future__ import annotations

import httpx

from hackatime.db import Database
from tests.conftest import Account
from tests.helpers import HACKATIME_BASE, now_ms, post_heartbeats, stored_heartbeats

SECOND = 1000


def batch(start_ms: int, count: int = 100) -> list[dict[str, object]]:
    # Long distinct entities: a batch needs pages the database does not have yet.
    return [
        {"entity": f"/src/{n:04d}/{'deep/' * 150}main.py", "time": (start_ms + n * SECOND) / 1000}
        for n in range(count)
    ]


async def fill_the_disk(db: Database) -> None:
    (row,) = await db.write("PRAGMA page_count")
    await db.write(f"PRAGMA max_page_count = {int(row[0])}")


async def free_space(db: Database) -> None:
    await db.write("PRAGMA max_page_count = 1073741823")


async def test_a_full_disk_answers_507_and_stores_nothing(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    start = now_ms() - 3_600_000
    acknowledged = await post_heartbeats(client, alice, batch(start, 3))
    assert acknowledged.status_code == 201
    await fill_the_disk(db)

    response = await post_heartbeats(client, alice, batch(start + 10_000))

    assert response.status_code == 507
    assert response.json() == {
        "error": "The server's disk is full: nothing from this request was stored;"
        " send it again later"
    }
    assert response.headers["retry-after"] == "300"
    assert len(await stored_heartbeats(db, alice.user.id)) == 3


async def test_writes_resume_when_space_returns(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    start = now_ms() - 3_600_000
    await fill_the_disk(db)
    refused = await post_heartbeats(client, alice, batch(start))
    assert refused.status_code == 507

    await free_space(db)
    resent = await post_heartbeats(client, alice, batch(start))

    assert resent.status_code == 201
    assert len(await stored_heartbeats(db, alice.user.id)) == 100


async def test_a_read_with_a_timezone_header_never_writes(
    client: httpx.AsyncClient, db: Database, bob: Account
) -> None:
    """The header is the zone of the read that carries it, and is recorded by posts only."""
    await db.write("UPDATE users SET timezone = NULL WHERE id = ?", (bob.user.id,))
    await fill_the_disk(db)
    await db.write("PRAGMA query_only = 1")
    try:
        response = await client.get(
            f"{HACKATIME_BASE}/users/current/statusbar/today",
            headers={**bob.bearer, "Timezone": "Asia/Kolkata"},
        )
    finally:
        await db.write("PRAGMA query_only = 0")

    assert response.status_code == 200, response.text
    assert response.json()["data"]["range"]["timezone"] == "Asia/Kolkata"
    detected = await db.fetch_value(
        "SELECT detected_timezone FROM users WHERE id = ?", (bob.user.id,)
    )
    assert detected is None
