"""What every API endpoint does first: find the database, check the key, read the body."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import orjson
from starlette.requests import Request

from hackatime import timeranges, users
from hackatime.auth import authenticate, offers_key
from hackatime.config import Settings, is_zone
from hackatime.db import Database, integer_id
from hackatime.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    RequestTimeout,
    TooManyRequests,
    Unauthorized,
)
from hackatime.history import Cursor
from hackatime.users import User, set_detected_timezone


def database(request: Request) -> Database:
    return request.app.state.db


def settings(request: Request) -> Settings:
    return request.app.state.settings


def now_ms(request: Request) -> int:
    """The app's clock (create_app's `clock`, the real one unless a test gives another)."""
    return int(request.app.state.clock() * 1000)


async def caller(request: Request, *, record_zone: bool = False) -> User:
    """The user whose key the request carries; 401 otherwise.

    wakatime-cli sends the machine's zone in a `Timezone` header: it is the zone of the request
    that carries it, and with `record_zone` (heartbeat posts) it becomes the user's zone until
    one is set by hand. Only writes record it, so a read never fails because a write cannot be
    made (a full disk, a lock held elsewhere).
    """
    db = database(request)
    try:
        user = await authenticate(db, request.headers, request.query_params)
    except Unauthorized:
        # A request that offers no key at all (a badge or card host) is never a failed sign-in.
        if offers_key(request.headers, request.query_params):
            count_auth_failure(request)
        raise
    zone_header = request.headers.get("timezone", "").strip()
    if zone_header and user.timezone is None:
        if record_zone:
            user = await set_detected_timezone(db, user, zone_header)
        elif is_zone(zone_header):
            user = replace(user, detected_timezone=zone_header)
    return user


async def optional_caller(request: Request) -> User | None:
    """The caller, or None for a request that offers no key (public routes); a wrong key is
    refused and counted as in `caller`."""
    if not offers_key(request.headers, request.query_params):
        return None
    return await caller(request)


def count_auth_failure(request: Request) -> None:
    """Count a failed authentication from the request's address; 429 once it is over the limit
    (the API's keys and the dashboard's sign-in form share the count)."""
    address = request.client.host if request.client else "unknown"
    wait = request.app.state.auth_failures.record_failure(address, time.monotonic())
    if wait is not None:
        raise TooManyRequests(
            "Too many failed authentications; try again later",
            headers={"Retry-After": str(wait)},
        )


def require_self(request: Request, user: User) -> None:
    """`{user}` in WakaTime paths: `current`, or the caller's own name or id; others get 403."""
    named = request.path_params.get("user", "current")
    if named in users.SELF_ALIASES or named == user.username or named == str(user.id):
        return
    raise Forbidden("You can only access your own data")


async def read_json(request: Request) -> Any:
    """The JSON body, whatever the Content-Type; a string holding JSON is decoded once more.

    VS Code for the web double-encodes its batches.
    """
    body = await read_body(request)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("Body is not valid JSON") from None
    if isinstance(data, str):
        # A string that holds no JSON is returned as it is: valid JSON, of the wrong kind.
        with contextlib.suppress(orjson.JSONDecodeError):
            data = orjson.loads(data)
    return data


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The raw body, refused past `limit` (default max_body_bytes) before more than that is
    read, and with 408 when it stops arriving."""
    limit = settings(request).max_body_bytes if limit is None else limit
    declared = request.headers.get("content-length", "")
    if (integer_id(declared) or 0) > limit:
        raise PayloadTooLarge(f"Body larger than {limit} bytes")
    body = bytearray()
    seconds = settings(request).request_timeout_seconds
    try:
        # A client that stops half-way through its body would otherwise hold the request open.
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > limit:
                    raise PayloadTooLarge(f"Body larger than {limit} bytes")
    except TimeoutError:
        raise RequestTimeout(f"Body not received within {seconds} seconds") from None
    return bytes(body)


def query_positive_int(
    request: Request, name: str, default: int, maximum: int | None = None
) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = integer_id(raw)
    if not value:
        raise BadRequest(f"{name}: must be a positive whole number")
    return min(value, maximum) if maximum else value


def query_list(request: Request, name: str) -> list[str]:
    raw = request.query_params.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def request_zone(request: Request, user: User) -> tuple[str, ZoneInfo]:
    """The zone a request's days are counted in: `?timezone=`, else the user's."""
    name = request.query_params.get("timezone") or user.zone_name(
        settings(request).default_timezone
    )
    return name, timeranges.zone(name)


# About the most bytes of heartbeats one page of them holds (fewer rows than asked when they are
# large): every answer stays a few megabytes, whatever its rows carry.
MAX_PAGE_BYTES = 2 * 1024 * 1024


def query_cursor(request: Request) -> Cursor | None:
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    after = Cursor.decode(raw)
    if after is None:
        raise BadRequest("cursor: not a cursor from a `next` link")
    return after


def next_link(request: Request, cursor: Cursor | None) -> str | None:
    """This request's link with `cursor` set, relative to this server: its host never comes
    from the request's `Host` header, and the caller's key is never written into it."""
    if cursor is None:
        return None
    kept = [
        (name, value)
        for name, value in request.query_params.multi_items()
        if name.strip().lower() not in ("api_key", "cursor")
    ]
    return f"{request.url.path}?{urlencode([*kept, ('cursor', cursor.encode())])}"
