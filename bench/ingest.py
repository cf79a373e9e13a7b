"""Ingest: 25-heartbeat bulk requests from 4 concurrent clients over loopback HTTP, and the
SQLite floor for the same rows.

The bodies are built before the clock starts (realistic wakatime-cli bulk bodies from a second
history, every item with its user agent), so the clients spend their time on the wire. Each
client keeps one connection open, as wakatime-cli's HTTP client does.
"""

from __future__ import annotations

import http.client
import itertools
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench import dataset, floor_app, history
from bench.server import HOST, basic_auth

BATCH = 25
CLIENTS = 4
PATH = "/api/hackatime/v1/users/current/heartbeats.bulk"


@dataclass(frozen=True)
class Body:
    data: bytes
    count: int
    headers: dict[str, str]


def bodies(count: int, start_ms: int, end_ms: int, zone: str, seed: int) -> list[Body]:
    """`count` heartbeats in bulk bodies of 25 as wakatime-cli sends them, spread evenly over
    [start_ms, end_ms): what a busy hour from a few machines looks like after the history.

    Their files, projects and user agents come from a second history; their times are new, so
    the real server never finds one already stored.
    """
    step = (end_ms - start_ms) / count
    beats = [
        beat._replace(time_ms=start_ms + int(index * step))
        for index, beat in enumerate(history.newest(count, end_ms, zone, seed))
    ]
    auth = basic_auth(dataset.API_KEY)
    result = []
    for start in range(0, len(beats), BATCH):
        chunk = beats[start : start + BATCH]
        headers = {
            **auth,
            "Content-Type": "application/json",
            "User-Agent": chunk[0].user_agent,
            "X-Machine-Name": chunk[0].machine,
            "Timezone": zone,
        }
        data = orjson.dumps([dataset.beat_json(beat) for beat in chunk])
        result.append(Body(data, len(chunk), headers))
    return result


@dataclass(frozen=True)
class IngestRun:
    heartbeats: int
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.heartbeats / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000


def post_all(port: int, next_body: Callable[[], Body | None], seconds: float) -> IngestRun:
    """Post bodies from CLIENTS threads until `next_body` runs out or `seconds` have passed."""
    lock = threading.Lock()
    start_line = threading.Barrier(CLIENTS + 1)
    sent = [0] * CLIENTS
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    failures: list[str] = []
    deadline = 0.0

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        start_line.wait()
        while time.perf_counter() < deadline:
            with lock:
                body = next_body()
            if body is None:
                break
            began = time.perf_counter()
            conn.request("POST", PATH, body=body.data, headers=body.headers)
            response = conn.getresponse()
            answer = response.read()
            latencies[index].append(time.perf_counter() - began)
            if response.status != 201 or answer.count(b"201]") != body.count:
                failures.append(f"{response.status}: {answer[:200]!r}")
                break
            sent[index] += body.count
        conn.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    start_line.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"ingest failed: {failures[0]}")
    every = [latency for per_client in latencies for latency in per_client]
    return IngestRun(sum(sent), len(every), elapsed, every or [0.0])


@dataclass(frozen=True)
class RoundSet:
    """One round of each floor, then one of the product, back to back."""

    product: IngestRun
    floors: tuple[IngestRun, ...]


def paired_rounds(
    product_port: int, floor_ports: list[int], batches: list[Body], seconds: float, count: int
) -> tuple[IngestRun, list[RoundSet]]:
    """The product's warm-up round, then up to `count` sets of rounds: each floor's, then the
    product's.

    Each target first gets an untimed round: a fresh WAL file grows (and fsyncs its new size)
    until its first checkpoint, while a long-running server writes into a WAL of steady size.
    In a set the floors' rounds run first and the product's right after, so all meet the
    machine in the same mood. The real server never sees a heartbeat twice (it would dedupe
    it); the floors cycle through the bodies. A set whose product round found no bodies left
    is dropped.
    """
    product_queue = iter(batches)
    floor_queue = itertools.cycle(batches)

    def product_body() -> Body | None:
        return next(product_queue, None)

    def floor_body() -> Body | None:
        return next(floor_queue)

    warm = post_all(product_port, product_body, seconds)
    for port in floor_ports:
        post_all(port, floor_body, seconds)
    sets = []
    for _ in range(count):
        floors = tuple(post_all(port, floor_body, seconds) for port in floor_ports)
        product_round = post_all(product_port, product_body, seconds)
        if product_round.heartbeats:
            sets.append(RoundSet(product_round, floors))
    if not sets:
        raise RuntimeError("the ingest bodies ran out before the first timed round")
    return warm, sets


def _floor_rows(batches: list[Body]) -> list[list[tuple[object, ...]]]:
    now_ms = int(time.time() * 1000)
    return [
        floor_app.rows(orjson.loads(body.data), body.headers["X-Machine-Name"], now_ms)
        for body in batches
    ]


def sqlite_floor(path: Path, batches: list[Body], *, per_request: bool) -> float:
    """Heartbeats per second for sqlite3 executemany of the same rows into the database at
    `path` (the project's schema): all in one transaction, or (`per_request`) one durable
    transaction per 25 as a server would."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    groups = _floor_rows(batches)
    count = sum(len(group) for group in groups)
    began = time.perf_counter()
    if per_request:
        for group in groups:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(floor_app.INSERT, group)
            conn.execute("COMMIT")
    else:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(floor_app.INSERT, [row for group in groups for row in group])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - began
    conn.close()
    return count / elapsed


def stored_count(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM heartbeats").fetchone()[0]
    finally:
        conn.close()
