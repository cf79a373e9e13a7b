"""WakaTime-compatible endpoints about heartbeats, served under /api/hackatime/v1 and /api/v1:
ingest, the status bar, the user, projects, a day's heartbeats and durations, file experts."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.routing import Route

from hackatime import (
    durations,
    heartbeats,
    history,
    ingest,
    logs,
    metrics,
    summaries,
    timeranges,
    users,
)
from hackatime.api.common import (
    MAX_PAGE_BYTES,
    caller,
    database,
    next_link,
    now_ms,
    query_cursor,
    query_positive_int,
    read_body,
    read_json,
    request_zone,
    require_self,
    settings,
)
from hackatime.errors import BadRequest
from hackatime.responses import JSONResponse

log = logging.getLogger("hackatime.plugins")
# A day's heartbeats come in pages of at most this many (see MAX_PAGE_BYTES for their size).
DAY_HEARTBEATS_PAGE = 1000
# A day's durations: the first this many, and no more than MAX_PAGE_BYTES of them (a day of
# real work has a few hundred runs).
MAX_DURATIONS = 2000
# Projects come in pages of this many, latest first, as WakaTime pages them.
PROJECTS_PAGE = 100
PLUGIN_ERROR_LOG_CHARS = 2000

STATUSBAR_DIMENSIONS = (
    "categories",
    "languages",
    "projects",
    "editors",
    "operating_systems",
    "machines",
)


async def post_heartbeats(request: Request) -> JSONResponse:
    user = await caller(request, record_zone=True)
    require_self(request, user)
    body = await read_json(request)
    context = heartbeats.RequestContext(
        user_agent=request.headers.get("user-agent"),
        machine=heartbeats.machine_from_header(request.headers.get("x-machine-name")),
        now_ms=now_ms(request),
    )
    if isinstance(body, dict):
        result = heartbeats.normalise(body, context)
        if isinstance(result, list):
            metrics.count_heartbeats(request.app.state, stored=0, rejected=1)
            raise BadRequest("; ".join(result))
        db = database(request)
        (stored,) = await ingest.store(db, user.id, [result])
        metrics.count_heartbeats(request.app.state, stored=1, rejected=0)
        (heartbeat_id,) = await ingest.stored_ids(db, user.id, [stored])
        return JSONResponse(
            {"data": heartbeats.heartbeat_json(stored, id=heartbeat_id, user_id=user.id)},
            status_code=202,
        )
    if not isinstance(body, list):
        raise BadRequest(
            f"Body must be a heartbeat object or an array of them, not {_json_kind(body)}"
        )
    limit = settings(request).max_batch
    if len(body) > limit:
        raise BadRequest(f"At most {limit} heartbeats per request")
    results = [heartbeats.normalise(item, context) for item in body]
    valid = [result for result in results if isinstance(result, heartbeats.Heartbeat)]
    if valid:
        await ingest.store(database(request), user.id, valid)
    metrics.count_heartbeats(
        request.app.state, stored=len(valid), rejected=len(results) - len(valid)
    )
    # 201 even when items are invalid: wakatime-cli requeues a whole batch on a top-level error.
    responses = [
        [{"error": "; ".join(result)}, 400]
        if isinstance(result, list)
        else [{"data": None, "error": None}, 201]
        for result in results
    ]
    return JSONResponse({"responses": responses}, status_code=201)


def _json_kind(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "true, false or null"
    return "a string" if isinstance(value, str) else "a number"


async def statusbar_today(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    zone_name, tz = request_zone(request, user)
    now = now_ms(request)
    day = timeranges.today(now, tz)
    span = timeranges.day_range(day, tz)
    result = await durations.breakdown(
        database(request),
        user.id,
        span.bucket,
        dimensions=STATUSBAR_DIMENSIONS,
        timeout_ms=settings(request).timeout_ms,
    )
    data = {
        "grand_total": summaries.grand_total(result.total_ms),
        **{
            name: summaries.wakatime_items(result.splits[name], result.total_ms)
            for name in STATUSBAR_DIMENSIONS
        },
        "range": summaries.range_json(day, span.start_ms, span.end_ms, zone_name, "Today"),
        "has_team_features": False,
    }
    return JSONResponse(
        {"data": data, "has_team_features": False, "cached_at": timeranges.iso(now)}
    )


async def current_user(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    latest = await history.most_recent(database(request), user.id)
    zone_name = user.zone_name(settings(request).default_timezone)
    return JSONResponse(
        {
            "data": {
                "id": str(user.id),
                "username": user.username,
                "display_name": user.username,
                "full_name": user.username,
                "email": user.email,
                "timezone": zone_name,
                "created_at": timeranges.iso(user.created_at_ms),
                "last_heartbeat_at": timeranges.iso(latest["time_ms"]) if latest else None,
                "last_plugin": latest["user_agent"] if latest else None,
                "last_plugin_name": latest["editor"] if latest else None,
                "last_project": latest["project"] if latest else None,
                "is_email_public": False,
                "photo_public": False,
                "has_premium_features": False,
                "plan": "basic",
            }
        }
    )


def _project_id(user: users.User, name: str) -> str:
    # Stable across calls without a projects table: the same user and name give the same id.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hackatime:{user.id}:{name}"))


async def user_projects(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    now = now_ms(request)
    db = database(request)
    query = request.query_params.get("q")
    page = query_positive_int(request, "page", default=1)
    total = await history.project_count(db, user.id, query)
    total_pages = max(1, -(-total // PROJECTS_PAGE))
    found = await history.projects(
        db, user.id, query, limit=PROJECTS_PAGE, offset=(page - 1) * PROJECTS_PAGE
    )
    return JSONResponse(
        {
            "total": total,
            "total_pages": total_pages,
            "page": page,
            "prev_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < total_pages else None,
            "data": [
                {
                    "id": _project_id(user, project.name),
                    "name": project.name,
                    "last_heartbeat_at": timeranges.iso(project.last_ms),
                    "human_readable_last_heartbeat_at": summaries.time_ago(now - project.last_ms),
                    "created_at": timeranges.iso(project.first_ms),
                    "first_heartbeat_at": timeranges.iso(project.first_ms),
                }
                for project in found
            ],
        }
    )


def _day(request: Request, tz: ZoneInfo) -> date:
    raw = request.query_params.get("date")
    if not raw:
        return timeranges.today(now_ms(request), tz)
    return timeranges.parse_date(raw, "date")


def _day_response(
    data: list[Any], span: timeranges.TimeRange, zone_name: str, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        {
            "data": data,
            "start": timeranges.iso(span.start_ms),
            "end": timeranges.iso(span.end_ms),
            "timezone": zone_name,
            **extra,
        }
    )


async def day_heartbeats(request: Request) -> JSONResponse:
    """A day's heartbeats, DAY_HEARTBEATS_PAGE at most (fewer when they are large): `next`
    links to the rest, as /my/heartbeats does."""
    user = await caller(request)
    require_self(request, user)
    zone_name, tz = request_zone(request, user)
    span = timeranges.day_range(_day(request, tz), tz)
    rows, after = await history.bounded_page(
        database(request),
        user.id,
        span.start_ms,
        span.end_ms,
        query_cursor(request),
        limit=DAY_HEARTBEATS_PAGE,
        max_bytes=MAX_PAGE_BYTES,
    )
    data = [heartbeats.heartbeat_json(row) for row in rows]
    return _day_response(data, span, zone_name, next=next_link(request, after))


async def day_durations(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    zone_name, tz = request_zone(request, user)
    span = timeranges.day_range(_day(request, tz), tz)
    slice_by = request.query_params.get("slice_by") or None
    if slice_by is not None and slice_by not in durations.SLICES:
        raise BadRequest(f"slice_by: must be one of {', '.join(durations.SLICES)}")
    runs = await durations.duration_runs(
        database(request),
        user.id,
        span.bucket,
        timeout_ms=settings(request).timeout_ms,
        slice_by=slice_by,
        project=request.query_params.get("project") or None,
        limit=MAX_DURATIONS,
        max_bytes=MAX_PAGE_BYTES,
    )
    data = []
    for run in runs:
        item: dict[str, Any] = {
            "project": run.project,
            "time": run.start_ms / 1000,
            "duration": run.duration_ms / 1000,
        }
        if slice_by == "dependencies":
            item["dependencies"] = heartbeats.dependencies_list(run.slice_value)
        elif slice_by:
            item[slice_by] = run.slice_value if run.slice_value is not None else durations.UNKNOWN
        data.append(item)
    return _day_response(data, span, zone_name)


async def file_experts(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    body = await read_json(request)
    entity = body.get("entity") if isinstance(body, dict) else None
    if not isinstance(entity, str) or not entity:
        raise BadRequest("entity: required")
    project = body.get("project")
    root_count = body.get("project_root_count")
    db = database(request)
    totals = await durations.file_totals_per_user(
        db,
        user.id,
        entity=entity,
        project=project if isinstance(project, str) and project else None,
        project_root_count=root_count if type(root_count) is int else None,
        timeout_ms=settings(request).timeout_ms,
    )
    experts = []
    for user_id, total_ms in sorted(totals.items(), key=lambda item: -item[1]):
        expert = await users.get_user_by_id(db, user_id)
        if expert is None or not users.may_view_stats(user, expert):
            continue
        experts.append(
            {
                "user": {
                    "id": str(expert.id),
                    "name": expert.username,
                    "long_name": expert.username,
                    "is_current_user": expert.id == user.id,
                },
                "total": {
                    "total_seconds": total_ms / 1000,
                    "text": summaries.human_text(total_ms),
                    "decimal": summaries.decimal_hours(total_ms),
                    "digital": summaries.clock(total_ms),
                },
            }
        )
    return JSONResponse({"data": experts})


async def plugin_errors(request: Request) -> JSONResponse:
    """A plugin's report is logged as it came, never parsed: any body, however deeply nested,
    is one log line of at most PLUGIN_ERROR_LOG_CHARS characters."""
    user = await caller(request)
    body = (await read_body(request)).decode("utf-8", "replace")
    report = logs.printable(body, PLUGIN_ERROR_LOG_CHARS)
    log.warning("plugin error reported by %s: %s", user.username, report)
    return JSONResponse({}, status_code=201)


routes = [
    Route("/", post_heartbeats, methods=["POST"]),
    Route("/users/{user}", current_user, methods=["GET"]),
    Route("/users/{user}/heartbeats", post_heartbeats, methods=["POST"]),
    Route("/users/{user}/heartbeats", day_heartbeats, methods=["GET"]),
    Route("/users/{user}/heartbeats.bulk", post_heartbeats, methods=["POST"]),
    Route("/users/{user}/statusbar/today", statusbar_today, methods=["GET"]),
    Route("/users/{user}/projects", user_projects, methods=["GET"]),
    Route("/users/{user}/durations", day_durations, methods=["GET"]),
    Route("/users/{user}/file_experts", file_experts, methods=["POST"]),
    Route("/plugins/errors", plugin_errors, methods=["POST"]),
]
