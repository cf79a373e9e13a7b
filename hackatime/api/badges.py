"""README badges: a user's (or one project's) time over a range, as an SVG badge drawn here or
as shields.io's endpoint JSON. Public users' badges need no key; a private or red user, and
their projects, are as unknown (404) to anyone but themselves and admins."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hackatime import durations, history, summaries, timeranges, users
from hackatime.api.common import database, now_ms, optional_caller, settings
from hackatime.api.hackatime import visible_user
from hackatime.db import Database
from hackatime.errors import BadRequest
from hackatime.responses import JSONResponse
from hackatime.web import badges

DEFAULT_RANGE = "all_time"
DEFAULT_LABEL = "hackatime"
DEFAULT_COLOR = "blue"
MAX_LABEL_CHARS = 100
# Long enough that a README's images do not ask on every view, short enough to look live.
CACHE_SECONDS = 300


def range_dates(name: str, today: date, first_day: date | None) -> tuple[date, date]:
    """A badge's days: any of WakaTime's summary ranges (`today`, `this_week`, …) or its stats
    ranges (`last_30_days`, `all_time`, `2026`, …)."""
    if timeranges.range_key(name) in timeranges.SUMMARY_RANGES:
        return timeranges.summary_range_dates(name, today)
    first, last, _, _ = timeranges.stats_range_dates(name, today, first_day)
    return first, last


async def time_in_range(
    db: Database,
    user: users.User,
    range_name: str,
    tz: ZoneInfo,
    now: int,
    timeout_ms: int,
    project: str | None,
) -> int:
    """The total WakaTime's stats (and summaries) give for the range: the sum of its days."""
    today = timeranges.today(now, tz)
    span = await history.time_span(db, user.id)
    first_day = None if span is None else timeranges.local_date(span[0], tz)
    first, last = range_dates(range_name, today, first_day)
    buckets = [day.bucket for _, day in timeranges.days_in(first, last, tz)]
    filters = {"project": [project] if project else []}
    daily = await durations.breakdowns(db, user.id, buckets, timeout_ms=timeout_ms, filters=filters)
    return durations.combine(daily).total_ms


def _text_param(request: Request, name: str, default: str) -> str:
    value = request.query_params.get(name)
    if value is None or not value.strip():
        return default
    if len(value) > MAX_LABEL_CHARS:
        raise BadRequest(f"{name}: at most {MAX_LABEL_CHARS} characters")
    return value


async def _badge_parts(request: Request) -> tuple[str, str, str, users.User]:
    """Label, message, colour and the user whose time it is."""
    viewer = await optional_caller(request)
    target = await visible_user(request, viewer, request.path_params["username"])
    project = request.path_params.get("project")
    zone = timeranges.user_zone(target, settings(request).default_timezone)
    total_ms = await time_in_range(
        database(request),
        target,
        _text_param(request, "range", DEFAULT_RANGE),
        zone,
        now_ms(request),
        settings(request).timeout_ms,
        project,
    )
    label = _text_param(request, "label", project or DEFAULT_LABEL)
    color = badges.resolve_color(request.query_params.get("color"), DEFAULT_COLOR)
    return label, summaries.human_text(total_ms), color, target


def _cache_control(target: users.User) -> str:
    # A badge seen only with its owner's key must not sit in a shared cache.
    scope = "public" if users.is_listed(target) else "private"
    return f"{scope}, max-age={CACHE_SECONDS}"


async def badge(request: Request) -> Response:
    label, message, color, target = await _badge_parts(request)
    return Response(
        badges.flat_badge(label, message, color),
        media_type="image/svg+xml",
        headers={"Cache-Control": _cache_control(target)},
    )


async def shields(request: Request) -> JSONResponse:
    label, message, color, target = await _badge_parts(request)
    return JSONResponse(
        badges.shields_endpoint(label, message, color, CACHE_SECONDS),
        headers={"Cache-Control": _cache_control(target)},
    )


routes = [
    Route("/badge/{username}", badge, methods=["GET"]),
    Route("/badge/{username}/{project}", badge, methods=["GET"]),
    Route("/shields/{username}", shields, methods=["GET"]),
    Route("/shields/{username}/{project}", shields, methods=["GET"]),
]
