"""Load for the real server: users made before it starts, and ingest clients in threads that
remember exactly which heartbeats the server acknowledged.

Used by the durability, concurrency and backup tests (tests/test_durability.py & co.).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

from hackatime import goals, users
from hackatime.db import Database

BULK = "/api/hackatime/v1/users/current/heartbeats.bulk"
SINGLE = "/api/v1/users/current/heartbeats"
ACCEPTED = [{"data": None, "error": None}, 201]


def add_user(db_path: Path, username: str, **fields: Any) -> str:
    """Create a user in the database file (made if missing) and return its API key."""

    async def create() -> str:
        db = Database(db_path, read_connections=1)
        await db.open()
        try:
            _, key = await users.create_user(db, username, **fields)
        finally:
            await db.close()
        return key

    db_path.parent.mkdir(parents=True, exist_ok=True)
    return asyncio.run(create())


def add_goal(db_path: Path, username: str, **fields: Any) -> str:
    async def create() -> str:
        db = Database(db_path, read_connections=1)
        await db.open()
        try:
            goal = await goals.add_goal(db, username, **fields)
        finally:
            await db.close()
        return goal.id

    return asyncio.run(create())


class IngestClient(threading.Thread):
    """Posts batches of heartbeats with entities no other client uses until stopped, the
    server goes away, or `max_batches` is reached; keeps every entity acknowledged with 201
    (or, with `single`, one heartbeat a request acknowledged with 202).

    An item counts as acknowledged only when the whole response arrived with 201 for it: a
    connection cut mid-response acknowledges nothing.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        name: str,
        *,
        batch_size: int = 25,
        max_batches: int = 400,
        stop_on_error: bool = True,
        single: bool = False,
    ) -> None:
        super().__init__(name=f"ingest-{name}", daemon=True)
        self.base_url = base_url
        self.key = key
        self.label = name
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.stop_on_error = stop_on_error
        self.single = single
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._acknowledged: list[str] = []
        self.batches: list[list[dict[str, Any]]] = []  # acknowledged batches, to resend
        self.errors: list[str] = []  # transport errors (expected once the server is gone)
        self.failures: list[str] = []  # answers that are neither 201 nor a transport error
        # The first heartbeat time; every client stays inside one UTC day of history.
        self.start_s = time.time() - 3 * 3600

    @property
    def acknowledged(self) -> list[str]:
        with self._lock:
            return list(self._acknowledged)

    def batch(self, number: int) -> list[dict[str, Any]]:
        return [
            {
                "entity": f"/load/{self.label}/b{number}/i{item}.py",
                "time": self.start_s + number + item / 1000,
                "project": f"load-{self.label}",
                "language": "Python",
            }
            for item in range(1 if self.single else self.batch_size)
        ]

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base_url, timeout=30, headers=headers) as http:
            for number in range(self.max_batches):
                if self.stop_event.is_set():
                    return
                items = self.batch(number)
                try:
                    if self.single:
                        response = http.post(SINGLE, json=items[0])
                    else:
                        response = http.post(BULK, json=items)
                except httpx.HTTPError as error:
                    self.errors.append(repr(error))
                    if self.stop_on_error:
                        return
                    continue
                if not self._accepted(response, len(items)):
                    self.failures.append(f"{response.status_code} {response.text[:300]}")
                    continue
                with self._lock:
                    self._acknowledged.extend(item["entity"] for item in items)
                    self.batches.append(items)

    def _accepted(self, response: httpx.Response, count: int) -> bool:
        if self.single:
            return response.status_code == 202
        return response.status_code == 201 and response.json()["responses"] == [ACCEPTED] * count

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        self.join(timeout)
        assert not self.is_alive(), f"{self.name} did not stop within {timeout} s"


def acknowledged_count(clients: Iterable[IngestClient]) -> int:
    return sum(len(client.acknowledged) for client in clients)


def wait_for(condition: Any, timeout: float, what: str) -> None:
    """Poll `condition()` every 20 ms until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def entity_counts(db_path: Path, prefix: str = "/load/") -> Counter[str]:
    """How many rows each load entity has, read straight from the file."""
    with closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute(
            "SELECT entity, count(*) FROM heartbeats WHERE entity LIKE ? GROUP BY entity",
            (prefix + "%",),
        ).fetchall()
    return Counter(dict(rows))


def integrity(db_path: Path) -> str:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def wal_size(db_path: Path) -> int:
    wal = db_path.with_name(db_path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0
