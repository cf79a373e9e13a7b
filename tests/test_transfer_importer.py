"""Importing: the API's checks with their reasons counted, nothing stored twice on a rerun or
after an interruption, stored gaps kept right, progress on a terminal and in plain lines, and
export then import reproducing every heartbeat and total exactly."""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hackatime import aliases, durations, ingest, users
from hackatime.db import Database
from hackatime.heartbeats import RequestContext, normalise
from hackatime.timeranges import zone
from hackatime.transfer import importer, readers, writers
from hackatime.transfer.progress import progress_for
from tests.conftest import Account
from tests.helpers import beat, store_beats, stored_heartbeats
from tests.test_transfer_readers import VIM, dump_beat, wakatime_dump, write

NOW_MS = 1_800_000_000_000
T0 = 1_700_000_000


async def import_file(
    db: Database, account: Account, path: Path, *, batch_size: int = importer.BATCH_SIZE
) -> importer.ImportReport:
    report = importer.ImportReport()
    await importer.import_file(
        db, account.user.id, path, report, now_ms=NOW_MS, batch_size=batch_size
    )
    return report


def minutes(count: int) -> list[dict[str, Any]]:
    return [dump_beat(T0 + minute * 60, lineno=minute) for minute in range(count)]


async def assert_gaps_right(db: Database, account: Account) -> None:
    rows = await stored_heartbeats(db, account.user.id)
    assert rows, "nothing stored"
    expected: dict[int, int | None] = {}
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        expected[row["id"]] = None if following is None else following["time_ms"] - row["time_ms"]
    assert {row["id"]: row["gap_next_ms"] for row in rows} == expected


async def test_rejected_items_are_counted_by_reason_and_the_rest_stored(
    db: Database, alice: Account, tmp_path: Path
) -> None:
    beats = [
        *minutes(3),
        dump_beat(5),
        dump_beat(T0 + 600, entity=""),
        dump_beat(T0 + 700, entity=None),
        dump_beat(T0 + 800, type="page"),
        dump_beat(NOW_MS / 1000 + 7200),
        "not an object",
    ]
    report = await import_file(db, alice, write(tmp_path / "d.json", wakatime_dump([("d", beats)])))
    assert (report.new, report.already_stored, report.rejected) == (3, 0, 6)
    assert report.reasons == Counter(
        {
            "time: before 2000-01-01": 1,
            "entity: required": 2,
            "type: must be one of file, domain, url, event, app": 1,
            "time: more than an hour in the future": 1,
            "heartbeat must be a JSON object": 1,
        }
    )
    rows = await stored_heartbeats(db, alice.user.id)
    assert [row["time_ms"] for row in rows] == [T0 * 1000, (T0 + 60) * 1000, (T0 + 120) * 1000]
    # Editor and OS from the dump's last plugin: it lists no user agents.
    assert {(row["editor"], row["operating_system"]) for row in rows} == {("vim", "Linux")}
    assert (report.first_ms, report.last_ms) == (T0 * 1000, (T0 + 120) * 1000)


async def test_a_rerun_stores_nothing_twice(db: Database, alice: Account, tmp_path: Path) -> None:
    # The same heartbeat twice in one file counts once as new, once as already there.
    path = write(tmp_path / "d.json", wakatime_dump([("d", [*minutes(10), minutes(1)[0]])]))
    first = await import_file(db, alice, path, batch_size=4)
    stored = await stored_heartbeats(db, alice.user.id)
    again = await import_file(db, alice, path, batch_size=4)
    assert (first.new, first.already_stored) == (10, 1)
    assert (again.new, again.already_stored) == (0, 11)
    assert await stored_heartbeats(db, alice.user.id) == stored


async def test_an_import_cut_short_goes_on_when_run_again(
    db: Database, alice: Account, tmp_path: Path
) -> None:
    # Other history of the user lies both before and inside the imported stretch.
    await ingest.store(
        db,
        alice.user.id,
        [
            normalise({"time": T0 - 30, "entity": "a.py"}, RequestContext(None, None, NOW_MS)),
            normalise({"time": T0 + 90, "entity": "b.py"}, RequestContext(None, None, NOW_MS)),
        ],
    )
    whole = orjson.dumps(wakatime_dump([("d", minutes(40))]))
    cut = tmp_path / "cut.json"
    cut.write_bytes(whole[: whole.index(f'"time":{T0 + 25 * 60}'.encode())])
    report = importer.ImportReport()
    with pytest.raises(readers.DumpError, match="near byte"):
        await importer.import_file(db, alice.user.id, cut, report, now_ms=NOW_MS, batch_size=10)
    # Everything read before the cut is stored, the last partial batch included.
    assert report.new == 25
    assert len(await stored_heartbeats(db, alice.user.id)) == 27
    full = tmp_path / "full.json"
    full.write_bytes(whole)
    rest = await import_file(db, alice, full, batch_size=10)
    assert (rest.new, rest.already_stored) == (15, 25)
    assert len(await stored_heartbeats(db, alice.user.id)) == 42
    await assert_gaps_right(db, alice)


