"""The Hackatime API of the seed: stats, raw heartbeats, user lookups, trust factor.

Every answer carries the seed's documented fields; stats add Hackatime's richer shape under
`data`, so scripts written for hackatime.hackclub.com read it unchanged.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.routing import Route

from hackatime import (
    durations,
    heartbeats,
    history,
    summaries,
    timeranges,
    users,
)
from hackatime.api import wakatime_stats
from hackatime.api.common import (
    MAX_PAGE_BYTES,
    caller,
    database,
    next_link,
    now_ms,
    optional_caller,
    query_cursor,
    query_list,
    query_positive_int,
    settings,
)
from hackatime.errors import BadRequest, Forbidden, NotFound, Unauthorized
from hackatime.responses import JSONResponse

STATS_FEATURES = ("languages", "projects", "editors", "operating_systems", "machines", "categories")
DEFAULT_FEATURES = ("languages", "projects")
HEARTBEAT_PAGE_LIMIT = 100


def _trust_factor(user: users.User) -> dict[str, Any]:
    return {"trust_level": user.trust_level, "trust_value": user.trust_value}


# One answer for a user nobody may see and for one who does not exist, so that neither its
# status nor its body tells them apart.
_NO_SUCH_USER = "User not found"


async def _named_user(request: Request, viewer: users.User | None, ident: str) -> users.User:
    """A user named in a path: `my` (or `current`) is the caller; 404 when nobody matches or
    the caller may not see them. A Slack uid names a user only to admins (as its lookup does)
    and to its owner."""
    if ident in users.SELF_ALIASES:
        if viewer is None:
            raise Unauthorized("Missing API key")
        return viewer
    by_slack_uid = viewer is not None and (viewer.is_admin or ident == viewer.slack_uid)
    target = await users.find_user(database(request), ident, by_slack_uid=by_slack_uid)
    if target is None or not users.may_view_profile(viewer, target):
        raise NotFound(_NO_SUCH_USER)
    return target


async def visible_user(request: Request, viewer: users.User | None, ident: str) -> users.User:
    """The user whose stats are asked for; one the viewer may not see is as unknown (404), so
    that a private user's name cannot be told from a free one."""
    target = await _named_user(request, viewer, ident)
    if not users.may_view_stats(viewer, target):
        raise NotFound(_NO_SUCH_USER)
    return target


def _features(request: Request) -> list[str]:
    features = query_list(request, "features") or list(DEFAULT_FEATURES)
    unknown = [name for name in features if name not in STATS_FEATURES]
    if unknown:
        raise BadRequest(
            f"features: unknown {', '.join(unknown)}; choose from {', '.join(STATS_FEATURES)}"
        )
    return list(dict.fromkeys(features))


async def _stats(request: Request, target: users.User) -> JSONResponse:
    """Shared by /stats and /users/{username}/stats: the rule over the range, shaped twice."""
    db = database(request)
    zone_name = target.zone_name(settings(request).default_timezone)
    tz = timeranges.zone(zone_name)
    start_param = request.query_params.get("start_date")
    end_param = request.query_params.get("end_date")
    span = timeranges.resolve_range(
        start_param,
        end_param,
        tz,
        default_start_ms=timeranges.ALL_TIME.start_ms,
        default_end_ms=timeranges.ALL_TIME.end_ms,
        start_name="start_date",
        end_name="end_date",
    )
    features = _features(request)
    limit = query_positive_int(
        request, "limit", default=summaries.MAX_LIST_ITEMS, maximum=summaries.MAX_LIST_ITEMS
    )
    filters = {
        "project": query_list(request, "filter_by_project"),
        "category": query_list(request, "filter_by_category"),
    }
    result = await durations.breakdown(
        db,
        target.id,
        span.bucket,
        dimensions=features,
        timeout_ms=settings(request).timeout_ms,
        filters=filters,
    )
    all_time = not start_param and not end_param
    first_ms, last_ms = await _shown_bounds(
        request, target, span, bool(start_param), bool(end_param)
    )
    # Hackatime's average: the total spread over the range's length in days (at least one).
    days = max((last_ms - first_ms) / 86_400_000, 1.0)
    average_ms = round(result.total_ms / days)
    lists = {
        name: summaries.hackatime_items(result.splits[name], result.total_ms, limit)
        for name in features
    }
    data = {
        "username": target.username,
        "user_id": str(target.id),
        "start": timeranges.iso(first_ms),
        "end": timeranges.iso(last_ms),
        "range": "all_time" if all_time else "custom",
        "human_readable_range": "All Time" if all_time else _human_range(first_ms, last_ms, tz),
        "timezone": zone_name,
        "total_seconds": result.total_ms / 1000,
        "daily_average": average_ms / 1000,
        "human_readable_total": summaries.human_text(result.total_ms),
        "human_readable_daily_average": summaries.human_text(average_ms),
        **lists,
        # github-readme-stats' WakaTime card says "not public" unless these are true.
        "is_coding_activity_visible": users.is_listed(target),
        "is_other_usage_visible": users.is_listed(target),
        "is_up_to_date": True,
        "status": "ok",
    }
    return JSONResponse(
        {
            "user": target.username,
            "total_seconds": summaries.whole_seconds(result.total_ms),
            **lists,
            "data": data,
            "trust_factor": _trust_factor(target),
        }
    )


