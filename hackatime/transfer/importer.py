"""Importing heartbeats from any reader: each checked by the API's rules (heartbeats.normalise)
and stored a batch at a time by bulk.store_rows (live ingest's identity, so nothing is stored
twice, and the same stored gaps), with a report of what happened.

Reading and checking run ahead of the database, so parsing and SQLite work overlap: a file in a
process of its own (both are CPU work in Python, so a thread would share one core with the
writer), a remote server's pages in a worker thread (they mostly wait on the network). Every
batch is committed on its own: an import stopped anywhere keeps what it stored, and running it
again skips those heartbeats as already there.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hackatime import bulk, durations, summaries, timeranges
from hackatime.compare import compare_months, comparison_lines
from hackatime.db import Database
from hackatime.heartbeats import Heartbeat, RequestContext, normalise
from hackatime.transfer import readers
from hackatime.transfer.progress import Progress

# Heartbeats per write: one transaction and one sync each.
BATCH_SIZE = 1000
# Batches a file's reading process may have read before the importer takes them.
_READ_AHEAD = 2


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
    # Made rows where they are read (bulk.row): in the reading process, for a file.
    rows: list[bulk.Row]
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
                batch.rows.append(bulk.row(result))
            else:
                batch.rejected.append(result)
            if len(batch.rows) + len(batch.rejected) >= size:
                break
        else:
            batch.last = True
    except Exception as error:
        batch.error, batch.last = error, True
    batch.position = position()
    return batch


def _context(now_ms: int) -> RequestContext:
    # Headers stand in for missing fields in the API; an import has none.
    return RequestContext(user_agent=None, machine=None, now_ms=now_ms)


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
    """Store every acceptable item of `items` for the user, read in a worker thread, counting
    into `report` as it goes (so a caller still has the counts of an import that stopped). A
    reader's error is raised once everything read before it is stored."""
    context = _context(now_ms)
    await _import_batches(
        db,
        user_id,
        lambda: asyncio.to_thread(_read_batch, items, context, position, batch_size),
        report,
        progress,
    )


async def import_file(
    db: Database,
    user_id: int,
    path: Path,
    report: ImportReport,
    *,
    now_ms: int,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> None:
    """import_heartbeats for a dump file (readers.open_dump), read and checked in a process of
    its own; progress counts the file's bytes."""
    reading = _ReadingProcess(path, now_ms, batch_size)
    try:
        await _import_batches(db, user_id, reading.next_batch, report, progress)
    finally:
        await asyncio.to_thread(reading.close)


async def _import_batches(
    db: Database,
    user_id: int,
    read_next: Callable[[], Awaitable[_Batch]],
    report: ImportReport,
    progress: Progress | None,
) -> None:
    upcoming = asyncio.ensure_future(read_next())
    try:
        while True:
            batch = await upcoming
            if not batch.last:
                upcoming = asyncio.ensure_future(read_next())
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


class _ReadingProcess:
    """A process that reads and checks a dump's batches up to _READ_AHEAD ahead, each sent when
    asked for, so that memory stays bounded however fast it reads."""

    def __init__(self, path: Path, now_ms: int, batch_size: int) -> None:
        # spawn: forking a process that runs threads (aiosqlite's) can deadlock the child.
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(
            target=_read_file, args=(path, now_ms, batch_size, theirs), daemon=True
        )
        self._process.start()
        theirs.close()
        for _ in range(_READ_AHEAD):
            self._conn.send(True)

    async def next_batch(self) -> _Batch:
        return await asyncio.to_thread(self._receive)

    def _receive(self) -> _Batch:
        try:
            batch: _Batch = self._conn.recv()
        except EOFError:
            raise readers.DumpError("the process reading the file ended early") from None
        if not batch.last:
            # Broken: the reader has sent its last batch and gone (or died, which the next
            # receive reports).
            with contextlib.suppress(BrokenPipeError):
                self._conn.send(True)
        return batch

    def close(self) -> None:
        # The reader sees the pipe close and stops where it is.
        self._conn.close()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _read_file(path: Path, now_ms: int, batch_size: int, conn: Connection) -> None:
    """The reading process: a batch read for each request, until the file or the pipe ends."""
    # Ctrl-C reaches the whole process group: the importer decides what stops, and closes the
    # pipe when it does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    context = _context(now_ms)
    try:
        with readers.open_dump(path) as dump:
            while conn.recv():
                batch = _read_batch(dump.heartbeats, context, dump.position, batch_size)
                conn.send(batch)
                if batch.last:
                    return
    except readers.DumpError as error:
        conn.send(_Batch([], [], 0, error, last=True))
    except (EOFError, BrokenPipeError):
        return
    finally:
        conn.close()


async def _store(db: Database, user_id: int, batch: _Batch, report: ImportReport) -> None:
    for problems in batch.rejected:
        report.rejected += 1
        report.reasons.update(problems)
    if not batch.rows:
        return
    # Already there: stored before, or repeated within what is imported.
    new = await bulk.store_rows(db, user_id, batch.rows)
    report.new += new
    report.already_stored += len(batch.rows) - new
    times = list(map(bulk.row_time, batch.rows))
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
    span = timeranges.dates_bucket(first, last, tz)
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
