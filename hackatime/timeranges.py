"""Dates and ranges as people say them, resolved in a user's time zone to UTC milliseconds.

Pure functions: a day is local midnight to the next local midnight, so across a DST change a
day lasts 23 or 25 hours. Bad input raises BadRequest naming the parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hackatime.durations import Bucket
from hackatime.errors import BadRequest


@dataclass(frozen=True)
class TimeRange:
    start_ms: int
    end_ms: int
    zone: ZoneInfo

    @property
    def bucket(self) -> Bucket:
        return Bucket(self.start_ms, self.end_ms)


def zone(name: str, parameter: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"{parameter}: {name!r} is not an IANA time zone") from None


def to_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def from_ms(ms: int, tz: tzinfo = UTC) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz)


def iso(ms: int, tz: tzinfo = UTC) -> str:
    """ISO 8601 with the zone's offset, `Z` for UTC."""
    text = from_ms(ms, tz).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if tz is UTC else text


def day_start_ms(day: date, tz: ZoneInfo) -> int:
    return to_ms(datetime.combine(day, time(0), tzinfo=tz))


def day_range(day: date, tz: ZoneInfo) -> TimeRange:
    return TimeRange(day_start_ms(day, tz), day_start_ms(day + timedelta(days=1), tz), tz)


def local_date(ms: int, tz: ZoneInfo) -> date:
    return from_ms(ms, tz).date()


def today(now_ms: int, tz: ZoneInfo) -> date:
    return local_date(now_ms, tz)


def parse_date(value: str, parameter: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{parameter}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def parse_moment(value: str, tz: ZoneInfo, parameter: str, *, end: bool = False) -> int:
    """A date, an ISO 8601 datetime or epoch seconds, as UTC milliseconds.

    A bare date means the start of that local day, or with `end`, the end of it (the next
    local midnight): end dates are inclusive. A datetime without an offset is local time.
    """
    text = value.strip()
    if len(text) == 10 and text[4:5] == "-":
        day = parse_date(text, parameter)
        return day_start_ms(day + timedelta(days=1) if end else day, tz)
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or not 0 <= seconds < 1e11:
            raise BadRequest(f"{parameter}: {text[:40]!r} is not a time")
        return round(seconds * 1000)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise BadRequest(
            f"{parameter}: {text[:40]!r} is not a date, ISO 8601 datetime or epoch seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return to_ms(moment)
    except (OverflowError, ValueError):
        raise BadRequest(f"{parameter}: {text[:40]!r} is out of range") from None


def resolve_range(
    start: str | None,
    end: str | None,
    tz: ZoneInfo,
    *,
    default_start_ms: int,
    default_end_ms: int,
    start_name: str = "start",
    end_name: str = "end",
) -> TimeRange:
    start_ms = parse_moment(start, tz, start_name) if start else default_start_ms
    end_ms = parse_moment(end, tz, end_name, end=True) if end else default_end_ms
    if start_ms > end_ms:
        raise BadRequest(f"{start_name}: after {end_name}")
    return TimeRange(start_ms, end_ms, tz)


def days_in(first: date, last: date, tz: ZoneInfo) -> list[tuple[date, TimeRange]]:
    """Each local day from first to last inclusive, as its own range."""
    count = (last - first).days + 1
    return [
        (first + timedelta(days=n), day_range(first + timedelta(days=n), tz)) for n in range(count)
    ]
