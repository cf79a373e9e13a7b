"""Logging setup for the server: keys never reach the access log, and what clients send never
writes a line of its own or a terminal escape into the log."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

# A query parameter: `?` or `&`, a name, `=`, a value. Starlette decodes names, so
# `?api%5Fkey=` authenticates as well as `?api_key=` and must be redacted as well.
_QUERY_PAIR = re.compile(r"(?P<lead>[?&])(?P<name>[^=&#\s]*)=(?P<value>[^&#\s]*)")


# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: anything that could end
# a log line early, forge another, or drive the terminal reading the log.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str, limit: int | None = None) -> str:
    """Text from a client made safe for one log line: controls escaped (`\\n`, `\\x1b`), and
    at most `limit` characters of the original kept."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _UNPRINTABLE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return match[0].encode("unicode_escape").decode("ascii")


def _redact_pair(match: re.Match[str]) -> str:
    if unquote_plus(match["name"]).strip().lower() != "api_key":
        return match[0]
    return f"{match['lead']}{match['name']}=[redacted]"


def redact(text: str) -> str:
    return _QUERY_PAIR.sub(_redact_pair, text)


class RedactApiKeys(logging.Filter):
    """uvicorn logs the full path with its query string, where `?api_key=` may sit."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        record.msg = redact(str(record.msg))
        return True


def redact_access_log() -> None:
    """Hide keys from uvicorn's access log, however the app is served; once per process."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactApiKeys) for existing in access.filters):
        access.addFilter(RedactApiKeys())


def configure() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    redact_access_log()
