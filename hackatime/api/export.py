"""The signed-in user's export, streamed as a file: JSON in WakaTime's dump shape, or CSV."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from hackatime import timeranges
from hackatime.api.common import caller, database, now_ms, require_self, settings
from hackatime.errors import BadRequest
from hackatime.transfer import writers


async def export(request: Request) -> StreamingResponse:
    user = await caller(request)
    require_self(request, user)
    file_format = request.query_params.get("format") or "json"
    if file_format not in writers.FORMATS:
        raise BadRequest(f"format: must be one of {', '.join(writers.FORMATS)}")
    db = database(request)
    tz = timeranges.user_zone(user, settings(request).default_timezone)
    now = now_ms(request)
    first_ms, end_ms = await writers.default_range(db, user.id, now)
    span = timeranges.resolve_range(
        request.query_params.get("start"),
        request.query_params.get("end"),
        tz,
        default_start_ms=first_ms,
        default_end_ms=end_ms,
    )
    today = timeranges.today(now, tz)
    filename = f"hackatime-{user.id}-{today.isoformat()}.{file_format}"
    return StreamingResponse(
        writers.export_chunks(
            db, user, start_ms=span.start_ms, end_ms=span.end_ms, tz=tz, file_format=file_format
        ),
        media_type=writers.FORMATS[file_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


routes = [Route("/users/{user}/export", export, methods=["GET"])]
