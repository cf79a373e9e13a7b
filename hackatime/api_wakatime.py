"""WakaTime-compatible endpoints, served under both /api/hackatime/v1 and /api/v1."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.routing import Route

from hackatime import durations, heartbeats, summaries, timeranges
from hackatime.api_common import caller, database, now_ms, read_json, require_self, settings
from hackatime.errors import BadRequest
from hackatime.responses import JSONResponse

log = logging.getLogger("hackatime.plugins")

STATUSBAR_DIMENSIONS = (
    "categories",
    "languages",
    "projects",
    "editors",
    "operating_systems",
    "machines",
)


async def post_heartbeats(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    body = await read_json(request)
    context = heartbeats.RequestContext(
        user_agent=request.headers.get("user-agent"),
        machine=heartbeats.machine_from_header(request.headers.get("x-machine-name")),
        now_ms=now_ms(),
    )
    if isinstance(body, dict):
        result = heartbeats.normalise(body, context)
        if isinstance(result, list):
            raise BadRequest("; ".join(result))
        ((heartbeat_id, stored),) = await heartbeats.store(database(request), user.id, [result])
        return JSONResponse(
            {"data": heartbeats.heartbeat_json(stored, id=heartbeat_id, user_id=user.id)},
            status_code=202,
        )
    if not isinstance(body, list):
        raise BadRequest("Body must be a heartbeat object or an array of them")
    limit = settings(request).max_batch
    if len(body) > limit:
        raise BadRequest(f"At most {limit} heartbeats per request")
    results = [heartbeats.normalise(item, context) for item in body]
    valid = [result for result in results if isinstance(result, heartbeats.Heartbeat)]
    if valid:
        await heartbeats.store(database(request), user.id, valid)
    # 201 even when items are invalid: wakatime-cli requeues a whole batch on a top-level error.
    responses = [
        [{"error": "; ".join(result)}, 400]
        if isinstance(result, list)
        else [{"data": None, "error": None}, 201]
        for result in results
    ]
    return JSONResponse({"responses": responses}, status_code=201)


async def statusbar_today(request: Request) -> JSONResponse:
    user = await caller(request)
    require_self(request, user)
    zone_name = user.zone_name(settings(request).default_timezone)
    tz = timeranges.zone(zone_name)
    now = now_ms()
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
        "range": {
            "date": day.isoformat(),
            "start": timeranges.iso(span.start_ms),
            "end": timeranges.iso(span.end_ms),
            "timezone": zone_name,
            "text": "Today",
        },
        "has_team_features": False,
    }
    return JSONResponse(
        {"data": data, "has_team_features": False, "cached_at": timeranges.iso(now)}
    )


async def plugin_errors(request: Request) -> JSONResponse:
    user = await caller(request)
    body = await read_json(request)
    log.warning("plugin error reported by %s: %s", user.username, str(body)[:2000])
    return JSONResponse({}, status_code=201)


routes = [
    Route("/users/{user}/heartbeats", post_heartbeats, methods=["POST"]),
    Route("/users/{user}/heartbeats.bulk", post_heartbeats, methods=["POST"]),
    Route("/users/{user}/statusbar/today", statusbar_today, methods=["GET"]),
    Route("/plugins/errors", plugin_errors, methods=["POST"]),
]
