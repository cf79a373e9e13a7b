"""The one duration rule, and the only SQL that turns heartbeats into time.

Rule (Hackatime's, with a 2-minute timeout): over one user's heartbeats inside [start, end),
ordered by (time, id), each heartbeat after the first adds min(gap to the previous one,
timeout). A gap is credited to the *earlier* heartbeat of its pair, so every split (by
project, language, …) sums exactly to the total, and a filter keeps the gaps credited to the
matching heartbeats after the rule ran over all of them.

Each row stores `gap_next_ms`, the gap to the same user's next heartbeat, kept right on every
insert by the `heartbeats_gap_of_*` triggers in schema.sql, so that no writer can forget it. A
range's total is then a plain sum over the rows whose next heartbeat also falls inside the
range: no window function, no pass in Python. The window-function form of the rule lives in
tests/oracle.py and checks the stored gaps. Only WakaTime's durations (runs of consecutive
work, one day at a time) need a window, to find where one run ends and the next begins; their
lengths still come from the stored gaps.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from hackatime import aliases
from hackatime.db import Database

# The name shown for heartbeats without a value; aliases holds it, since no alias may name it.
UNKNOWN = aliases.UNKNOWN

# Split name -> column. Only these names ever reach SQL.
DIMENSIONS = {
    "projects": "project",
    "languages": "language",
    "editors": "editor",
    "operating_systems": "operating_system",
    "machines": "machine",
    "categories": "category",
    "branches": "branch",
    "entities": "entity",
}

# Filter name -> column, for `project=`, `filter_by_category=` and the like.
FILTER_COLUMNS = {
    "project": "project",
    "language": "language",
    "editor": "editor",
    "operating_system": "operating_system",
    "machine": "machine",
    "category": "category",
    "branch": "branch",
    "entity": "entity",
}

Filters = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Bucket:
    """A half-open range [start_ms, end_ms) measured on its own: nothing outside it counts."""

    start_ms: int
    end_ms: int


@dataclass
class Breakdown:
    total_ms: int = 0
    # dimension -> [(name, ms)], largest first, names with no time left out
    splits: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def _filter_sql(filters: Filters) -> tuple[str, dict[str, object]]:
    clauses, params = [], {}
    for name, values in filters.items():
        if not values:
            continue
        column = FILTER_COLUMNS[name]
        keys = [f":{name}_{index}" for index in range(len(values))]
        # A project asked for stands for its stored names: the filter stays on the indexed column.
        choices = aliases.stored_names_sql(keys) if column == "project" else ", ".join(keys)
        clauses.append(f" AND coalesce(h.{column}, '{UNKNOWN}') IN ({choices})")
        params.update(zip((key[1:] for key in keys), values, strict=True))
    return "".join(clauses), params


def _in_buckets(
    buckets: Sequence[Bucket], join: str = ""
) -> tuple[str, str, str, dict[str, object]]:
    """The rule's row selection: the CTE, the FROM clause (with `join` after the heartbeats),
    the bucket index and their params.

    A row counts in a bucket when both it and its successor lie inside: that is the whole rule
    on the read side. Several buckets travel as one JSON parameter, unpacked once into a small
    table (MATERIALIZED, not once per heartbeat row); a single bucket needs no table at all.
    """
    if len(buckets) == 1:
        rule = _RULE.format(start=":start_ms", end=":end_ms")
        (bucket,) = buckets
        params = {"start_ms": bucket.start_ms, "end_ms": bucket.end_ms}
        return "", f"heartbeats h{join} WHERE {rule}", "0", params
    cte = (
        "WITH buckets(idx, start_ms, end_ms) AS MATERIALIZED ("
        " SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]')"
        " FROM json_each(:buckets)) "
    )
    rule = _RULE.format(start="b.start_ms", end="b.end_ms")
    ranges = orjson.dumps([[bucket.start_ms, bucket.end_ms] for bucket in buckets]).decode()
    source = f"buckets b JOIN heartbeats h ON {rule}{join} WHERE 1 = 1"
    return cte, source, "b.idx", {"buckets": ranges}


_RULE = (
    "h.user_id = :user_id AND h.time_ms >= {start} AND h.time_ms < {end}"
    " AND h.time_ms + h.gap_next_ms < {end}"
)


def _grouped(
    user_id: int,
    buckets: Sequence[Bucket],
    columns: Sequence[str],
    timeout_ms: int,
    filters: Filters,
    *,
    join: str = "",
    condition: str = "",
) -> tuple[str, str, dict[str, object]]:
    """The rule over each bucket grouped by bucket and `columns` (fixed SQL expressions), as
    rows of `bucket, d0, d1, …, ms`: the CTE it needs, the SELECT and their params."""
    select = "".join(f", {column} AS d{index}" for index, column in enumerate(columns))
    group = [str(index + 2) for index in range(len(columns))]
    # A single bucket's index is a constant (all-time stats): grouping by it as well made the
    # sort a quarter slower. With nothing else to group by it still is, so that a bucket with
    # no rows gives no row.
    if len(buckets) > 1 or not group:
        group.insert(0, "1")
    where, filter_params = _filter_sql(filters)
    cte, source, index, bucket_params = _in_buckets(buckets, join)
    sql = (
        f"SELECT {index} AS bucket{select}, sum(min(h.gap_next_ms, :timeout_ms)) AS ms"
        f" FROM {source}{condition}{where} GROUP BY {', '.join(group)}"
    )
    params = {"user_id": user_id, "timeout_ms": timeout_ms, **bucket_params, **filter_params}
    return cte, sql, params


def breakdown_query(
    user_id: int,
    buckets: Sequence[Bucket],
    dimensions: Sequence[str],
    timeout_ms: int,
    filters: Filters,
) -> tuple[str, dict[str, object]]:
    """SQL for the rule over each bucket, grouped by bucket and the requested dimensions.

    Grouping by all dimensions at once reads the rows a single time; the few groups that come
    back are summed per dimension in Python. Projects are grouped by their stored names and
    each group then takes its shown name: a few groups cost less to map than every row.
    """
    columns = [f"coalesce(h.{DIMENSIONS[name]}, '{UNKNOWN}')" for name in dimensions]
    cte, grouped, params = _grouped(user_id, buckets, columns, timeout_ms, filters)
    if "projects" in dimensions:
        shown = [
            aliases.shown_sql(f"g.d{index}") if name == "projects" else f"g.d{index}"
            for index, name in enumerate(dimensions)
        ]
        grouped = f"SELECT g.bucket, {', '.join(shown)}, g.ms FROM ({grouped}) g"
    return f"{cte}{grouped}", params


async def breakdowns(
    db: Database,
    user_id: int,
    buckets: Sequence[Bucket],
    *,
    dimensions: Sequence[str] = (),
    timeout_ms: int,
    filters: Filters | None = None,
) -> list[Breakdown]:
    """The total and the requested splits of each bucket, each bucket measured on its own."""
    unknown = [name for name in dimensions if name not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions: {unknown}")
    sql, params = breakdown_query(user_id, buckets, dimensions, timeout_ms, filters or {})
    rows = await db.fetch_all(f"{sql} LIMIT :most", {**params, "most": MAX_GROUP_ROWS + 1})
    if len(rows) > MAX_GROUP_ROWS:
        return await _breakdowns_split_by_split(
            db, user_id, buckets, dimensions, timeout_ms, filters or {}
        )
    if len(rows) > ROWS_SUMMED_ON_THE_LOOP:
        # Thousands of groups (a user with many files, over a year of days): summed on a
        # thread, so that the other users' requests go on meanwhile.
        return await asyncio.to_thread(_summed, rows, len(buckets), dimensions)
    return _summed(rows, len(buckets), dimensions)


# The most rows of groups summed on the event loop; more are summed on a thread.
ROWS_SUMMED_ON_THE_LOOP = 2000
# The most groups (bucket x every requested dimension) read into Python at once. Past it (a
# user with thousands of distinct projects, files or branches), each split is asked for on its
# own, SQLite keeping the largest SPLIT_LIMIT of each bucket: memory stays bounded, and the
# lists shown (see summaries.MAX_LIST_ITEMS) are the same.
MAX_GROUP_ROWS = 5000
SPLIT_LIMIT = 100


async def _breakdowns_split_by_split(
    db: Database,
    user_id: int,
    buckets: Sequence[Bucket],
    dimensions: Sequence[str],
    timeout_ms: int,
    filters: Filters,
) -> list[Breakdown]:
    sql, params = breakdown_query(user_id, buckets, (), timeout_ms, filters)
    totals = [0] * len(buckets)
    for index, milliseconds in await db.fetch_all(sql, params):
        totals[index] = milliseconds
    splits: list[dict[str, list[tuple[str, int]]]] = [{} for _ in buckets]
    for name in dimensions:
        column = f"coalesce(h.{DIMENSIONS[name]}, '{UNKNOWN}')"
        if name == "projects":
            # Ranked by the names shown: merged projects are one, whatever they were stored as.
            column = aliases.shown_sql(column)
        sql, params = _largest_query(user_id, buckets, column, timeout_ms, filters)
        for index, ranked in enumerate(await _ranked_per_bucket(db, sql, params, len(buckets))):
            splits[index][name] = ranked
    return [
        Breakdown(total_ms=totals[index], splits=splits[index]) for index in range(len(buckets))
    ]


def _largest_query(
    user_id: int,
    buckets: Sequence[Bucket],
    name: str,
    timeout_ms: int,
    filters: Filters,
    *,
    join: str = "",
    condition: str = "",
) -> tuple[str, dict[str, object]]:
    """SQL for the SPLIT_LIMIT largest values of `name` (a fixed SQL expression) in each
    bucket under the rule, ranked by SQLite so that only those reach Python."""
    cte, grouped, params = _grouped(
        user_id, buckets, [name], timeout_ms, filters, join=join, condition=condition
    )
    sql = (
        f"{cte}SELECT bucket, d0, ms FROM ("
        " SELECT bucket, d0, ms,"
        " row_number() OVER (PARTITION BY bucket ORDER BY ms DESC, d0) AS place"
        f" FROM ({grouped})"
        ") WHERE place <= :split_limit"
    )
    return sql, {**params, "split_limit": SPLIT_LIMIT}


async def _ranked_per_bucket(
    db: Database, sql: str, params: dict[str, object], bucket_count: int
) -> list[list[tuple[str, int]]]:
    sums: list[defaultdict[str, int]] = [defaultdict(int) for _ in range(bucket_count)]
    for index, name, milliseconds in await db.fetch_all(sql, params):
        sums[index][name] += milliseconds
    return [_ranked(bucket_sums) for bucket_sums in sums]


def _summed(
    rows: Sequence[Sequence[Any]], bucket_count: int, dimensions: Sequence[str]
) -> list[Breakdown]:
    totals = [0] * bucket_count
    sums: list[dict[str, defaultdict[str, int]]] = [
        {name: defaultdict(int) for name in dimensions} for _ in range(bucket_count)
    ]
    for row in rows:
        index, milliseconds = row[0], row[len(dimensions) + 1]
        totals[index] += milliseconds
        for position, name in enumerate(dimensions):
            sums[index][name][row[position + 1]] += milliseconds
    return [
        Breakdown(
            total_ms=totals[index],
            splits={name: _ranked(sums[index][name]) for name in dimensions},
        )
        for index in range(bucket_count)
    ]


# WakaTime's rule, the second one: only for showing a user moving from WakaTime where their
# totals differ (`hackatime compare`). A gap up to 15 minutes counts whole, a longer one not at
# all. It reads the same stored gaps with the same row selection as the rule above.
WAKATIME_TIMEOUT_MS = 15 * 60_000


@dataclass(frozen=True)
class RuleTotals:
    """One bucket's total under this server's rule and under WakaTime's."""

    server_ms: int
    wakatime_ms: int


