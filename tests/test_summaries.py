"""Pure shaping of milliseconds into WakaTime's and Hackatime's numbers and words."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from hackatime.summaries import (
    clock,
    decimal_hours,
    grand_total,
    hackatime_items,
    human_text,
    percent,
    wakatime_items,
)

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        pytest.param(0, "0 secs", id="zero"),
        pytest.param(999, "0 secs", id="under-a-second"),
        pytest.param(SECOND, "1 sec", id="one-second"),
        pytest.param(1500, "1 sec", id="fraction-dropped"),
        pytest.param(45 * SECOND, "45 secs", id="seconds"),
        pytest.param(59 * SECOND, "59 secs", id="just-under-a-minute"),
        pytest.param(MINUTE, "1 min", id="one-minute"),
        pytest.param(MINUTE + 30 * SECOND, "1 min", id="seconds-dropped-after-a-minute"),
        pytest.param(45 * MINUTE, "45 mins", id="minutes"),
        pytest.param(HOUR, "1 hr", id="one-hour"),
        pytest.param(HOUR + MINUTE, "1 hr 1 min", id="one-hour-one-minute"),
        pytest.param(2 * HOUR + 3 * MINUTE, "2 hrs 3 mins", id="hours-and-minutes"),
        pytest.param(7384 * SECOND, "2 hrs 3 mins", id="spec-example"),
        pytest.param(2 * HOUR, "2 hrs", id="whole-hours"),
        pytest.param(2 * HOUR + 59 * SECOND, "2 hrs", id="hours-and-seconds"),
        pytest.param(125 * HOUR + 1 * MINUTE, "125 hrs 1 min", id="many-hours"),
    ],
)
def test_human_text(ms: int, expected: str) -> None:
    assert human_text(ms) == expected


@pytest.mark.parametrize(
    ("ms", "options", "expected"),
    [
        pytest.param(0, {}, "0:00", id="zero"),
        pytest.param(7384 * SECOND, {}, "2:03", id="hours-minutes"),
        pytest.param(59 * SECOND, {}, "0:00", id="seconds-not-shown"),
        pytest.param(7384 * SECOND, {"seconds": True}, "2:03:04", id="with-seconds"),
        pytest.param(
            7384 * SECOND, {"seconds": True, "pad_hours": True}, "02:03:04", id="padded-hours"
        ),
        pytest.param(150 * SECOND, {"seconds": True}, "0:02:30", id="under-an-hour"),
        pytest.param(100 * HOUR, {}, "100:00", id="over-99-hours"),
        pytest.param(
            100 * HOUR, {"seconds": True, "pad_hours": True}, "100:00:00", id="padding-never-cuts"
        ),
    ],
)
def test_clock(ms: int, options: dict[str, bool], expected: str) -> None:
    assert clock(ms, **options) == expected


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        pytest.param(0, "0.00", id="zero"),
        pytest.param(7384 * SECOND, "2.05", id="spec-example"),
        pytest.param(90 * MINUTE, "1.50", id="half-hour"),
        pytest.param(HOUR - SECOND, "0.98", id="whole-minutes-only"),
        pytest.param(210 * SECOND, "0.05", id="worked-example"),
        pytest.param(10 * HOUR, "10.00", id="whole-hours"),
    ],
)
def test_decimal_hours(ms: int, expected: str) -> None:
    assert decimal_hours(ms) == expected


@pytest.mark.parametrize(
    ("part", "total", "expected"),
    [
        pytest.param(60, 210, 28.57, id="worked-example-a"),
        pytest.param(150, 210, 71.43, id="worked-example-b"),
        pytest.param(1, 3, 33.33, id="third"),
        pytest.param(5, 5, 100.0, id="all"),
        pytest.param(0, 5, 0.0, id="none"),
        pytest.param(0, 0, 0.0, id="no-total"),
    ],
)
def test_percent(part: int, total: int, expected: float) -> None:
    assert percent(part, total) == expected


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        pytest.param(
            7384 * SECOND,
            {
                "total_seconds": 7384.0,
                "text": "2 hrs 3 mins",
                "hours": 2,
                "minutes": 3,
                "digital": "2:03",
                "decimal": "2.05",
            },
            id="spec-example",
        ),
        pytest.param(
            210_500,
            {
                "total_seconds": 210.5,
                "text": "3 mins",
                "hours": 0,
                "minutes": 3,
                "digital": "0:03",
                "decimal": "0.05",
            },
            id="fractional-seconds-kept-in-total",
        ),
        pytest.param(
            0,
            {
                "total_seconds": 0.0,
                "text": "0 secs",
                "hours": 0,
                "minutes": 0,
                "digital": "0:00",
                "decimal": "0.00",
            },
            id="nothing",
        ),
    ],
)
def test_grand_total(ms: int, expected: dict[str, object]) -> None:
    result = grand_total(ms)
    assert result == expected
    assert type(result["hours"]) is int
    assert type(result["minutes"]) is int


Shape = Callable[[Sequence[tuple[str, int]], int], list[dict[str, Any]]]
WORKED_SPLIT = [("B", 150 * SECOND), ("A", 60 * SECOND)]


def test_wakatime_items() -> None:
    assert wakatime_items(WORKED_SPLIT, 210 * SECOND) == [
        {
            "name": "B",
            "total_seconds": 150.0,
            "percent": 71.43,
            "digital": "0:02:30",
            "decimal": "0.03",
            "text": "2 mins",
            "hours": 0,
            "minutes": 2,
            "seconds": 30,
        },
        {
            "name": "A",
            "total_seconds": 60.0,
            "percent": 28.57,
            "digital": "0:01:00",
            "decimal": "0.02",
            "text": "1 min",
            "hours": 0,
            "minutes": 1,
            "seconds": 0,
        },
    ]


def test_wakatime_item_over_an_hour() -> None:
    (item,) = wakatime_items([("Python", 7384_500)], 7384_500)
    assert item == {
        "name": "Python",
        "total_seconds": 7384.5,
        "percent": 100.0,
        "digital": "2:03:04",
        "decimal": "2.05",
        "text": "2 hrs 3 mins",
        "hours": 2,
        "minutes": 3,
        "seconds": 4,
    }


def test_hackatime_items() -> None:
    assert hackatime_items(WORKED_SPLIT, 210 * SECOND) == [
        {
            "name": "B",
            "seconds": 150,
            "total_seconds": 150,
            "text": "2 mins",
            "hours": 0,
            "minutes": 2,
            "percent": 71.43,
            "digital": "00:02:30",
        },
        {
            "name": "A",
            "seconds": 60,
            "total_seconds": 60,
            "text": "1 min",
            "hours": 0,
            "minutes": 1,
            "percent": 28.57,
            "digital": "00:01:00",
        },
    ]


@pytest.mark.parametrize(
    "shape",
    [pytest.param(wakatime_items, id="wakatime"), pytest.param(hackatime_items, id="hackatime")],
)
def test_items_keep_order_and_empty_split(shape: Shape) -> None:
    assert shape([], 0) == []
    names = [item["name"] for item in shape([("x", 3000), ("y", 2000), ("z", 1000)], 6000)]
    assert names == ["x", "y", "z"]
