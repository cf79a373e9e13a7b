"""Helpers shared by several test modules; each module keeps its own one-off helpers."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hackatime.db import Database

if TYPE_CHECKING:
    from tests.conftest import Account

HACKATIME_BASE = "/api/hackatime/v1"
WAKATIME_BASE = "/api/v1"
# Every WakaTime-compatible route lives under both bases; tests run against each.
API_BASES = [
    pytest.param(HACKATIME_BASE, id="hackatime-base"),
    pytest.param(WAKATIME_BASE, id="wakatime-base"),
]


def now_ms() -> int:
    return int(time.time() * 1000)


def today_midnight_ms(zone: str, at_ms: int | None = None) -> int:
    """UTC milliseconds of the local midnight that starts `at_ms`'s day (default: now) in zone."""
    tz = ZoneInfo(zone)
    moment = datetime.fromtimestamp((now_ms() if at_ms is None else at_ms) / 1000, tz)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return round(midnight.timestamp() * 1000)


async def post_heartbeats(
    client: httpx.AsyncClient,
    account: Account,
    items: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    base: str = HACKATIME_BASE,
    user: str = "current",
    endpoint: str = "heartbeats.bulk",
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"{base}/users/{user}/{endpoint}",
        json=items,
        headers={**account.bearer, **(headers or {})},
    )


async def stored_heartbeats(db: Database, user_id: int) -> list[dict[str, Any]]:
    """One user's heartbeat rows as dicts, in (time, id) order."""
    rows = await db.fetch_all(
        "SELECT * FROM heartbeats WHERE user_id = ? ORDER BY time_ms, id", (user_id,)
    )
    return [dict(row) for row in rows]


# --- Real server processes: tests/test_server.py, tests/test_wakatime_client.py ---------------
# Appended below the shared helpers so that this section never rewrites theirs.
# ruff: noqa: E402

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
# What `str(uuid.uuid4())` looks like: the only key shape every WakaTime client accepts.
API_KEY_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