async def totals_under_both_rules(
    db: Database, user_id: int, buckets: Sequence[Bucket], *, timeout_ms: int
) -> list[RuleTotals]:
    cte, source, index, bucket_params = _in_buckets(buckets)
    sql = (
        f"{cte}SELECT {index}, sum(min(h.gap_next_ms, :timeout_ms)),"
        " sum(CASE WHEN h.gap_next_ms <= :wakatime_timeout_ms THEN h.gap_next_ms ELSE 0 END)"
        f" FROM {source} GROUP BY 1"
    )
    params = {
        "user_id": user_id,
        "timeout_ms": timeout_ms,
        "wakatime_timeout_ms": WAKATIME_TIMEOUT_MS,
        **bucket_params,
    }
    sums = {row[0]: RuleTotals(row[1], row[2]) for row in await db.fetch_all(sql, params)}
    return [sums.get(index, RuleTotals(0, 0)) for index in range(len(buckets))]


async def breakdown(
    db: Database,
    user_id: int,
    bucket: Bucket,
    *,
    dimensions: Sequence[str] = (),
    timeout_ms: int,
    filters: Filters | None = None,
) -> Breakdown:
    (result,) = await breakdowns(
        db, user_id, [bucket], dimensions=dimensions, timeout_ms=timeout_ms, filters=filters
    )
    return result


