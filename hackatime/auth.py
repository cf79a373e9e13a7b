from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from hackatime.db import Database
from hackatime.errors import Unauthorized
from hackatime.users import User, get_user_by_key


def extract_api_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key from `Authorization: Bearer`, `Authorization: Basic base64(key)` or `?api_key=`.

    wakatime-cli sends Basic with the key alone; some clients send `key:` (an empty password),
    so a trailing colon is dropped.
    """
    header = headers.get("authorization", "").strip()
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.removesuffix(":") or None
    return query.get("api_key") or None


def offers_key(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """Whether a request offers a key at all, well-formed or not: only such a request can be a
    failed sign-in. A README card or a badge asks with none."""
    return bool(headers.get("authorization", "").strip()) or "api_key" in query


async def authenticate(db: Database, headers: Mapping[str, str], query: Mapping[str, str]) -> User:
    key = extract_api_key(headers, query)
    if key is None:
        raise Unauthorized("Missing API key")
    user = await get_user_by_key(db, key)
    if user is None:
        raise Unauthorized("Invalid API key")
    return user
