"""Builds the ASGI app: `app:app` for any ASGI server, or `python app.py` to serve it."""

from __future__ import annotations

import getpass
import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route

from hackatime import ingest, logs, users
from hackatime.api import goals as api_goals
from hackatime.api import hackatime as api_hackatime
from hackatime.api import wakatime as api_wakatime
from hackatime.api import wakatime_stats as api_wakatime_stats
from hackatime.api.openapi import openapi_endpoint
from hackatime.config import Settings, load_settings
from hackatime.db import Database
from hackatime.ratelimit import FailureLimiter
from hackatime.responses import exception_handlers

WAKATIME_ROUTES = api_wakatime.routes + api_wakatime_stats.routes + api_goals.routes


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], float] = time.time
) -> Starlette:
    """The app; `clock` (epoch seconds) is what every "now" and "today" of the API reads."""
    settings = settings or load_settings()
    logs.redact_access_log()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.db_path, read_connections=settings.read_connections)
        await db.open()
        app.state.db = db
        try:
            await _welcome_first_user(db, settings)
            yield
        finally:
            await ingest.drain(db)
            await db.close()

    app = Starlette(
        routes=[
            Route("/api/openapi.json", openapi_endpoint, methods=["GET"]),
            Mount("/api/hackatime/v1", routes=WAKATIME_ROUTES),
            # The seed's routes first: its /users/{username}/stats takes precedence.
            Mount("/api/v1", routes=api_hackatime.routes + WAKATIME_ROUTES),
        ],
        middleware=[
            # Browser plugins post from their own origin and send X-Machine-Name.
            Middleware(
                CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]
            )
        ],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.auth_failures = FailureLimiter(settings.auth_failures_per_minute)
    return app


def _first_username() -> str:
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = ""
    name = re.sub(r"[^A-Za-z0-9_.-]", "", login)[:64]
    return name if not users.validate_fields(username=name) else "admin"


async def _welcome_first_user(db: Database, settings: Settings) -> None:
    """On an empty database, make the first user and print how to point WakaTime here."""
    if not settings.create_first_user or await users.count_users(db):
        return
    user, key = await users.create_user(db, _first_username(), is_admin=True)
    host = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0", "::", "::1") else settings.host
    # Flushed at once: on a Pi this is read from the service's journal.
    print(
        f"\nCreated user {user.username!r} (admin). Its API key, shown only this once:\n\n"
        f"    {key}\n\n"
        "Put these lines in ~/.wakatime.cfg on every machine you code on:\n\n"
        "[settings]\n"
        f"api_url = http://{host}:{settings.port}/api/hackatime/v1\n"
        f"api_key = {key}\n",
        flush=True,
    )


app = create_app()

if __name__ == "__main__":
    from hackatime.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