LISTENING = b"hackatime: listening on http://"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def midday_zone(at: float | None = None) -> str:
    """A fixed-offset zone where it is about noon now, so "today" is hours from either midnight.

    Tests that read statusbar/today use it so that the day never turns while they run.
    """
    hour = datetime.fromtimestamp(time.time() if at is None else at, UTC).hour
    offset = 12 - hour  # hours to add to UTC, -11..12
    # The Etc zones use the POSIX sign: Etc/GMT-5 is five hours ahead of UTC.
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    db_path: Path
    _stderr: IO[bytes]
    # stdout up to the moment the port accepted connections: the first-start banner.
    startup_output: str = ""
    returncode: int | None = None
    # All of stdout, once stopped.
    output: str = ""
    _final_log: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """stderr so far (uvicorn's and hackatime's logs), or all of it once stopped.

        pread leaves the file offset alone: the server writes through the same open file.
        """
        if self._final_log is not None:
            return self._final_log
        fd = self._stderr.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig`, wait (bounded) for the exit, collect the output; the exit status."""
        if self.returncode is not None:
            return self.returncode
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            rest, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise AssertionError(
                f"server did not exit within {timeout} s of signal {sig}"
            ) from None
        self.output = self.startup_output + rest.decode(errors="replace")
        self._final_log = self.log()
        self.returncode = self.process.returncode
        return self.returncode


@contextmanager
def running_server(
    db_path: Path,
    *,
    port: int | None = None,
    app_py: bool = False,
    command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 15.0,
) -> Iterator[ServerProcess]:
    """Start the real server as its own process and yield once its port accepts connections.

    `hackatime serve --db --port` by default; with `app_py`, `python app.py` configured through
    HACKATIME_DB and HACKATIME_PORT; with `command`, that command given HACKATIME_DB (it must
    listen on `port`). HACKATIME_* variables of the test run are not inherited;
    `env` adds to the environment. The process is killed on the way out if still running.
    """
    port = port or free_port()
    child_env = {
        name: value for name, value in os.environ.items() if not name.startswith("HACKATIME_")
    }
    child_env.update(env or {})
    if command is not None:
        child_env.update(HACKATIME_DB=str(db_path))
        argv = list(command)
    elif app_py:
        child_env.update(HACKATIME_DB=str(db_path), HACKATIME_PORT=str(port))
        argv = [sys.executable, str(REPO_ROOT / "app.py")]
    else:
        argv = [sys.executable, "-m", "hackatime.cli", "serve"]
        argv += ["--db", str(db_path), "--port", str(port)]
    db_path.parent.mkdir(parents=True, exist_ok=True)
    # stderr goes to a file: a pipe nobody reads could fill up and block the server.
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=stderr, cwd=db_path.parent, env=child_env
        )
        server = ServerProcess(process, port, db_path, stderr)
        try:
            server.startup_output = _stdout_until_listening(server, ready_timeout)
            yield server
        finally:
            server.stop(signal.SIGKILL)


def _stdout_until_listening(server: ServerProcess, timeout: float) -> str:
    process = server.process
    assert process.stdout is not None
    fd = process.stdout.fileno()
    output = bytearray()
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        # The server says where it listens once its port is bound, after the first-start banner.
        while LISTENING not in output or not _accepts_connections(server.port):
            if process.poll() is not None:
                raise AssertionError(
                    f"server exited with {process.returncode} before listening on "
                    f"{server.port}\nstdout:\n{output.decode()}\nstderr:\n{server.log()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"server not listening on {server.port} after {timeout} s\n"
                    f"stdout:\n{output.decode()}\nstderr:\n{server.log()}"
                )
            # os.read, not the buffered reader: nothing may linger in a Python buffer.
            if selector.select(timeout=0.05):
                output.extend(os.read(fd, 65536))
    return output.decode(errors="replace")


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- WakaTime client API: tests/test_api_wakatime.py, tests/test_api_wakatime_stats.py and ---
# --- tests/test_api_goals.py. Appended, like the section above, without touching the rest. ----

from datetime import date

from hackatime import heartbeats as _heartbeats
from hackatime import ingest as _ingest
from hackatime import users as _users

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
# Keys wakatime-cli (Go) decodes as int: a float there fails the whole response.
STRICT_INT_KEYS = ("hours", "minutes", "seconds")
# WakaTime documents these `seconds` as floats (its own answers carry fractions).
FLOAT_SECONDS_PARENTS = ("cumulative_total", "daily_average")


def day_start_ms(day: date, zone: str) -> int:
    """UTC milliseconds of the local midnight that starts `day` in zone."""
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone))
    return round(midnight.timestamp() * 1000)


def local_today(zone: str, at_s: float | None = None) -> date:
    """The date in zone at `at_s` (epoch seconds, the app's pinned clock), or now."""
    return datetime.fromtimestamp(time.time() if at_s is None else at_s, ZoneInfo(zone)).date()


def iso_z(ms: int) -> str:
    """An instant as the API prints it: UTC, whole seconds, `Z`."""
    return datetime.fromtimestamp(ms // 1000, UTC).isoformat().replace("+00:00", "Z")


def beat(time_ms: int, project: str | None = "app", **fields: Any) -> _heartbeats.Heartbeat:
    """A stored-form heartbeat with plausible defaults; `fields` override any column."""
    values: dict[str, Any] = {
        "entity": f"/src/{project or 'none'}/main.py",
        "type": "file",
        "category": "coding",
        "language": "Python",
        "editor": "vim",
        "operating_system": "Linux",
        "machine": "pi",
        **fields,
    }
    return _heartbeats.Heartbeat(time_ms=time_ms, project=project, **values)


async def store_beats(db: Database, account: Account, beats: Sequence[Any]) -> None:
    """Store heartbeats directly, skipping ingest: for tests about reading time back."""
    await _ingest.store(db, account.user.id, list(beats))


async def set_zone(db: Database, account: Account, zone: str) -> None:
    await _users.update_user(db, account.user.username, timezone=zone)


async def get_json(
    client: httpx.AsyncClient,
    account: Account,
    path: str,
    params: Mapping[str, str] | None = None,
    *,
    status: int = 200,
) -> Any:
    response = await client.get(path, params=params, headers=account.bearer)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def non_integer_counts(payload: Any, path: str = "$") -> list[str]:
    """Paths of every `hours`, `minutes` or `seconds` in a JSON document that is not an int."""
    found = []
    if isinstance(payload, dict):
        parent = path.rsplit(".", 1)[-1]
        for key, value in payload.items():
            child = f"{path}.{key}"
            if key in STRICT_INT_KEYS and parent not in FLOAT_SECONDS_PARENTS:
                if type(value) is not int:
                    found.append(f"{child}={value!r}")
            else:
                found.extend(non_integer_counts(value, child))
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            found.extend(non_integer_counts(value, f"{path}[{index}]"))
    return found
