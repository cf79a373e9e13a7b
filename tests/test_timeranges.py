from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hackatime import timeranges
from hackatime.durations import Bucket
from hackatime.errors import BadRequest

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
UTC_ZONE = ZoneInfo("UTC")
HOUR_MS = 3_600_000


def utc_ms(*parts: int) -> int:
    """Milliseconds of a UTC wall time: utc_ms(2026, 3, 8, 5) is 2026-03-08T05:00Z."""
    return round(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("value", "zone", "end", "expected"),
    [
        pytest.param("2026-03-08", NEW_YORK, False, utc_ms(2026, 3, 8, 5), id="date-start"),
        # The end of a date is the next local midnight, already in daylight time (-04:00).
        pytest.param("2026-03-08", NEW_YORK, True, utc_ms(2026, 3, 9, 4), id="date-end-inclusive"),
        pytest.param("2026-11-01", NEW_YORK, True, utc_ms(2026, 11, 2, 5), id="date-end-fall-back"),
        pytest.param("2026-03-08", KOLKATA, False, utc_ms(2026, 3, 7, 18, 30), id="date-kolkata"),
        pytest.param(
            "2026-03-08", KOLKATA, True, utc_ms(2026, 3, 8, 18, 30), id="date-end-kolkata"
        ),
        pytest.param(" 2026-03-08 ", UTC_ZONE, False, utc_ms(2026, 3, 8), id="date-padded"),
        pytest.param(
            "2026-03-08T10:00:00", NEW_YORK, False, utc_ms(2026, 3, 8, 14), id="iso-naive-is-local"
        ),
        pytest.param(
            "2026-03-08T01:30:00", NEW_YORK, False, utc_ms(2026, 3, 8, 6, 30), id="iso-naive-winter"
        ),
        pytest.param(
            "2026-03-08 10:00:00", NEW_YORK, False, utc_ms(2026, 3, 8, 14), id="iso-space-separator"
        ),
        pytest.param(
            "2026-03-08T10:00:00+05:30",
            NEW_YORK,
            False,
            utc_ms(2026, 3, 8, 4, 30),
            id="iso-offset-wins-over-zone",
        ),
        pytest.param(
            "2026-03-08T10:00:00-08:00", KOLKATA, False, utc_ms(2026, 3, 8, 18), id="iso-offset-neg"
        ),
        pytest.param("2026-03-08T10:00:00Z", KOLKATA, False, utc_ms(2026, 3, 8, 10), id="iso-z"),
        pytest.param(
            "2026-03-08T10:00:00.250Z",
            UTC_ZONE,
            False,
            utc_ms(2026, 3, 8, 10) + 250,
            id="iso-milliseconds",
        ),
        # `end` only widens bare dates; an exact moment is the same either way.
        pytest.param("2026-03-08T10:00:00Z", UTC_ZONE, True, utc_ms(2026, 3, 8, 10), id="iso-end"),
        pytest.param("1772964000", NEW_YORK, False, utc_ms(2026, 3, 8, 10), id="epoch-seconds"),
        pytest.param(
            "1772964000.5", NEW_YORK, False, utc_ms(2026, 3, 8, 10) + 500, id="epoch-fraction"
        ),
        pytest.param("1772964000", NEW_YORK, True, utc_ms(2026, 3, 8, 10), id="epoch-end"),
    ],
)
def test_parse_moment(value: str, zone: ZoneInfo, end: bool, expected: int) -> None:
    assert timeranges.parse_moment(value, zone, "start", end=end) == expected


@pytest.mark.parametrize(
    ("value", "end"),
    [
        pytest.param("2026-02-30", False, id="no-such-day"),
        pytest.param("2026-13-01", True, id="no-such-month"),
        pytest.param("yesterday", False, id="words"),
        pytest.param("", False, id="empty"),
        pytest.param("2026-03-08T25:00", False, id="no-such-hour"),
        pytest.param("2026-03-08T10:00:00+25:00", False, id="offset-out-of-range"),
        pytest.param("nan", False, id="nan"),
        pytest.param("inf", False, id="infinity"),
        pytest.param("-1", False, id="negative-epoch"),
        # A millisecond epoch would otherwise be read as a date thousands of years ahead.
        pytest.param("1772964000000", False, id="epoch-milliseconds"),
        # The inclusive end of the last representable date is past date.max.
        pytest.param("9999-12-31", True, id="end-of-last-date"),
    ],
)
def test_parse_moment_rejects(value: str, end: bool) -> None:
    with pytest.raises(BadRequest) as caught:
        timeranges.parse_moment(value, UTC_ZONE, "until", end=end)
    assert caught.value.status == 400
    assert caught.value.message.startswith("until: ")


