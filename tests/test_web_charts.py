"""SVG charts, judged on their numbers: each mark's size is its share, text is escaped, every
mark has a `<title>` with its exact value."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from hackatime.web import charts, reports

HOUR = charts.HOUR_MS


def _rects(svg: str) -> list[dict[str, str]]:
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r"<rect [^>]*>", svg)
    ]


def _titles(svg: str) -> list[str]:
    return re.findall(r"<title>([^<]*)</title>", svg)


def test_a_ranked_bar_is_as_long_as_its_share_of_the_total() -> None:
    marks = [charts.Mark("app", 300, "5 mins"), charts.Mark("web", 100, "1 min")]
    svg = charts.ranked_bars("Projects", marks, 400, axis_label="Share")
    widths = [float(rect["width"]) for rect in _rects(svg)]
    # 75% is the largest share: the axis ends at 100%, 360 px wide.
    assert widths == [pytest.approx(270), pytest.approx(90)]
    assert _titles(svg) == ["app: 5 mins (75%)", "web: 1 min (25%)"]
    assert ">100%</text>" in svg


def test_ranked_bars_end_their_axis_at_a_round_number_above_the_largest_share() -> None:
    marks = [charts.Mark("a", 30, "x"), charts.Mark("b", 70, "y")]
    svg = charts.ranked_bars("Split", marks, 200, axis_label="Share")
    widths = [float(rect["width"]) for rect in _rects(svg)]
    assert widths == [pytest.approx(360 * 15 / 50), pytest.approx(360 * 35 / 50)]
    assert ">50%</text>" in svg


def test_chart_text_is_escaped() -> None:
    name = '<script>alert("x")</script>&'
    svg = charts.ranked_bars("A <b>title</b>", [charts.Mark(name, 1, "1 sec")], 1, axis_label="<i>")
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "<i>" not in svg
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in svg
    assert "A &lt;b&gt;title&lt;/b&gt;" in svg


def test_stacked_columns_are_as_tall_as_their_hours_and_say_them_on_hover() -> None:
    bars = [
        charts.Column(
            "Mon 1", [charts.Mark("app", HOUR, "1 hr"), charts.Mark("web", HOUR // 2, "30 mins")]
        ),
        charts.Column("Tue 2", [charts.Mark("app", HOUR // 4, "15 mins")]),
    ]
    svg = charts.columns(
        "Week", bars, x_label="Day", y_label="Hours", target=HOUR, target_text="1 hr"
    )
    heights = [float(rect["height"]) for rect in _rects(svg)]
    # 1.5 hours at most: the axis ends at 2 hours, 180 px high.
    assert heights == [pytest.approx(90), pytest.approx(45), pytest.approx(22.5)]
    app, web, _ = _rects(svg)
    assert float(web["y"]) + float(web["height"]) == pytest.approx(float(app["y"]))
    assert _titles(svg) == [
        "Mon 1, app: 1 hr",
        "Mon 1, web: 30 mins",
        "Tue 2, app: 15 mins",
        "Goal: 1 hr",
    ]
    target = re.search(r'<line class="target"[^>]*y1="([\d.]+)"', svg)
    assert target
    assert float(target[1]) == pytest.approx(34 + 180 - 90)


def test_a_name_keeps_its_colour_and_other_is_grey() -> None:
    assert charts.colour("app") == charts.colour("app") != charts.colour("web")
    svg = charts.ranked_bars("P", [charts.Mark(charts.OTHER, 1, "1 sec")], 1, axis_label="x")
    assert _rects(svg)[0]["class"] == "other"


@pytest.mark.parametrize(
    ("value", "maximum"),
    [
        pytest.param(0, 1, id="nothing"),
        pytest.param(0.3, 0.5, id="half"),
        pytest.param(1, 1, id="exact"),
        pytest.param(1.2, 2, id="two"),
        pytest.param(3, 5, id="five"),
        pytest.param(7, 10, id="ten"),
        pytest.param(75, 100, id="hundred"),
    ],
)
def test_axis_maximum(value: float, maximum: float) -> None:
    assert charts.axis_maximum(value) == pytest.approx(maximum)


@pytest.mark.parametrize(
    ("value", "highest", "level"),
    [
        pytest.param(0, 100, 0, id="none"),
        pytest.param(1, 100, 1, id="a-little"),
        pytest.param(25, 100, 1, id="quarter"),
        pytest.param(26, 100, 2, id="over-a-quarter"),
        pytest.param(100, 100, 4, id="the-most"),
    ],
)
def test_level(value: int, highest: int, level: int) -> None:
    assert charts.level(value, highest) == level


def test_heatmap_places_each_day_by_week_and_weekday() -> None:
    monday = date(2026, 11, 2)
    days = [(monday + timedelta(days=n), n * 1000, f"{n} secs") for n in range(10)]
    svg = charts.heatmap("Year", days)
    rects = _rects(svg)
    # The next Monday: one week (column) on, the same row.
    assert rects[7]["y"] == rects[0]["y"]
    assert float(rects[7]["x"]) - float(rects[0]["x"]) == 11
    assert float(rects[9]["x"]) - float(rects[0]["x"]) == 11
    assert float(rects[9]["y"]) - float(rects[0]["y"]) == 2 * 11
    assert rects[0]["class"] == "l0"
    assert rects[9]["class"] == "l4"
    assert _titles(svg)[9] == "Wed Nov 11 2026: 9 secs"


def test_hour_grid_has_a_mark_for_every_hour_of_the_week() -> None:
    grid = [[(0, "0 secs")] * 24 for _ in range(7)]
    grid[2][14] = (HOUR, "1 hr")
    svg = charts.hour_grid("Hours", grid)
    assert len(_rects(svg)) == 7 * 24
    assert "Wed 14:00-15:00: 1 hr" in _titles(svg)
    assert [rect["class"] for rect in _rects(svg)].count("l4") == 1


def test_the_calendar_puts_time_in_the_hour_the_clock_showed_on_a_dst_day() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 25 October 2026: clocks go back at 03:00, so the fourth hour after midnight is 02:00 again.
    day = date(2026, 10, 25)
    calendar = reports.calendar([day], [{1: 60_000, 3: 120_000}], berlin)
    sunday = dict(calendar.hour_rows)["Sun"]
    assert sunday[1] == "0:01"
    assert sunday[2] == "0:02"
    assert [row.text for row in calendar.busy_days] == ["3 mins"]


def test_long_tails_become_other() -> None:
    split = [("a", 5), ("b", 4), ("c", 3), ("d", 1)]
    assert reports.with_other(split, 2) == [("a", 5), ("b", 4), (charts.OTHER, 4)]
    assert reports.with_other(split, 4) == split
