"""Coding goals ("2 hours a day on my-app") and how each period went, WakaTime's way."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from hackatime import durations, timeranges
from hackatime.db import Database
from hackatime.users import UserError, get_user_by_name

PERIODS = ("day", "week")
# How many periods a goal's chart shows, the current one last.
CHART_PERIODS = 7
# wakatime-cli's --today-goal refuses any other shape of goal id.
GOAL_ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Goal:
    id: str
    user_id: int
    title: str
    seconds: int
    period: str
    project: str | None
    language: str | None
    created_at_ms: int

    @property
    def filters(self) -> dict[str, list[str]]:
        return {
            "project": [self.project] if self.project else [],
            "language": [self.language] if self.language else [],
        }


@dataclass(frozen=True)
class PeriodProgress:
    first: date
    last: date
    start_ms: int
    end_ms: int
    actual_ms: int
    status: str  # "success", "fail" or "pending" (the period is still running)


_COLUMNS = "id, user_id, title, seconds, period, project, language, created_at_ms"
# The rowid follows creation (the migration to UUID ids kept the old order).
_ORDER = "ORDER BY rowid"


def _goal(row: sqlite3.Row) -> Goal:
    return Goal(*row)


async def add_goal(
    db: Database,
    username: str,
    *,
    title: str,
    seconds: int,
    period: str,
    project: str | None = None,
    language: str | None = None,
) -> Goal:
    problems = []
    if not title.strip():
        problems.append("title must not be empty")
    if seconds <= 0:
        problems.append(f"seconds must be positive, got {seconds}")
    if period not in PERIODS:
        problems.append(f"period must be day or week, got {period!r}")
    user = await get_user_by_name(db, username)
    if user is None:
        problems.append(f"no user named {username!r}")
    if problems:
        raise UserError("; ".join(problems))
    assert user is not None
    rows = await db.write(
        "INSERT INTO goals"
        " (id, user_id, title, seconds, period, project, language, created_at_ms)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (
            str(uuid.uuid4()),
            user.id,
            title.strip(),
            seconds,
            period,
            project or None,
            language or None,
            int(time.time() * 1000),
        ),
    )
    return _goal(rows[0])


def is_goal_id(text: str) -> bool:
    return GOAL_ID_PATTERN.fullmatch(text) is not None


async def remove_goal(db: Database, goal_id: str) -> None:
    if not await db.write("DELETE FROM goals WHERE id = ? RETURNING id", (goal_id,)):
        raise UserError(f"no goal with id {goal_id}")


async def get_goal(db: Database, goal_id: str, user_id: int | None = None) -> Goal | None:
    if not is_goal_id(goal_id):
        return None
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM goals WHERE id = ? AND (? IS NULL OR user_id = ?)",
        (goal_id, user_id, user_id),
    )
    return None if row is None else _goal(row)


async def list_goals(db: Database, user_id: int | None = None) -> list[Goal]:
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM goals WHERE ? IS NULL OR user_id = ? {_ORDER}",
        (user_id, user_id),
    )
    return [_goal(row) for row in rows]


def _period_days(goal: Goal, today: date) -> list[tuple[date, date]]:
    """The chart's periods, oldest first, ending with the one holding today."""
    if goal.period == "day":
        return [(today - timedelta(days=n),) * 2 for n in reversed(range(CHART_PERIODS))]
    monday = today - timedelta(days=today.weekday())
    return [
        (monday - timedelta(weeks=n), monday - timedelta(weeks=n) + timedelta(days=6))
        for n in reversed(range(CHART_PERIODS))
    ]


async def progress(
    db: Database, goal: Goal, tz: ZoneInfo, now_ms: int, timeout_ms: int
) -> list[PeriodProgress]:
    """Each chart period's time on the goal's project/language, each day its own range as in
    summaries, and whether the goal was met."""
    today = timeranges.today(now_ms, tz)
    periods = _period_days(goal, today)
    days = timeranges.days_in(periods[0][0], periods[-1][1], tz)
    totals = await durations.breakdowns(
        db,
        goal.user_id,
        [span.bucket for _, span in days],
        timeout_ms=timeout_ms,
        filters=goal.filters,
    )
    per_day = {day: result.total_ms for (day, _), result in zip(days, totals, strict=True)}
    result = []
    for first, last in periods:
        actual_ms = sum(ms for day, ms in per_day.items() if first <= day <= last)
        if actual_ms >= goal.seconds * 1000:
            status = "success"
        elif last >= today:
            status = "pending"
        else:
            status = "fail"
        period = timeranges.dates_bucket(first, last, tz)
        result.append(
            PeriodProgress(
                first=first,
                last=last,
                start_ms=period.start_ms,
                end_ms=period.end_ms,
                actual_ms=actual_ms,
                status=status,
            )
        )
    return result
