from __future__ import annotations

import logging
import sqlite3
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hackatime.dbcheck import is_disk_full
from hackatime.errors import ApiError
from hackatime.logs import printable

log = logging.getLogger("hackatime")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.headers)


_HTTP_MESSAGES = {404: "Not found", 405: "Method not allowed"}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
    return error_response(exc.status_code, message, exc.headers)


def _logged_path(request: Request) -> str:
    # The path is decoded: %0A in it would otherwise start a forged line.
    return printable(request.url.path, 2000)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, _logged_path(request), exc_info=exc)
    return error_response(500, "Internal server error")


# Seconds a client is asked to wait before sending again what the full disk refused.
DISK_FULL_RETRY_AFTER = 300


async def database_error_handler(request: Request, exc: Exception) -> Response:
    """A write the disk has no room for: nothing of the request was stored (its transaction
    rolled back), and it is accepted again once space is freed; clients keep it queued."""
    assert isinstance(exc, sqlite3.Error)
    if not is_disk_full(exc):
        return await server_error_handler(request, exc)
    log.warning("disk full: %s %s was refused with 507", request.method, _logged_path(request))
    return error_response(
        507,
        "The server's disk is full: nothing from this request was stored; send it again later",
        {"Retry-After": str(DISK_FULL_RETRY_AFTER)},
    )


exception_handlers = {
    ApiError: api_error_handler,
    HTTPException: http_error_handler,
    sqlite3.Error: database_error_handler,
    Exception: server_error_handler,
}
