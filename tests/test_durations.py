from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hackatime import aliases, durations, ingest, timeranges, users
from hackatime.config import load_settings
from hackatime.db import Database
from hackatime.durations import Bucket
from hackatime.heartbeats import Heartbeat
from tests.conftest import Account
from tests.oracle import (
    COLUMNS,
    SPLIT_COLUMNS,
    OracleRow,
    load_rows,
    reference_breakdown,
    stored_gaps,
    window_gaps,
)

T0 = 1_780_000_000_000  # 2026-05-28T20:26:40Z, an arbitrary moment
TIMEOUT_MS = 120_000
EVERYTHING = Bucket(T0 - 86_400_000, T0 + 86_400_000)
ALL_DIMENSIONS = tuple(durations.DIMENSIONS)


def hb(
    seconds: float,
    project: str | None = "A",
    *,
    category: str = "coding",
    language: str | None = "Python",
    entity: str = "main.py",
    lineno: int | None = None,
) -> Heartbeat:
    """A heartbeat `seconds` after T0."""
    return Heartbeat(
        time_ms=T0 + round(seconds * 1000),
        entity=entity,
        type="file",
        category=category,
        project=project,
        language=language,
        lineno=lineno,
    )


def bucket(start_s: float, end_s: float) -> Bucket:
    return Bucket(T0 + round(start_s * 1000), T0 + round(end_s * 1000))


# The worked example: A@0, B@30, A@60, B@90, A@400.
EXAMPLE = [hb(0, "A"), hb(30, "B"), hb(60, "A"), hb(90, "B"), hb(400, "A")]


async def store_with_ids(
    db: Database, user_id: int, items: Sequence[Heartbeat]
) -> list[tuple[int | None, Heartbeat]]:
    stored = await ingest.store(db, user_id, list(items))
    return list(zip(await ingest.stored_ids(db, user_id, stored), stored, strict=True))


async def store_each(db: Database, user_id: int, items: Sequence[Heartbeat]) -> list[int]:
    """Store heartbeats one batch each, in the order given; returns their ids."""
    ids = []
    for item in items:
        (stored,) = await ingest.store(db, user_id, [item])
        ids.extend(await ingest.stored_ids(db, user_id, [stored]))
    return ids


def assert_gaps_match_window(db: Database, user_id: int) -> None:
    assert stored_gaps(db.path, user_id) == window_gaps(db.path, user_id)


async def test_worked_example(db: Database, alice: Account) -> None:
    await ingest.store(db, alice.user.id, EXAMPLE)
    result = await durations.breakdown(
        db, alice.user.id, EVERYTHING, dimensions=("projects",), timeout_ms=TIMEOUT_MS
    )
    assert result.total_ms == 210_000
    assert result.splits == {"projects": [("B", 150_000), ("A", 60_000)]}
    # The reference agrees, so the property test below checks against something sound.
    expected = reference_breakdown(
        load_rows(db.path, alice.user.id),
        EVERYTHING.start_ms,
        EVERYTHING.end_ms,
        TIMEOUT_MS,
        dimension="projects",
    )
    assert (expected.total_ms, expected.ranked) == (210_000, [("B", 150_000), ("A", 60_000)])
    assert_gaps_match_window(db, alice.user.id)


