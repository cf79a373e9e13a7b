"""What each dashboard page shows: gathered with the same domain functions the JSON API calls,
shaped here into texts, table rows and charts, so that templates only place them.

Ranged splits measure the range as one range, as `GET /api/v1/stats?start_date=&end_date=` does;
per-day numbers (the week's bars, the heatmap, a project's days) measure each day on its own, as
the WakaTime summaries do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from markupsafe import Markup

from hackatime import durations, goals, history, summaries, timeranges
from hackatime.db import Database
from hackatime.users import User
from hackatime.web import charts
from hackatime.web.ranges import ChosenRange

# Bars before the rest of a split is grouped as "Other".
SPLIT_LIMIT = 8
TOP_FILES = 10
HEATMAP_WEEKS = 53
PROJECT_DAYS = 30

SPLIT_TITLES = {
    "projects": "Projects",
    "languages": "Languages",
    "editors": "Editors",
    "operating_systems": "Operating systems",
    "machines": "Machines",
    "categories": "Categories",
    "branches": "Branches",
    "entities": "Files",
}
OVERVIEW_SPLITS = (
    "projects",
    "languages",
    "editors",
    "operating_systems",
    "machines",
    "categories",
)
# What others may see of a public user: no machine names, no files.
PROFILE_SPLITS = ("projects", "languages", "editors", "operating_systems", "categories")


@dataclass(frozen=True)
class Row:
    name: str
    text: str
    percent: float
    href: str | None = None


@dataclass(frozen=True)
class Split:
    key: str
    title: str
    chart: Markup
    rows: list[Row]


def with_other(split: Sequence[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    """The first `limit` names, and the rest added up as "Other"."""
    head, tail = list(split[:limit]), split[limit:]
    if tail:
        head.append((charts.OTHER, sum(ms for _, ms in tail)))
    return head


def project_href(name: str) -> str:
    return "/projects/" + quote(name, safe="")


def ranked_split(
    key: str,
    split: Sequence[tuple[str, int]],
    total_ms: int,
    limit: int = SPLIT_LIMIT,
    *,
    links: bool = False,
) -> Split:
    """A split's top names as bars and table rows; with `links`, projects link to their page."""
    shown = with_other(split, limit)
    title = SPLIT_TITLES[key]
    marks = [charts.Mark(name, ms, summaries.human_text(ms)) for name, ms in shown]
    rows = [
        Row(
            name,
            summaries.human_text(ms),
            summaries.percent(ms, total_ms),
            project_href(name) if links and name != charts.OTHER else None,
        )
        for name, ms in shown
    ]
    chart = charts.ranked_bars(title, marks, total_ms, axis_label="Share of the time (%)")
    return Split(key, title, chart, rows)


def _day_label(day: date) -> str:
    return f"{charts.WEEKDAYS[day.weekday()]} {day.day}"


@dataclass(frozen=True)
class DayRow:
    day: date
    label: str
    text: str
    detail: str


@dataclass(frozen=True)
class Series:
    chart: Markup
    rows: list[DayRow]


def stacked_days(
    title: str, days: Sequence[date], parts: Sequence[durations.Breakdown], dimension: str
) -> Series:
    """Days as columns stacked by one split; names beyond the period's top ones are "Other"
    on every day alike, so a name has one colour and one place in the stack."""
    combined = durations.combine_ranked([part.splits[dimension] for part in parts])
    kept = [name for name, _ in combined[:SPLIT_LIMIT]]
    columns, rows = [], []
    for day, part in zip(days, parts, strict=True):
        by_name = dict(part.splits[dimension])
        values = [(name, by_name.get(name, 0)) for name in kept]
        other = part.total_ms - sum(ms for _, ms in values)
        if other:
            values.append((charts.OTHER, other))
        marks = [charts.Mark(name, ms, summaries.human_text(ms)) for name, ms in values if ms]
        columns.append(charts.Column(_day_label(day), marks))
        detail = ", ".join(f"{mark.label} {mark.text}" for mark in marks)
        rows.append(DayRow(day, _day_label(day), summaries.human_text(part.total_ms), detail))
    chart = charts.columns(title, columns, x_label="Day", y_label="Hours")
    return Series(chart, rows)


