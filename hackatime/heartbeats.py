"""Heartbeats: what clients send turned into `Heartbeat`s, and their API shape.

`normalise` is pure: it checks and converts one item and collects every problem it finds.
Storing them is `ingest.py`'s.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import orjson

from hackatime.languages import language_for_entity
from hackatime.timeranges import iso

TYPES = ("file", "domain", "url", "event", "app")
PLACEHOLDERS = {
    "project": "<<LAST_PROJECT>>",
    "language": "<<LAST_LANGUAGE>>",
    "branch": "<<LAST_BRANCH>>",
}
EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_FUTURE_MS = 3_600_000
MAX_ENTITY_CHARS = 4096
MAX_TEXT_CHARS = 1024
MAX_DEPENDENCIES = 500
INT_FIELDS = (
    "lineno",
    "cursorpos",
    "lines",
    "line_additions",
    "line_deletions",
    "project_root_count",
    "ai_line_changes",
    "human_line_changes",
)
TEXT_FIELDS = ("project", "branch", "language", "machine", "user_agent")
# Past 2**53 a number no longer survives a round trip through JSON clients; no line number or
# cursor position comes near it, so larger values are refused rather than stored.
_INT_LIMIT = 2**53


# Not frozen: a frozen dataclass's __init__ costs four times as much, and ingest builds one for
# every heartbeat it receives. Treat it as a value all the same: `replace` makes changed copies.
@dataclass
class Heartbeat:
    time_ms: int
    entity: str
    type: str
    category: str
    project: str | None = None
    branch: str | None = None
    language: str | None = None
    editor: str | None = None
    operating_system: str | None = None
    machine: str | None = None
    is_write: bool | None = None
    lineno: int | None = None
    cursorpos: int | None = None
    lines: int | None = None
    dependencies: tuple[str, ...] | None = None
    line_additions: int | None = None
    line_deletions: int | None = None
    project_root_count: int | None = None
    ai_line_changes: int | None = None
    human_line_changes: int | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class RequestContext:
    """What the request adds to every item: its User-Agent, X-Machine-Name and the clock."""

    user_agent: str | None
    machine: str | None
    now_ms: int

    @functools.cached_property
    def conversions(self) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
        """_CONVERSIONS with the time's, whose bound comes from the request's clock."""
        entity, *rest = _CONVERSIONS
        return (entity, ("time", functools.partial(_time_ms, now_ms=self.now_ms)), *rest)

    @functools.cached_property
    def header_fields(self) -> tuple[str | None, str | None]:
        """The headers as the fields they stand in for (user_agent, machine).

        Bounds are per field: a header past MAX_TEXT_CHARS is cut to it, and one holding a NUL
        is ignored, so the items of a batch that carry their own value are never refused for a
        header they do not use.
        """
        return _header_text(self.user_agent), _header_text(self.machine)


def _header_text(value: str | None) -> str | None:
    if value is None or "\x00" in value:
        return None
    return value[:MAX_TEXT_CHARS].strip() or None


def machine_from_header(value: str | None) -> str | None:
    # Browser plugins URL-encode the header, with `+` for spaces.
    return unquote_plus(value).strip() or None if value else None


@functools.lru_cache(maxsize=256)
def parse_user_agent(user_agent: str | None) -> tuple[str | None, str | None]:
    """Editor and operating system from a WakaTime user agent.

    `wakatime/v1.90.0 (linux-6.1.0-rpi-arm64) go1.22.1 vim/9.1.0 vim-wakatime/11.2.0`
    gives ("vim", "Linux"); the legacy Python client puts `platform.platform()` in the
    parentheses, e.g. `Linux-6.1.0-x86_64-with-glibc2.36`.
    """
    if not user_agent:
        return None, None
    editor_match = _EDITOR.search(user_agent)
    editor = editor_match.group(1).lower() if editor_match else None
    os_match = _PLATFORM.search(user_agent)
    operating_system = None
    if os_match:
        system = os_match.group(1).lower()
        operating_system = _OS_NAMES.get(system, system.capitalize())
    return editor, operating_system


_EDITOR = re.compile(r"(?:^|\s)([^\s/]+)-wakatime/")
_PLATFORM = re.compile(r"\(([A-Za-z]+)[-_\s;)]")
_OS_NAMES = {
    "linux": "Linux",
    "darwin": "macOS",
    "macos": "macOS",
    "windows": "Windows",
    "win32": "Windows",
    "freebsd": "FreeBSD",
    "openbsd": "OpenBSD",
    "netbsd": "NetBSD",
    "android": "Android",
    "ios": "iOS",
}


class _Invalid(ValueError):
    """What is wrong with a field's value, said after the field's name."""


def _time_ms(value: Any, now_ms: int) -> int:
    # Clients send a float: that case is decided first.
    seconds = value if type(value) is float else _seconds(value)
    if not math.isfinite(seconds):
        raise _Invalid("must be finite")
    # Clients in other languages send milli-, micro- or nanosecond epochs.
    if abs(seconds) >= 1e11:
        for threshold, divisor in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
            if abs(seconds) >= threshold:
                seconds /= divisor
                break
    time_ms = round(seconds * 1000)
    if time_ms < EARLIEST_MS:
        raise _Invalid("before 2000-01-01")
    if time_ms > now_ms + MAX_FUTURE_MS:
        raise _Invalid("more than an hour in the future")
    return time_ms


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise _Invalid("required, epoch seconds")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Invalid(f"{value[:40]!r} is not a number") from None
    if not isinstance(value, int | float):
        raise _Invalid("must be a number of epoch seconds")
    try:
        return float(value)
    except OverflowError:
        raise _Invalid("out of range") from None


def _int(value: Any) -> int | None:
    # Clients send plain integers: that case is decided first.
    if type(value) is not int:
        value = _whole_number(value)
    if value is not None and not -_INT_LIMIT < value < _INT_LIMIT:
        raise _Invalid("out of range")
    return value


def _whole_number(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise _Invalid(f"{value[:40]!r} is not a whole number") from None
    if not isinstance(value, int):
        raise _Invalid("must be a whole number")
    return value


def _text(value: Any, limit: int = MAX_TEXT_CHARS) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("must be a string")
    if len(value) > limit:
        raise _Invalid(f"longer than {limit} characters")
    if "\x00" in value:
        raise _Invalid("contains a NUL character")
    return value.strip() or None


def _entity(value: Any) -> str:
    entity = _text(value, MAX_ENTITY_CHARS)
    if entity is None:
        raise _Invalid("required")
    return entity


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise _Invalid("must be true or false")


def _dependencies(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise _Invalid("must be a list of strings")
    # One pass that checks, strips and dedupes; a wrong type anywhere is reported before a size.
    too_many = len(value) > MAX_DEPENDENCIES
    names: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str):
            raise _Invalid("must be a list of strings")
        too_many = too_many or len(item) > MAX_TEXT_CHARS
        if name := item.strip():
            # Each dependency once: its time is the heartbeat's, credited once per name.
            names[name] = None
    if too_many:
        raise _Invalid(f"at most {MAX_DEPENDENCIES} of {MAX_TEXT_CHARS} characters")
    return tuple(names) or None


def _type(value: Any) -> str:
    kind = value or "file"
    if kind not in TYPES:
        raise _Invalid(f"must be one of {', '.join(TYPES)}")
    return kind


# How each field of an item is checked and converted, in the order problems are reported; the
# time's comes second (see RequestContext.conversions).
_CONVERSIONS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("entity", _entity),
    ("type", _type),
    ("category", _text),
    *((name, _text) for name in TEXT_FIELDS),
    *((name, _int) for name in INT_FIELDS),
    ("is_write", _bool),
    ("dependencies", _dependencies),
)


def _convert(
    raw: dict[str, Any], conversions: tuple[tuple[str, Callable[[Any], Any]], ...]
) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, conversion in conversions:
        try:
            values[name] = conversion(raw.get(name))
        except _Invalid as invalid:
            problems.append(f"{name}: {invalid}")
    return values, problems


def normalise(raw: Any, context: RequestContext) -> Heartbeat | list[str]:
    """One item as a Heartbeat, or the list of everything wrong with it."""
    if not isinstance(raw, dict):
        return ["heartbeat must be a JSON object"]
    values, problems = _convert(raw, context.conversions)
    if problems:
        return problems
    # The request's headers stand in for missing fields.
    header_agent, header_machine = context.header_fields
    values["time_ms"] = values.pop("time")
    values["category"] = values["category"] or "coding"
    values["user_agent"] = values["user_agent"] or header_agent
    values["machine"] = header_machine or values["machine"]
    values["editor"], values["operating_system"] = parse_user_agent(values["user_agent"])
    if values["language"] is None and values["type"] == "file":
        values["language"] = language_for_entity(values["entity"])
    return Heartbeat(**values)


def dependencies_list(stored: str | None) -> list[str]:
    """The `dependencies` column (a JSON array, or NULL) as a list."""
    return list(orjson.loads(stored)) if stored else []


def _fields(heartbeat: Heartbeat) -> dict[str, Any]:
    # A shallow copy: dataclasses.asdict deep-copies every value.
    return dict(vars(heartbeat))


def heartbeat_json(heartbeat: Heartbeat | dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The API shape of a heartbeat: time in epoch seconds, like WakaTime's."""
    data = _fields(heartbeat) if isinstance(heartbeat, Heartbeat) else dict(heartbeat)
    time_ms = data.pop("time_ms")
    data.pop("gap_next_ms", None)
    data.pop("user_id", None)
    dependencies = data.get("dependencies")
    data["dependencies"] = (
        dependencies_list(dependencies)
        if isinstance(dependencies, str | None)
        else list(dependencies)
    )
    if data.get("is_write") is not None:
        data["is_write"] = bool(data["is_write"])
    created_at_ms = data.pop("created_at_ms", None)
    result = {"time": time_ms / 1000, **data, **extra}
    if created_at_ms is not None:
        result["created_at"] = iso(created_at_ms)
    return result
