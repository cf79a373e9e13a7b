"""Importing heartbeats from any reader: each checked by the API's rules (heartbeats.normalise)
and stored a batch at a time by bulk.store_batch (live ingest's identity, so nothing is stored
twice, and the same stored gaps), with a report of what happened.

Reading and checking run in a worker thread, one batch ahead of the database, so parsing and
SQLite work overlap. Every batch is committed on its own: an import stopped anywhere keeps what
it stored, and running it again skips those heartbeats as already there.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hackatime import bulk, durations, summaries, timeranges
from hackatime.compare import compare_months, comparison_lines
from hackatime.db import Database
from hackatime.heartbeats import Heartbeat, RequestContext, normalise
from hackatime.transfer.progress import Progress

# Heartbeats per write: one statement, one transaction and one sync each (22 parameters a
# heartbeat keeps it below SQLite's 32,766).
BATCH_SIZE = 1000


@dataclass
class ImportReport:
    new: int = 0
    already_stored: int = 0
    rejected: int = 0
    # Each problem normalise named, with how many heartbeats had it.
    reasons: Counter[str] = field(default_factory=Counter)
    first_ms: int | None = None
    last_ms: int | None = None

    @property
    def read(self) -> int:
        return self.new + self.already_stored + self.rejected


@dataclass
class _Batch:
    heartbeats: list[Heartbeat]
    rejected: list[list[str]]
    # Where the reader stood after this batch (bytes, days: the progress's unit).
    position: int
    error: Exception | None = None
    last: bool = False


def _read_batch(
    items: Iterator[Any], context: RequestContext, position: Callable[[], int], size: int
) -> _Batch:
    """The next `size` items, checked; a reader's error ends the batch and is handed on, so
    that what was read before it is still stored."""
    batch = _Batch([], [], 0)
    try:
        for item in items:
            result = normalise(item, context)
            if isinstance(result, Heartbeat):
                batch.heartbeats.append(result)
            else:
                batch.rejected.append(result)
            if len(batch.heartbeats) + len(batch.rejected) >= size:
                break
        else:
            batch.last = True
    except Exception as error:
        batch.error, batch.last = error, True
    batch.position = position()
    return batch


async def import_heartbeats(
    db: Database,
    user_id: int,
    items: Iterator[Any],
    report: ImportReport,
    *,
    now_ms: int,
    position: Callable[[], int],
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> None:
    """Store every acceptable item of `items` for the user, counting into `report` as it goes
    (so a caller still has the counts of an import that stopped). A reader's error is raised
    once everything read before it is stored."""
    # Headers stand in for missing fields in the API; a file has none.
    context = RequestContext(user_agent=None, machine=None, now_ms=now_ms)
    upcoming = asyncio.ensure_future(
        asyncio.to_thread(_read_batch, items, context, position, batch_size)
    )
    try:
        while True:
            batch = await upcoming
            if not batch.last:
                upcoming = asyncio.ensure_future(
                    asyncio.to_thread(_read_batch, items, context, position, batch_size)
                )
            await _store(db, user_id, batch, report)
            if progress is not None:
                progress.update(batch.position, report.read)
            if batch.error is not None:
                raise batch.error
            if batch.last:
                return
    finally:
        # A thread cannot be cancelled: let the batch being read finish before the reader's
        # file is closed under it.
        if not upcoming.done():
            await asyncio.wait([upcoming])


async def _store(db: Database, user_id: int, batch: _Batch, report: ImportReport) -> None:
    for problems in batch.rejected:
        report.rejected += 1
        report.reasons.update(problems)
    if not batch.heartbeats:
        return
    # Already there: stored before, or repeated within what is imported.
    new = await bulk.store_batch(db, user_id, batch.heartbeats)
    report.new += new
    report.already_stored += len(batch.heartbeats) - new
    times = [heartbeat.time_ms for heartbeat in batch.heartbeats]
    report.first_ms = min(times) if report.first_ms is None else min(report.first_ms, *times)
    report.last_ms = max(times) if report.last_ms is None else max(report.last_ms, *times)


def covered_dates(report: ImportReport, tz: ZoneInfo) -> tuple[date, date] | None:
    """The first and last local date of the heartbeats read (new or already there)."""
    if report.first_ms is None or report.last_ms is None:
        return None
    return timeranges.local_date(report.first_ms, tz), timeranges.local_date(report.last_ms, tz)


async def report_lines(
    db: Database, user_id: int, report: ImportReport, tz: ZoneInfo, *, timeout_ms: int
) -> list[str]:
    """The summary an import ends with, then the comparison of both rules over its dates."""
    lines = [
        f"new:            {report.new:,}",
        f"already there:  {report.already_stored:,}",
        f"rejected:       {report.rejected:,}",
        *(f"  {count:>10,}  {reason}" for reason, count in report.reasons.most_common()),
    ]
    dates = covered_dates(report, tz)
    if dates is None:
        return [*lines, "dates covered:  none"]
    first, last = dates
    span = durations.Bucket(
        timeranges.day_start_ms(first, tz), timeranges.day_start_ms(last + timedelta(days=1), tz)
    )
    total = await durations.breakdown(db, user_id, span, timeout_ms=timeout_ms)
    months = await compare_months(db, user_id, first, last, tz, timeout_ms=timeout_ms)
    return [
        *lines,
        f"dates covered:  {first} to {last} ({tz.key})",
        f"total:          {summaries.clock(total.total_ms, seconds=True)}"
        f" (this server's rule: each gap counts up to {timeout_ms // 60_000} min)",
        "",
        *comparison_lines(months, timeout_ms=timeout_ms),
    ]
