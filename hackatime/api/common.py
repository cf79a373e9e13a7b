"""What every API endpoint does first: find the database, check the key, read the body."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from starlette.requests import Request

from hackatime import timeranges, users
from hackatime.auth import authenticate
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
from hackatime.users import User, set_detected_timezone


def database(request: Request) -> Database:
    return request.app.state.db


def settings(request: Request) -> Settings:
    return request.app.state.settings


def now_ms() -> int:
    return int(time.time() * 1000)


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
        address = request.client.host if request.client else "unknown"
        wait = request.app.state.auth_failures.record_failure(address, time.monotonic())
        if wait is not None:
            raise TooManyRequests(
                "Too many failed authentications; try again later",
                headers={"Retry-After": str(wait)},
            ) from None
        raise
    zone_header = request.headers.get("timezone", "").strip()
    if zone_header and user.timezone is None:
        if record_zone:
            user = await set_detected_timezone(db, user, zone_header)
        elif is_zone(zone_header):
            user = replace(user, detected_timezone=zone_header)
    return user


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
    limit = settings(request).max_body_bytes
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
    try:
        data = orjson.loads(body)
        if isinstance(data, str):
            data = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise BadRequest("Body is not valid JSON") from None
    return data


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