@pytest.mark.parametrize(
    ("day", "zone", "start_ms", "hours"),
    [
        pytest.param(date(2026, 3, 8), NEW_YORK, utc_ms(2026, 3, 8, 5), 23, id="new-york-spring"),
        pytest.param(date(2026, 11, 1), NEW_YORK, utc_ms(2026, 11, 1, 4), 25, id="new-york-fall"),
        pytest.param(date(2026, 6, 15), NEW_YORK, utc_ms(2026, 6, 15, 4), 24, id="new-york-summer"),
        pytest.param(date(2026, 3, 8), KOLKATA, utc_ms(2026, 3, 7, 18, 30), 24, id="kolkata"),
        pytest.param(date(2026, 3, 8), UTC_ZONE, utc_ms(2026, 3, 8), 24, id="utc"),
    ],
)
def test_day_range(day: date, zone: ZoneInfo, start_ms: int, hours: int) -> None:
    result = timeranges.day_range(day, zone)
    assert (result.start_ms, result.end_ms - result.start_ms) == (start_ms, hours * HOUR_MS)
    assert result.zone is zone
    assert result.bucket == Bucket(result.start_ms, result.end_ms)
    assert timeranges.local_date(result.start_ms, zone) == day
    assert timeranges.local_date(result.end_ms - 1, zone) == day


def test_resolve_range_dates_are_inclusive_local_days() -> None:
    result = timeranges.resolve_range(
        "2026-03-08", "2026-03-08", NEW_YORK, default_start_ms=0, default_end_ms=0
    )
    assert (result.start_ms, result.end_ms) == (utc_ms(2026, 3, 8, 5), utc_ms(2026, 3, 9, 4))


def test_resolve_range_defaults_fill_what_is_missing() -> None:
    result = timeranges.resolve_range(
        None, "2026-03-08T12:00:00Z", UTC_ZONE, default_start_ms=7, default_end_ms=9
    )
    assert (result.start_ms, result.end_ms) == (7, utc_ms(2026, 3, 8, 12))
    result = timeranges.resolve_range(None, None, UTC_ZONE, default_start_ms=7, default_end_ms=9)
    assert (result.start_ms, result.end_ms) == (7, 9)


def test_resolve_range_start_equal_to_end_is_empty_not_an_error() -> None:
    moment = "2026-03-08T12:00:00Z"
    result = timeranges.resolve_range(
        moment, moment, UTC_ZONE, default_start_ms=0, default_end_ms=0
    )
    assert result.start_ms == result.end_ms


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("2026-03-09", "2026-03-08", id="dates"),
        pytest.param("2026-03-08T12:00:01Z", "2026-03-08T12:00:00Z", id="one-second"),
        pytest.param("1772964001", "1772964000", id="epochs"),
    ],
)
def test_resolve_range_start_after_end(start: str, end: str) -> None:
    with pytest.raises(BadRequest) as caught:
        timeranges.resolve_range(
            start,
            end,
            UTC_ZONE,
            default_start_ms=0,
            default_end_ms=0,
            start_name="from",
            end_name="to",
        )
    assert caught.value.message.startswith("from: ")
    assert "to" in caught.value.message


def test_resolve_range_names_the_bad_parameter() -> None:
    with pytest.raises(BadRequest) as caught:
        timeranges.resolve_range(
            "2026-03-08", "soon", UTC_ZONE, default_start_ms=0, default_end_ms=0, end_name="to"
        )
    assert caught.value.message.startswith("to: ")


@pytest.mark.parametrize(
    ("first", "last", "zone", "days", "hours"),
    [
        pytest.param(date(2026, 3, 8), date(2026, 3, 8), NEW_YORK, 1, 23, id="one-short-day"),
        pytest.param(date(2026, 3, 1), date(2026, 3, 31), NEW_YORK, 31, 31 * 24 - 1, id="march"),
        pytest.param(date(2026, 11, 1), date(2026, 11, 7), NEW_YORK, 7, 7 * 24 + 1, id="fall-week"),
        pytest.param(date(2026, 1, 1), date(2026, 12, 31), NEW_YORK, 365, 365 * 24, id="year"),
        pytest.param(date(2028, 2, 1), date(2028, 2, 29), KOLKATA, 29, 29 * 24, id="leap-feb"),
        pytest.param(date(2026, 3, 9), date(2026, 3, 8), UTC_ZONE, 0, 0, id="last-before-first"),
    ],
)
def test_days_in(first: date, last: date, zone: ZoneInfo, days: int, hours: int) -> None:
    result = timeranges.days_in(first, last, zone)
    assert len(result) == days
    assert [day for day, _ in result] == [
        date.fromordinal(first.toordinal() + n) for n in range(days)
    ]
    for day, day_range in result:
        assert day_range == timeranges.day_range(day, zone)
    # Consecutive days touch: no gap and no overlap between buckets.
    for (_, earlier), (_, later) in itertools.pairwise(result):
        assert earlier.end_ms == later.start_ms
    assert sum(r.end_ms - r.start_ms for _, r in result) == hours * HOUR_MS


def test_zone_names_the_parameter() -> None:
    with pytest.raises(BadRequest) as caught:
        timeranges.zone("Mars/Olympus_Mons", "tz")
    assert caught.value.message.startswith("tz: ")


def test_resolve_range_from_a_moment_to_the_end_of_that_date() -> None:
    result = timeranges.resolve_range(
        "2026-11-08T12:00:00", "2026-11-08", UTC_ZONE, default_start_ms=0, default_end_ms=0
    )
    assert (result.start_ms, result.end_ms) == (utc_ms(2026, 11, 8, 12), utc_ms(2026, 11, 9, 0))
