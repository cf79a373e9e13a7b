"""Dates and ranges as people say them, resolved in a user's time zone to UTC milliseconds.

Pure functions: a day is local midnight to the next local midnight, so across a DST change a
day lasts 23 or 25 hours. Bad input raises BadRequest naming the parameter.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from hackatime.config import is_zone
from hackatime.durations import Bucket
from hackatime.errors import BadRequest

if TYPE_CHECKING:
    from hackatime.users import User


@dataclass(frozen=True)
class TimeRange:
    start_ms: int
    end_ms: int
    zone: ZoneInfo

    @property
    def bucket(self) -> Bucket:
        return Bucket(self.start_ms, self.end_ms)


# All time: every heartbeat a user can have (the future is capped at an hour at ingest).
ALL_TIME = Bucket(0, 2**62)


def zone(name: str, parameter: str = "timezone") -> ZoneInfo:
    if not is_zone(name):
        raise BadRequest(f"{parameter}: {name[:60]!r} is not an IANA time zone")
    return ZoneInfo(name)


def user_zone(user: User, default_timezone: str) -> ZoneInfo:
    """The zone a user's days are counted in: theirs, the one their clients report, else the
    server's default (User.zone_name)."""
    return zone(user.zone_name(default_timezone))


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


def dates_bucket(first: date, last: date, tz: ZoneInfo) -> Bucket:
    """Local days first..last inclusive as one range: first's midnight to the one after last."""
    return Bucket(day_start_ms(first, tz), day_start_ms(last + timedelta(days=1), tz))


def local_date(ms: int, tz: ZoneInfo) -> date:
    return from_ms(ms, tz).date()


def today(now_ms: int, tz: ZoneInfo) -> date:
    return local_date(now_ms, tz)


# Dates people can mean: the Unix epoch up to a year whose end still fits Python's calendar in
# every zone, so day arithmetic and formatting never overflow.
FIRST_YEAR, LAST_YEAR = 1970, 9998
_LAST_MS = 253_370_764_800_000  # 9999-01-01T00:00:00Z


def parse_date(value: str, parameter: str) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{parameter}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadRequest(f"{parameter}: {value!r} is out of range ({FIRST_YEAR}-{LAST_YEAR})")
    return day


def _is_date(text: str) -> bool:
    text = text.strip()
    return len(text) == 10 and text[4:5] == "-"


def parse_moment(value: str, tz: ZoneInfo, parameter: str, *, end: bool = False) -> int:
    """A date, an ISO 8601 datetime or epoch seconds, as UTC milliseconds.

    A bare date means the start of that local day, or with `end`, the end of it (the next
    local midnight): end dates are inclusive. A datetime without an offset is local time.
    """
    text = value.strip()
    if _is_date(text):
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
        ms = to_ms(moment)
    except (OverflowError, ValueError):
        ms = -1
    if not 0 <= ms < _LAST_MS:
        raise BadRequest(f"{parameter}: {text[:40]!r} is out of range ({FIRST_YEAR}-{LAST_YEAR})")
    return ms


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
    # An end date runs to the end of its day, so "from the 9th to the 8th" meets at midnight:
    # backwards all the same. Two equal moments are an empty range.
    end_is_date = bool(end) and _is_date(end or "")
    if start_ms > end_ms or (end_is_date and start_ms >= end_ms):
        raise BadRequest(f"{start_name}: after {end_name}")
    return TimeRange(start_ms, end_ms, tz)


def days_in(first: date, last: date, tz: ZoneInfo) -> list[tuple[date, TimeRange]]:
    """Each local day from first to last inclusive, as its own range."""
    count = (last - first).days + 1
    return [
        (first + timedelta(days=n), day_range(first + timedelta(days=n), tz)) for n in range(count)
    ]


# WakaTime's names for summary ranges, as its dashboards and clients send them.
SUMMARY_RANGES = {
    "today": "Today",
    "yesterday": "Yesterday",
    "last_7_days": "Last 7 Days",
    "last_7_days_from_yesterday": "Last 7 Days from Yesterday",
    "last_14_days": "Last 14 Days",
    "last_30_days": "Last 30 Days",
    "this_week": "This Week",
    "last_week": "Last Week",
    "this_month": "This Month",
    "last_month": "Last Month",
}

STATS_RANGES = {
    "last_7_days": "Last 7 Days",
    "last_30_days": "Last 30 Days",
    "last_6_months": "Last 6 Months",
    "last_year": "Last Year",
    "all_time": "All Time",
}


def range_key(name: str) -> str:
    """`Last 7 Days`, `last-7-days` and `last_7_days` all name the same range."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def _months_back(day: date, months: int) -> date:
    """The same day of the month `months` earlier, clamped to that month's length."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last_day))


def summary_range_dates(name: str, today_: date) -> tuple[date, date]:
    """First and last day (inclusive) of a named summary range; weeks start on Monday."""
    key = range_key(name)
    monday = today_ - timedelta(days=today_.weekday())
    first_of_month = today_.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    spans = {
        "today": (today_, today_),
        "yesterday": (today_ - timedelta(days=1), today_ - timedelta(days=1)),
        "last_7_days": (today_ - timedelta(days=6), today_),
        "last_7_days_from_yesterday": (today_ - timedelta(days=7), today_ - timedelta(days=1)),
        "last_14_days": (today_ - timedelta(days=13), today_),
        "last_30_days": (today_ - timedelta(days=29), today_),
        "this_week": (monday, today_),
        "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "this_month": (first_of_month, today_),
        "last_month": (last_month_end.replace(day=1), last_month_end),
    }
    if key not in spans:
        raise BadRequest(f"range: {name[:40]!r} is not one of {', '.join(SUMMARY_RANGES.values())}")
    return spans[key]


def stats_range_dates(
    name: str, today_: date, first_day: date | None
) -> tuple[date, date, str, str]:
    """First and last day of a WakaTime stats range, its canonical key and its human name.

    `all_time` starts on the day of the first heartbeat (today when there is none); `YYYY` and
    `YYYY-MM` are a calendar year or month.
    """
    text = name.strip()
    if text.isascii() and len(text) in (4, 7) and text[:4].isdigit():
        year = int(text[:4])
        if not 2000 <= year <= LAST_YEAR:
            raise BadRequest(f"range: {text!r} is out of range (2000-{LAST_YEAR})")
        if len(text) == 4:
            return date(year, 1, 1), date(year, 12, 31), text, text
        if len(text) == 7 and text[4] == "-" and text[5:].isdigit() and 1 <= int(text[5:]) <= 12:
            first = date(year, int(text[5:]), 1)
            last = _months_back(first, -1) - timedelta(days=1)
            return first, last, text, first.strftime("%B %Y")
    key = range_key(text)
    starts = {
        "last_7_days": today_ - timedelta(days=6),
        "last_30_days": today_ - timedelta(days=29),
        "last_6_months": _months_back(today_, 6) + timedelta(days=1),
        "last_year": _months_back(today_, 12) + timedelta(days=1),
        "all_time": min(first_day or today_, today_),
    }
    if key not in starts:
        raise BadRequest(
            f"range: {name[:40]!r} is not one of {', '.join(STATS_RANGES)}, YYYY or YYYY-MM"
        )
    return starts[key], today_, key, STATS_RANGES[key]
