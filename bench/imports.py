"""Import (issue 13): a WakaTime-style dump of the bench's heartbeats imported by the real
`hackatime import` command, onto an empty database and onto the full one, beside the SQLite
floor: a plain `executemany` of the same rows into the same tables without triggers, in
transactions of the import's size with the same durability (WAL, synchronous=FULL).

The dump is WakaTime's shape: `days` of heartbeats naming their user agent and machine by id,
with the `user_agents` and `machines` lists at the top (what WakaTime's API lists separately).
The command's RSS (with its reading process's) is sampled all through the import, so "flat" is
measured, not assumed.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from bench import dataset, history
from bench.history import Beat
from hackatime.heartbeats import parse_user_agent
from hackatime.transfer.importer import BATCH_SIZE

_RSS_EVERY_SECONDS = 0.1
# Rows the floor builds before timing an executemany of them (built outside the timing).
_FLOOR_CHUNK = 50_000


def write_dump(path: Path, n: int, end_ms: int, zone: str, seed: int) -> int:
    """The last `n` heartbeats of the seeded history as a WakaTime data dump; its size."""
    tz = ZoneInfo(zone)
    agents: dict[str, str] = {}
    machines: dict[str, str] = {}
    first_ms = last_ms = 0
    with tempfile.TemporaryFile() as body:
        day = ""
        for index, beat in enumerate(history.newest(n, end_ms, zone, seed)):
            date = datetime.fromtimestamp(beat.time_ms / 1000, tz).date().isoformat()
            if date != day:
                body.write((b"" if not day else b"]},") + b'{"date":"' + date.encode())
                body.write(b'","heartbeats":[')
                day = date
            elif index:
                body.write(b",")
            body.write(orjson.dumps(_dump_item(beat, agents, machines)))
            first_ms = first_ms or beat.time_ms
            last_ms = beat.time_ms
        body.write(b"]}" if day else b"")
        body.seek(0)
        with path.open("wb") as dump:
            header = {
                "user": {"username": dataset.USERNAME, "last_plugin": next(iter(agents), None)},
                "range": {"start": first_ms // 1000, "end": last_ms // 1000 + 1},
                "user_agents": [{"id": key, "value": value} for value, key in agents.items()],
                "machines": [{"id": key, "name": name} for name, key in machines.items()],
            }
            dump.write(orjson.dumps(header)[:-1] + b',"days":[')
            shutil.copyfileobj(body, dump)
            dump.write(b"]}")
    return path.stat().st_size


def _dump_item(beat: Beat, agents: dict[str, str], machines: dict[str, str]) -> dict[str, object]:
    item = dataset.beat_json(beat)
    item["user_agent_id"] = agents.setdefault(item.pop("user_agent"), str(uuid.uuid4()))
    item["machine_name_id"] = machines.setdefault(beat.machine, str(uuid.uuid4()))
    return item


@dataclass(frozen=True)
class Imported:
    seconds: float
    rate: float
    rss_early_mb: float
    rss_peak_mb: float
    rss_samples: int
    output: str


def run_import(dump: Path, db: Path, log: Path) -> tuple[Imported, int]:
    """`hackatime import` as its own process, its RSS sampled; and the heartbeats it stored."""
    argv = [sys.executable, "-m", "hackatime.cli", "import", str(dump)]
    argv += ["--user", dataset.USERNAME, "--db", str(db)]
    before = _count(db)
    samples: list[tuple[float, int]] = []
    started = time.perf_counter()
    with log.open("w") as stderr:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
        while process.poll() is None:
            rss = _rss_kb(process.pid)
            if rss:
                samples.append((time.perf_counter() - started, rss))
            time.sleep(_RSS_EVERY_SECONDS)
        output = process.stdout.read() if process.stdout else ""
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"hackatime import failed ({process.returncode}); see {log}")
    stored = _count(db) - before
    # "Early" is the highest RSS in the first tenth of the run: once the first batches are in,
    # a flat import stays there.
    early = max((rss for at, rss in samples if at <= seconds / 10), default=0)
    peak = max((rss for _, rss in samples), default=0)
    return (
        Imported(seconds, stored / seconds, early / 1024, peak / 1024, len(samples), output),
        stored,
    )


def _rss_kb(pid: int) -> int:
    """The RSS of the process and of every process under it (the import reads the file in a
    process of its own)."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += sum(_rss_kb(int(child)) for child in (task / "children").read_text().split())
    except OSError:
        pass
    return total


def _count(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM heartbeats").fetchone()[0]
    finally:
        conn.close()


def floor(db: Path, n: int, end_ms: int, zone: str, seed: int) -> float:
    """Heartbeats per second of plain executemany of the same rows, triggers dropped, in
    transactions of the import's size, synced like the product's (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        dataset.drop_triggers(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        # The user agents already stored keep their ids, as they would for the import.
        agents = {
            value: (agent_id, *parse_user_agent(value))
            for agent_id, value in conn.execute("SELECT id, value FROM user_agents")
        }
        beats = history.newest(n, end_ms, zone, seed)
        seconds = 0.0
        while True:
            # heartbeat_row interns new user agents; the floor times only the inserts.
            chunk = itertools.islice(beats, _FLOOR_CHUNK)
            rows = [dataset.heartbeat_row(conn, beat, None, agents) for beat in chunk]
            if not rows:
                break
            started = time.perf_counter()
            for start in range(0, len(rows), BATCH_SIZE):
                conn.execute("BEGIN")
                conn.executemany(dataset.INSERT_HEARTBEAT, rows[start : start + BATCH_SIZE])
                conn.execute("COMMIT")
            seconds += time.perf_counter() - started
        return n / seconds
    finally:
        conn.close()
