"""Why totals differ: this server's rule beside WakaTime's, month by month, on hand-computed
heartbeats."""

from __future__ import annotations

from datetime import date

import pytest

from hackatime import durations
from hackatime.compare import MonthTotals, compare_months, comparison_lines, month_spans
from hackatime.db import Database
from hackatime.timeranges import zone
from tests.conftest import Account
from tests.helpers import beat, store_beats

MINUTE = 60_000
# 2024-01-31T23:00:00Z and 2024-03-10T12:00:00Z
LATE_JANUARY = 1_706_742_000_000
MARCH = 1_710_072_000_000


@pytest.mark.parametrize(
    ("gaps_ms", "server_ms", "wakatime_ms"),
    [
        pytest.param([MINUTE], MINUTE, MINUTE, id="short-gap-same-under-both"),
        pytest.param([2 * MINUTE], 2 * MINUTE, 2 * MINUTE, id="two-minutes-same"),
        pytest.param([5 * MINUTE], 2 * MINUTE, 5 * MINUTE, id="between-2-and-15-min"),
        pytest.param([15 * MINUTE], 2 * MINUTE, 15 * MINUTE, id="exactly-15-min-counts-whole"),
        pytest.param([20 * MINUTE], 2 * MINUTE, 0, id="over-15-min-counts-nothing-there"),
        pytest.param(
            [MINUTE, 5 * MINUTE, 20 * MINUTE, 30_000],
            MINUTE + 2 * MINUTE + 2 * MINUTE + 30_000,
            MINUTE + 5 * MINUTE + 0 + 30_000,
            id="mixed",
        ),
    ],
)
async def test_both_rules_on_the_same_stored_gaps(
    db: Database, alice: Account, gaps_ms: list[int], server_ms: int, wakatime_ms: int
) -> None:
    times = [MARCH]
    for gap in gaps_ms:
        times.append(times[-1] + gap)
    await store_beats(db, alice, [beat(time_ms) for time_ms in times])
    (month,) = await compare_months(
        db, alice.user.id, date(2024, 3, 1), date(2024, 3, 31), zone("UTC"), timeout_ms=120_000
    )
    assert (month.month, month.server_ms, month.wakatime_ms) == ("2024-03", server_ms, wakatime_ms)


async def test_each_month_is_measured_on_its_own_in_the_users_zone(
    db: Database, alice: Account
) -> None:
    # 23:00, 23:10 and 23:50 UTC on 31 January, then 00:05 UTC on 1 February: gaps of 10, 40
    # and 15 minutes. In UTC the last gap crosses into February and counts in neither month; in
    # Berlin (UTC+1) all four heartbeats fall on 1 February.
    times = [LATE_JANUARY, LATE_JANUARY + 10 * MINUTE, LATE_JANUARY + 50 * MINUTE]
    times.append(LATE_JANUARY + 65 * MINUTE)
    await store_beats(db, alice, [beat(time_ms) for time_ms in times])
    in_utc = await compare_months(
        db, alice.user.id, date(2024, 1, 15), date(2024, 2, 10), zone("UTC"), timeout_ms=120_000
    )
    assert [(each.month, each.server_ms, each.wakatime_ms) for each in in_utc] == [
        ("2024-01", 2 * MINUTE + 2 * MINUTE, 10 * MINUTE + 0),
        ("2024-02", 0, 0),
    ]
    assert (in_utc[0].first, in_utc[-1].last) == (date(2024, 1, 15), date(2024, 2, 10))
    in_berlin = await compare_months(
        db,
        alice.user.id,
        date(2024, 1, 1),
        date(2024, 2, 29),
        zone("Europe/Berlin"),
        timeout_ms=120_000,
    )
    assert [(each.server_ms, each.wakatime_ms) for each in in_berlin] == [
        (0, 0),
        (2 * MINUTE + 2 * MINUTE + 2 * MINUTE, 10 * MINUTE + 0 + 15 * MINUTE),
    ]


def test_month_spans_clip_to_the_range() -> None:
    assert month_spans(date(2023, 12, 20), date(2024, 2, 3)) == [
        (date(2023, 12, 20), date(2023, 12, 31)),
        (date(2024, 1, 1), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 3)),
    ]


def test_the_table_leaves_out_empty_months_and_adds_them_up() -> None:
    months = [
        MonthTotals("2024-01", date(2024, 1, 1), date(2024, 1, 31), 3_600_000, 4_500_000),
        MonthTotals("2024-02", date(2024, 2, 1), date(2024, 2, 29), 0, 0),
        MonthTotals("2024-03", date(2024, 3, 1), date(2024, 3, 31), 600_000, 300_000),
    ]
    lines = comparison_lines(months, timeout_ms=120_000)
    assert lines[0].split("  ")[0] == "month"
    assert "this server (gaps up to 2 min)" in lines[0]
    assert "WakaTime (gaps up to 15 min whole, longer 0)" in lines[0]
    assert [line.split() for line in lines[1:]] == [
        ["2024-01", "1:00:00", "1:15:00", "+0:15:00"],
        ["2024-03", "0:10:00", "0:05:00", "-0:05:00"],
        ["all", "1:10:00", "1:20:00", "+0:10:00"],
    ]


def test_wakatimes_rule_is_named_once_in_durations() -> None:
    assert durations.WAKATIME_TIMEOUT_MS == 15 * MINUTE