@pytest.mark.parametrize(
    ("items", "span", "timeout_ms", "total_ms", "projects"),
    [
        pytest.param([hb(0), hb(500)], (0, 600), TIMEOUT_MS, 120_000, [("A", 120_000)],
                     id="gap-over-timeout-counts-timeout"),
        pytest.param([hb(0), hb(120)], (0, 600), TIMEOUT_MS, 120_000, [("A", 120_000)],
                     id="gap-equal-to-timeout"),
        pytest.param([hb(0)], (0, 600), TIMEOUT_MS, 0, [], id="single-heartbeat"),
        pytest.param([], (0, 600), TIMEOUT_MS, 0, [], id="no-heartbeats"),
        pytest.param([hb(-60, "B"), hb(0), hb(30)], (0, 600), TIMEOUT_MS, 30_000, [("A", 30_000)],
                     id="first-in-range-adds-0"),
        pytest.param([hb(0), hb(30), hb(60, "B")], (0, 60), TIMEOUT_MS, 30_000, [("A", 30_000)],
                     id="heartbeat-at-end-is-outside"),
        pytest.param([hb(0), hb(30), hb(59.999, "B")], (0, 60), TIMEOUT_MS, 59_999,
                     [("A", 59_999)], id="heartbeat-just-before-end"),
        pytest.param([hb(0), hb(30)], (30, 30), TIMEOUT_MS, 0, [], id="empty-range"),
        pytest.param([hb(0, None), hb(30, None), hb(40)], (0, 600), TIMEOUT_MS, 40_000,
                     [("Unknown", 40_000)], id="null-project-is-unknown"),
        # Same time: the gap between them is 0 and the later id takes the gap onwards; an entry
        # whose time is all 0 is left out of the split.
        pytest.param([hb(0, "A"), hb(0, "B"), hb(30, "A")], (0, 600), TIMEOUT_MS, 30_000,
                     [("B", 30_000)], id="same-time-tie-broken-by-id"),
        pytest.param([hb(0, "B"), hb(0, "A"), hb(30, "B")], (0, 600), TIMEOUT_MS, 30_000,
                     [("A", 30_000)], id="same-time-other-insert-order"),
        pytest.param(EXAMPLE, (0, 600), 60_000, 150_000, [("B", 90_000), ("A", 60_000)],
                     id="example-with-60s-timeout"),
        pytest.param(EXAMPLE, (0, 600), 1, 4, [("A", 2), ("B", 2)], id="example-with-1ms-timeout"),
        pytest.param(EXAMPLE, (30, 400), TIMEOUT_MS, 60_000, [("A", 30_000), ("B", 30_000)],
                     id="example-inner-range"),
        pytest.param(EXAMPLE[::-1], (0, 600), TIMEOUT_MS, 210_000, [("B", 150_000), ("A", 60_000)],
                     id="example-inserted-backwards"),
    ],
)  # fmt: skip
async def test_rule(
    db: Database,
    alice: Account,
    items: list[Heartbeat],
    span: tuple[float, float],
    timeout_ms: int,
    total_ms: int,
    projects: list[tuple[str, int]],
) -> None:
    # One heartbeat per batch, so the ids follow the list order.
    await store_each(db, alice.user.id, items)
    result = await durations.breakdown(
        db, alice.user.id, bucket(*span), dimensions=("projects",), timeout_ms=timeout_ms
    )
    assert (result.total_ms, result.splits["projects"]) == (total_ms, projects)
    assert_gaps_match_window(db, alice.user.id)


async def test_timeout_comes_from_the_setting(db: Database, alice: Account) -> None:
    await ingest.store(db, alice.user.id, EXAMPLE)
    default, shorter = load_settings({}), load_settings({"HACKATIME_TIMEOUT": "60"})
    totals = [
        (await durations.breakdown(db, alice.user.id, EVERYTHING, timeout_ms=s.timeout_ms)).total_ms
        for s in (default, shorter)
    ]
    assert totals == [210_000, 150_000]