async def _export_to(db: Database, account: Account, path: Path) -> Path:
    span = await writers.history_span(db, account.user.id)
    with path.open("wb") as output:
        async for chunk in writers.export_chunks(
            db, account.user, start_ms=span[0], end_ms=span[1], tz=zone("UTC"), file_format="json"
        ):
            output.write(chunk)
    return path


async def _aliased_history(db: Database, account: Account) -> None:
    """Heartbeats stored as "app", "APP" and "web", shown as "app" and "site"."""
    beats = [
        beat(T0 * 1000 + minute * 60_000, name) for minute, name in enumerate(["app", "APP", "web"])
    ]
    await store_beats(db, account, beats)
    await aliases.merge(db, account.user.id, "app", ["APP"])
    await aliases.rename(db, account.user.id, "web", "site")


async def test_an_export_imported_back_with_aliases_set_stores_nothing_twice(
    db: Database, alice: Account, tmp_path: Path
) -> None:
    await _aliased_history(db, alice)
    stored = await stored_heartbeats(db, alice.user.id)
    report = await import_file(db, alice, await _export_to(db, alice, tmp_path / "e.json"))
    assert (report.new, report.already_stored, report.rejected) == (0, 3, 0)
    assert await stored_heartbeats(db, alice.user.id) == stored


async def test_an_export_imported_into_an_empty_database_keeps_the_stored_names(
    db: Database, alice: Account, tmp_path: Path
) -> None:
    await _aliased_history(db, alice)
    path = await _export_to(db, alice, tmp_path / "e.json")
    target = Database(tmp_path / "empty.db")
    await target.open()
    try:
        newcomer, key = await users.create_user(target, "alice", timezone="UTC")
        report = await import_file(target, Account(newcomer, key), path)
        assert report.new == 3
        rows = await stored_heartbeats(target, newcomer.id)
        assert [row["project"] for row in rows] == ["app", "APP", "web"]
    finally:
        await target.close()


class _StopAfterFirstBatch:
    def update(self, done: int, heartbeats: int) -> None:
        raise KeyboardInterrupt

    def close(self) -> None:
        pass


async def test_an_import_stopped_between_batches_keeps_what_it_stored(
    db: Database, alice: Account, tmp_path: Path
) -> None:
    path = write(tmp_path / "d.json", wakatime_dump([("d", minutes(30))]))
    report = importer.ImportReport()
    with pytest.raises(KeyboardInterrupt):
        await importer.import_file(
            db,
            alice.user.id,
            path,
            report,
            now_ms=NOW_MS,
            progress=_StopAfterFirstBatch(),
            batch_size=8,
        )
    assert report.new == 8
    assert len(await stored_heartbeats(db, alice.user.id)) == 8
    rest = await import_file(db, alice, path)
    assert (rest.new, rest.already_stored) == (22, 8)
    await assert_gaps_right(db, alice)


async def test_report_lines_end_with_both_rules(
    db: Database, alice: Account, tmp_path: Path
) -> None:
    # Gaps of 1 min, 5 min (WakaTime counts it whole, this server 2 min) and 20 min (WakaTime
    # counts nothing, this server 2 min).
    times = [T0, T0 + 60, T0 + 360, T0 + 1560]
    path = write(tmp_path / "d.json", wakatime_dump([("d", [dump_beat(t) for t in times])]))
    report = await import_file(db, alice, path)
    lines = await importer.report_lines(db, alice.user.id, report, zone("UTC"), timeout_ms=120_000)
    assert lines[:4] == [
        "new:            4",
        "already there:  0",
        "rejected:       0",
        "dates covered:  2023-11-14 to 2023-11-14 (UTC)",
    ]
    assert lines[4].startswith("total:          0:05:00 ")
    assert lines[-2].split() == ["2023-11", "0:05:00", "0:06:00", "+0:01:00"]
    assert lines[-1].split() == ["all", "0:05:00", "0:06:00", "+0:01:00"]


def test_progress_on_a_terminal_is_a_bar_with_rate_and_time_left() -> None:
    stream = io.StringIO()
    clock = iter([0.0, 2.0, 4.0]).__next__
    progress = progress_for(
        stream, total=4096, unit="B", description="import", terminal=True, clock=clock
    )
    progress.update(1024, 500)
    progress.update(4096, 2000)
    progress.close()
    output = stream.getvalue()
    assert "import: 100%" in output
    assert "4.00k/4.00k" in output
    assert "2,000 heartbeats, 500/s" in output
    # tqdm's time left, in its [elapsed<left] field.
    assert "<" in output.split("4.00k/4.00k")[-1]