async def _shown_bounds(
    request: Request,
    target: users.User,
    span: timeranges.TimeRange,
    start_given: bool,
    end_given: bool,
) -> tuple[int, int]:
    """The range to print: an open end runs to the first or last heartbeat, as in Hackatime."""
    if start_given and end_given:
        return span.start_ms, span.end_ms
    stored = await history.time_span(database(request), target.id)
    if stored is None:
        now = now_ms(request)
        stored = (now, now)
    return (
        span.start_ms if start_given else stored[0],
        span.end_ms if end_given else max(stored[1], span.start_ms if start_given else stored[1]),
    )


def _human_range(start_ms: int, end_ms: int, tz: ZoneInfo) -> str:
    first = timeranges.local_date(start_ms, tz)
    last = timeranges.local_date(max(start_ms, end_ms - 1), tz)
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


async def user_stats(request: Request) -> JSONResponse:
    if request.path_params["username"] == "current":
        # `current` is WakaTime's name for the caller: its clients want WakaTime's stats shape.
        return await wakatime_stats.user_stats(request)
    # Public: README cards ask with no key.
    viewer = await optional_caller(request)
    target = await visible_user(request, viewer, request.path_params["username"])
    return await _stats(request, target)


async def own_stats(request: Request) -> JSONResponse:
    viewer = await caller(request)
    db = database(request)
    username = request.query_params.get("username")
    email = request.query_params.get("user_email")
    target = viewer
    if username or email:
        if not viewer.is_admin:
            raise Forbidden("Only admins may ask for another user's stats")
        found = (
            await users.find_user(db, username)
            if username
            else await users.get_user_by_email(db, email or "")
        )
        if found is None:
            raise NotFound(_NO_SUCH_USER)
        target = found
    return await _stats(request, target)


def _heartbeat_range(request: Request, tz: ZoneInfo) -> timeranges.TimeRange:
    params = request.query_params
    start_name = "start" if "start" in params else "start_time"
    end_name = "end" if "end" in params else "end_time"
    return timeranges.resolve_range(
        params.get(start_name),
        params.get(end_name),
        tz,
        default_start_ms=timeranges.ALL_TIME.start_ms,
        default_end_ms=timeranges.ALL_TIME.end_ms,
        start_name=start_name,
        end_name=end_name,
    )


async def my_heartbeats(request: Request) -> JSONResponse:
    user = await caller(request)
    db = database(request)
    tz = timeranges.user_zone(user, settings(request).default_timezone)
    span = _heartbeat_range(request, tz)
    limit = query_positive_int(
        request, "limit", default=HEARTBEAT_PAGE_LIMIT, maximum=HEARTBEAT_PAGE_LIMIT
    )
    rows, after = await history.bounded_page(
        db,
        user.id,
        span.start_ms,
        span.end_ms,
        query_cursor(request),
        limit=limit,
        max_bytes=MAX_PAGE_BYTES,
    )
    total = await durations.breakdown(
        db, user.id, span.bucket, timeout_ms=settings(request).timeout_ms
    )
    next_url = next_link(request, after)
    return JSONResponse(
        {
            "start": timeranges.iso(span.start_ms) if span.start_ms else None,
            "end": timeranges.iso(span.end_ms)
            if span.end_ms != timeranges.ALL_TIME.end_ms
            else None,
            "total_seconds": total.total_ms / 1000,
            "heartbeats": [heartbeats.heartbeat_json(row) for row in rows],
            "next": next_url,
        }
    )


async def most_recent_heartbeat(request: Request) -> JSONResponse:
    user = await caller(request)
    editor = request.query_params.get("editor") or None
    row = await history.most_recent(database(request), user.id, editor)
    if row is None:
        return JSONResponse(
            {"has_heartbeat": False, "heartbeat": None, "editor": editor, "time_ago": None}
        )
    return JSONResponse(
        {
            "has_heartbeat": True,
            "heartbeat": heartbeats.heartbeat_json(row),
            "editor": row["editor"],
            "time_ago": summaries.time_ago(now_ms(request) - row["time_ms"]),
        }
    )


async def _admin(request: Request) -> users.User:
    viewer = await caller(request)
    if not viewer.is_admin:
        raise Forbidden("Admin key required")
    return viewer


async def lookup_email(request: Request) -> JSONResponse:
    await _admin(request)
    found = await users.get_user_by_email(database(request), request.path_params["email"])
    if found is None:
        raise NotFound("User not found")
    return JSONResponse({"user_id": found.id, "username": found.username, "email": found.email})


async def lookup_slack_uid(request: Request) -> JSONResponse:
    await _admin(request)
    found = await users.get_user_by_slack_uid(database(request), request.path_params["slack_uid"])
    if found is None:
        raise NotFound("User not found")
    return JSONResponse(
        {"user_id": found.id, "username": found.username, "slack_uid": found.slack_uid}
    )


async def trust_factor(request: Request) -> JSONResponse:
    viewer = await caller(request)
    target = await _named_user(request, viewer, request.path_params["username"])
    return JSONResponse(_trust_factor(target))


routes = [
    Route("/stats", own_stats, methods=["GET"]),
    Route("/my/heartbeats", my_heartbeats, methods=["GET"]),
    Route("/my/heartbeats/most_recent", most_recent_heartbeat, methods=["GET"]),
    Route("/users/lookup_email/{email}", lookup_email, methods=["GET"]),
    Route("/users/lookup_slack_uid/{slack_uid}", lookup_slack_uid, methods=["GET"]),
    Route("/users/{username}/stats", user_stats, methods=["GET"]),
    Route("/users/{username}/trust_factor", trust_factor, methods=["GET"]),
]
