"""Dashboard sessions: they expire, end one at a time or all together with a new key, and leave
only digests behind."""

from __future__ import annotations

from hackatime import users
from hackatime.db import Database
from hackatime.web import sessions
from tests.conftest import Account

T0 = 1_780_000_000_000


async def test_a_session_lasts_thirty_days(db: Database, alice: Account) -> None:
    token = await sessions.start(db, alice.user.id, T0)
    assert sessions.LIFETIME_MS == 30 * 86_400_000
    found = await sessions.user_of(db, token, T0 + sessions.LIFETIME_MS - 1)
    assert found is not None
    assert found.username == "alice"
    assert await sessions.user_of(db, token, T0 + sessions.LIFETIME_MS) is None


async def test_expired_sessions_are_forgotten_when_the_next_one_starts(
    db: Database, alice: Account, bob: Account
) -> None:
    await sessions.start(db, alice.user.id, T0)
    kept = await sessions.start(db, bob.user.id, T0 + 1000)
    await sessions.start(db, bob.user.id, T0 + sessions.LIFETIME_MS)
    assert await db.fetch_value("SELECT count(*) FROM web_sessions") == 2
    assert await sessions.user_of(db, kept, T0 + sessions.LIFETIME_MS) is not None


async def test_ending_one_session_keeps_the_others(db: Database, alice: Account) -> None:
    first = await sessions.start(db, alice.user.id, T0)
    second = await sessions.start(db, alice.user.id, T0)
    await sessions.end(db, first)
    assert await sessions.user_of(db, first, T0) is None
    assert await sessions.user_of(db, second, T0) is not None


async def test_a_new_key_ends_every_session_of_its_user_only(
    db: Database, alice: Account, bob: Account
) -> None:
    mine = [await sessions.start(db, alice.user.id, T0) for _ in range(2)]
    theirs = await sessions.start(db, bob.user.id, T0)
    await users.rotate_key(db, "alice")
    assert [await sessions.user_of(db, token, T0) for token in mine] == [None, None]
    assert await sessions.user_of(db, theirs, T0) is not None


async def test_other_changes_to_the_user_keep_the_session(db: Database, alice: Account) -> None:
    token = await sessions.start(db, alice.user.id, T0)
    await users.update_user(db, "alice", timezone="Asia/Tokyo", is_public=False)
    found = await sessions.user_of(db, token, T0)
    assert found is not None
    assert found.timezone == "Asia/Tokyo"


async def test_tokens_are_random_and_stored_only_as_digests(db: Database, alice: Account) -> None:
    tokens = {await sessions.start(db, alice.user.id, T0) for _ in range(3)}
    assert len(tokens) == 3
    assert all(len(token) >= 43 for token in tokens)
    stored = {row[0] for row in await db.fetch_all("SELECT token_sha256 FROM web_sessions")}
    assert stored.isdisjoint(tokens)
    assert len({sessions.csrf_token(token) for token in tokens} | tokens) == 6
