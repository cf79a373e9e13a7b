"""Why totals differ from WakaTime's: month by month, this server's rule beside WakaTime's, both
from the same stored gaps (durations.totals_under_both_rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from hackatime import durations, summaries, timeranges
from hackatime.db import Database


@dataclass(frozen=True)
class MonthTotals:
    month: str  # YYYY-MM
    first: date
    last: date
    server_ms: int
    wakatime_ms: int


def month_spans(first: date, last: date) -> list[tuple[date, date]]:
    """Each calendar month touched by first..last, clipped to it (both ends inclusive)."""
    spans = []
    month = first.replace(day=1)
    while month <= last:
        next_month = (month + timedelta(days=31)).replace(day=1)
        spans.append((max(month, first), min(next_month - timedelta(days=1), last)))
        month = next_month
    return spans


async def compare_months(
    db: Database, user_id: int, first: date, last: date, tz: ZoneInfo, *, timeout_ms: int
) -> list[MonthTotals]:
    """Each month of first..last in the zone, measured on its own under both rules."""
    spans = month_spans(first, last)
    buckets = [timeranges.dates_bucket(start, end, tz) for start, end in spans]
    totals = await durations.totals_under_both_rules(db, user_id, buckets, timeout_ms=timeout_ms)
    return [
        MonthTotals(start.strftime("%Y-%m"), start, end, each.server_ms, each.wakatime_ms)
        for (start, end), each in zip(spans, totals, strict=True)
    ]


def comparison_lines(months: list[MonthTotals], *, timeout_ms: int) -> list[str]:
    """A text table: month, this server's total, WakaTime's, and WakaTime's minus ours."""
    minutes = durations.WAKATIME_TIMEOUT_MS // 60_000
    header = (
        "month",
        f"this server (gaps up to {timeout_ms // 60_000} min)",
        f"WakaTime (gaps up to {minutes} min whole, longer 0)",
        "difference",
    )
    rows = [
        (each.month, each.server_ms, each.wakatime_ms)
        for each in months
        if each.server_ms or each.wakatime_ms
    ]
    server = sum(row[1] for row in rows)
    wakatime = sum(row[2] for row in rows)
    cells = [
        (month, _clock(ours), _clock(theirs), _signed(theirs - ours))
        for month, ours, theirs in [*rows, ("all", server, wakatime)]
    ]
    widths = [max(len(text) for text in column) for column in zip(header, *cells, strict=True)]
    return [
        "  ".join(
            text.rjust(width) if index else text.ljust(width)
            for index, (text, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in [header, *cells]
    ]


def _clock(ms: int) -> str:
    return summaries.clock(ms, seconds=True)


def _signed(ms: int) -> str:
    return ("-" if ms < 0 else "+") + _clock(abs(ms))