async def test_gap_across_a_day_boundary_counts_for_neither_day(
    db: Database, alice: Account
) -> None:
    zone = ZoneInfo("America/New_York")
    # Two local days, the second one 23 h long (DST starts).
    (_, first), (_, second) = timeranges.days_in(date(2026, 3, 7), date(2026, 3, 8), zone)
    midnight = second.start_ms
    await ingest.store(
        db,
        alice.user.id,
        [
            replace(hb(0), time_ms=midnight - 120_000),
            replace(hb(0), time_ms=midnight - 60_000),
            replace(hb(0, "B"), time_ms=midnight + 30_000),
            replace(hb(0, "B"), time_ms=midnight + 90_000),
        ],
    )
    days = await durations.breakdowns(
        db,
        alice.user.id,
        [first.bucket, second.bucket],
        dimensions=("projects",),
        timeout_ms=TIMEOUT_MS,
    )
    assert [(day.total_ms, day.splits["projects"]) for day in days] == [
        (60_000, [("A", 60_000)]),
        (60_000, [("B", 60_000)]),
    ]
    # Measured as one range, the 90 s across midnight is counted.
    both = await durations.breakdown(
        db,
        alice.user.id,
        Bucket(first.start_ms, second.end_ms),
        dimensions=("projects",),
        timeout_ms=TIMEOUT_MS,
    )
    assert (both.total_ms, both.splits["projects"]) == (210_000, [("A", 150_000), ("B", 60_000)])


# The example again, with categories and a NULL project: C@0 (A, coding), C@30 (B, coding),
# C@60 (A, debugging), C@90 (None, coding), C@100 (A, coding), C@400 (B, coding).
FILTERED = [
    hb(0, "A"),
    hb(30, "B"),
    hb(60, "A", category="debugging"),
    hb(90, None),
    hb(100, "A"),
    hb(400, "B"),
]


@pytest.mark.parametrize(
    ("filters", "total_ms"),
    [
        # Rerunning the rule over A's heartbeats alone, as Hackatime does, would give 100 s.
        pytest.param({"project": ["A"]}, 30_000 + 30_000 + 120_000, id="project"),
        pytest.param({"project": ["B"]}, 30_000, id="project-b"),
        pytest.param({"project": ["Unknown"]}, 10_000, id="project-unknown-is-null"),
        pytest.param({"project": ["A", "B"]}, 210_000, id="two-projects"),
        pytest.param({"project": ["nope"]}, 0, id="project-with-no-heartbeats"),
        pytest.param({"project": []}, 220_000, id="empty-filter-keeps-everything"),
        pytest.param({"category": ["debugging"]}, 30_000, id="category"),
        pytest.param({"category": ["coding"]}, 190_000, id="category-coding"),
        pytest.param(
            {"project": ["A"], "category": ["coding"]}, 150_000, id="project-and-category"
        ),
        pytest.param({"language": ["Python"]}, 220_000, id="language"),
    ],
)
async def test_filters_keep_the_gaps_credited_to_matching_heartbeats(
    db: Database, alice: Account, filters: dict[str, list[str]], total_ms: int
) -> None:
    await ingest.store(db, alice.user.id, FILTERED)
    result = await durations.breakdown(
        db,
        alice.user.id,
        EVERYTHING,
        dimensions=("projects", "categories"),
        timeout_ms=TIMEOUT_MS,
        filters=filters,
    )
    assert result.total_ms == total_ms
    for name in ("projects", "categories"):
        assert sum(ms for _, ms in result.splits[name]) == total_ms
    rows = load_rows(db.path, alice.user.id)
    expected = reference_breakdown(
        rows, EVERYTHING.start_ms, EVERYTHING.end_ms, TIMEOUT_MS, "projects", filters
    )
    assert (result.total_ms, result.splits["projects"]) == (expected.total_ms, expected.ranked)


@pytest.mark.parametrize(
    ("dimension", "column"),
    [
        pytest.param("projects", "project", id="project"),
        pytest.param("categories", "category", id="category"),
    ],
)
async def test_a_filtered_total_equals_its_entry_in_the_split(
    db: Database, alice: Account, dimension: str, column: str
) -> None:
    await ingest.store(db, alice.user.id, FILTERED)
    unfiltered = await durations.breakdown(
        db, alice.user.id, EVERYTHING, dimensions=(dimension,), timeout_ms=TIMEOUT_MS
    )
    assert len(unfiltered.splits[dimension]) >= 2
    for name, ms in unfiltered.splits[dimension]:
        filtered = await durations.breakdown(
            db, alice.user.id, EVERYTHING, timeout_ms=TIMEOUT_MS, filters={column: [name]}
        )
        assert filtered.total_ms == ms, name