def combine(parts: Sequence[Breakdown]) -> Breakdown:
    """Several buckets as one report: WakaTime's stats are the sum of their days, so a gap
    across midnight counts for neither day here either."""
    splits: dict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for part in parts:
        for name, split in part.splits.items():
            for value, ms in split:
                splits[name][value] += ms
    names = parts[0].splits if parts else {}
    return Breakdown(
        total_ms=sum(part.total_ms for part in parts),
        splits={name: _ranked(splits[name]) for name in names},
    )


def combine_ranked(splits: Sequence[Sequence[tuple[str, int]]]) -> list[tuple[str, int]]:
    sums: defaultdict[str, int] = defaultdict(int)
    for split in splits:
        for value, ms in split:
            sums[value] += ms
    return _ranked(sums)


def _ranked(sums: Mapping[str, int]) -> list[tuple[str, int]]:
    # Largest first; ties by name so answers are stable between calls.
    return sorted(
        ((name, ms) for name, ms in sums.items() if ms > 0), key=lambda item: (-item[1], item[0])
    )


async def dependency_splits(
    db: Database,
    user_id: int,
    buckets: Sequence[Bucket],
    *,
    timeout_ms: int,
    filters: Filters | None = None,
) -> list[list[tuple[str, int]]]:
    """Time per dependency in each bucket, its SPLIT_LIMIT largest: a heartbeat's gap is
    credited to each of its dependencies, so unlike the other splits these need not add up to
    the total."""
    sql, params = _largest_query(
        user_id,
        buckets,
        "d.value",
        timeout_ms,
        filters or {},
        join=" JOIN json_each(h.dependencies) d",
        condition=" AND h.dependencies IS NOT NULL",
    )
    return await _ranked_per_bucket(db, sql, params, len(buckets))


