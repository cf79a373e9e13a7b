from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from hackatime import dbcheck

Params = Sequence[Any] | Mapping[str, Any]
T = TypeVar("T")

_EVERY_CONNECTION = (
    f"PRAGMA busy_timeout = {dbcheck.BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = ON",
)
_WRITERS = (
    "PRAGMA journal_mode = WAL",
    # FULL: a heartbeat acknowledged with 201 is on disk even if the power goes out next.
    "PRAGMA synchronous = FULL",
)


async def _prepare(conn: aiosqlite.Connection, *, writer: bool) -> None:
    conn.row_factory = sqlite3.Row
    for pragma in _EVERY_CONNECTION:
        await conn.execute(pragma)
    if writer:
        for pragma in _WRITERS:
            await conn.execute(pragma)
    else:
        # Stats over years of history spend most of their time sorting rows for GROUP BY;
        # SQLite's sorter can share that with helper threads, one per spare core.
        await conn.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")


class Database:
    """One write connection and a few read-only connections for queries.

    Every write is a single SQL statement, run by `write`: SQLite makes each one atomic on its
    own, and aiosqlite runs a connection's calls one at a time in the order they were made. So
    writes never interleave and need no lock, and the writer thread goes from one request's
    statement straight to the next without waiting for the event loop in between.

    Bulk work that reads and writes many statements as one unit (an import's batch) runs through
    `transaction` on a connection of its own; SQLite serialises it with the writer's statements.
    """

    def __init__(
        self, path: Path | str, *, read_connections: int = 2, writable: bool = True
    ) -> None:
        self.path = Path(path)
        self._read_count = max(1, read_connections)
        # Read-only: no writer, no schema upgrade, no checkpoint on close, so that a command
        # that only reads never takes the write lock from a running server.
        self.writable = writable
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] | None = None
        self._all_readers: list[aiosqlite.Connection] = []
        self._bulk: sqlite3.Connection | None = None
        self._bulk_lock = asyncio.Lock()

    async def open(self) -> None:
        """Raises dbcheck.UnusableDatabase for a file that cannot be served, leaving no
        connection behind: each is a thread that would keep the process alive."""
        if self.writable:
            await asyncio.to_thread(dbcheck.prepare_for_writing, self.path, datetime.now(UTC))
        else:
            await asyncio.to_thread(dbcheck.check_for_reading, self.path)
        try:
            if self.writable:
                self._writer = await aiosqlite.connect(self.path, isolation_level=None)
                await _prepare(self._writer, writer=True)
            self._readers = asyncio.Queue()
            for _ in range(self._read_count):
                reader = await aiosqlite.connect(
                    f"file:{self.path}?mode=ro", uri=True, isolation_level=None
                )
                self._all_readers.append(reader)
                await _prepare(reader, writer=False)
                self._readers.put_nowait(reader)
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.Error):
                await self.close()
            raise dbcheck.unusable(self.path, error) from None

    async def close(self) -> None:
        async with self._bulk_lock:
            bulk, self._bulk = self._bulk, None
            if bulk is not None:
                bulk.close()
        readers, self._all_readers = self._all_readers, []
        for reader in readers:
            await reader.close()
        self._readers = None
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                # Queued behind every write already made; folding the WAL back leaves a single
                # self-contained file behind.
                await writer.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await writer.close()

    async def write(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement in a transaction of its own; the rows it returns (RETURNING).

        With synchronous=FULL the change is on disk when this returns. Never BEGIN: a
        transaction left open here would swallow the statements of other requests.
        """
        if self._writer is None:
            raise RuntimeError("database is not open for writing")
        return list(await self._writer.execute_fetchall(sql, params))

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(conn)` inside `BEGIN IMMEDIATE … COMMIT` in a worker thread, rolled back if it
        raises; what it returns. IMMEDIATE takes the write lock before the first read, so what
        `work` reads stays true until it commits, whoever else writes to the file. The whole
        unit runs in one call to the thread: many statements, one round trip."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._bulk_lock:
            if self._bulk is None:
                self._bulk = await asyncio.to_thread(self._connect_bulk)
            running = asyncio.ensure_future(asyncio.to_thread(_in_transaction, self._bulk, work))
            try:
                return await asyncio.shield(running)
            finally:
                # A thread cannot be cancelled: the connection stays locked until it is done.
                if not running.done():
                    await asyncio.wait([running])

    def _connect_bulk(self) -> sqlite3.Connection:
        # Used from one worker thread at a time (under _bulk_lock), not always the same one;
        # its rows are plain tuples, the cheapest to build.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in (*_EVERY_CONNECTION, *_WRITERS):
            conn.execute(pragma)
        return conn

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._readers is None:
            raise RuntimeError("database is not open")
        conn = await self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put_nowait(conn)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        # One round trip to the reader's thread: execute and fetch together.
        async with self._reader() as conn:
            return list(await conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a query that returns at most a few."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]


def _in_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def integer_id(text: str) -> int | None:
    """A non-negative whole number written in ASCII digits that fits SQLite's INTEGER.

    `str.isdigit` alone lets through "²" (int() rejects it) and numbers too big for SQLite.
    """
    # Longer than 19 digits cannot fit, and int() refuses very long digit strings outright.
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value < 2**63 else None
