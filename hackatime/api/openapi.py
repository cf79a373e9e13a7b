"""The OpenAPI 3.0 description of every route, served at /api/openapi.json.

Written by hand from one table of operations: each row names the API bases it is served under,
so the WakaTime-compatible routes are described once and appear under both /api/hackatime/v1
and /api/v1. Enumerations and bounds are read from the modules that enforce them, so the
document cannot drift from what the server accepts. tests/test_bad_input.py checks that every
served route is described and runs schemathesis against this document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hackatime import durations, goals, heartbeats, summaries, timeranges
from hackatime.api import badges
from hackatime.api.hackatime import HEARTBEAT_PAGE_LIMIT, STATS_FEATURES
from hackatime.api.wakatime import DAY_HEARTBEATS_PAGE, PROJECTS_PAGE
from hackatime.responses import JSONResponse
from hackatime.transfer import writers

if TYPE_CHECKING:
    from starlette.requests import Request

HACKATIME = "/api/hackatime/v1"
WAKATIME = "/api/v1"
BOTH = (HACKATIME, WAKATIME)
SEED = (WAKATIME,)
ROOT = ("/api",)
SITE = ("",)

Schema = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # relative to each base; `{name}` parts are path parameters from PARAMETERS
    id: str
    summary: str
    bases: tuple[str, ...] = BOTH
    query: tuple[str, ...] = ()  # names from PARAMETERS
    body: str | None = None  # a request body schema in SCHEMAS
    status: int = 200
    response: str = "Data"  # the success schema in SCHEMAS
    errors: tuple[int, ...] = (400, 401, 403)
    auth: bool = True
    # Answers without a key too (public users); a key that is sent must still be right.
    key_optional: bool = False
    media_type: str = "application/json"
    # Media types of a file the success answer streams, instead of the `response` schema.
    downloads: tuple[str, ...] = ()


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def _comma_list(description: str, items: Schema) -> Schema:
    # `?features=languages,projects`: an array serialised as one comma-separated value.
    return {
        "style": "form",
        "explode": False,
        "description": description,
        "schema": {"type": "array", "items": items},
    }


_DATE_OR_TIME = "YYYY-MM-DD in the user's time zone, an ISO 8601 datetime, or epoch seconds"
_TIMEZONE = _string("IANA time zone the days are counted in (default: the user's)")

PARAMETERS: dict[str, Schema] = {
    # Path parameters.
    "user": _string("`current`, or the caller's own username or numeric id", example="current"),
    "username": _string(
        "a username, numeric user id, Slack uid, or `my`; `current` answers WakaTime's shape",
        example="my",
    ),
    "range": {
        "description": "a named range, a year (YYYY) or a month (YYYY-MM)",
        "anyOf": [
            {"type": "string", "enum": list(timeranges.STATS_RANGES)},
            {"type": "string", "pattern": "^[0-9]{4}(-[0-9]{2})?$"},
        ],
    },
    "goal_id": {
        "type": "string",
        "description": "a lowercase UUID v4, as wakatime-cli --today-goal requires",
        "pattern": "^" + goals.GOAL_ID_PATTERN.pattern + "$",
    },
    "email": _string("matched ignoring case", format="email"),
    "slack_uid": _string("a Slack user id", example="U0123456789"),
    "public_username": _string(
        "a username, numeric user id or Slack uid; `my` (with a key) is the caller",
        example="my",
    ),
    "project_name": _string("a project's name", example="hackatime"),
    # Query parameters.
    "timezone": _TIMEZONE,
    "date": _string("the day, YYYY-MM-DD (default: today)", format="date"),
    "slice_by": {"type": "string", "enum": list(durations.SLICES)},
    "project": _string("only this project"),
    "branches": _comma_list("only these branches", {"type": "string"}),
    "q": _string("part of a project name"),
    "summary_range": {"type": "string", "enum": list(timeranges.SUMMARY_RANGES)},
    "start": _string(_DATE_OR_TIME),
    "end": _string(_DATE_OR_TIME + "; a date is inclusive"),
    "start_time": _string("same as `start`"),
    "end_time": _string("same as `end`"),
    "start_date": _string(_DATE_OR_TIME),
    "end_date": _string(_DATE_OR_TIME + "; a date is inclusive"),
    "limit": {
        "type": "integer",
        "minimum": 1,
        "description": f"items per list (default and most: {summaries.MAX_LIST_ITEMS})",
    },
    "page": {"type": "integer", "minimum": 1, "description": "which page (default 1)"},
    "heartbeat_limit": {
        "type": "integer",
        "minimum": 1,
        "description": f"page size; larger values count as {HEARTBEAT_PAGE_LIMIT}",
    },
    "features": _comma_list(
        "lists to include (default languages,projects)",
        {"type": "string", "enum": list(STATS_FEATURES)},
    ),
    "filter_by_project": _comma_list("only these projects", {"type": "string"}),
    "filter_by_category": _comma_list("only these categories", {"type": "string"}),
    "stats_username": _string("admins only: another user's stats"),
    "user_email": _string("admins only: another user's stats, by email"),
    "cursor": _string("from a `next` link", pattern="^[0-9]+\\.[0-9]+$"),
    "editor": _string("only heartbeats from this editor (any case)"),
    "language": _string("rank by this language only"),
    "is_including_today": {
        "type": "boolean",
        "description": "sent by github-readme-stats' WakaTime card; ranges always include today",
    },
    "badge_range": _string(
        "the days counted: a WakaTime summary range (`today`, `this_week`, …) or stats range"
        " (`last_30_days`, `all_time`, YYYY, YYYY-MM); default all_time",
        example="last_7_days",
    ),
    "label": _string(
        "the badge's left text (default `hackatime`, or the project's name)",
        maxLength=badges.MAX_LABEL_CHARS,
    ),
    "color": _string(
        "a shields colour name (brightgreen, green, yellowgreen, yellow, orange, red, blue,"
        " grey, lightgrey) or a hex colour; default blue",
        example="brightgreen",
    ),
    "format": {"type": "string", "enum": list(writers.FORMATS), "default": "json"},
}
# Table names that differ from the name on the wire.
_WIRE_NAMES = {
    "summary_range": "range",
    "heartbeat_limit": "limit",
    "stats_username": "username",
    "public_username": "username",
    "project_name": "project",
    "badge_range": "range",
}

_STATS_QUERY = (
    "start_date",
    "end_date",
    "limit",
    "features",
    "filter_by_project",
    "filter_by_category",
)
_FILTERS = ("project", "branches", "timezone")

_JSON = "application/json"
_BADGE = "A flat SVG badge of the user's time (public, non-red users need no key)"
_SHIELDS = "shields.io endpoint-badge JSON of the user's time (public, non-red users need no key)"

OPERATIONS = (
    Operation("GET", "/users/{user}", "user", "The user: id, name, zone, last plugin"),
    Operation(
        "POST",
        "/users/{user}/heartbeats",
        "postHeartbeats",
        "Store one heartbeat (202) or an array of them (201, one result per item)",
        body="HeartbeatBody",
        status=201,
        response="IngestResult",
        errors=(400, 401, 403, 413),
    ),
    # The legacy client (wakatime 13) posts to `api_url` exactly as written in its config.
    *(
        Operation(
            "POST",
            path,
            f"postHeartbeatsAtBase{suffix}",
            "Store heartbeats posted to the base URL itself, as the legacy client sends them",
            body="HeartbeatBody",
            status=201,
            response="IngestResult",
            errors=(400, 401, 413),
        )
        for path, suffix in (("", ""), ("/", "Slash"))
    ),
    Operation(
        "POST",
        "/users/{user}/heartbeats.bulk",
        "postHeartbeatsBulk",
        "Store an array of heartbeats (201, one result per item) or one heartbeat (202)",
        body="HeartbeatBody",
        status=201,
        response="IngestResult",
        errors=(400, 401, 403, 413),
    ),
    Operation(
        "GET",
        "/users/{user}/heartbeats",
        "dayHeartbeats",
        f"A day's heartbeats, at most {DAY_HEARTBEATS_PAGE} a page, paged by `next`",
        query=("date", "timezone", "cursor"),
    ),
    Operation(
        "GET",
        "/users/{user}/statusbar/today",
        "statusbarToday",
        "Today's time, as editor status bars show it",
        query=("timezone",),
        response="StatusBar",
    ),
    Operation(
        "GET",
        "/users/{user}/projects",
        "projects",
        f"Projects, latest first, {PROJECTS_PAGE} a page",
        query=("q", "page"),
    ),
    Operation(
        "GET",
        "/users/{user}/durations",
        "durations",
        "A day's durations",
        query=("date", "timezone", "slice_by", "project"),
    ),
    Operation(
        "POST",
        "/users/{user}/file_experts",
        "fileExperts",
        "Who spent time on a file",
        body="FileExpertsBody",
        errors=(400, 401, 403, 413),
    ),
    Operation(
        "POST",
        "/plugins/errors",
        "pluginErrors",
        "A plugin's diagnostics, logged",
        body="AnyJson",
        status=201,
        response="Empty",
        errors=(400, 401, 413),
    ),
    Operation(
        "GET",
        "/users/{user}/summaries",
        "summaries",
        "Per-day summaries: `range`, or `start` and `end`",
        query=("summary_range", "start", "end", *_FILTERS),
    ),
    # Under /api/v1 the seed's /users/{username}/stats (below) answers this path.
    Operation(
        "GET",
        "/users/{user}/stats",
        "wakatimeStats",
        "WakaTime stats over the last 7 days",
        bases=(HACKATIME,),
        query=_FILTERS,
    ),
    Operation(
        "GET",
        "/users/{user}/stats/{range}",
        "wakatimeStatsRange",
        "WakaTime stats over a range",
        query=_FILTERS,
    ),
    Operation(
        "GET",
        "/users/{user}/all_time_since_today",
        "allTimeSinceToday",
        "Total time since the first heartbeat",
        query=_FILTERS,
    ),
    Operation("GET", "/leaders", "leaders", "Last 7 days' leaderboard", query=("language",)),
    Operation("GET", "/users/{user}/goals", "goals", "Goals", query=("timezone",)),
    Operation(
        "GET",
        "/users/{user}/goals/{goal_id}",
        "goal",
        "One goal",
        query=("timezone",),
        errors=(400, 401, 403, 404),
    ),
    Operation(
        "GET",
        "/stats",
        "ownStats",
        "The caller's stats (admins: anyone's)",
        bases=SEED,
        query=(*_STATS_QUERY, "stats_username", "user_email"),
        response="SeedStats",
        errors=(400, 401, 403, 404),
    ),
    Operation(
        "GET",
        "/my/heartbeats",
        "myHeartbeats",
        "The caller's raw heartbeats, oldest first, paged by `next`",
        bases=SEED,
        query=("start", "end", "start_time", "end_time", "heartbeat_limit", "cursor"),
        response="RawHeartbeats",
        errors=(400, 401),
    ),
    Operation(
        "GET",
        "/my/heartbeats/most_recent",
        "mostRecentHeartbeat",
        "The caller's latest heartbeat",
        bases=SEED,
        query=("editor",),
        response="MostRecent",
        errors=(401,),
    ),
    Operation(
        "GET",
        "/users/lookup_email/{email}",
        "lookupEmail",
        "Admins: a user by email",
        bases=SEED,
        response="Lookup",
        errors=(401, 403, 404),
    ),
    Operation(
        "GET",
        "/users/lookup_slack_uid/{slack_uid}",
        "lookupSlackUid",
        "Admins: a user by Slack uid",
        bases=SEED,
        response="Lookup",
        errors=(401, 403, 404),
    ),
    Operation(
        "GET",
        "/users/{username}/stats",
        "userStats",
        "A user's stats; public, non-red users' also without a key (README cards). Others"
        " are 404 but to themselves and admins",
        bases=SEED,
        query=(*_STATS_QUERY, *_FILTERS, "is_including_today"),
        response="SeedStats",
        errors=(400, 401, 404),
        key_optional=True,
    ),
    Operation(
        "GET",
        "/users/{username}/trust_factor",
        "trustFactor",
        "A user's trust level",
        bases=SEED,
        response="TrustFactor",
        errors=(401, 404),
    ),
    *(
        Operation(
            "GET",
            path,
            operation_id,
            summary,
            bases=SEED,
            query=("badge_range", "label", "color"),
            response=response,
            errors=(400, 401, 404),
            key_optional=True,
            media_type=media_type,
        )
        for path, operation_id, summary, response, media_type in (
            ("/badge/{public_username}", "badge", _BADGE, "Svg", "image/svg+xml"),
            (
                "/badge/{public_username}/{project_name}",
                "projectBadge",
                _BADGE + ", for one project",
                "Svg",
                "image/svg+xml",
            ),
            ("/shields/{public_username}", "shields", _SHIELDS, "ShieldsEndpoint", _JSON),
            (
                "/shields/{public_username}/{project_name}",
                "projectShields",
                _SHIELDS + ", for one project",
                "ShieldsEndpoint",
                _JSON,
            ),
        )
    ),
    Operation(
        "GET",
        "/",
        "terminalOverview",
        "For curl: today, the last 7 days as bars, the week's top projects and languages, as"
        " text within 80 columns (a browser asking for HTML is answered otherwise)",
        bases=SITE,
        query=("timezone",),
        response="Text",
        errors=(400,),
        media_type="text/plain",
    ),
    Operation(
        "GET",
        "/health",
        "health",
        "Whether the server and its database answer; the schema and program versions",
        bases=ROOT,
        response="Health",
        errors=(503,),
        auth=False,
    ),
    Operation(
        "GET",
        "/users/{user}/export",
        "export",
        "Your heartbeats as a file: JSON in WakaTime's data-dump shape, or CSV; all by default",
        bases=SEED,
        query=("format", "start", "end"),
        downloads=tuple(media.split(";")[0] for media in writers.FORMATS.values()),
    ),
    Operation(
        "GET",
        "/openapi.json",
        "openapi",
        "This document",
        bases=ROOT,
        response="AnyJson",
        errors=(),
        auth=False,
    ),
)

_ERROR_TEXT = {
    400: "Bad request: a parameter or the body is invalid; the message names it",
    401: "Missing or invalid API key",
    403: "Not yours to see",
    404: "Not found",
    413: "Body too large",
    429: "Too many failed authentications from this address",
    503: "The database cannot be used; the body says what is wrong",
}

_NULLABLE_STRING = {"type": "string", "nullable": True}
_STRING_OR_INT = {
    "nullable": True,
    "anyOf": [
        {"type": "integer", "minimum": -(2**53) + 1, "maximum": 2**53 - 1},
        {"type": "string", "pattern": "^-?[0-9]{1,15}$"},
    ],
}


def _text(limit: int) -> Schema:
    return {"type": "string", "maxLength": limit, "nullable": True}


SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "Heartbeat": {
        "type": "object",
        "required": ["entity", "time"],
        "properties": {
            "entity": {"type": "string", "minLength": 1, "maxLength": heartbeats.MAX_ENTITY_CHARS},
            "time": {
                "description": "epoch seconds; milli-, micro- and nanoseconds are rescaled",
                "anyOf": [{"type": "number"}, {"type": "string"}],
            },
            "type": {"type": "string", "enum": list(heartbeats.TYPES)},
            "category": _text(heartbeats.MAX_TEXT_CHARS),
            **{name: _text(heartbeats.MAX_TEXT_CHARS) for name in heartbeats.TEXT_FIELDS},
            "is_write": {"type": "boolean", "nullable": True},
            **{name: _STRING_OR_INT for name in heartbeats.INT_FIELDS},
            "dependencies": {
                "type": "array",
                "nullable": True,
                "maxItems": heartbeats.MAX_DEPENDENCIES,
                "items": {"type": "string", "maxLength": heartbeats.MAX_TEXT_CHARS},
            },
        },
    },
    "HeartbeatBody": {
        "oneOf": [
            _ref("Heartbeat"),
            {"type": "array", "maxItems": 100, "items": _ref("Heartbeat")},
        ]
    },
    "IngestResult": {
        "type": "object",
        "description": "201 for an array: one [result, status] pair per item, in order",
        "required": ["responses"],
        "properties": {
            "responses": {
                "type": "array",
                "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {}},
            }
        },
    },
    "Accepted": {
        "type": "object",
        "description": "202 for a single heartbeat: the stored heartbeat",
        "required": ["data"],
        "properties": {"data": {"type": "object"}},
    },
    "FileExpertsBody": {
        "type": "object",
        "required": ["entity"],
        "properties": {"entity": {"type": "string", "minLength": 1}, "project": _NULLABLE_STRING},
    },
    "AnyJson": {},
    "Svg": {"type": "string", "description": "an SVG image"},
    "Text": {"type": "string", "description": "plain UTF-8 text"},
    "ShieldsEndpoint": {
        "type": "object",
        "required": ["schemaVersion", "label", "message", "color"],
        "properties": {
            "schemaVersion": {"type": "integer", "enum": [1]},
            "label": {"type": "string"},
            "message": {"type": "string"},
            "color": {"type": "string"},
            "cacheSeconds": {"type": "integer"},
        },
    },
    "Empty": {"type": "object", "maxProperties": 0},
    "Data": {"type": "object", "required": ["data"], "properties": {"data": {}}},
    "StatusBar": {
        "type": "object",
        "required": ["data", "has_team_features", "cached_at"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["grand_total", "categories", "range", "has_team_features"],
            },
            "has_team_features": {"type": "boolean"},
            "cached_at": {"type": "string"},
        },
    },
    "SeedStats": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "user": {"type": "string"},
            "total_seconds": {"type": "number"},
            "data": {"type": "object"},
            "trust_factor": _ref("TrustFactor"),
        },
    },
    "RawHeartbeats": {
        "type": "object",
        "required": ["heartbeats", "total_seconds", "next"],
        "properties": {
            "start": _NULLABLE_STRING,
            "end": _NULLABLE_STRING,
            "total_seconds": {"type": "number"},
            "heartbeats": {"type": "array", "items": {"type": "object"}},
            "next": _NULLABLE_STRING,
        },
    },
    "MostRecent": {
        "type": "object",
        "required": ["has_heartbeat", "heartbeat"],
        "properties": {
            "has_heartbeat": {"type": "boolean"},
            "heartbeat": {"type": "object", "nullable": True},
            "editor": _NULLABLE_STRING,
            "time_ago": _NULLABLE_STRING,
        },
    },
    "Lookup": {
        "type": "object",
        "required": ["user_id", "username"],
        "properties": {
            "user_id": {"type": "integer"},
            "username": {"type": "string"},
            "email": _NULLABLE_STRING,
            "slack_uid": _NULLABLE_STRING,
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "database", "schema_version", "version"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "error"]},
            "database": {"type": "string", "description": "`ok`, or what is wrong with it"},
            "schema_version": {"type": "integer", "nullable": True},
            "version": {"type": "string"},
        },
    },
    "TrustFactor": {
        "type": "object",
        "required": ["trust_level", "trust_value"],
        "properties": {
            "trust_level": {"type": "string", "enum": ["yellow", "red", "green"]},
            "trust_value": {"type": "integer", "enum": [0, 1, 2]},
        },
    },
}

_SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer KEY"},
    "basic": {
        "type": "http",
        "scheme": "basic",
        "description": "base64 of the key alone, as wakatime-cli sends it (`KEY:` works too)",
    },
    "api_key": {"type": "apiKey", "in": "query", "name": "api_key"},
}
_ANY_KEY = [{"bearer": []}, {"basic": []}, {"api_key": []}]
_PATH_PARAMETER = re.compile(r"\{([^}]+)\}")


def _json(schema: Schema, description: str, media_type: str = "application/json") -> Schema:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _wire_name(name: str) -> str:
    return _WIRE_NAMES.get(name, name)


def _parameter(name: str, where: str) -> Schema:
    entry = dict(PARAMETERS[name])
    spec: Schema = {"name": _wire_name(name), "in": where, "required": where == "path"}
    for key in ("description", "style", "explode"):
        if key in entry:
            spec[key] = entry.pop(key)
    spec["schema"] = entry.pop("schema", entry)
    return spec


def _responses(op: Operation) -> Schema:
    responses = {str(op.status): _json(_ref(op.response), "Success", op.media_type)}
    if op.downloads:
        responses[str(op.status)] = {
            "description": "The file, streamed",
            "content": {media_type: {"schema": {}} for media_type in op.downloads},
        }
    if op.body == "HeartbeatBody":
        responses["202"] = _json(_ref("Accepted"), "A single heartbeat, stored")
    errors = set(op.errors)
    if op.auth:
        errors |= {401, 429}
    for status in sorted(errors):
        # A 503 keeps the success shape, so a monitor reads one document either way.
        response = _json(_ref(op.response if status == 503 else "Error"), _ERROR_TEXT[status])
        if status == 429:
            response["headers"] = {
                "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
            }
        responses[str(status)] = response
    return responses


def _operation(op: Operation, base: str) -> Schema:
    parameters = [_parameter(name, "path") for name in _PATH_PARAMETER.findall(op.path)]
    parameters += [_parameter(name, "query") for name in op.query]
    prefix = base.strip("/").replace("/", "_")
    spec: Schema = {
        "operationId": f"{prefix}_{op.id}" if prefix else op.id,
        "summary": op.summary,
        "parameters": parameters,
        "responses": _responses(op),
    }
    if op.body:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    spec["security"] = ([{}, *_ANY_KEY] if op.key_optional else _ANY_KEY) if op.auth else []
    return spec


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Schema]] = {}
    for op in OPERATIONS:
        path = _PATH_PARAMETER.sub(lambda match: "{" + _wire_name(match[1]) + "}", op.path)
        for base in op.bases:
            methods = paths.setdefault(base + path, {})
            assert op.method.lower() not in methods, f"{op.method} {base}{op.path} twice"
            methods[op.method.lower()] = _operation(op, base)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "hackatime",
            "version": "1",
            "description": "Self-hosted, WakaTime-compatible coding-time tracker. Errors are "
            '`{"error": "..."}` with the status. Each API key works as Bearer, Basic or '
            "`?api_key=`.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": _SECURITY_SCHEMES},
        "security": _ANY_KEY,
    }


async def openapi_endpoint(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())