async def test_users_do_not_mix(db: Database, alice: Account, bob: Account) -> None:
    # Interleaved in time and in insertion order; each user's gaps skip the other's rows.
    for seconds in (0, 30, 60, 90, 400):
        await ingest.store(db, alice.user.id, [hb(seconds, "alice")])
        await ingest.store(db, bob.user.id, [hb(seconds + 15, "bob")])
    await ingest.store(db, bob.user.id, [hb(1000, "bob")])
    results = [
        await durations.breakdown(
            db, account.user.id, EVERYTHING, dimensions=("projects",), timeout_ms=TIMEOUT_MS
        )
        for account in (alice, bob)
    ]
    assert [(r.total_ms, r.splits["projects"]) for r in results] == [
        (210_000, [("alice", 210_000)]),
        (330_000, [("bob", 330_000)]),
    ]
    for account in (alice, bob):
        assert_gaps_match_window(db, account.user.id)


async def test_out_of_order_insert_relinks_its_neighbours(db: Database, alice: Account) -> None:
    first, last = await store_each(db, alice.user.id, [hb(0), hb(400)])
    assert stored_gaps(db.path, alice.user.id) == {first: 400_000, last: None}
    (middle,) = await store_each(db, alice.user.id, [hb(60, "B")])
    assert stored_gaps(db.path, alice.user.id) == {first: 60_000, middle: 340_000, last: None}
    (earliest,) = await store_each(db, alice.user.id, [hb(-10)])
    assert stored_gaps(db.path, alice.user.id)[earliest] == 10_000
    (tie,) = await store_each(db, alice.user.id, [hb(60, "C")])
    assert stored_gaps(db.path, alice.user.id) == {
        earliest: 10_000,
        first: 60_000,
        middle: 0,
        tie: 340_000,
        last: None,
    }
    assert_gaps_match_window(db, alice.user.id)


async def test_duplicates_change_nothing(db: Database, alice: Account) -> None:
    first = await store_with_ids(db, alice.user.id, EXAMPLE)
    before = stored_gaps(db.path, alice.user.id)
    # A resent batch, and a batch that repeats one heartbeat within itself.
    again = await store_with_ids(db, alice.user.id, EXAMPLE)
    twice = await store_with_ids(db, alice.user.id, [EXAMPLE[2], EXAMPLE[2]])
    assert [i for i, _ in again] == [i for i, _ in first]
    assert [i for i, _ in twice] == [first[2][0]] * 2
    assert await db.fetch_value("SELECT count(*) FROM heartbeats") == len(EXAMPLE)
    assert stored_gaps(db.path, alice.user.id) == before
    result = await durations.breakdown(db, alice.user.id, EVERYTHING, timeout_ms=TIMEOUT_MS)
    assert result.total_ms == 210_000


async def test_unknown_dimension_is_refused(db: Database, alice: Account) -> None:
    with pytest.raises(ValueError, match="colours"):
        await durations.breakdown(
            db, alice.user.id, EVERYTHING, dimensions=("colours",), timeout_ms=TIMEOUT_MS
        )


# --- Property: random heartbeats, inserted in random order, always agree with the reference.

PROJECTS = ("alpha", "beta", "gamma", None)
LANGUAGES = ("Python", "Rust", None)
CATEGORIES = ("coding", "debugging")
BRANCHES = ("main", None)
EDITORS = ("vim", "vscode", None)
ENTITIES = ("a.py", "b.rs", "c.txt")
# Values a random filter picks from: real ones, `Unknown` for NULL, and one never stored.
FILTER_VALUES = {
    "project": ["alpha", "beta", "gamma", "Unknown", "nope"],
    "language": ["Python", "Rust", "Unknown"],
    "category": ["coding", "debugging", "nope"],
    "branch": ["main", "Unknown"],
    "editor": ["vim", "vscode", "Unknown"],
}
DIMENSION_OF = {column: name for name, column in SPLIT_COLUMNS.items()}


