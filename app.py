"""Builds the ASGI app: `app:app` for any ASGI server, or `python app.py` to serve it."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import re
import socket
import stat
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route

from hackatime import ingest, logs, metrics, users
from hackatime.api import badges as api_badges
from hackatime.api import export as api_export
from hackatime.api import goals as api_goals
from hackatime.api import hackatime as api_hackatime
from hackatime.api import health as api_health
from hackatime.api import wakatime as api_wakatime
from hackatime.api import wakatime_stats as api_wakatime_stats
from hackatime.api.openapi import openapi_endpoint
from hackatime.config import Settings, load_settings
from hackatime.db import Database
from hackatime.ratelimit import FailureLimiter
from hackatime.responses import exception_handlers
from hackatime.web import pages

WAKATIME_ROUTES = api_wakatime.routes + api_wakatime_stats.routes + api_goals.routes
API_BASES = ("/api/hackatime/v1", "/api/v1")
# How often the start-up announcement looks whether the server has bound its port yet.
LISTEN_POLL_SECONDS = 0.02


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
        # The server binds its port only after this start-up; the announcement waits for it.
        announcer = (
            asyncio.create_task(_announce_when_listening(db, settings))
            if settings.create_first_user
            else None
        )
        try:
            yield
        finally:
            if announcer is not None:
                announcer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await announcer
            await ingest.drain(db)
            await db.close()

    routes = [
        Route("/api/openapi.json", openapi_endpoint, methods=["GET"]),
        Route("/api/health", api_health.health, methods=["GET"]),
        # The legacy client posts heartbeats to `api_url` itself, with or without a slash.
        *(Route(base, api_wakatime.post_heartbeats, methods=["POST"]) for base in API_BASES),
        Mount("/api/hackatime/v1", routes=WAKATIME_ROUTES),
        # The seed's routes first: its /users/{username}/stats takes precedence.
        Mount(
            "/api/v1",
            routes=api_hackatime.routes + api_badges.routes + WAKATIME_ROUTES + api_export.routes,
        ),
        *pages.routes,
    ]
    app_metrics = metrics.Metrics() if settings.metrics else None
    middleware = [
        # Browser plugins post from their own origin and send X-Machine-Name.
        Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    ]
    if app_metrics is not None:
        routes.append(Route("/metrics", metrics.metrics_endpoint, methods=["GET"]))
        middleware.insert(
            0, Middleware(metrics.MetricsMiddleware, metrics=app_metrics, routes=routes)
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = app_metrics
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


def _listening_addresses() -> list[tuple[str, int]]:
    """The TCP addresses this process listens on, whichever server bound them.

    `hackatime serve`, `python app.py` and `uvicorn app:app --port N` all bind after the app's
    start-up, and only the socket knows the port the server was given.
    """
    found = []
    for name in os.listdir("/dev/fd"):
        # Only sockets are duplicated: closing a copy of the database's descriptor would drop
        # every POSIX lock this process holds on it, and another process could then delete the
        # WAL the server still writes to.
        try:
            if not stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                continue
            fd = os.dup(int(name))
        except OSError:
            continue  # the directory listing's own descriptor, closed by now
        with socket.socket(fileno=fd) as sock:
            listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            if listening and sock.family in (socket.AF_INET, socket.AF_INET6):
                host, port = sock.getsockname()[:2]
                found.append((host, port))
    return found


async def _announce_when_listening(db: Database, settings: Settings) -> None:
    """Once the port is bound: make the first user if there is none, then say where to connect.

    Not before: a port already in use must not leave behind a user whose key nobody saw.
    """
    # Polled: the server binds outside the app and signals nothing the app could wait on.
    while not (addresses := _listening_addresses()):  # noqa: ASYNC110
        await asyncio.sleep(LISTEN_POLL_SECONDS)
    host, port = addresses[0]
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1") else host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    await _welcome_first_user(db, f"http://{shown_host}:{port}")
    print(f"hackatime: listening on http://{shown_host}:{port}", flush=True)


async def _welcome_first_user(db: Database, base_url: str) -> None:
    """On an empty database, make the first user and print how to point WakaTime here."""
    if await users.count_users(db):
        return
    user, key = await users.create_user(db, _first_username(), is_admin=True)
    # Flushed at once: on a Pi this is read from the service's journal.
    print(
        f"\nCreated user {user.username!r} (admin). Its API key, shown only this once:\n\n"
        f"    {key}\n\n"
        "Put these lines in ~/.wakatime.cfg on every machine you code on:\n\n"
        "[settings]\n"
        f"api_url = {base_url}/api/hackatime/v1\n"
        f"api_key = {key}\n",
        flush=True,
    )


app = create_app()

if __name__ == "__main__":
    from hackatime.cli import main

    sys.exit(main(["serve", *sys.argv[1:]]))
