"""Exports, streamed: JSON in WakaTime's data-dump shape (so other tools read it, and this
server imports it back exactly) or CSV, one page of heartbeats in memory at a time.

The JSON is `{"user", "range", "days": [{"date", "heartbeats": [...]}]}` like WakaTime's dump;
each heartbeat is the API's shape (heartbeats.heartbeat_json), which writes its user agent and
machine out, so no id lists are needed to read it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import fields
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from hackatime import history, timeranges
from hackatime.db import Database
from hackatime.heartbeats import Heartbeat, heartbeat_json
from hackatime.users import User

FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
PAGE_SIZE = 2000
# The API's shape (heartbeat_json) in Heartbeat's field order, then when the row was stored.
CSV_COLUMNS = (
    "time",
    *(each.name for each in fields(Heartbeat) if each.name != "time_ms"),
    "created_at",
)

_COUNT = "SELECT count(*) FROM heartbeats WHERE user_id = ? AND time_ms >= ? AND time_ms < ?"


async def history_span(db: Database, user_id: int) -> tuple[int, int]:
    """[first, last] of the user's heartbeats as a half-open range; empty without any."""
    span = await history.time_span(db, user_id)
    return (span[0], span[1] + 1) if span else (0, 0)


async def default_range(db: Database, user_id: int, now_ms: int) -> tuple[int, int]:
    """What an export covers unless told: from the first heartbeat (now, without any) to now or
    the last heartbeat, whichever is later, so a start date alone is never after the end."""
    first_ms, end_ms = await history_span(db, user_id)
    return (first_ms, max(end_ms, now_ms)) if end_ms else (now_ms, now_ms)


async def count(db: Database, user_id: int, start_ms: int, end_ms: int) -> int:
    return await db.fetch_value(_COUNT, (user_id, start_ms, end_ms))


def export_chunks(
    db: Database,
    user: User,
    *,
    start_ms: int,
    end_ms: int,
    tz: ZoneInfo,
    file_format: str,
    on_page: Callable[[int], None] | None = None,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[bytes]:
    """The export of [start_ms, end_ms), chunk by chunk; `on_page` hears the heartbeats so far."""
    pages = _pages(db, user.id, start_ms, end_ms, page_size, on_page)
    if file_format == "csv":
        return _csv(pages)
    return _json(db, user, pages, start_ms, end_ms, tz)


async def _pages(
    db: Database,
    user_id: int,
    start_ms: int,
    end_ms: int,
    page_size: int,
    on_page: Callable[[int], None] | None,
) -> AsyncIterator[list[dict[str, Any]]]:
    # Keyset paging on (time_ms, id): each page starts where the last ended, in an index probe.
    after: history.Cursor | None = None
    written = 0
    while True:
        # A backup of what is stored: project names as stored, not as aliases show them.
        rows = await history.page(
            db, user_id, start_ms, end_ms, after=after, limit=page_size, stored_names=True
        )
        if not rows:
            return
        written += len(rows)
        yield rows
        if on_page is not None:
            on_page(written)
        if len(rows) < page_size:
            return
        after = history.Cursor(rows[-1]["time_ms"], rows[-1]["id"])


async def _json(
    db: Database,
    user: User,
    pages: AsyncIterator[list[dict[str, Any]]],
    start_ms: int,
    end_ms: int,
    tz: ZoneInfo,
) -> AsyncIterator[bytes]:
    latest = await history.most_recent(db, user.id)
    profile = {
        "username": user.username,
        "display_name": user.username,
        "timezone": tz.key,
        "last_plugin": latest["user_agent"] if latest else None,
    }
    yield (
        b'{"exported_by":"hackatime","user":'
        + orjson.dumps(profile)
        + b',"range":'
        + orjson.dumps({"start": start_ms // 1000, "end": end_ms // 1000})
        + b',"days":['
    )
    day_end_ms = -1
    first_day = True
    async for rows in pages:
        parts: list[bytes] = []
        for row in rows:
            if row["time_ms"] >= day_end_ms:
                day = timeranges.local_date(row["time_ms"], tz)
                day_end_ms = timeranges.day_start_ms(day + timedelta(days=1), tz)
                opening = b'{"date":"' + day.isoformat().encode() + b'","heartbeats":['
                parts.append(opening if first_day else b"]}," + opening)
                first_day = False
            else:
                parts.append(b",")
            parts.append(orjson.dumps(heartbeat_json(row)))
        yield b"".join(parts)
    yield b"]}\n" if first_day else b"]}]}\n"


async def _csv(pages: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue().encode()
    async for rows in pages:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            data = heartbeat_json(row)
            data["dependencies"] = orjson.dumps(data["dependencies"]).decode()
            if data["is_write"] is not None:
                data["is_write"] = "true" if data["is_write"] else "false"
            writer.writerow([data.get(column) for column in CSV_COLUMNS])
        yield buffer.getvalue().encode()
