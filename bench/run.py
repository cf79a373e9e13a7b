"""`python -m bench`: every phase of issue 5's benchmark, one table at the end.

BENCH_N sets the history size (default 1,000,000); growth is measured against a history a tenth
the size, at most 100,000. The history ends an hour ago and ingest sends that hour, into copies
of the N-heartbeat database. BENCH_INGEST_SECONDS sets each ingest round's length (default 2).
Working files go to bench/out/; a default-size run also rewrites the table in bench/RESULTS.md.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import dataset, floors, history, imports, ingest, pages, queries, server, views
from bench.report import (
    Row,
    generated_block,
    git_state,
    load_average,
    product_fingerprint,
    text_table,
    write_results,
)

DEFAULT_N = 1_000_000
BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
RESULTS = BENCH / "RESULTS.md"
READY_PATH = "/api/hackatime/v1/users/current/statusbar/today"
INGEST_ROUNDS = 5
INGEST_HEARTBEATS = 400_000
COLD_STARTS = 3
HOUR_MS = 3_600_000
SECTIONS = (
    "ingest",
    "import",
    "queries",
    "pages",
    "growth",
    "memory",
    "storage",
    "start",
    "checks",
)


@dataclass
class Run:
    n: int
    small: int
    now_ms: int
    zone: str
    # The history stops an hour ago; ingest then sends that last hour, after every stored row.
    history_end_ms: int
    # Section -> rows; the table lists them in SECTIONS order.
    rows: dict[str, list[Row]] = field(default_factory=dict)
    facts: list[tuple[str, str]] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        print(f"[bench] {name} ...", flush=True)
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.phases.append((name, seconds))
        print(f"[bench] {name}: {seconds:.1f} s", flush=True)

    def add(self, section: str, row: Row) -> None:
        assert section in SECTIONS, section
        self.rows.setdefault(section, []).append(row)

    def table(self) -> list[Row]:
        return [row for section in SECTIONS for row in self.rows.get(section, [])]


def _size(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").replace("_", "").replace(",", "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1000:
        sys.exit(f"{name} must be a whole number of at least 1000, got {os.environ[name]!r}")
    return int(raw)


def main() -> int:
    n = _int_env("BENCH_N", DEFAULT_N)
    ingest_seconds = float(os.environ.get("BENCH_INGEST_SECONDS") or 2)
    OUT.mkdir(parents=True, exist_ok=True)
    now_ms = int(time.time() * 1000)
    zone = history.evening_zone(now_ms)
    run = Run(n, min(100_000, n // 10), now_ms, zone, now_ms - HOUR_MS)
    # Read at the start: the product may change while a long run goes on.
    fingerprint = product_fingerprint()
    run.facts.append(("product code at start", f"{git_state()}, files {fingerprint}"))
    run.facts.append(("load average at start", load_average()))
    big = _prepare(run, run.n)
    small = _prepare(run, run.small)
    live = _cold_starts(run, big)
    try:
        _queries(run, live, big)
        _views(run, live, big)
        _pages(run, live, big)
        _growth(run, live, big, small)
    finally:
        live.stop()
    _storage(run, big)
    _ingest(run, big, ingest_seconds)
    _imports(run, big)
    run.facts.append(("load average at end", load_average()))
    if product_fingerprint() != fingerprint:
        run.facts.append(
            (
                "WARNING",
                "the product's files changed during the run: later phases ran on other code",
            )
        )
    return _report(run)


def _prepare(run: Run, n: int) -> dataset.Loaded:
    path = OUT / f"bench-{_size(n)}.db"
    with run.phase(f"generate and load {_size(n)} heartbeats"):
        loaded = dataset.load(path, n, run.history_end_ms, run.zone)
    years = (loaded.last_ms - loaded.first_ms) / 86_400_000 / 365.25
    run.facts.append(
        (
            f"history at {_size(n)}",
            f"{years:.1f} years, {loaded.user_agents} user agents, zone {run.zone},"
            f" loaded in {loaded.seconds:.1f} s",
        )
    )
    with run.phase(f"check stored gaps at {_size(n)}"):
        check = dataset.check_gaps(path, loaded.user_id)
    run.add(
        "checks",
        Row(
            f"stored gap_next = window form ({_size(n)}, sample)",
            f"{check.mismatches} of {check.rows} rows differ",
            target="0 differ",
            met=check.mismatches == 0,
        ),
    )
    with run.phase(f"build the minimal floor table at {_size(n)}"):
        floors.build_minimal(path, _floor_path(n))
    return loaded


def _floor_path(n: int) -> Path:
    return OUT / f"floor-{_size(n)}.db"


def _start_product(db_path: Path, log_name: str) -> server.Server:
    port = server.free_port()
    return server.start(
        server.product_argv(db_path, port),
        port,
        OUT / log_name,
        READY_PATH,
        queries.bearer(dataset.API_KEY),
    )


def _cold_starts(run: Run, loaded: dataset.Loaded) -> server.Server:
    """Start the server a few times on the N database; the last one stays up, idle RSS read."""
    with run.phase("cold starts"):
        live = _start_product(loaded.path, "server-cold-0.log")
        starts = [live.ready_after]
        for attempt in range(1, COLD_STARTS):
            live.stop()
            live = _start_product(loaded.path, f"server-cold-{attempt}.log")
            starts.append(live.ready_after)
    worst = max(starts)
    run.add(
        "start",
        Row(
            f"cold start to first 200 (worst of {COLD_STARTS})",
            f"{worst:.2f} s",
            target="<= 1.5 s",
            met=worst <= 1.5,
        ),
    )
    time.sleep(1.0)
    idle_mb = live.rss_kb() / 1024
    run.add(
        "memory",
        Row(
            "server RSS idle after start", f"{idle_mb:.1f} MB", target="<= 50 MB", met=idle_mb <= 50
        ),
    )
    return live


def _queries(run: Run, live: server.Server, loaded: dataset.Loaded) -> None:
    size = _size(loaded.count)
    floor_conn = floors.connect(_floor_path(loaded.count))
    try:
        with run.phase(f"queries at {size}"):
            now_ms = int(time.time() * 1000)
            cases = queries.cases(floor_conn, loaded.user_id, loaded.zone, now_ms)
            for case in cases:
                seed = case.target == "seed"
                peak_label = "" if not seed or live.reset_peak() else " (peak since start)"
                item = queries.measure(
                    live.port, floor_conn, case, queries.bearer(dataset.API_KEY), budget=4.0
                )
                if seed:
                    peak_mb = live.peak_kb() / 1024
                    run.add(
                        "memory",
                        Row(
                            f"server peak RSS answering {case.name} at {size}{peak_label}",
                            f"{peak_mb:.1f} MB",
                            target="<= 100 MB",
                            met=peak_mb <= 100,
                        ),
                    )
                print(
                    f"[bench]   {case.name}: p50 {item.product.p50 * 1000:.1f} ms,"
                    f" floor {item.floor.p50 * 1000:.1f} ms, {len(item.product.samples)} reps",
                    flush=True,
                )
                run.add("queries", _query_row(item, size))
                for problem in item.problems:
                    run.facts.append((f"ANSWER DIFFERS, {case.name} at {size}", problem[:400]))
    finally:
        floor_conn.close()


def _views(run: Run, live: server.Server, loaded: dataset.Loaded) -> None:
    size = _size(loaded.count)
    with run.phase(f"views at {size}"):
        rows, problems = views.measure(live.port, dataset.USERNAME, dataset.API_KEY, size)
    for row in rows:
        run.add("queries", row)
    run.facts += problems


def _pages(run: Run, live: server.Server, loaded: dataset.Loaded) -> None:
    """The dashboard's pages beside the JSON calls with their numbers."""
    size = _size(loaded.count)
    api_headers = queries.bearer(dataset.API_KEY)
    with run.phase(f"pages at {size}"):
        page_headers = pages.sign_in(live.port, dataset.API_KEY)
        now_ms = int(time.time() * 1000)
        for case in pages.cases(live.port, api_headers, loaded.zone, now_ms, dataset.USERNAME):
            item = pages.measure(live.port, case, page_headers, api_headers)
            ratio = item.page.p50 / item.json.p50
            print(
                f"[bench]   {case.name}: p50 {item.page.p50 * 1000:.1f} ms,"
                f" JSON {item.json.p50 * 1000:.1f} ms, {item.page_bytes:,} bytes",
                flush=True,
            )
            run.add(
                "pages",
                Row(
                    f"page: {case.name} at {size}, p50 (p95), {len(item.page.samples)} reps,"
                    f" {item.page_bytes / 1000:.0f} kB",
                    f"{item.page.p50 * 1000:.1f} ms ({item.page.p95 * 1000:.1f})",
                    f"{item.json.p50 * 1000:.1f} ms ({item.json.p95 * 1000:.1f})",
                    f"{ratio:.2f}x",
                    f"<= {case.limit:g}x JSON: {case.stands_for}",
                    ratio <= case.limit,
                ),
            )


