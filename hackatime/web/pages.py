"""The dashboard's pages: each endpoint finds the signed-in user, asks reports.py for its numbers
and renders a template. A page that is not found or refused answers HTML too; paths that no
route knows, and failures of the server itself, get the API's JSON error."""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hackatime import timeranges, users
from hackatime.api.common import count_auth_failure, database, now_ms, read_body, settings
from hackatime.errors import PayloadTooLarge, TooManyRequests
from hackatime.web import ranges, reports, sessions, terminal

_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")

# Forms hold a key or a zone name: a few hundred bytes. Anything much larger is not ours.
MAX_FORM_BYTES = 8192
# Everything a page loads comes from this server; inline SVG needs nothing more.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class _Session:
    user: users.User
    token: str


async def _session(request: Request) -> _Session | None:
    token = sessions.cookie_token(request)
    if token is None:
        return None
    user = await sessions.user_of(database(request), token, now_ms(request))
    return None if user is None else _Session(user, token)


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    session: _Session | None = None,
    status: int = 200,
) -> Response:
    context = {
        "user": session.user if session else None,
        "csrf": sessions.csrf_token(session.token) if session else "",
        **context,
    }
    response = templates.TemplateResponse(
        request, template, context, status_code=status, headers=_HEADERS
    )
    if session is None and sessions.cookie_token(request):
        # The cookie's session has ended: forget it in the browser too.
        sessions.clear_cookie(response, request)
    return response


def _not_found(request: Request, session: _Session | None) -> Response:
    return _render(request, "not_found.html", {"title": "Not found"}, session, status=404)


def _forbidden(request: Request, session: _Session | None) -> Response:
    message = "This form was not sent from this dashboard. Reload the page and try again."
    return _render(request, "error.html", {"title": "Refused", "message": message}, session, 403)


async def _form(request: Request) -> dict[str, str] | None:
    """A urlencoded form's fields; None when it is too large to be one of ours."""
    try:
        body = await read_body(request, MAX_FORM_BYTES)
    except PayloadTooLarge:
        return None
    return dict(parse_qsl(body.decode("utf-8", errors="replace")))


def _zone(request: Request, user: users.User) -> ZoneInfo:
    return timeranges.user_zone(user, settings(request).default_timezone)


def _range(request: Request, tz: ZoneInfo, default: str) -> ranges.ChosenRange:
    params = request.query_params
    today = timeranges.today(now_ms(request), tz)
    return ranges.choose_range(
        params.get("range"), params.get("start"), params.get("end"), today, tz, default
    )


def _range_context(request: Request, chosen: ranges.ChosenRange) -> dict[str, Any]:
    # The scope's path is decoded: a project named "a#b" needs its "#" encoded again in links.
    return {"chosen": chosen, "ranges": ranges.RANGES, "path": quote(request.scope["path"])}


async def overview(request: Request) -> Response:
    # curl with a key asks for `*/*`: it gets the overview as text rather than a sign-in form.
    if terminal.wants_terminal_text(request):
        return await terminal.terminal_overview(request)
    session = await _session(request)
    if session is None:
        return _render(request, "signin.html", {"title": "Sign in"})
    tz = _zone(request, session.user)
    chosen = _range(request, tz, "last_7_days")
    report = await reports.overview(
        database(request), session.user, tz, chosen, now_ms(request), settings(request).timeout_ms
    )
    context = {"title": "Overview", "report": report, **_range_context(request, chosen)}
    return _render(request, "overview.html", context, session)


async def sign_in(request: Request) -> Response:
    form = await _form(request)
    if form is None or not sessions.same_origin(request):
        return _forbidden(request, None)
    db = database(request)
    user = await users.get_user_by_key(db, form.get("key", "").strip())
    if user is None:
        try:
            count_auth_failure(request)
        except TooManyRequests as error:
            context = {"title": "Sign in", "error": error.message}
            response = _render(request, "signin.html", context, status=429)
            response.headers.update(error.headers or {})
            return response
        context = {"title": "Sign in", "error": "That is not a valid API key."}
        return _render(request, "signin.html", context, status=401)
    token = await sessions.start(db, user.id, now_ms(request))
    response = RedirectResponse("/", status_code=303)
    sessions.set_cookie(response, request, token)
    return response


