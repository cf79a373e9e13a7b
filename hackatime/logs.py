"""Logging setup for the server: keys never reach the access log."""

from __future__ import annotations

import logging
import re

_KEY_IN_QUERY = re.compile(r"(api_key=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    return _KEY_IN_QUERY.sub(r"\1[redacted]", text)


class RedactApiKeys(logging.Filter):
    """uvicorn logs the full path with its query string, where `?api_key=` may sit."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        record.msg = redact(str(record.msg))
        return True


def configure() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    logging.getLogger("uvicorn.access").addFilter(RedactApiKeys())