@dataclass(frozen=True)
class Query:
    start_ms: int
    middle_ms: int
    end_ms: int
    timeout_ms: int
    filters: dict[str, list[str]]


@dataclass(frozen=True)
class Scenario:
    # (user index, heartbeat) per batch, in the order the batches are stored.
    batches: list[list[tuple[int, Heartbeat]]]
    queries: list[Query]


def dedupe_key(user: int, item: Heartbeat) -> tuple[object, ...]:
    # The fields issue 2 names for dedupe; editor and machine are not among them.
    return (
        user,
        item.time_ms,
        item.entity,
        item.type,
        item.category,
        item.project,
        item.branch,
        item.language,
        item.is_write,
        item.lineno,
        item.cursorpos,
    )


def oracle_fields(item: Heartbeat) -> dict[str, str | None]:
    return {column: getattr(item, column) for column in COLUMNS}


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    # A few hours of distinct times, mostly closer than the timeout, some far apart, some equal.
    gaps = draw(
        st.lists(
            st.one_of(st.just(0), st.integers(1, 200_000), st.integers(200_000, 1_800_000)),
            max_size=12,
        )
    )
    times = [T0]
    for gap in gaps:
        times.append(times[-1] + gap)
    heartbeat = st.builds(
        Heartbeat,
        time_ms=st.sampled_from(times),
        entity=st.sampled_from(ENTITIES),
        type=st.just("file"),
        category=st.sampled_from(CATEGORIES),
        project=st.sampled_from(PROJECTS),
        branch=st.sampled_from(BRANCHES),
        language=st.sampled_from(LANGUAGES),
        editor=st.sampled_from(EDITORS),
        lineno=st.sampled_from((None, 1, 2)),
    )
    items = draw(
        st.lists(st.tuples(st.sampled_from((0, 0, 1)), heartbeat), min_size=1, max_size=30)
    )
    order = draw(st.permutations(items))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=5)))
    bounds = [0, *[cut for cut in cuts if cut < len(order)], len(order)]
    batches = [order[a:b] for a, b in itertools.pairwise(bounds) if a < b]
    # Offline queues resend whole batches, sometimes long after.
    sequence = list(range(len(batches)))
    for repeated in draw(st.lists(st.integers(0, len(batches) - 1), max_size=3)):
        position = draw(st.integers(sequence.index(repeated) + 1, len(sequence)))
        sequence.insert(position, repeated)

    moment = st.one_of(st.sampled_from(times), st.integers(times[0] - 300_000, times[-1] + 300_000))
    queries = []
    for _ in range(draw(st.integers(1, 4))):
        start, middle, end = sorted(draw(st.lists(moment, min_size=3, max_size=3)))
        timeout_ms = draw(
            st.one_of(st.sampled_from((1, 60_000, 120_000, 10**12)), st.integers(1, 900_000))
        )
        columns = draw(st.sets(st.sampled_from(sorted(FILTER_VALUES)), max_size=2))
        filters = {
            column: draw(st.lists(st.sampled_from(FILTER_VALUES[column]), max_size=3, unique=True))
            for column in sorted(columns)
        }
        queries.append(Query(start, middle, end, timeout_ms, filters))
    return Scenario([batches[index] for index in sequence], queries)