def _query_row(item: queries.Measured, size: str) -> Row:
    product, floor = item.product, item.floor
    ratio = product.p50 / floor.p50
    if item.case.target == "seed":
        target, met = "<= 0.3x floor", ratio <= 0.3
    else:
        target, met = "<= 1.0x floor + 5 ms", product.p50 <= floor.p50 + 0.005
    if item.problems:
        met = False
        target += " (answer differs, see below)"
    return Row(
        f"{item.case.name} at {size}, p50 (p95), {len(product.samples)} reps",
        f"{product.p50 * 1000:.1f} ms ({product.p95 * 1000:.1f})",
        f"{floor.p50 * 1000:.1f} ms ({floor.p95 * 1000:.1f})",
        f"{ratio:.2f}x",
        target,
        met,
    )


def _growth(run: Run, live: server.Server, big: dataset.Loaded, small: dataset.Loaded) -> None:
    """Each endpoint on the big and the small history, requests alternating between two servers.

    Judged against the ratio of rows in the endpoint's range, with 20 % and 2 ms for noise.
    """
    other = _start_product(small.path, f"server-{_size(small.count)}.log")
    sizes = f"{_size(small.count)} -> {_size(big.count)}"
    try:
        with run.phase(f"growth {sizes}"):
            now_ms = int(time.time() * 1000)
            pairs = zip(_cases(big, now_ms), _cases(small, now_ms), strict=True)
            for at_big, at_small in pairs:
                big_time, small_time = queries.growth(
                    live.port, other.port, at_big.path, queries.bearer(dataset.API_KEY), budget=2.0
                )
                rows_ratio = at_big.rows / max(1, at_small.rows)
                time_ratio = big_time.p50 / small_time.p50
                allowed = rows_ratio * 1.2 + 0.002 / small_time.p50
                run.add(
                    "growth",
                    Row(
                        f"{at_big.name} growth {sizes},"
                        f" p50 {small_time.p50 * 1000:.1f} -> {big_time.p50 * 1000:.1f} ms",
                        f"{time_ratio:.2f}x time",
                        f"{rows_ratio:.2f}x rows in range",
                        "",
                        "time <= rows x1.2 + 2 ms",
                        time_ratio <= allowed,
                    ),
                )
    finally:
        other.stop()


