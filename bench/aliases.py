"""`python -m bench.aliases`: what project aliases cost the reads (issue 13).

The bench history (BENCH_N heartbeats, default 100,000) is loaded once and copied three times:
no aliases, 3 (the three busiest projects merged into one) and 30 (the same plus 27 names no
heartbeat carries). Each read runs through the domain functions every endpoint calls, the copies
taking turns so that a noisy neighbour slows all three alike. Filtering by the merged name is
also set beside filtering by its three stored names on the copy without aliases: the same rows,
asked for without the alias table.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import time
from collections.abc import Awaitable, Callable

from bench import dataset, history
from bench.run import OUT
from hackatime import aliases, durations
from hackatime import history as reads
from hackatime.db import Database

TIMEOUT_MS = 120_000
DAY_MS = 86_400_000
SPLITS = ("categories", "languages", "projects", "editors", "operating_systems", "machines")
STATES = ("none", "3 aliases", "30 aliases")

Read = Callable[[], Awaitable[object]]


async def _busiest_projects(db: Database, user_id: int) -> list[str]:
    rows = await db.fetch_all(
        "SELECT project FROM heartbeats WHERE user_id = ? AND project IS NOT NULL"
        " GROUP BY project ORDER BY count(*) DESC LIMIT 3",
        (user_id,),
    )
    return [row[0] for row in rows]


def _reads(db: Database, user_id: int, last_ms: int, merged: list[str]) -> dict[str, Read]:
    everything = [durations.Bucket(0, 2**62)]
    today = durations.Bucket(last_ms - DAY_MS, last_ms + 1)
    week = [
        durations.Bucket(last_ms - days * DAY_MS, last_ms - (days - 1) * DAY_MS)
        for days in range(7, 0, -1)
    ]

    def sums(
        buckets: list[durations.Bucket], dimensions: tuple[str, ...], **filters: list[str]
    ) -> Read:
        return lambda: durations.breakdowns(
            db, user_id, buckets, dimensions=dimensions, timeout_ms=TIMEOUT_MS, filters=filters
        )

    def runs() -> Awaitable[object]:
        return durations.duration_runs(db, user_id, today, timeout_ms=TIMEOUT_MS)

    def page() -> Awaitable[object]:
        return reads.page(db, user_id, today.start_ms, today.end_ms, limit=100)

    return {
        "stats all time, projects and languages": sums(everything, ("projects", "languages")),
        "stats all time, filtered by the merged name": sums(everything, (), project=merged[:1]),
        "stats all time, filtered by its 3 stored names": sums(everything, (), project=merged),
        "statusbar today, 6 splits": sums([today], SPLITS),
        "summaries 7 days, 6 splits": sums(week, SPLITS),
        "durations of today": runs,
        "projects list": lambda: reads.projects(db, user_id),
        "a page of 100 heartbeats": page,
    }


async def _measure(n: int, reps: int) -> None:
    now_ms = int(time.time() * 1000)
    base = OUT / f"aliases-{n}.db"
    loaded = dataset.load(base, n, now_ms, history.evening_zone(now_ms))
    dbs = []
    for state in STATES:
        path = OUT / f"aliases-{n}-{state.split()[0]}.db"
        shutil.copy(base, path)
        db = Database(path, read_connections=1)
        await db.open()
        dbs.append(db)
    merged = await _busiest_projects(dbs[0], loaded.user_id)
    await aliases.merge(dbs[1], loaded.user_id, merged[0], merged[1:])
    unused = [f"unused-{index}" for index in range(27)]
    await aliases.merge(dbs[2], loaded.user_id, merged[0], [*merged[1:], *unused])
    try:
        cases = [_reads(db, loaded.user_id, loaded.last_ms, merged) for db in dbs]
        print(f"{n} heartbeats, merging {merged}; p50 of {reps} (ms)")
        print(f"{'read':50}" + "".join(f"{state:>12}" for state in STATES))
        for name in cases[0]:
            samples: list[list[float]] = [[] for _ in STATES]
            for _ in range(reps):
                for index, reads_of_state in enumerate(cases):
                    started = time.perf_counter()
                    await reads_of_state[name]()
                    samples[index].append((time.perf_counter() - started) * 1000)
            p50s = "".join(f"{statistics.median(each):12.2f}" for each in samples)
            print(f"{name:50}{p50s}")
    finally:
        for db in dbs:
            await db.close()


def main() -> None:
    n = int(os.environ.get("BENCH_N") or 100_000)
    reps = int(os.environ.get("BENCH_REPS") or 15)
    asyncio.run(_measure(n, reps))


if __name__ == "__main__":
    main()
