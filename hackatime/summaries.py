"""Pure shaping of milliseconds into the numbers and texts WakaTime and Hackatime print."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from hackatime.timeranges import iso


def whole_seconds(ms: int) -> int:
    return ms // 1000


def human_text(ms: int) -> str:
    """WakaTime's words: "2 hrs 3 mins", "1 hr 1 min", "2 hrs", "45 secs", "0 secs"."""
    seconds = whole_seconds(ms)
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if hours == 0 and minutes == 0:
        return f"{seconds} sec" if seconds == 1 else f"{seconds} secs"
    parts = []
    if hours:
        parts.append(f"{hours} hr" if hours == 1 else f"{hours} hrs")
    if minutes:
        parts.append(f"{minutes} min" if minutes == 1 else f"{minutes} mins")
    return " ".join(parts)


def clock(ms: int, *, seconds: bool = False, pad_hours: bool = False) -> str:
    """Digital clock text: "2:03", or with seconds "2:03:04", or padded "02:03:04"."""
    total = whole_seconds(ms)
    hours, minutes, secs = total // 3600, total % 3600 // 60, total % 60
    hour_text = f"{hours:02d}" if pad_hours else str(hours)
    return f"{hour_text}:{minutes:02d}:{secs:02d}" if seconds else f"{hour_text}:{minutes:02d}"


def decimal_hours(ms: int) -> str:
    """Hours as WakaTime's `decimal` string, from the whole hours and minutes shown beside it."""
    total = whole_seconds(ms)
    return f"{total // 3600 + (total % 3600 // 60) / 60:.2f}"


def percent(part_ms: int, total_ms: int) -> float:
    return round(part_ms * 100 / total_ms, 2) if total_ms else 0.0


def grand_total(ms: int) -> dict[str, Any]:
    total = whole_seconds(ms)
    return {
        "total_seconds": ms / 1000,
        "text": human_text(ms),
        "hours": total // 3600,
        "minutes": total % 3600 // 60,
        "digital": clock(ms),
        "decimal": decimal_hours(ms),
    }


# Every list of names in an answer (projects, languages, entities, branches, dependencies, …)
# holds its largest MAX_LIST_ITEMS; an answer made of many lists (a summary of many days) holds
# MAX_ANSWER_ITEMS items in all at most, fewer in each list. A user with thousands of projects
# or files thus never makes an answer of more than a few megabytes.
MAX_LIST_ITEMS = 100
MAX_ANSWER_ITEMS = 20_000


def list_limit(lists: int) -> int:
    """How many items each of `lists` lists in one answer may hold."""
    return max(1, min(MAX_LIST_ITEMS, MAX_ANSWER_ITEMS // max(1, lists)))


def wakatime_items(
    split: Sequence[tuple[str, int]], total_ms: int, limit: int = MAX_LIST_ITEMS
) -> list[dict[str, Any]]:
    """WakaTime's list items (languages, projects, …), the `limit` largest, largest first."""
    items = []
    for name, ms in split[:limit]:
        seconds = whole_seconds(ms)
        items.append(
            {
                "name": name,
                "total_seconds": ms / 1000,
                "percent": percent(ms, total_ms),
                "digital": clock(ms, seconds=True),
                "decimal": decimal_hours(ms),
                "text": human_text(ms),
                "hours": seconds // 3600,
                "minutes": seconds % 3600 // 60,
                "seconds": seconds % 60,
            }
        )
    return items


def hackatime_items(
    split: Sequence[tuple[str, int]], total_ms: int, limit: int = MAX_LIST_ITEMS
) -> list[dict[str, Any]]:
    """The seed's `{"name", "seconds"}` items, with Hackatime's richer fields beside them: the
    `limit` largest, largest first."""
    items = []
    for name, ms in split[:limit]:
        seconds = whole_seconds(ms)
        items.append(
            {
                "name": name,
                "seconds": seconds,
                "total_seconds": seconds,
                "text": human_text(ms),
                "hours": seconds // 3600,
                "minutes": seconds % 3600 // 60,
                "percent": percent(ms, total_ms),
                "digital": clock(ms, seconds=True, pad_hours=True),
            }
        )
    return items


def time_ago(elapsed_ms: int) -> str:
    """Rails-style distance in words, as Hackatime's most_recent answers: "5 minutes ago"."""
    seconds = max(0, elapsed_ms // 1000)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "less than a minute ago"


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def day_text(day: date, today: date) -> str:
    """WakaTime's name for a day: "Today", "Yesterday", else "Sat Nov 28th 2026"."""
    if day == today:
        return "Today"
    if (today - day).days == 1:
        return "Yesterday"
    return f"{day:%a %b} {_ordinal(day.day)} {day.year}"


def range_json(
    first: date, start_ms: int, end_ms: int, zone_name: str, text: str
) -> dict[str, Any]:
    """WakaTime's `range` object; `end` is the last second inside the range, as WakaTime prints."""
    return {
        "date": first.isoformat(),
        "start": iso(start_ms),
        "end": iso(end_ms - 1000),
        "text": text,
        "timezone": zone_name,
    }