async def check_scenario(path: Path, scenario: Scenario) -> None:
    db = Database(path)
    await db.open()
    try:
        user_ids = [
            (await users.create_user(db, name, timezone="UTC"))[0].id for name in ("prop", "other")
        ]
        # What the store should end up holding, built from the input alone: the first of each
        # dedupe key, under the id `store` gave it.
        ids: dict[tuple[object, ...], int] = {}
        expected_rows: list[list[OracleRow]] = [[], []]
        for batch in scenario.batches:
            for user in (0, 1):
                items = [item for owner, item in batch if owner == user]
                if not items:
                    continue
                stored = await store_with_ids(db, user_ids[user], items)
                assert len(stored) == len(items)
                for item, (heartbeat_id, resolved) in zip(items, stored, strict=True):
                    assert resolved == item
                    key = dedupe_key(user, item)
                    if key in ids:
                        assert heartbeat_id == ids[key], "a duplicate answers with the stored id"
                    else:
                        # New rows take increasing ids, so (time, id) order is insertion order
                        # among equal times.
                        assert heartbeat_id > max(ids.values(), default=0)
                        ids[key] = heartbeat_id
                        expected_rows[user].append(
                            OracleRow(item.time_ms, heartbeat_id, oracle_fields(item))
                        )
                # (1) After every write, the stored gaps are the window function's.
                assert stored_gaps(path, user_ids[user]) == window_gaps(path, user_ids[user])

        for user in (0, 1):
            stored_rows = load_rows(path, user_ids[user])
            assert sorted(stored_rows) == sorted(expected_rows[user])

        # (2) Every range, timeout, split and filter agrees with the reference.
        for query in scenario.queries:
            whole = Bucket(query.start_ms, query.end_ms)
            halves = [
                Bucket(query.start_ms, query.middle_ms),
                Bucket(query.middle_ms, query.end_ms),
            ]
            for user in (0, 1):
                rows = expected_rows[user]
                results = await durations.breakdowns(
                    db,
                    user_ids[user],
                    [whole, *halves],
                    dimensions=ALL_DIMENSIONS,
                    timeout_ms=query.timeout_ms,
                )
                for span, result in zip([whole, *halves], results, strict=True):
                    for dimension in ALL_DIMENSIONS:
                        expected = reference_breakdown(
                            rows, span.start_ms, span.end_ms, query.timeout_ms, dimension
                        )
                        assert result.total_ms == expected.total_ms
                        assert result.splits[dimension] == expected.ranked, dimension

            filtered = await durations.breakdown(
                db,
                user_ids[0],
                whole,
                dimensions=ALL_DIMENSIONS,
                timeout_ms=query.timeout_ms,
                filters=query.filters,
            )
            for dimension in ALL_DIMENSIONS:
                expected = reference_breakdown(
                    expected_rows[0],
                    whole.start_ms,
                    whole.end_ms,
                    query.timeout_ms,
                    dimension,
                    query.filters,
                )
                assert filtered.total_ms == expected.total_ms
                assert filtered.splits[dimension] == expected.ranked, dimension
            # A filter on one value gives exactly that value's entry in the unfiltered split.
            active = {column: values for column, values in query.filters.items() if values}
            if len(active) == 1:
                ((column, values),) = active.items()
                if len(values) == 1:
                    unfiltered = reference_breakdown(
                        expected_rows[0],
                        whole.start_ms,
                        whole.end_ms,
                        query.timeout_ms,
                        DIMENSION_OF[column],
                    )
                    assert filtered.total_ms == unfiltered.split.get(values[0], 0)
    finally:
        await db.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_random_heartbeats_agree_with_the_reference(
    tmp_path_factory: pytest.TempPathFactory, scenario: Scenario
) -> None:
    # A fresh database per example: function-scoped fixtures would be shared across examples.
    path = tmp_path_factory.mktemp("durations") / "x.db"
    asyncio.run(check_scenario(path, scenario))