def _cases(loaded: dataset.Loaded, now_ms: int) -> list[queries.Case]:
    conn = floors.connect(_floor_path(loaded.count))
    try:
        return queries.cases(conn, loaded.user_id, loaded.zone, now_ms)
    finally:
        conn.close()


def _storage(run: Run, loaded: dataset.Loaded) -> None:
    with run.phase("storage"):
        conn = sqlite3.connect(loaded.path, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            parts = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        finally:
            conn.close()
        wal = Path(f"{loaded.path}-wal")
        total = loaded.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    per_row = total / loaded.count
    run.add(
        "storage",
        Row(
            f"bytes on disk per heartbeat at {_size(loaded.count)} (db + wal)",
            f"{per_row:.0f} B",
            target="<= 250 B",
            met=per_row <= 250,
        ),
    )
    table, index = parts.get("heartbeats", 0), parts.get("heartbeats_user_time", 0)
    run.facts.append(
        (
            "storage per heartbeat",
            f"table {table / loaded.count:.0f} B, index heartbeats_user_time"
            f" {index / loaded.count:.0f} B, rest {(total - table - index) / loaded.count:.1f} B",
        )
    )


def _ingest(run: Run, loaded: dataset.Loaded, seconds: float) -> None:
    """Into copies of the N-heartbeat database: ingest on a Pi lands on years of history."""
    with run.phase("build ingest bodies and database copies"):
        # Enough that a server at the floor's pace would not run out in its rounds.
        batches = ingest.bodies(
            INGEST_HEARTBEATS, run.history_end_ms, run.now_ms, run.zone, seed=history.SEED + 1
        )
        product_db, floor_db, aiosqlite_db, sqlite_db = (
            OUT / f"ingest-{name}.db" for name in ("product", "floor", "floor-aiosqlite", "sqlite")
        )
        for path in (product_db, floor_db, aiosqlite_db, sqlite_db):
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(loaded.path, path)
        # The floors write into the project's tables and indexes but without its triggers:
        # whatever those do (keep gap_next_ms) is the product's own work, not the floor's.
        for path in (floor_db, aiosqlite_db, sqlite_db):
            conn = sqlite3.connect(path, isolation_level=None)
            dataset.drop_triggers(conn)
            conn.close()
        size_before = product_db.stat().st_size
    with run.phase("ingest over HTTP"):
        product = _start_product(product_db, "server-ingest.log")
        floors = []
        try:
            for path, aiosqlite, log_name in (
                (floor_db, False, "floor-app.log"),
                (aiosqlite_db, True, "floor-app-aiosqlite.log"),
            ):
                port = server.free_port()
                argv = server.floor_argv(path, port, aiosqlite=aiosqlite)
                floors.append(server.start(argv, port, OUT / log_name, "/ready", {}))
            warm_product, sets = ingest.paired_rounds(
                product.port, [floor.port for floor in floors], batches, seconds, INGEST_ROUNDS
            )
        finally:
            product.stop()
            for floor in floors:
                floor.stop()
    with run.phase("ingest: SQLite floors and checks"):
        sample = batches[: min(len(batches), 1600)]
        one_transaction = ingest.sqlite_floor(sqlite_db, sample, per_request=False)
        per_request = ingest.sqlite_floor(sqlite_db, sample, per_request=True)
        sent = warm_product.heartbeats + sum(each.product.heartbeats for each in sets)
        stored = ingest.stored_count(product_db) - loaded.count
        # The tail holds every ingested row (they all follow the history) and a little history.
        gaps = dataset.check_gaps(product_db, 1, samples=0, size=stored + 1000)
        added_bytes = (product_db.stat().st_size - size_before) / max(1, stored)
    rounds = [(each.product, each.floors[0]) for each in sets]
    aiosqlite_rounds = [(each.product, each.floors[1]) for each in sets]
    product_rate = _median([mine.rate for mine, _ in rounds])
    floor_rate = _median([theirs.rate for _, theirs in rounds])
    # A pair of rounds shares the machine's mood of the moment (other work on a shared box), so
    # the median of the pairs' ratios is steadier than a ratio of medians.
    ratio = _median([mine.rate / theirs.rate for mine, theirs in rounds])
    p50 = _median([mine.p50_ms for mine, _ in rounds])
    floor_p50 = _median([theirs.p50_ms for _, theirs in rounds])
    shape = f"{ingest.CLIENTS} clients x {ingest.BATCH}/request, {len(rounds)} rounds"
    aiosqlite_rate = _median([theirs.rate for _, theirs in aiosqlite_rounds])
    aiosqlite_ratio = _median([mine.rate / theirs.rate for mine, theirs in aiosqlite_rounds])
    rows = [
        Row(
            f"ingest over HTTP onto {_size(loaded.count)}, heartbeats/s ({shape})",
            f"{product_rate:,.0f}/s (p50 {p50:.1f} ms/request)",
            f"{floor_rate:,.0f}/s (p50 {floor_p50:.1f} ms)",
            f"{ratio:.2f}x",
            ">= 0.7x framework floor",
            ratio >= 0.7,
        ),
        Row(
            f"ingest onto {_size(loaded.count)}, the framework floor through aiosqlite",
            f"{product_rate:,.0f}/s",
            f"{aiosqlite_rate:,.0f}/s",
            f"{aiosqlite_ratio:.2f}x",
        ),
        Row(
            f"ingest onto {_size(loaded.count)}, SQLite floor: one executemany, one transaction",
            f"{product_rate:,.0f}/s",
            f"{one_transaction:,.0f}/s",
            f"{product_rate / one_transaction:.2f}x",
        ),
        Row(
            f"ingest onto {_size(loaded.count)}, SQLite: 25 rows per durable transaction",
            f"{product_rate:,.0f}/s",
            f"{per_request:,.0f}/s",
            f"{product_rate / per_request:.2f}x",
        ),
        Row(
            "ingest: stored = acknowledged, gaps = window form",
            f"{stored} of {sent} stored, {gaps.mismatches} of {gaps.rows} gaps differ",
            target="all stored, 0 differ",
            met=stored == sent and gaps.mismatches == 0,
        ),
    ]
    for row in rows:
        run.add("ingest", row)
    run.facts.append(
        (
            "ingest rounds (heartbeats/s)",
            "product "
            + ", ".join(f"{mine.rate:,.0f}" for mine, _ in rounds)
            + "; floor app "
            + ", ".join(f"{theirs.rate:,.0f}" for _, theirs in rounds)
            + "; floor app through aiosqlite "
            + ", ".join(f"{theirs.rate:,.0f}" for _, theirs in aiosqlite_rounds),
        )
    )
    aiosqlite_cost = _median([each.floors[1].rate / each.floors[0].rate for each in sets])
    run.facts.append(
        (
            "the framework floor through aiosqlite against the plain one",
            f"{aiosqlite_cost:.2f}x (median of the sets of rounds)",
        )
    )
    run.facts.append(
        (
            "database growth per heartbeat ingested over HTTP",
            f"{added_bytes:.0f} B ({stored} heartbeats onto {_size(loaded.count)})",
        )
    )


def _imports(run: Run, loaded: dataset.Loaded) -> None:
    """`hackatime import` of a WakaTime dump of N heartbeats onto an empty database, and of
    another N (another seed: the same years, rows landing between the stored ones) onto the
    N database, each beside its executemany floor; then the first again, all already there."""
    n, size = loaded.count, _size(loaded.count)
    cases = (
        ("an empty database", "empty", history.SEED, None),
        (f"the {size} one", "full", history.SEED + 2, loaded.path),
    )
    for label, name, seed, source in cases:
        dump = OUT / f"import-{name}.json"
        with run.phase(f"write a WakaTime dump of {size} heartbeats (seed {seed})"):
            dump_bytes = imports.write_dump(dump, n, run.history_end_ms, run.zone, seed)
        product_db, floor_db = OUT / f"import-{name}.db", OUT / f"import-{name}-floor.db"
        for path in (product_db, floor_db):
            if source is None:
                dataset.create_database(path, run.zone, run.history_end_ms).close()
            else:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(source, path)
        with run.phase(f"hackatime import of {size} onto {label}"):
            imported, stored = imports.run_import(dump, product_db, OUT / f"import-{name}.log")
        with run.phase(f"import floor: executemany of {size} onto {label}"):
            floor_rate = imports.floor(floor_db, n, run.history_end_ms, run.zone, seed)
        gaps = dataset.check_gaps(product_db, 1)
        ratio = imported.rate / floor_rate
        run.add(
            "import",
            Row(
                f"import of a {dump_bytes / 1e6:,.0f} MB dump of {size} onto {label}, heartbeats/s",
                f"{imported.rate:,.0f}/s ({imported.seconds:.1f} s)",
                f"{floor_rate:,.0f}/s",
                f"{ratio:.2f}x",
                ">= 0.5x executemany floor",
                ratio >= 0.5,
            ),
        )
        flat = imported.rss_peak_mb <= min(100.0, imported.rss_early_mb + 10)
        run.add(
            "import",
            Row(
                f"import onto {label}: RSS of the command ({imported.rss_samples} samples)",
                f"peak {imported.rss_peak_mb:.1f} MB, {imported.rss_early_mb:.1f} MB in the"
                " first tenth",
                target="<= 100 MB, peak <= first tenth + 10 MB",
                met=flat,
            ),
        )
        run.add(
            "import",
            Row(
                f"import onto {label}: stored, gaps = window form",
                f"{stored} of {n} stored, {gaps.mismatches} of {gaps.rows} gaps differ",
                target="all stored, 0 differ",
                met=stored == n and gaps.mismatches == 0,
            ),
        )
    with run.phase(f"hackatime import of {size} again onto the first: all already there"):
        again, stored = imports.run_import(
            OUT / "import-empty.json", OUT / "import-empty.db", OUT / "import-again.log"
        )
    run.add(
        "import",
        Row(
            f"import of the same {size} again (a resumed import), heartbeats/s",
            f"{n / again.seconds:,.0f}/s ({again.seconds:.1f} s, {stored} new)",
            target="0 new",
            met=stored == 0,
        ),
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _report(run: Run) -> int:
    rows = run.table()
    table = text_table(rows)
    print()
    print(table)
    print()
    for name, value in run.facts:
        print(f"{name}: {value}")
    for name, seconds in run.phases:
        print(f"phase {name}: {seconds:.1f} s")
    print(f"total: {sum(seconds for _, seconds in run.phases):.1f} s")
    block = generated_block(rows, run.facts, run.phases)
    own = OUT / f"RESULTS-{_size(run.n)}.md"
    own.write_text(block + "\n")
    if run.n == DEFAULT_N:
        write_results(RESULTS, block)
        print(f"\nwrote {RESULTS.relative_to(BENCH.parent)} and {own.relative_to(BENCH.parent)}")
    else:
        print(f"\nwrote {own.relative_to(BENCH.parent)} (bench/RESULTS.md only at the default N)")
    missed = [row.metric for row in rows if row.met is False]
    if missed:
        print(f"{len(missed)} target(s) not met")
    return 0
