"""WakaTime's reporting endpoints: summaries, stats, all_time_since_today and leaders,
served under /api/hackatime/v1 and /api/v1."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.routing import Route

from hackatime import durations, history, summaries, timeranges, users
from hackatime.api.common import (
    caller,
    database,
    now_ms,
    query_list,
    request_zone,
    require_self,
    settings,
)
from hackatime.errors import BadRequest
from hackatime.responses import JSONResponse

SUMMARY_DIMENSIONS = (
    "categories",
    "projects",
    "languages",
    "editors",
    "operating_systems",
    "machines",
)
PROJECT_DIMENSIONS = ("branches", "entities")
STATS_DIMENSIONS = SUMMARY_DIMENSIONS
DEFAULT_STATS_RANGE = "last_7_days"


def _filters(request: Request) -> dict[str, list[str]]:
    project = request.query_params.get("project")
    return {"project": [project] if project else [], "branch": query_list(request, "branches")}


def _summary_dates(request: Request, today: date, tz: ZoneInfo) -> tuple[date, date]:
    named = request.query_params.get("range")
    if named:
        return timeranges.summary_range_dates(named, today)
    start, end = request.query_params.get("start"), request.query_params.get("end")
    if not start or not end:
        raise BadRequest("start and end (YYYY-MM-DD), or range, are required")
    first = _date_param(start, "start", today, tz)
    last = _date_param(end, "end", today, tz)
    if first > last:
        raise BadRequest("start: after end")
    if (last - first).days >= 366 * 2:
        raise BadRequest("start: summaries cover at most two years at a time")
    return first, last


def _date_param(value: str, name: str, today: date, tz: ZoneInfo) -> date:
    # WakaTime's clients also send `today`, ISO datetimes and epoch seconds here.
    if value.strip().lower() == "today":
        return today
    return timeranges.local_date(timeranges.parse_moment(value, tz, name), tz)


async def user_summaries(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    zone_name, tz = request_zone(request, user)
    today = timeranges.today(now_ms(request), tz)
    first, last = _summary_dates(request, today, tz)
    days = timeranges.days_in(first, last, tz)
    buckets = [span.bucket for _, span in days]
    filters = _filters(request)
    dimensions = SUMMARY_DIMENSIONS + (PROJECT_DIMENSIONS if filters["project"] else ())
    db = database(request)
    timeout_ms = settings(request).timeout_ms
    results = await durations.breakdowns(
        db, user.id, buckets, dimensions=dimensions, timeout_ms=timeout_ms, filters=filters
    )
    dependencies = await durations.dependency_splits(
        db, user.id, buckets, timeout_ms=timeout_ms, filters=filters
    )
    # One list per dimension and one of dependencies, every day.
    limit = summaries.list_limit(len(days) * (len(dimensions) + 1))
    data = []
    for (day, span), result, day_dependencies in zip(days, results, dependencies, strict=True):
        entry: dict[str, Any] = {
            "grand_total": summaries.grand_total(result.total_ms),
            **{
                name: summaries.wakatime_items(result.splits[name], result.total_ms, limit)
                for name in dimensions
            },
            "dependencies": summaries.wakatime_items(day_dependencies, result.total_ms, limit),
            "range": summaries.range_json(
                day, span.start_ms, span.end_ms, zone_name, summaries.day_text(day, today)
            ),
        }
        data.append(entry)
    total_ms = sum(result.total_ms for result in results)
    active_days, average_ms = _daily_average(results)
    return JSONResponse(
        {
            "data": data,
            "cumulative_total": {
                "seconds": total_ms / 1000,
                "text": summaries.human_text(total_ms),
                "digital": summaries.clock(total_ms),
                "decimal": summaries.decimal_hours(total_ms),
            },
            "daily_average": {
                "holidays": len(days) - active_days,
                "days_including_holidays": len(days),
                "days_minus_holidays": active_days,
                "seconds": average_ms / 1000,
                "text": summaries.human_text(average_ms),
                "seconds_including_other_language": average_ms / 1000,
                "text_including_other_language": summaries.human_text(average_ms),
            },
            "start": timeranges.iso(days[0][1].start_ms),
            "end": timeranges.iso(days[-1][1].end_ms - 1000),
        }
    )


def _daily_average(days: list[durations.Breakdown]) -> tuple[int, int]:
    """WakaTime's average: over the days with any coding, not over days off ("holidays")."""
    active = sum(1 for day in days if day.total_ms)
    total = sum(day.total_ms for day in days)
    return active, total // active if active else 0


