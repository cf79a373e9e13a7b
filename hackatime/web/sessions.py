"""Signing in to the dashboard: a random token in a cookie, only its SHA-256 in SQLite.

A session ends when it expires, when its user signs out, or when the user's key changes (the
`web_sessions_end_with_key` trigger in schema.sql, so the CLI's rotation ends them too). Forms
that change something carry a token derived from the session's and are refused when posted
from another origin.
"""

from __future__ import annotations

import hashlib
import secrets

from starlette.requests import Request
from starlette.responses import Response

from hackatime import users
from hackatime.db import Database

COOKIE = "hackatime_session"
LIFETIME_MS = 30 * 86_400_000

_START = (
    "INSERT INTO web_sessions (token_sha256, user_id, created_at_ms, expires_at_ms)"
    " VALUES (?, ?, ?, ?)"
)
_FORGET_EXPIRED = "DELETE FROM web_sessions WHERE expires_at_ms <= ?"
_USER_OF = "SELECT user_id FROM web_sessions WHERE token_sha256 = ? AND expires_at_ms > ?"
_END = "DELETE FROM web_sessions WHERE token_sha256 = ?"


def csrf_token(token: str) -> str:
    """The hidden form field of a session: tied to its cookie, useless without it."""
    return hashlib.sha256(f"csrf:{token}".encode()).hexdigest()


async def start(db: Database, user_id: int, now_ms: int) -> str:
    """A new session for the user; its token, to be set as the cookie."""
    await db.write(_FORGET_EXPIRED, (now_ms,))
    token = secrets.token_urlsafe(32)
    await db.write(_START, (users.key_digest(token), user_id, now_ms, now_ms + LIFETIME_MS))
    return token


async def user_of(db: Database, token: str, now_ms: int) -> users.User | None:
    user_id = await db.fetch_value(_USER_OF, (users.key_digest(token), now_ms))
    return None if user_id is None else await users.get_user_by_id(db, user_id)


async def end(db: Database, token: str) -> None:
    await db.write(_END, (users.key_digest(token),))


def cookie_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=LIFETIME_MS // 1000,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )


def same_origin(request: Request) -> bool:
    """Whether a form post came from one of our own pages.

    Browsers send Origin on every cross-site POST; when it is absent (old browsers, curl) the
    CSRF token alone decides.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    return origin == f"{request.url.scheme}://{request.url.netloc}"


def form_is_ours(request: Request, token: str, form_csrf: object) -> bool:
    return (
        same_origin(request)
        and isinstance(form_csrf, str)
        and secrets.compare_digest(form_csrf, csrf_token(token))
    )
