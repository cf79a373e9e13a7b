"""The duration rule written out plainly, for tests to check the product against.

Two references, both independent of how hackatime stores and sums time:

- `window_gaps`: each row's gap to the same user's next heartbeat, computed with SQLite's
  `lead()` window function. The product keeps this in `gap_next_ms` incrementally; the two must
  always agree.
- `reference_breakdown`: the rule over a list of heartbeats, straight from its definition (sort
  by (time, id), pair consecutive heartbeats inside [start, end), credit min(gap, timeout) to the
  earlier one). It never looks at `gap_next_ms`.

Typical use from an HTTP test::

    rows = load_rows(db_path, user_id)
    expected = reference_breakdown(rows, start_ms, end_ms, 120_000, dimension="projects")
    assert body_seconds == expected.total_ms / 1000
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

UNKNOWN = "Unknown"

# Split name (as in API payloads) -> heartbeat column. Written out again here, not imported from
# hackatime.durations, so that the reference does not share the product's tables.
SPLIT_COLUMNS: Mapping[str, str] = {
    "projects": "project",
    "languages": "language",
    "editors": "editor",
    "operating_systems": "operating_system",
    "machines": "machine",
    "categories": "category",
    "branches": "branch",
    "entities": "entity",
}
# Columns a reference row may carry, and that filters may name.
COLUMNS: tuple[str, ...] = tuple(SPLIT_COLUMNS.values())


class OracleRow(NamedTuple):
    """One heartbeat as the reference sees it: its order key and its groupable columns.

    `fields` maps column names (`project`, `language`, ...; see COLUMNS) to values; a missing
    key means NULL.
    """

    time_ms: int
    id: int
    fields: Mapping[str, str | None]


@dataclass(frozen=True)
class ReferenceBreakdown:
    """What the rule says for one range: the total and, if asked, one split.

    `split` maps each name (NULL as `Unknown`) to its milliseconds; names with 0 ms are left
    out, as in hackatime's answers.
    """

    total_ms: int
    split: dict[str, int]

    @property
    def ranked(self) -> list[tuple[str, int]]:
        """The split largest first, ties by name: the order hackatime lists entries in."""
        return sorted(self.split.items(), key=lambda item: (-item[1], item[0]))


SqliteSource = str | Path | sqlite3.Connection


def _connect(source: SqliteSource) -> tuple[sqlite3.Connection, bool]:
    if isinstance(source, sqlite3.Connection):
        return source, False
    return sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True), True


_WINDOW_GAPS = """
SELECT id, lead(time_ms) OVER (PARTITION BY user_id ORDER BY time_ms, id) - time_ms
FROM heartbeats
WHERE user_id = ?
"""


def window_gaps(source: SqliteSource, user_id: int) -> dict[int, int | None]:
    """Heartbeat id -> gap in ms to the user's next heartbeat in (time_ms, id) order.

    The window-function form of the rule: `lead(time_ms) - time_ms`, None for the latest
    heartbeat. Compare with `stored_gaps` to check the product's `gap_next_ms`. `source` is a
    path to the SQLite file (opened read-only) or an open sqlite3 connection.
    """
    conn, owned = _connect(source)
    try:
        return {row[0]: row[1] for row in conn.execute(_WINDOW_GAPS, (user_id,))}
    finally:
        if owned:
            conn.close()


def stored_gaps(source: SqliteSource, user_id: int) -> dict[int, int | None]:
    """Heartbeat id -> the `gap_next_ms` hackatime stored, in the same shape as `window_gaps`."""
    conn, owned = _connect(source)
    try:
        sql = "SELECT id, gap_next_ms FROM heartbeats WHERE user_id = ?"
        return {row[0]: row[1] for row in conn.execute(sql, (user_id,))}
    finally:
        if owned:
            conn.close()


def load_rows(source: SqliteSource, user_id: int) -> list[OracleRow]:
    """All of one user's heartbeats as reference rows (every column in COLUMNS), any order."""
    conn, owned = _connect(source)
    try:
        # Column names come from the fixed COLUMNS tuple.
        sql = f"SELECT time_ms, id, {', '.join(COLUMNS)} FROM heartbeats WHERE user_id = ?"
        return [
            OracleRow(row[0], row[1], dict(zip(COLUMNS, row[2:], strict=True)))
            for row in conn.execute(sql, (user_id,))
        ]
    finally:
        if owned:
            conn.close()


def _value(row: OracleRow, column: str) -> str:
    value = row.fields.get(column)
    return UNKNOWN if value is None else value


def reference_breakdown(
    rows: Iterable[OracleRow | tuple[int, int, Mapping[str, str | None]]],
    start_ms: int,
    end_ms: int,
    timeout_ms: int,
    dimension: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> ReferenceBreakdown:
    """The duration rule, straight from its definition.

    Keep the heartbeats with start_ms <= time_ms < end_ms, sort them by (time_ms, id), and for
    each consecutive pair credit min(later - earlier, timeout_ms) to the earlier heartbeat. The
    first heartbeat in the range adds nothing; nothing outside the range counts.

    `dimension` is a split name (`projects`, `languages`, ...; see SPLIT_COLUMNS). `filters`
    maps column names (`project`, `category`, ...) to accepted values, `Unknown` matching NULL;
    they are applied *after* the pairing, to the heartbeat each gap is credited to, so a filtered
    total equals that value's entry in the unfiltered split. An empty list of values filters
    nothing.
    """
    if dimension is not None and dimension not in SPLIT_COLUMNS:
        raise ValueError(f"unknown dimension {dimension!r}")
    active = {name: set(values) for name, values in (filters or {}).items() if values}
    unknown = [name for name in active if name not in COLUMNS]
    if unknown:
        raise ValueError(f"unknown filter columns {unknown}")

    inside = sorted(
        (OracleRow(*row) for row in rows if start_ms <= row[0] < end_ms),
        key=lambda row: (row.time_ms, row.id),
    )
    total_ms = 0
    split: dict[str, int] = {}
    for earlier, later in itertools.pairwise(inside):
        if not all(_value(earlier, column) in values for column, values in active.items()):
            continue
        credit = min(later.time_ms - earlier.time_ms, timeout_ms)
        total_ms += credit
        if dimension is not None:
            name = _value(earlier, SPLIT_COLUMNS[dimension])
            split[name] = split.get(name, 0) + credit
    return ReferenceBreakdown(total_ms, {name: ms for name, ms in split.items() if ms > 0})