async def _first_day(request: Request, user: users.User, tz: ZoneInfo) -> date | None:
    span = await history.time_span(database(request), user.id)
    return None if span is None else timeranges.local_date(span[0], tz)


async def user_stats(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    zone_name, tz = request_zone(request, user)
    today = timeranges.today(now_ms(request), tz)
    range_name = request.path_params.get("range", DEFAULT_STATS_RANGE)
    first, last, range_key, human_range = timeranges.stats_range_dates(
        range_name, today, await _first_day(request, user, tz)
    )
    days = timeranges.days_in(first, last, tz)
    buckets = [span.bucket for _, span in days]
    db = database(request)
    timeout_ms = settings(request).timeout_ms
    filters = _filters(request)
    daily = await durations.breakdowns(
        db, user.id, buckets, dimensions=STATS_DIMENSIONS, timeout_ms=timeout_ms, filters=filters
    )
    result = durations.combine(daily)
    dependencies = durations.combine_ranked(
        await durations.dependency_splits(
            db, user.id, buckets, timeout_ms=timeout_ms, filters=filters
        )
    )
    active_days, average_ms = _daily_average(daily)
    best = max(zip(days, daily, strict=True), key=lambda pair: pair[1].total_ms, default=None)
    best_day = None
    if best is not None and best[1].total_ms:
        best_day = {
            "date": best[0][0].isoformat(),
            "total_seconds": best[1].total_ms / 1000,
            "text": summaries.human_text(best[1].total_ms),
        }
    lists = {
        name: summaries.wakatime_items(result.splits[name], result.total_ms)
        for name in STATS_DIMENSIONS
    }
    return JSONResponse(
        {
            "data": {
                "id": str(user.id),
                "user_id": str(user.id),
                "username": user.username,
                "range": range_key,
                "human_readable_range": human_range,
                "start": timeranges.iso(buckets[0].start_ms),
                "end": timeranges.iso(buckets[-1].end_ms - 1000),
                "timezone": zone_name,
                "timeout": settings(request).timeout_seconds // 60,
                "writes_only": False,
                "total_seconds": result.total_ms / 1000,
                "total_seconds_including_other_language": result.total_ms / 1000,
                "human_readable_total": summaries.human_text(result.total_ms),
                "human_readable_total_including_other_language": summaries.human_text(
                    result.total_ms
                ),
                "daily_average": average_ms / 1000,
                "daily_average_including_other_language": average_ms / 1000,
                "human_readable_daily_average": summaries.human_text(average_ms),
                "human_readable_daily_average_including_other_language": summaries.human_text(
                    average_ms
                ),
                "holidays": len(days) - active_days,
                "days_including_holidays": len(days),
                "days_minus_holidays": active_days,
                **lists,
                "dependencies": summaries.wakatime_items(dependencies, result.total_ms),
                "best_day": best_day,
                "is_up_to_date": True,
                "is_already_updating": False,
                "is_stuck": False,
                "is_including_today": last >= today,
                "is_coding_activity_visible": users.is_listed(user),
                "is_other_usage_visible": users.is_listed(user),
                "percent_calculated": 100,
                "status": "ok",
            }
        }
    )


async def all_time_since_today(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    zone_name, tz = request_zone(request, user)
    today = timeranges.today(now_ms(request), tz)
    first = await _first_day(request, user, tz) or today
    days = timeranges.days_in(min(first, today), today, tz)
    buckets = [span.bucket for _, span in days]
    daily = await durations.breakdowns(
        database(request),
        user.id,
        buckets,
        timeout_ms=settings(request).timeout_ms,
        filters=_filters(request),
    )
    result = durations.combine(daily)
    _, average_ms = _daily_average(daily)
    first_day, last_day = days[0][0], days[-1][0]
    return JSONResponse(
        {
            "data": {
                "total_seconds": result.total_ms / 1000,
                "text": summaries.human_text(result.total_ms),
                "decimal": summaries.decimal_hours(result.total_ms),
                "digital": summaries.clock(result.total_ms),
                "daily_average": average_ms / 1000,
                "is_up_to_date": True,
                "percent_calculated": 100,
                "range": {
                    "start": timeranges.iso(buckets[0].start_ms),
                    "start_date": first_day.isoformat(),
                    "start_text": summaries.day_text(first_day, today),
                    "end": timeranges.iso(buckets[-1].end_ms - 1000),
                    "end_date": last_day.isoformat(),
                    "end_text": summaries.day_text(last_day, today),
                    "timezone": zone_name,
                },
                "timeout": settings(request).timeout_seconds // 60,
            }
        }
    )


async def leaders(request: Request) -> JSONResponse:
    """The last 7 days of every public, non-red user, ranked; the caller's own rank beside."""
    viewer = await caller(request)
    db = database(request)
    zone_name = settings(request).default_timezone
    tz = timeranges.zone(zone_name)
    today = timeranges.today(now_ms(request), tz)
    first = today - timedelta(days=6)
    buckets = [span.bucket for _, span in timeranges.days_in(first, today, tz)]
    language = request.query_params.get("language") or None
    filters = {"language": [language] if language else []}
    timeout_ms = settings(request).timeout_ms
    ranked = []
    for member in await users.list_users(db):
        if not users.is_listed(member):
            continue
        result = durations.combine(
            await durations.breakdowns(
                db,
                member.id,
                buckets,
                dimensions=("languages",),
                timeout_ms=timeout_ms,
                filters=filters,
            )
        )
        if result.total_ms:
            ranked.append((member, result))
    ranked.sort(key=lambda pair: (-pair[1].total_ms, pair[0].username))
    entries = []
    current = None
    for rank, (member, result) in enumerate(ranked, start=1):
        average_ms = result.total_ms // 7
        entry = {
            "rank": rank,
            "running_total": {
                "total_seconds": result.total_ms / 1000,
                "human_readable_total": summaries.human_text(result.total_ms),
                "daily_average": average_ms / 1000,
                "human_readable_daily_average": summaries.human_text(average_ms),
                "languages": [
                    {"name": name, "total_seconds": ms / 1000}
                    for name, ms in result.splits["languages"][: summaries.MAX_LIST_ITEMS]
                ],
            },
            "user": {
                "id": str(member.id),
                "username": member.username,
                "display_name": member.username,
                "full_name": member.username,
                "is_email_public": False,
                "photo_public": False,
            },
        }
        entries.append(entry)
        if member.id == viewer.id:
            current = {
                "rank": rank,
                "page": 1,
                "running_total": entry["running_total"],
                "user": entry["user"],
            }
    return JSONResponse(
        {
            "data": entries,
            "current_user": current,
            "language": language,
            "range": {
                "name": "last_7_days",
                "text": "Last 7 Days",
                "start_date": first.isoformat(),
                "start_text": summaries.day_text(first, today),
                "end_date": today.isoformat(),
                "end_text": summaries.day_text(today, today),
                "timezone": zone_name,
            },
            "page": 1,
            "total_pages": 1,
            "modified_at": timeranges.iso(now_ms(request)),
        }
    )


routes = [
    Route("/users/{user}/summaries", user_summaries, methods=["GET"]),
    Route("/users/{user}/stats", user_stats, methods=["GET"]),
    Route("/users/{user}/stats/{range}", user_stats, methods=["GET"]),
    Route("/users/{user}/all_time_since_today", all_time_since_today, methods=["GET"]),
    Route("/leaders", leaders, methods=["GET"]),
]
