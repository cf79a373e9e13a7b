"""The range a page shows: the named ranges, two dates, and bad dates falling back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hackatime import timeranges
from hackatime.web import ranges

TODAY = date(2026, 11, 28)
TOKYO = ZoneInfo("Asia/Tokyo")


def _ms(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("key", "first", "last"),
    [
        pytest.param("today", TODAY, TODAY, id="today"),
        pytest.param("last_7_days", date(2026, 11, 22), TODAY, id="week"),
        pytest.param("last_30_days", date(2026, 10, 30), TODAY, id="month"),
        pytest.param("this_year", date(2026, 1, 1), TODAY, id="year"),
    ],
)
def test_named_ranges_end_today_in_the_users_zone(key: str, first: date, last: date) -> None:
    chosen = ranges.choose_range(key, None, None, TODAY, TOKYO, "last_7_days")
    assert (chosen.key, chosen.first, chosen.last, chosen.error) == (key, first, last, None)
    # Tokyo's midnight is 15:00 UTC the day before.
    before = first.toordinal() - 1
    start = date.fromordinal(before)
    assert chosen.bucket.start_ms == _ms(start.year, start.month, start.day, 15)
    assert chosen.bucket.end_ms == _ms(2026, 11, 28, 15)


def test_all_time_is_the_apis_all_time() -> None:
    chosen = ranges.choose_range("all_time", None, None, TODAY, TOKYO, "last_7_days")
    assert chosen.bucket == timeranges.ALL_TIME
    assert chosen.first is None
    assert chosen.label == "All time"


def test_two_dates_are_a_custom_range_including_the_last_day() -> None:
    utc = ZoneInfo("UTC")
    chosen = ranges.choose_range(None, "2026-02-01", "2026-02-03", TODAY, utc, "last_7_days")
    assert (chosen.key, chosen.label) == ("custom", "2026-02-01 to 2026-02-03")
    assert (chosen.bucket.start_ms, chosen.bucket.end_ms) == (_ms(2026, 2, 1), _ms(2026, 2, 4))


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        pytest.param("2026-02-30", "2026-03-01", "start: ", id="no-such-day"),
        pytest.param("2026-03-02", "2026-03-01", "start: after end", id="backwards"),
        pytest.param("2026-03-01", None, "end: ", id="one-date"),
    ],
)
def test_bad_dates_fall_back_to_the_default_and_say_why(
    start: str, end: str | None, error: str
) -> None:
    chosen = ranges.choose_range("today", start, end, TODAY, TOKYO, "last_30_days")
    assert chosen.key == "last_30_days"
    assert chosen.error is not None
    assert chosen.error.startswith(error)


def test_an_unknown_name_is_the_default() -> None:
    chosen = ranges.choose_range("forever", None, None, TODAY, TOKYO, "today")
    assert (chosen.key, chosen.first, chosen.error) == ("today", TODAY, None)
