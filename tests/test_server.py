"""The real server process: first-start banner, ingest and status bar over HTTP, clean stop."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.helpers import (
    API_KEY_PATTERN,
    REPO_ROOT,
    ServerProcess,
    free_port,
    midday_zone,
    running_server,
)

pytestmark = pytest.mark.slow

GO_VIM_LINUX = "wakatime/v1.90.0 (linux-6.1.0-rpi-arm64) go1.22.1 vim/9.1.0 vim-wakatime/11.2.0"
API = "/api/hackatime/v1"


def banner_key(server: ServerProcess, username: str) -> str:
    """The key from the first-start banner, after checking the banner says what it must."""
    output = server.startup_output
    assert f"Created user {username!r} (admin)" in output, output
    lines = output.splitlines()
    assert "[settings]" in lines, output
    settings = lines.index("[settings]")
    assert lines[settings + 1] == f"api_url = http://localhost:{server.port}/api/hackatime/v1"
    match = re.fullmatch(r"api_key = (\S+)", lines[settings + 2])
    assert match, output
    key = match.group(1)
    assert API_KEY_PATTERN.fullmatch(key), key
    # Shown once above the config lines too, so that it can be copied on its own.
    assert lines.count(f"    {key}") == 1
    return key


def basic(key: str) -> dict[str, str]:
    # What wakatime-cli sends: the key alone, base64-encoded.
    return {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}


def five_heartbeats(start: float) -> list[dict[str, Any]]:
    # A@0, B@30, A@60, B@90, A@400: total 210 s, A 60 s, B 150 s.
    plan = [("A", 0), ("B", 30), ("A", 60), ("B", 90), ("A", 400)]
    return [
        {"entity": f"/home/pi/{project}/main.py", "time": start + offset, "project": project}
        for project, offset in plan
    ]


def statusbar(http: httpx.Client, key: str) -> dict[str, Any]:
    response = http.get(f"{API}/users/current/statusbar/today", headers=basic(key))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def seconds_by_name(items: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(item["name"], item["total_seconds"]) for item in items]


def wal_bytes(db_path: Path) -> int:
    wal = db_path.with_name(db_path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def count(db_path: Path, table: str) -> int:
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def zone() -> str:
    return midday_zone()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hackatime.db"


def test_first_start_prints_the_config_and_the_key_records_time(db_path: Path, zone: str) -> None:
    start = time.time() - 600
    with (
        running_server(db_path, env={"LOGNAME": "pi", "HACKATIME_TIMEZONE": zone}) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        assert server.startup_output.startswith(f"hackatime: database {db_path.resolve()}\n")
        key = banner_key(server, "pi")

        posted = http.post(
            f"{API}/users/current/heartbeats.bulk",
            json=five_heartbeats(start),
            headers={
                "Authorization": f"Bearer {key}",
                "User-Agent": GO_VIM_LINUX,
                "X-Machine-Name": "raspberrypi",
            },
        )
        today = statusbar(http, key)
        unauthorised = http.get(f"{API}/users/current/statusbar/today", headers=basic("nope"))

    assert posted.status_code == 201, posted.text
    assert posted.json() == {"responses": [[{"data": None, "error": None}, 201]] * 5}
    assert today["grand_total"] == {
        "total_seconds": 210.0,
        "text": "3 mins",
        "hours": 0,
        "minutes": 3,
        "digital": "0:03",
        "decimal": "0.05",
    }
    assert seconds_by_name(today["projects"]) == [("B", 150.0), ("A", 60.0)]
    assert seconds_by_name(today["editors"]) == [("vim", 210.0)]
    assert seconds_by_name(today["operating_systems"]) == [("Linux", 210.0)]
    assert seconds_by_name(today["machines"]) == [("raspberrypi", 210.0)]
    assert today["range"]["timezone"] == zone
    assert today["range"]["date"] == datetime.now(ZoneInfo(zone)).date().isoformat()
    assert unauthorised.status_code == 401


def test_a_single_heartbeat_answers_202(db_path: Path) -> None:
    with (
        running_server(db_path, env={"LOGNAME": "pi"}) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        key = banner_key(server, "pi")
        response = http.post(
            "/api/v1/users/current/heartbeats",
            json={"entity": "/home/pi/x.py", "time": time.time() - 5},
            headers=basic(key),
        )

    assert response.status_code == 202, response.text
    assert response.json()["data"]["entity"] == "/home/pi/x.py"


def test_second_start_creates_no_user_and_shows_no_key(db_path: Path, zone: str) -> None:
    start = time.time() - 600
    env = {"LOGNAME": "pi", "HACKATIME_TIMEZONE": zone}
    with running_server(db_path, env=env) as first:
        key = banner_key(first, "pi")
        with httpx.Client(base_url=first.base_url, timeout=10) as http:
            posted = http.post(
                f"{API}/users/current/heartbeats.bulk",
                json=five_heartbeats(start),
                headers=basic(key),
            )
            assert posted.status_code == 201, posted.text
        first.stop()

    with (
        running_server(db_path, env=env) as second,
        httpx.Client(base_url=second.base_url, timeout=10) as http,
    ):
        today = statusbar(http, key)
        second.stop()

    assert "Created user" not in second.startup_output
    assert "api_key" not in second.startup_output
    assert not API_KEY_PATTERN.search(second.output)
    assert not API_KEY_PATTERN.search(second.log())
    assert count(db_path, "users") == 1
    assert today["grand_total"]["total_seconds"] == 210.0


def test_the_key_never_reaches_the_log(db_path: Path) -> None:
    with running_server(db_path, env={"LOGNAME": "pi"}) as server:
        key = banner_key(server, "pi")
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            response = http.get(f"{API}/users/current/statusbar/today?api_key={key}")
        server.stop()

    assert response.status_code == 200
    assert "statusbar/today" in server.log()
    assert key not in server.log()


def test_sigterm_leaves_no_wal_behind(db_path: Path) -> None:
    with running_server(db_path, env={"LOGNAME": "pi"}) as server:
        key = banner_key(server, "pi")
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            posted = http.post(
                f"{API}/users/current/heartbeats.bulk",
                json=five_heartbeats(time.time() - 600),
                headers=basic(key),
            )
        assert posted.status_code == 201, posted.text
        assert wal_bytes(db_path) > 0  # the heartbeats sit in the WAL while the server runs
        server.stop()

    assert wal_bytes(db_path) == 0
    assert count(db_path, "heartbeats") == 5
    assert "Application shutdown complete" in server.log()


def test_sigterm_exits_with_status_0(db_path: Path) -> None:
    with running_server(db_path, env={"LOGNAME": "pi"}) as server:
        status = server.stop()

    assert "Application shutdown complete" in server.log()
    assert status == 0


def test_python_app_py_reads_the_environment(tmp_path: Path) -> None:
    db_path = tmp_path / "from-env" / "hackatime.db"
    port = free_port()
    with (
        running_server(db_path, port=port, app_py=True, env={"LOGNAME": "pi"}) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        key = banner_key(server, "pi")
        today = statusbar(http, key)
        server.stop()

    assert f"api_url = http://localhost:{port}/api/hackatime/v1" in server.output
    assert db_path.exists()
    assert count(db_path, "users") == 1
    assert today["grand_total"]["total_seconds"] == 0.0


def test_under_uvicorn_the_banner_names_uvicorns_port(tmp_path: Path) -> None:
    db_path = tmp_path / "uvicorn" / "hackatime.db"
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(REPO_ROOT), "app:app"]
    with (
        running_server(
            db_path, port=port, command=[*command, "--port", str(port)], env={"LOGNAME": "pi"}
        ) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        key = banner_key(server, "pi")  # checks api_url names `port`, not the default 3000
        today = statusbar(http, key)

    assert port != 3000
    assert f"hackatime: listening on http://localhost:{port}" in server.startup_output
    assert today["grand_total"]["total_seconds"] == 0.0


def test_a_port_in_use_creates_no_user_and_shows_no_key(db_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HACKATIME_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db_path.parent.mkdir(parents=True)
        serve = [sys.executable, "-m", "hackatime.cli", "serve", "--db", str(db_path)]
        result = subprocess.run(
            [*serve, "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "LOGNAME": "pi"},
        )

    assert result.returncode != 0
    assert "address already in use" in result.stderr.lower()
    assert "api_key" not in result.stdout
    assert not API_KEY_PATTERN.search(result.stdout + result.stderr)
    assert count(db_path, "users") == 0


def test_the_real_server_allows_20_failed_authentications_a_minute_by_default(
    db_path: Path,
) -> None:
    # running_server passes no HACKATIME_* variable: the limit is the settings' default.
    wrong = {"Authorization": "Bearer 00000000-0000-4000-8000-000000000000"}
    with (
        running_server(db_path, env={"LOGNAME": "pi"}) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        key = banner_key(server, "pi")
        statuses = [
            http.get(f"{API}/users/current/statusbar/today", headers=wrong).status_code
            for _ in range(21)
        ]
        refused = http.get(f"{API}/users/current/statusbar/today", headers=wrong)
        valid = http.get(f"{API}/users/current/statusbar/today", headers=basic(key))

    assert statuses == [401] * 20 + [429]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert valid.status_code == 200


def test_a_command_that_writes_while_serving_takes_nothing_from_the_server(db_path: Path) -> None:
    """The server keeps its lock on the database: a command's close cannot fold and delete the
    WAL under it, so what it acknowledges survives a kill and what the command wrote is seen."""
    with (
        running_server(db_path, env={"LOGNAME": "pi"}) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as http,
    ):
        key = banner_key(server, "pi")
        goal = [sys.executable, "-m", "hackatime.cli", "goal", "add", "--db", str(db_path)]
        added = subprocess.run(
            [*goal, "--user", "pi", "--title", "t", "--seconds", "60", "--period", "day"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        assert Path(f"{db_path}-wal").exists()
        start = time.time() - 600
        posted = http.post(
            f"{API}/users/current/heartbeats.bulk", json=five_heartbeats(start), headers=basic(key)
        )
        goals = [
            http.get(f"{API}/users/current/goals", headers=basic(key)).json()["total"]
            for _ in range(4)
        ]
        server.stop(signal.SIGKILL)

    assert posted.status_code == 201
    assert goals == [1, 1, 1, 1]
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT count(*) FROM heartbeats").fetchone() == (5,)