async def check_concurrent_batches(path: Path, scenario: Scenario) -> None:
    """Every batch of the scenario stored at once: concurrent batches are written together,
    several users' rows in one statement, and must end up as if written one by one."""
    db = Database(path)
    await db.open()
    try:
        user_ids = [
            (await users.create_user(db, name, timezone="UTC"))[0].id for name in ("prop", "other")
        ]
        queued: list[tuple[int, list[Heartbeat]]] = []
        expected: list[dict[tuple[object, ...], Heartbeat]] = [{}, {}]
        for batch in scenario.batches:
            for user in (0, 1):
                items = [item for owner, item in batch if owner == user]
                if items:
                    queued.append((user, items))
                for item in items:
                    expected[user].setdefault(dedupe_key(user, item), item)
        await asyncio.gather(*(ingest.store(db, user_ids[user], items) for user, items in queued))

        # New rows take their ids in the order the batches were queued, then batch order.
        first_ids = []
        seen: set[tuple[object, ...]] = set()
        for user, items in queued:
            ids = await ingest.stored_ids(db, user_ids[user], items)
            for item, heartbeat_id in zip(items, ids, strict=True):
                if dedupe_key(user, item) not in seen:
                    seen.add(dedupe_key(user, item))
                    first_ids.append(heartbeat_id)
        assert first_ids == sorted(set(first_ids))

        for user in (0, 1):
            assert stored_gaps(path, user_ids[user]) == window_gaps(path, user_ids[user])
            stored = sorted(
                (row.time_ms, repr(sorted(row.fields.items())))
                for row in load_rows(path, user_ids[user])
            )
            wanted = sorted(
                (item.time_ms, repr(sorted(oracle_fields(item).items())))
                for item in expected[user].values()
            )
            assert stored == wanted
    finally:
        await db.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_concurrent_batches_store_what_one_by_one_would(
    tmp_path_factory: pytest.TempPathFactory, scenario: Scenario
) -> None:
    path = tmp_path_factory.mktemp("concurrent") / "x.db"
    asyncio.run(check_concurrent_batches(path, scenario))


# --- Every SQL site of the rule: a gap over the timeout, and a gap ending exactly at the end ---
#
# A@0, A@30, A@530, A@560 (each with dependency "x", on one file): over [0, 560) the gaps are
# 30 s, 500 s (over the timeout: 120 s) and 30 s ending exactly at the end (outside: 0). So
# 150 s; the timeout forgotten gives 530 s, an end counted as inside 180 s.
RULE_BEATS = [
    replace(hb(seconds), dependencies=("x",), project_root_count=1) for seconds in (0, 30, 530, 560)
]


async def _totals(db: Database, user_id: int) -> int:
    return (await durations.breakdown(db, user_id, bucket(0, 560), timeout_ms=TIMEOUT_MS)).total_ms


async def _bucketed(db: Database, user_id: int) -> int:
    first, second = await durations.breakdowns(
        db, user_id, [bucket(0, 560), bucket(560, 1000)], timeout_ms=TIMEOUT_MS
    )
    assert second.total_ms == 0
    return first.total_ms


async def _split(db: Database, user_id: int) -> int:
    result = await durations.breakdown(
        db, user_id, bucket(0, 560), dimensions=("projects",), timeout_ms=TIMEOUT_MS
    )
    ((name, ms),) = result.splits["projects"]
    assert name == "A"
    return ms


async def _dependencies(db: Database, user_id: int) -> int:
    ((split,),) = await durations.dependency_splits(
        db, user_id, [bucket(0, 560)], timeout_ms=TIMEOUT_MS
    )
    assert split[0] == "x"
    return split[1]


async def _dependencies_bucketed(db: Database, user_id: int) -> int:
    (first,), second = await durations.dependency_splits(
        db, user_id, [bucket(0, 560), bucket(560, 1000)], timeout_ms=TIMEOUT_MS
    )
    assert second == []
    return first[1]


async def _runs(db: Database, user_id: int) -> int:
    runs = await durations.duration_runs(db, user_id, bucket(0, 560), timeout_ms=TIMEOUT_MS)
    # The gap over the timeout ends the first run; the last row's gap lies past the end.
    assert [(run.start_ms - T0, run.duration_ms) for run in runs[1:]] == [(530_000, 0)]
    return runs[0].duration_ms


