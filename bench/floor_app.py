"""The ingest floor: a bare Starlette endpoint that parses a bulk body with orjson and stores its
rows with one executemany, served by uvicorn the way `hackatime serve` serves the real app.

It does what ingest cannot do without (parse, one transaction per request with the product's
durability, WAL and synchronous=FULL, an answer per item) and nothing else: no auth, no checks,
no dedupe, no gap upkeep. `python -m bench.floor_app --db PATH --port N`.

By default it calls sqlite3 on the event loop's own thread, which the product may not do (a
query would stall every other request). `--aiosqlite` stores the same way through aiosqlite,
the product's database layer, written as plainly as aiosqlite allows: executemany, then
commit, on one connection shared by all requests.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hackatime import logs

INSERT = (
    "INSERT INTO heartbeats (user_id, time_ms, entity, type, category, project, branch, language,"
    " is_write, lineno, cursorpos, lines, dependencies, line_additions, line_deletions,"
    " project_root_count, ai_line_changes, human_line_changes, machine, created_at_ms)"
    f" VALUES ({', '.join('?' * 20)})"
)
_CREATED = [[{"data": None, "error": None}, 201]]


def rows(items: list[dict[str, Any]], machine: str | None, now_ms: int) -> list[tuple[Any, ...]]:
    """The columns the bare endpoint stores, straight from each item."""
    return [
        (
            1,
            round(item["time"] * 1000),
            item["entity"],
            item.get("type", "file"),
            item.get("category") or "coding",
            item.get("project"),
            item.get("branch"),
            item.get("language"),
            item.get("is_write"),
            item.get("lineno"),
            item.get("cursorpos"),
            item.get("lines"),
            orjson.dumps(item["dependencies"]).decode() if item.get("dependencies") else None,
            item.get("line_additions"),
            item.get("line_deletions"),
            item.get("project_root_count"),
            item.get("ai_line_changes"),
            item.get("human_line_changes"),
            machine,
            now_ms,
        )
        for item in items
    ]


def _answer(count: int) -> Response:
    body = orjson.dumps({"responses": _CREATED * count})
    return Response(body, status_code=201, media_type="application/json")


async def _ready(request: Request) -> Response:
    return Response(b"{}", media_type="application/json")


def _app(bulk: Any, lifespan: Any) -> Starlette:
    return Starlette(
        routes=[
            Route("/api/hackatime/v1/users/current/heartbeats.bulk", bulk, methods=["POST"]),
            Route("/ready", _ready, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def create_app(db_path: Path) -> Starlette:
    conn: sqlite3.Connection | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal conn
        conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        try:
            yield
        finally:
            conn.close()

    async def bulk(request: Request) -> Response:
        assert conn is not None
        items = orjson.loads(await request.body())
        batch = rows(items, request.headers.get("x-machine-name"), int(time.time() * 1000))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, batch)
        conn.execute("COMMIT")
        return _answer(len(items))

    return _app(bulk, lifespan)


def create_aiosqlite_app(db_path: Path) -> Starlette:
    conn: aiosqlite.Connection | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal conn
        # sqlite3's own transactions: an INSERT opens one, commit() ends it. Requests that
        # overlap share a transaction, and each answers after a commit that covers its rows.
        conn = await aiosqlite.connect(db_path)
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = FULL")
        try:
            yield
        finally:
            await conn.close()

    async def bulk(request: Request) -> Response:
        assert conn is not None
        items = orjson.loads(await request.body())
        batch = rows(items, request.headers.get("x-machine-name"), int(time.time() * 1000))
        cursor = await conn.executemany(INSERT, batch)
        await cursor.close()
        await conn.commit()
        return _answer(len(items))

    return _app(bulk, lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor_app")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--aiosqlite", action="store_true")
    args = parser.parse_args()
    # Logged like the real server, so both pay for the same access log.
    logs.configure()
    uvicorn.run(
        (create_aiosqlite_app if args.aiosqlite else create_app)(args.db),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