@dataclass(frozen=True)
class GoalStatus:
    title: str
    period: str
    actual_text: str
    target_text: str
    percent: float
    met: bool
    chart: Markup
    rows: list[DayRow]


_STATUS_WORDS = {"success": "met", "fail": "missed", "pending": "in progress"}


async def goal_statuses(
    db: Database, user: User, tz: ZoneInfo, now_ms: int, timeout_ms: int
) -> list[GoalStatus]:
    """Each goal's current period and its recent ones, as `GET .../goals` counts them."""
    result = []
    for goal in await goals.list_goals(db, user.id):
        periods = await goals.progress(db, goal, tz, now_ms, timeout_ms)
        target_ms = goal.seconds * 1000
        columns, rows = [], []
        for period in periods:
            label = (
                _day_label(period.first)
                if goal.period == "day"
                else f"{period.first:%b} {period.first.day}"
            )
            status = _STATUS_WORDS[period.status]
            text = f"{summaries.human_text(period.actual_ms)} ({status})"
            columns.append(charts.Column(label, [charts.Mark(goal.title, period.actual_ms, text)]))
            rows.append(DayRow(period.first, label, summaries.human_text(period.actual_ms), status))
        current = periods[-1]
        chart = charts.columns(
            goal.title,
            columns,
            x_label="Day" if goal.period == "day" else "Week starting",
            y_label="Hours",
            target=target_ms,
            target_text=summaries.human_text(target_ms),
        )
        result.append(
            GoalStatus(
                title=goal.title,
                period="today" if goal.period == "day" else "this week",
                actual_text=summaries.human_text(current.actual_ms),
                target_text=summaries.human_text(target_ms),
                percent=min(100.0, summaries.percent(current.actual_ms, target_ms)),
                met=current.status == "success",
                chart=chart,
                rows=rows,
            )
        )
    return result


@dataclass(frozen=True)
class Calendar:
    heatmap: Markup
    busy_days: list[DayRow]
    hours: Markup
    hour_rows: list[tuple[str, list[str]]]


def calendar(days: Sequence[date], hours: Sequence[dict[int, int]], tz: ZoneInfo) -> Calendar:
    """The year's heatmap and the weekday x hour chart from each day's time per hour."""
    cells, busy = [], []
    grid = [[0] * 24 for _ in range(7)]
    for day, per_hour in zip(days, hours, strict=True):
        total = sum(per_hour.values())
        text = summaries.human_text(total)
        cells.append((day, total, text))
        if total:
            busy.append(DayRow(day, day.isoformat(), text, ""))
        start_ms = timeranges.day_start_ms(day, tz)
        for offset, ms in per_hour.items():
            # Hours are counted from midnight; the clock says which hour it was (DST days).
            local = timeranges.from_ms(start_ms + offset * charts.HOUR_MS, tz)
            grid[local.weekday()][local.hour] += ms
    heatmap = charts.heatmap("Daily time over the last year", cells)
    hour_cells = [[(ms, summaries.human_text(ms)) for ms in row] for row in grid]
    hours_chart = charts.hour_grid("When you code (last year)", hour_cells)
    hour_rows = [
        (charts.WEEKDAYS[weekday], [summaries.clock(ms) for ms in row])
        for weekday, row in enumerate(grid)
    ]
    return Calendar(heatmap, busy, hours_chart, hour_rows)


def week_days(last: date, weeks: int) -> list[date]:
    """From the Monday `weeks - 1` weeks before `last`'s week through `last`."""
    monday = last - timedelta(days=last.weekday(), weeks=weeks - 1)
    return [monday + timedelta(days=n) for n in range((last - monday).days + 1)]


def _buckets(days: Sequence[date], tz: ZoneInfo) -> list[durations.Bucket]:
    return [timeranges.day_range(day, tz).bucket for day in days]


