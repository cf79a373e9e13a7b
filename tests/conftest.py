from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app import create_app
from hackatime import users
from hackatime.config import Settings
from hackatime.db import Database


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        db_path=tmp_path / "hackatime.db", default_timezone="UTC", create_first_user=False
    )


class Clock:
    """The app's clock: the real one until a test sets `now_s` (epoch seconds)."""

    def __init__(self) -> None:
        self.now_s: float | None = None

    def __call__(self) -> float:
        return time.time() if self.now_s is None else self.now_s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock)
    # httpx's ASGITransport does not run the lifespan; enter it here so the database is open.
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def db(app: Starlette) -> Database:
    return app.state.db


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class Account:
    """A user with its key, and the headers each auth form needs."""

    def __init__(self, user: users.User, key: str) -> None:
        self.user = user
        self.key = key

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def basic(self) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(self.key.encode()).decode()}


@pytest.fixture
async def alice(db: Database) -> Account:
    user, key = await users.create_user(db, "alice", email="alice@example.com", timezone="UTC")
    return Account(user, key)


@pytest.fixture
async def bob(db: Database) -> Account:
    user, key = await users.create_user(db, "bob", email="bob@example.com", timezone="UTC")
    return Account(user, key)


@pytest.fixture
async def admin(db: Database) -> Account:
    user, key = await users.create_user(db, "root", timezone="UTC", is_admin=True)
    return Account(user, key)
