"""The range a page shows: a named one (today, the last 7 or 30 days, this year, all time) or
two dates, turned into the bucket the API's `start_date`/`end_date` would make of them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from hackatime import durations, timeranges
from hackatime.errors import BadRequest

RANGES = {
    "today": "Today",
    "last_7_days": "Last 7 days",
    "last_30_days": "Last 30 days",
    "this_year": "This year",
    "all_time": "All time",
}


@dataclass(frozen=True)
class ChosenRange:
    key: str  # one of RANGES, or "custom"
    label: str
    first: date | None  # None: from the first heartbeat (all time)
    last: date | None
    bucket: durations.Bucket
    error: str | None = None


def choose_range(
    key: str | None,
    start: str | None,
    end: str | None,
    today: date,
    tz: ZoneInfo,
    default: str,
) -> ChosenRange:
    """The range a page's `?range=` or `?start=&end=` asks for; a bad one falls back to the
    default and says why."""
    if start or end:
        try:
            first = timeranges.parse_date(start or "", "start")
            last = timeranges.parse_date(end or "", "end")
            if first > last:
                raise BadRequest("start: after end")
        except BadRequest as error:
            fallback = choose_range(default, None, None, today, tz, default)
            return replace(fallback, error=error.message)
        label = first.isoformat() if first == last else f"{first.isoformat()} to {last}"
        return _dated("custom", label, first, last, tz)
    key = key if key in RANGES else default
    firsts = {
        "today": today,
        "last_7_days": today - timedelta(days=6),
        "last_30_days": today - timedelta(days=29),
        "this_year": today.replace(month=1, day=1),
    }
    if key == "all_time":
        return ChosenRange(key, RANGES[key], None, None, timeranges.ALL_TIME)
    return _dated(key, RANGES[key], firsts[key], today, tz)


def _dated(key: str, label: str, first: date, last: date, tz: ZoneInfo) -> ChosenRange:
    # First local midnight to the one after the last day: the bucket the API's start_date and
    # end_date make of the same two dates (parse_moment reads a date the same way).
    return ChosenRange(key, label, first, last, timeranges.dates_bucket(first, last, tz))