@dataclass(frozen=True)
class Overview:
    today_text: str
    range_total_text: str
    goals: list[GoalStatus]
    week: Series
    splits: list[Split]
    calendar: Calendar


async def overview(
    db: Database, user: User, tz: ZoneInfo, chosen: ChosenRange, now_ms: int, timeout_ms: int
) -> Overview:
    today = timeranges.today(now_ms, tz)
    week = [today - timedelta(days=n) for n in reversed(range(7))]
    year = week_days(today, HEATMAP_WEEKS)
    # Independent reads: the database has a reader connection for each.
    week_parts, ranged, hours = await asyncio.gather(
        durations.breakdowns(
            db, user.id, _buckets(week, tz), dimensions=("projects",), timeout_ms=timeout_ms
        ),
        durations.breakdown(
            db, user.id, chosen.bucket, dimensions=OVERVIEW_SPLITS, timeout_ms=timeout_ms
        ),
        durations.hour_splits(db, user.id, _buckets(year, tz), timeout_ms=timeout_ms),
    )
    return Overview(
        # Today is the week's last day, measured as the status bar measures it.
        today_text=summaries.human_text(week_parts[-1].total_ms),
        range_total_text=summaries.human_text(ranged.total_ms),
        goals=await goal_statuses(db, user, tz, now_ms, timeout_ms),
        week=stacked_days("The last 7 days by project", week, week_parts, "projects"),
        splits=[
            ranked_split(key, ranged.splits[key], ranged.total_ms, links=key == "projects")
            for key in OVERVIEW_SPLITS
        ],
        calendar=calendar(year, hours, tz),
    )


@dataclass(frozen=True)
class ProjectReport:
    name: str
    total_text: str
    last_seen: str
    days: Series
    splits: list[Split]


async def project_report(
    db: Database,
    user: User,
    name: str,
    tz: ZoneInfo,
    chosen: ChosenRange,
    now_ms: int,
    timeout_ms: int,
) -> ProjectReport | None:
    """One project's time, as the API's `filter_by_project` and `summaries?project=` count it;
    None when the user never worked on it."""
    last_seen = await history.project_last_seen(db, user.id, name)
    if last_seen is None:
        return None
    today = timeranges.today(now_ms, tz)
    days = [today - timedelta(days=n) for n in reversed(range(PROJECT_DAYS))]
    filters = {"project": [name]}
    ranged, daily = await asyncio.gather(
        durations.breakdown(
            db,
            user.id,
            chosen.bucket,
            dimensions=("languages", "branches", "entities"),
            timeout_ms=timeout_ms,
            filters=filters,
        ),
        durations.breakdowns(
            db,
            user.id,
            _buckets(days, tz),
            dimensions=("projects",),
            timeout_ms=timeout_ms,
            filters=filters,
        ),
    )
    seen = timeranges.from_ms(last_seen, tz)
    return ProjectReport(
        name=name,
        total_text=summaries.human_text(ranged.total_ms),
        last_seen=f"{seen:%Y-%m-%d %H:%M} ({summaries.time_ago(now_ms - last_seen)})",
        days=stacked_days(f"{name}: the last {PROJECT_DAYS} days", days, daily, "projects"),
        splits=[
            ranked_split("languages", ranged.splits["languages"], ranged.total_ms),
            ranked_split("branches", ranged.splits["branches"], ranged.total_ms),
            ranked_split("entities", ranged.splits["entities"], ranged.total_ms, TOP_FILES),
        ],
    )


@dataclass(frozen=True)
class Profile:
    total_text: str
    splits: list[Split]


async def profile(db: Database, user: User, chosen: ChosenRange, timeout_ms: int) -> Profile:
    """A public user's totals and splits, as `GET /api/v1/users/{username}/stats` gives them."""
    ranged = await durations.breakdown(
        db, user.id, chosen.bucket, dimensions=PROFILE_SPLITS, timeout_ms=timeout_ms
    )
    return Profile(
        total_text=summaries.human_text(ranged.total_ms),
        splits=[ranked_split(key, ranged.splits[key], ranged.total_ms) for key in PROFILE_SPLITS],
    )
