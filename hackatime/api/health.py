"""GET /api/health: whether the server and its database answer, for monitors and service
managers; no key needed, nothing about users in it."""

from __future__ import annotations

import logging
import sqlite3

from starlette.requests import Request

from hackatime import __version__
from hackatime.api.common import database
from hackatime.responses import JSONResponse

log = logging.getLogger("hackatime.health")

# Reads the header (the schema version) and a table page: both fail on a missing or damaged file.
SCHEMA_VERSION = "SELECT user_version, (SELECT count(*) FROM users) FROM pragma_user_version"


async def health(request: Request) -> JSONResponse:
    try:
        row = await database(request).fetch_one(SCHEMA_VERSION)
    except (sqlite3.Error, OSError, RuntimeError) as error:
        log.warning("health check: the database does not answer: %s", error)
        return JSONResponse(
            {
                "status": "error",
                "database": str(error) or type(error).__name__,
                "schema_version": None,
                "version": __version__,
            },
            status_code=503,
        )
    assert row is not None
    return JSONResponse(
        {"status": "ok", "database": "ok", "schema_version": row[0], "version": __version__}
    )