async def hour_splits(
    db: Database, user_id: int, buckets: Sequence[Bucket], *, timeout_ms: int
) -> list[dict[int, int]]:
    """Time per hour of each bucket, counted from the bucket's start: the rule over each bucket
    on its own, each gap in the hour of its earlier heartbeat, so a bucket's hours add up to its
    total in `breakdowns`."""
    cte, source, index, bucket_params = _in_buckets(buckets)
    start = "b.start_ms" if cte else ":start_ms"
    sql = (
        f"{cte}SELECT {index}, (h.time_ms - {start}) / 3600000,"
        f" sum(min(h.gap_next_ms, :timeout_ms)) FROM {source} GROUP BY 1, 2"
    )
    rows = await db.fetch_all(sql, {"user_id": user_id, "timeout_ms": timeout_ms, **bucket_params})
    hours: list[dict[int, int]] = [{} for _ in buckets]
    for index, hour, milliseconds in rows:
        hours[index][hour] = milliseconds
    return hours


# Slice name (WakaTime's `slice_by`) -> column. Only these names ever reach SQL.
SLICES = {
    "entity": "entity",
    "language": "language",
    "dependencies": "dependencies",
    "os": "operating_system",
    "editor": "editor",
    "category": "category",
    "machine": "machine",
}


@dataclass(frozen=True)
class Run:
    """Consecutive heartbeats with the same project (and slice value): one WakaTime duration."""

    project: str
    slice_value: str | None
    start_ms: int
    duration_ms: int