async def _file_experts(db: Database, user_id: int) -> int:
    # All time, no range: 30 s + 120 s + 30 s; the timeout forgotten gives 560 s.
    totals = await durations.file_totals_per_user(
        db, user_id, entity="main.py", project="A", project_root_count=None, timeout_ms=TIMEOUT_MS
    )
    return totals[user_id] - 30_000


@pytest.mark.parametrize(
    "site",
    [
        pytest.param(_totals, id="breakdown-one-bucket"),
        pytest.param(_bucketed, id="breakdown-buckets"),
        pytest.param(_split, id="breakdown-split"),
        pytest.param(_dependencies, id="dependency-splits-one-bucket"),
        pytest.param(_dependencies_bucketed, id="dependency-splits-buckets"),
        pytest.param(_runs, id="duration-runs"),
        pytest.param(_file_experts, id="file-experts"),
    ],
)
async def test_every_sql_site_caps_gaps_and_ends_ranges_alike(
    db: Database, alice: Account, site: Callable[[Database, int], Awaitable[int]]
) -> None:
    await store_each(db, alice.user.id, RULE_BEATS)
    assert await site(db, alice.user.id) == 150_000


async def test_many_groups_are_summed_off_the_event_loop(
    db: Database, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ingest.store(db, alice.user.id, EXAMPLE)
    on_loop = await durations.breakdown(
        db, alice.user.id, EVERYTHING, dimensions=ALL_DIMENSIONS, timeout_ms=TIMEOUT_MS
    )
    threads = []
    summed = durations._summed

    def recording(*args: Any) -> list[durations.Breakdown]:
        threads.append(threading.current_thread())
        return summed(*args)

    monkeypatch.setattr(durations, "_summed", recording)
    monkeypatch.setattr(durations, "ROWS_SUMMED_ON_THE_LOOP", 1)
    off_loop = await durations.breakdown(
        db, alice.user.id, EVERYTHING, dimensions=ALL_DIMENSIONS, timeout_ms=TIMEOUT_MS
    )

    assert off_loop == on_loop
    assert on_loop.total_ms == 210_000
    assert threads
    assert threads[0] is not threading.main_thread()


async def test_too_many_groups_are_asked_split_by_split_with_the_same_answer(
    db: Database, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    beats = [*EXAMPLE, hb(420, "C", language="Rust"), hb(450, None, entity="x.rs")]
    await store_each(db, alice.user.id, beats)
    spans = [bucket(0, 300), bucket(300, 600)]

    async def both() -> list[durations.Breakdown]:
        return await durations.breakdowns(
            db, alice.user.id, spans, dimensions=ALL_DIMENSIONS, timeout_ms=TIMEOUT_MS
        )

    at_once = await both()
    monkeypatch.setattr(durations, "MAX_GROUP_ROWS", 1)
    split_by_split = await both()
    monkeypatch.setattr(durations, "SPLIT_LIMIT", 1)
    largest_only = await both()

    assert split_by_split == at_once
    assert [part.total_ms for part in at_once] == [90_000, 50_000]
    assert at_once[0].splits["projects"] == [("A", 60_000), ("B", 30_000)]
    assert at_once[1].splits["projects"] == [("C", 30_000), ("A", 20_000)]
    assert [part.total_ms for part in largest_only] == [90_000, 50_000]
    assert largest_only[0].splits["projects"] == [("A", 60_000)]
    assert largest_only[1].splits["projects"] == [("C", 30_000)]

    # Merged projects are one in either path: B shown as A ranks first with both their time.
    await aliases.rename(db, alice.user.id, "B", "A")
    monkeypatch.setattr(durations, "SPLIT_LIMIT", 100)
    merged_by_split = await both()
    monkeypatch.setattr(durations, "MAX_GROUP_ROWS", 5000)
    assert merged_by_split == await both()
    assert merged_by_split[0].splits["projects"] == [("A", 90_000)]
