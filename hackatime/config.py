from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """A setting has a value the server cannot start with; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("data/hackatime.db")
    host: str = "127.0.0.1"
    port: int = 3000
    # Hackatime's rule: a gap between two heartbeats counts for at most this many seconds.
    timeout_seconds: int = 120
    # Zone for users who never set one and whose clients never sent a Timezone header.
    default_timezone: str = "UTC"
    max_body_bytes: int = 1024 * 1024
    max_batch: int = 100
    read_connections: int = 2
    # Failed authentications one address may make in a minute before it gets 429s.
    auth_failures_per_minute: int = 20
    # On an empty database, create a first user at start and print its key.
    create_first_user: bool = True
    # Serve Prometheus metrics at /metrics (no key: keep it to the LAN or the proxy).
    metrics: bool = False
    # A request's head, and then its body, must each arrive within this many seconds.
    request_timeout_seconds: int = 10
    # An idle kept-alive connection is closed after this many seconds.
    keep_alive_seconds: int = 5
    # Open connections plus requests in progress; past it, new requests get 503. Kept well
    # below the usual 1024 file descriptors a process may open.
    max_connections: int = 200
    # Connections the kernel queues for the server to accept; the rest are refused at once.
    backlog: int = 128

    @property
    def timeout_ms(self) -> int:
        return self.timeout_seconds * 1000


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from HACKATIME_* variables; explicit overrides (command-line flags) win.
    Each default is written in Settings alone: an unset variable keeps it."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {
        "db_path": env.get("HACKATIME_DB"),
        "host": env.get("HACKATIME_HOST"),
        "port": _positive_int(env, "HACKATIME_PORT"),
        "timeout_seconds": _positive_int(env, "HACKATIME_TIMEOUT"),
        "default_timezone": _timezone(env, "HACKATIME_TIMEZONE"),
        "auth_failures_per_minute": _positive_int(env, "HACKATIME_AUTH_FAILURES_PER_MINUTE"),
        "metrics": _flag(env, "HACKATIME_METRICS"),
        "request_timeout_seconds": _positive_int(env, "HACKATIME_REQUEST_TIMEOUT"),
        "keep_alive_seconds": _positive_int(env, "HACKATIME_KEEP_ALIVE"),
        "max_connections": _positive_int(env, "HACKATIME_MAX_CONNECTIONS"),
        "backlog": _positive_int(env, "HACKATIME_BACKLOG"),
    }
    values.update((key, value) for key, value in overrides.items() if value is not None)
    if values["db_path"] is not None:
        values["db_path"] = Path(str(values["db_path"]))
    given = {key: value for key, value in values.items() if value is not None}
    return Settings(**given)  # type: ignore[arg-type]


def _positive_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, got {env[name]!r}")


def _timezone(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name) or _local_timezone_name(env)
    if not is_zone(raw):
        raise ConfigError(f"{name} must be an IANA time zone such as Europe/Berlin, got {raw!r}")
    return raw


def _local_timezone_name(env: Mapping[str, str]) -> str:
    """The machine's own zone as an IANA name, the way a Raspberry Pi OS box records it."""
    tz = env.get("TZ", "").lstrip(":")
    if tz and is_zone(tz):
        return tz
    timezone_file = Path("/etc/timezone")
    if timezone_file.is_file():
        name = timezone_file.read_text().strip()
        if is_zone(name):
            return name
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        marker = "zoneinfo/"
        if marker in target:
            name = target.split(marker, 1)[1]
            if is_zone(name):
                return name
    return "UTC"


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