async def sign_out(request: Request) -> Response:
    session = await _session(request)
    form = await _form(request)
    response = RedirectResponse("/", status_code=303)
    if session is None:
        sessions.clear_cookie(response, request)
        return response
    if form is None or not sessions.form_is_ours(request, session.token, form.get("csrf")):
        return _forbidden(request, session)
    await sessions.end(database(request), session.token)
    sessions.clear_cookie(response, request)
    return response


async def project(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return RedirectResponse("/", status_code=303)
    tz = _zone(request, session.user)
    chosen = _range(request, tz, "all_time")
    name = request.path_params["name"]
    report = await reports.project_report(
        database(request),
        session.user,
        name,
        tz,
        chosen,
        now_ms(request),
        settings(request).timeout_ms,
    )
    if report is None:
        return _not_found(request, session)
    context = {"title": name, "report": report, **_range_context(request, chosen)}
    return _render(request, "project.html", context, session)


async def goals_page(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return RedirectResponse("/", status_code=303)
    statuses = await reports.goal_statuses(
        database(request),
        session.user,
        _zone(request, session.user),
        now_ms(request),
        settings(request).timeout_ms,
    )
    return _render(request, "goals.html", {"title": "Goals", "goals": statuses}, session)


@functools.cache
def _zone_names() -> tuple[str, ...]:
    # available_timezones() walks the zone files on disk at every call, on the event loop (16 ms
    # on a desktop); the settings page needs the list only once per process.
    return tuple(sorted(zoneinfo.available_timezones()))


def _settings_context(
    request: Request, user: users.User, *, new_key: str | None = None, error: str | None = None
) -> dict[str, Any]:
    return {
        "title": "Settings",
        "zones": _zone_names(),
        "zone_in_use": user.zone_name(settings(request).default_timezone),
        "api_url": f"{str(request.base_url).rstrip('/')}/api/hackatime/v1",
        "new_key": new_key,
        "error": error,
    }


async def settings_page(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return RedirectResponse("/", status_code=303)
    context = _settings_context(request, session.user)
    return _render(request, "settings.html", context, session)


async def save_settings(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return RedirectResponse("/", status_code=303)
    form = await _form(request)
    if form is None or not sessions.form_is_ours(request, session.token, form.get("csrf")):
        return _forbidden(request, session)
    try:
        await users.update_user(
            database(request),
            session.user.username,
            timezone=form.get("timezone", "").strip(),
            is_public=form.get("public") == "on",
        )
    except users.UserError as error:
        context = _settings_context(request, session.user, error=str(error))
        return _render(request, "settings.html", context, session, status=400)
    return RedirectResponse("/settings", status_code=303)


async def rotate_key(request: Request) -> Response:
    """A new key, shown once. Every session of the user ends with the old key; this browser
    gets a new one, since it just proved it holds the account."""
    session = await _session(request)
    if session is None:
        return RedirectResponse("/", status_code=303)
    form = await _form(request)
    if form is None or not sessions.form_is_ours(request, session.token, form.get("csrf")):
        return _forbidden(request, session)
    db = database(request)
    key = await users.rotate_key(db, session.user.username)
    renewed = _Session(session.user, await sessions.start(db, session.user.id, now_ms(request)))
    context = _settings_context(request, session.user, new_key=key)
    response = _render(request, "settings.html", context, renewed)
    sessions.set_cookie(response, request, renewed.token)
    return response


async def public_profile(request: Request) -> Response:
    session = await _session(request)
    db = database(request)
    target = await users.get_user_by_name(db, request.path_params["username"])
    viewer = session.user if session else None
    if target is None or not users.may_view_stats(viewer, target):
        return _not_found(request, session)
    tz = _zone(request, target)
    chosen = _range(request, tz, "last_7_days")
    report = await reports.profile(db, target, chosen, settings(request).timeout_ms)
    context = {
        "title": target.username,
        "target": target,
        "report": report,
        **_range_context(request, chosen),
    }
    return _render(request, "profile.html", context, session)


routes = [
    Route("/", overview, methods=["GET"]),
    Route("/signin", sign_in, methods=["POST"]),
    Route("/signout", sign_out, methods=["POST"]),
    Route("/projects/{name:path}", project, methods=["GET"]),
    Route("/goals", goals_page, methods=["GET"]),
    Route("/settings", settings_page, methods=["GET"]),
    Route("/settings", save_settings, methods=["POST"]),
    Route("/settings/key", rotate_key, methods=["POST"]),
    Route("/@{username}", public_profile, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
]