def _runs_query(slice_column: str | None, where: str) -> str:
    slice_expr = f"h.{slice_column}" if slice_column else "NULL"
    # Gaps-and-islands over one bucket: a run starts where the project or slice value changes
    # or the gap before it ran past the timeout. Each row carries the credit the rule gives it,
    # so the runs of a bucket sum exactly to its total.
    return (
        "WITH day_rows AS ("
        f" SELECT h.id, h.time_ms, coalesce({aliases.shown_sql('h.project')}, '{UNKNOWN}')"
        " AS project,"
        f" {slice_expr} AS slice,"
        " CASE WHEN h.time_ms + h.gap_next_ms < :end_ms"
        " THEN min(h.gap_next_ms, :timeout_ms) ELSE 0 END AS credit,"
        " h.gap_next_ms AS gap"
        " FROM heartbeats h"
        " WHERE h.user_id = :user_id AND h.time_ms >= :start_ms AND h.time_ms < :end_ms"
        "), marked AS ("
        " SELECT *, CASE WHEN lag(project) OVER w IS project AND lag(slice) OVER w IS slice"
        " AND lag(gap) OVER w <= :timeout_ms THEN 0 ELSE 1 END AS starts"
        " FROM day_rows WINDOW w AS (ORDER BY time_ms, id)"
        "), numbered AS ("
        " SELECT *, sum(starts) OVER (ORDER BY time_ms, id) AS run FROM marked"
        # Runs in order while their names and slice values (a dependency list can be hundreds
        # of kilobytes) add up to at most :max_bytes; SQLite sorts and sums, Python only
        # receives what is shown.
        "), runs AS ("
        " SELECT project, slice, min(time_ms) AS start_ms, sum(credit) AS credit, run,"
        " sum(100 + length(CAST(project AS BLOB)) + coalesce(length(CAST(slice AS BLOB)), 0))"
        " OVER (ORDER BY run) AS running_bytes"
        f" FROM numbered GROUP BY run HAVING 1 = 1{where}"
        ")"
        " SELECT project, slice, start_ms, credit FROM runs"
        " WHERE running_bytes <= :max_bytes ORDER BY run LIMIT :limit"
    )


async def duration_runs(
    db: Database,
    user_id: int,
    bucket: Bucket,
    *,
    timeout_ms: int,
    slice_by: str | None = None,
    project: str | None = None,
    limit: int | None = None,
    max_bytes: int | None = None,
) -> list[Run]:
    """WakaTime's durations of one bucket, optionally sliced and kept to one project; the
    first `limit` of them, and no more than fit in about `max_bytes` of names and values.

    Runs follow the projects as the user sees them: two merged names make one run."""
    slice_column = SLICES[slice_by] if slice_by else None
    params: dict[str, object] = {
        "user_id": user_id,
        "start_ms": bucket.start_ms,
        "end_ms": bucket.end_ms,
        "timeout_ms": timeout_ms,
        # SQLite reads a negative LIMIT as none.
        "limit": -1 if limit is None else limit,
        "max_bytes": 2**62 if max_bytes is None else max_bytes,
    }
    where = ""
    if project is not None:
        where = f" AND project = {aliases.shown_sql(':project')}"
        params["project"] = project
    rows = await db.fetch_all(_runs_query(slice_column, where), params)
    return [Run(row[0], row[1], row[2], row[3]) for row in rows]


# A heartbeat is on the file when its entity is the same path, or when the path below its own
# project root equals the asked path below the asked root: checkouts of one project sit in
# different folders on different machines. wakatime-cli's project_root_count is the number of
# slashes in the project folder, trailing one included, so the part below the root has as many
# slashes as the whole path has beyond that count. The project is the asker's: the stored
# names it stands for by the asker's aliases, whoever stored them (others' aliases are theirs).
_FILE_TOTALS = f"""
SELECT h.user_id, sum(min(h.gap_next_ms, :timeout_ms)) FROM heartbeats h
WHERE h.gap_next_ms IS NOT NULL
  AND (:project IS NULL OR h.project IN ({aliases.stored_names_sql([":project"], ":asker_id")}))
  AND (
    h.entity = :entity
    OR (:inside IS NOT NULL AND h.project_root_count IS NOT NULL
        AND substr(h.entity, -length(:inside) - 1) = '/' || :inside
        AND length(h.entity) - length(replace(h.entity, '/', '')) - h.project_root_count
            = :inside_slashes)
  )
GROUP BY h.user_id
"""


def path_inside_project(entity: str, project_root_count: int | None) -> str | None:
    """`/home/alice/src/app/lib/x.py` with a root count of 5 is `lib/x.py`."""
    if not project_root_count or project_root_count <= 0:
        return None
    parts = entity.split("/")
    inside = "/".join(parts[project_root_count:])
    return inside or None


async def file_totals_per_user(
    db: Database,
    asker_id: int,
    *,
    entity: str,
    project: str | None,
    project_root_count: int | None,
    timeout_ms: int,
) -> dict[int, int]:
    """All-time time per user on one file of a project (WakaTime's file experts)."""
    inside = path_inside_project(entity, project_root_count)
    rows = await db.fetch_all(
        _FILE_TOTALS,
        {
            "asker_id": asker_id,
            "timeout_ms": timeout_ms,
            "project": project,
            "entity": entity,
            "inside": inside,
            "inside_slashes": inside.count("/") if inside else None,
        },
    )
    return {user_id: milliseconds for user_id, milliseconds in rows if milliseconds}
