"""WakaTime's goals endpoints; `wakatime-cli --today-goal ID` reads the last chart entry."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from hackatime import goals, summaries, timeranges
from hackatime.api.common import caller, database, now_ms, request_zone, require_self, settings
from hackatime.errors import NotFound
from hackatime.responses import JSONResponse
from hackatime.users import User


async def _goal_json(request: Request, user: User, goal: goals.Goal) -> dict[str, Any]:
    zone_name, tz = request_zone(request, user)
    now = now_ms(request)
    today = timeranges.today(now, tz)
    periods = await goals.progress(database(request), goal, tz, now, settings(request).timeout_ms)
    goal_ms = goal.seconds * 1000
    chart = []
    for period in periods:
        text = (
            summaries.day_text(period.first, today)
            if goal.period == "day"
            else f"{period.first.isoformat()} to {period.last.isoformat()}"
        )
        chart.append(
            {
                "range": {
                    **summaries.range_json(
                        period.first, period.start_ms, period.end_ms, zone_name, text
                    ),
                    "start_date": period.first.isoformat(),
                    "end_date": period.last.isoformat(),
                },
                "actual_seconds": period.actual_ms / 1000,
                "actual_seconds_text": summaries.human_text(period.actual_ms),
                "goal_seconds": goal.seconds,
                "goal_seconds_text": summaries.human_text(goal_ms),
                "range_status": period.status,
                "range_status_reason": _reason(period, goal_ms),
            }
        )
    current = periods[-1]
    return {
        "id": goal.id,
        "title": goal.title,
        "custom_title": goal.title,
        "type": "coding",
        "delta": goal.period,
        "seconds": goal.seconds,
        "status": current.status,
        "is_enabled": True,
        "is_inverse": False,
        "is_snoozed": False,
        "is_tweeting": False,
        "ignore_days": [],
        "ignore_zero_days": False,
        "improve_by_percent": None,
        "languages": [goal.language] if goal.language else [],
        "projects": [goal.project] if goal.project else [],
        "editors": [],
        "categories": [],
        "range_text": f"{summaries.human_text(goal_ms)} per {goal.period}",
        "chart_data": chart,
        "created_at": timeranges.iso(goal.created_at_ms),
        "modified_at": timeranges.iso(goal.created_at_ms),
    }


def _reason(period: goals.PeriodProgress, goal_ms: int) -> str:
    actual = summaries.human_text(period.actual_ms)
    target = summaries.human_text(goal_ms)
    if period.status == "success":
        return f"Coded {actual}, reaching the goal of {target}."
    if period.status == "pending":
        return f"Coded {actual} so far of {target}."
    return f"Coded {actual}, short of the goal of {target}."


async def list_goals(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    found = await goals.list_goals(database(request), user.id)
    data = [await _goal_json(request, user, goal) for goal in found]
    return JSONResponse({"data": data, "total": len(data), "total_pages": 1})


async def show_goal(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    goal = await goals.get_goal(database(request), request.path_params["goal_id"], user.id)
    if goal is None:
        raise NotFound("Goal not found")
    return JSONResponse({"data": await _goal_json(request, user, goal)})


routes = [
    Route("/users/{user}/goals", list_goals, methods=["GET"]),
    Route("/users/{user}/goals/{goal_id}", show_goal, methods=["GET"]),
]