def test_progress_elsewhere_is_a_plain_line_every_few_seconds() -> None:
    stream = io.StringIO()
    now = [0.0]
    progress = progress_for(
        stream,
        total=10,
        unit="days",
        description="import",
        terminal=False,
        clock=lambda: now[0],
        every_seconds=10,
    )
    now[0] = 4.0
    progress.update(1, 100)
    assert stream.getvalue() == ""
    now[0] = 10.0
    progress.update(3, 300)
    now[0] = 12.0
    progress.update(4, 400)
    now[0] = 20.0
    progress.update(10, 1000)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "import: 3 days of 10 days (30%), 300 heartbeats, 30/s, 0:00:23 left",
        "import: 10 days of 10 days (100%), 1,000 heartbeats, 50/s, 0:00:00 left",
        "import: 10 days of 10 days (100%), 1,000 heartbeats, 50/s, 0:00:00 left",
    ]


# --- Export, then import into an empty database ------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
_ITEM = st.fixed_dictionaries(
    {
        "time": st.integers(T0 * 1000, T0 * 1000 + 40 * 86_400_000).map(lambda ms: ms / 1000),
        "entity": st.sampled_from(["/a/main.py", "/a/README.md", "https://x.org", "  b.rs "]),
        "type": st.sampled_from(["file", "domain", "app", None]),
    },
    optional={
        "category": st.sampled_from(["coding", "debugging", "building"]),
        "project": st.one_of(st.none(), _TEXT),
        "branch": st.one_of(st.none(), _TEXT),
        "language": st.one_of(st.none(), st.sampled_from(["Python", "Rust"])),
        "is_write": st.one_of(st.none(), st.booleans()),
        "lineno": st.one_of(st.none(), st.integers(0, 10**6)),
        "cursorpos": st.one_of(st.none(), st.integers(0, 10**6)),
        "lines": st.one_of(st.none(), st.integers(0, 10**6)),
        "dependencies": st.one_of(st.none(), st.lists(_TEXT, max_size=3)),
        "line_additions": st.integers(0, 100),
        "user_agent": st.one_of(st.none(), st.sampled_from([VIM, "curl/8.0"])),
        "machine": st.one_of(st.none(), _TEXT),
    },
)


async def _rows(db: Database, user_id: int) -> list[dict[str, Any]]:
    """Every stored field in (time, id) order, the user agent by value; not what differs by
    nature between two databases (ids, when stored, whose)."""
    rows = await db.fetch_all(
        "SELECT h.*, ua.value AS user_agent FROM heartbeats h"
        " LEFT JOIN user_agents ua ON ua.id = h.user_agent_id"
        " WHERE h.user_id = ? ORDER BY h.time_ms, h.id",
        (user_id,),
    )
    skipped = ("id", "user_id", "created_at_ms", "user_agent_id")
    return [{key: value for key, value in dict(row).items() if key not in skipped} for row in rows]


async def _totals(db: Database, user_id: int, span: tuple[int, int]) -> list[Any]:
    start, end = span
    buckets = [durations.Bucket(start, end), durations.Bucket(start, (start + end) // 2)]
    buckets += [durations.Bucket(day, day + 86_400_000) for day in range(start, end, 86_400_000)]
    parts = await durations.breakdowns(
        db, user_id, buckets, dimensions=["projects", "languages", "machines"], timeout_ms=120_000
    )
    both = await durations.totals_under_both_rules(db, user_id, buckets, timeout_ms=120_000)
    return [parts, both]


async def _round_trip(items: list[dict[str, Any]], zone_name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source, target = Database(Path(folder) / "a.db"), Database(Path(folder) / "b.db")
        await source.open()
        await target.open()
        try:
            owner, _ = await users.create_user(source, "alice", timezone=zone_name)
            newcomer, _ = await users.create_user(target, "bob", timezone="UTC")
            context = RequestContext(None, None, NOW_MS)
            beats = [normalise(item, context) for item in items]
            await ingest.store(source, owner.id, beats)  # type: ignore[arg-type]
            span = await writers.history_span(source, owner.id)
            path = Path(folder) / "export.json"
            with path.open("wb") as output:
                async for chunk in writers.export_chunks(
                    source,
                    owner,
                    start_ms=span[0],
                    end_ms=span[1],
                    tz=zone(zone_name),
                    file_format="json",
                ):
                    output.write(chunk)
            report = importer.ImportReport()
            with readers.open_dump(path) as dump:
                await importer.import_heartbeats(
                    target,
                    newcomer.id,
                    dump.heartbeats,
                    report,
                    now_ms=NOW_MS,
                    position=dump.position,
                    batch_size=7,
                )
            expected = await _rows(source, owner.id)
            assert await _rows(target, newcomer.id) == expected
            assert (report.new, report.already_stored, report.rejected) == (len(expected), 0, 0)
            assert await _totals(target, newcomer.id, span) == await _totals(source, owner.id, span)
        finally:
            await source.close()
            await target.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(_ITEM, min_size=1, max_size=40),
    zone_name=st.sampled_from(["UTC", "Asia/Kathmandu", "America/St_Johns"]),
)
def test_export_then_import_reproduces_every_heartbeat_and_total(
    items: list[dict[str, Any]], zone_name: str
) -> None:
    asyncio.run(_round_trip(items, zone_name))
