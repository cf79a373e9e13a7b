"""The real legacy WakaTime client (PyPI wakatime==13.1.0) against the real server process."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hackatime.cli import main
from tests.helpers import REPO_ROOT, ServerProcess, free_port, midday_zone, running_server

pytestmark = pytest.mark.slow

PLUGIN = "vim/9.0 vim-wakatime/9.0.0"
# wakatime 13.1.0 predates Python 3.10, which removed these aliases from `collections`.
SITECUSTOMIZE = """\
import collections
import collections.abc

for _name in ("Callable", "Iterable", "Mapping", "MutableMapping", "MutableSet", "Sequence", "Set"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))
"""
# The legacy client puts platform.platform() and the Python version in its user agent.
LEGACY_USER_AGENT = re.compile(
    r"wakatime/13\.1\.0 \(Linux-[^)]+\) Python\d+\.\d+\.\d+\.final\.0 " + re.escape(PLUGIN)
)
API_ERROR = 102  # wakatime.constants.API_ERROR: not sent, queued for later


@pytest.fixture(scope="session")
def wakatime_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`wakatime` from a throwaway venv, made once per test session."""
    venv = tmp_path_factory.mktemp("wakatime-venv")
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
    )
    python = venv / "bin" / "python"
    pip_install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    try:
        install = subprocess.run(
            [*pip_install, "wakatime==13.1.0"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("pip install wakatime==13.1.0 timed out: package index unreachable")
    if install.returncode != 0:
        pytest.skip(f"pip could not install wakatime==13.1.0:\n{install.stderr[-2000:]}")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    Path(purelib, "sitecustomize.py").write_text(SITECUSTOMIZE)
    version = subprocess.run(
        [str(venv / "bin" / "wakatime"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert "13.1.0" in version.stdout + version.stderr, version
    return venv / "bin" / "wakatime"


@dataclass
class Workspace:
    """A developer's machine: HOME for the client's files, a project's files, a hackatime db."""

    cli: Path
    home: Path
    project: Path
    db_path: Path
    zone: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        # Basic with the key alone, as wakatime-cli sends it.
        return {"Authorization": "Basic " + base64.b64encode(self.key.encode()).decode()}

    def wakatime(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if name != "WAKATIME_HOME" and not name.startswith("HACKATIME_")
        }
        env["HOME"] = str(self.home)
        return subprocess.run(
            [str(self.cli), *args], capture_output=True, text=True, timeout=120, env=env
        )

    def heartbeat(
        self, port: int, file: str, at: float, project: str, *extra: str
    ) -> subprocess.CompletedProcess[str]:
        return self.wakatime(
            *("--entity", str(self.project / file), "--time", repr(at), "--key", self.key),
            "--api-url",
            f"http://127.0.0.1:{port}/api/hackatime/v1/users/current/heartbeats.bulk",
            *("--project", project, "--plugin", PLUGIN, "--timeout", "10"),
            *extra,
        )

    def client_log(self) -> str:
        log = self.home / ".wakatime.log"
        return log.read_text() if log.exists() else ""

    def queued(self) -> list[dict[str, Any]]:
        """The client's offline queue in ~/.wakatime.db."""
        with closing(sqlite3.connect(self.home / ".wakatime.db")) as conn:
            rows = conn.execute("SELECT heartbeat FROM heartbeat_2").fetchall()
        return [json.loads(heartbeat) for (heartbeat,) in rows]

    def stored(self, server: ServerProcess) -> list[dict[str, Any]]:
        """The heartbeats as the server gives them back (the Hackatime API's raw data)."""
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            response = http.get("/api/v1/my/heartbeats?limit=100", headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()["heartbeats"]

    def statusbar(self, server: ServerProcess) -> dict[str, Any]:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            response = http.get(
                "/api/hackatime/v1/users/current/statusbar/today", headers=self.auth
            )
        assert response.status_code == 200, response.text
        return response.json()["data"]


def _add_user(db_path: Path, *args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["user", "add", *args, "--db", str(db_path)]) == 0
    return out.getvalue().splitlines()[-1]


@pytest.fixture
def workspace(wakatime_cli: Path, tmp_path: Path) -> Workspace:
    home = tmp_path / "home"
    project = tmp_path / "code"
    home.mkdir()
    project.mkdir()
    (project / "a.py").write_text("print('a')\n" * 20)
    (project / "b.py").write_text("print('b')\n")
    db_path = tmp_path / "server" / "hackatime.db"
    # Set by hand so that the client's Timezone header does not move "today".
    zone = midday_zone()
    key = _add_user(db_path, "dev", "--timezone", zone)
    return Workspace(wakatime_cli, home, project, db_path, zone, key)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[ServerProcess]:
    with running_server(workspace.db_path) as process:
        yield process


def seconds_by_name(items: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(item["name"], item["total_seconds"]) for item in items]


def test_legacy_client_heartbeats_follow_the_rule(
    workspace: Workspace, server: ServerProcess
) -> None:
    start = int(time.time()) - 600 + 0.5
    # A@0, B@30, A@60, B@90, A@400: total 210 s, A 60 s, B 150 s.
    plan = [("a.py", "A", 0), ("b.py", "B", 30), ("a.py", "A", 60), ("b.py", "B", 90)]
    for file, project, offset in plan:
        sent = workspace.heartbeat(
            server.port, file, start + offset, project, "--hostname", "pi-test"
        )
        assert sent.returncode == 0, (sent, workspace.client_log())
    last = workspace.heartbeat(
        server.port, "a.py", start + 400, "A", "--hostname", "pi-test", "--write", "--lineno", "7"
    )
    assert last.returncode == 0, (last, workspace.client_log())
    # The same heartbeat again, as an offline queue would resend it: stored once.
    again = workspace.heartbeat(
        server.port, "a.py", start + 400, "A", "--hostname", "pi-test", "--write", "--lineno", "7"
    )
    assert again.returncode == 0, (again, workspace.client_log())

    rows = workspace.stored(server)
    today = workspace.statusbar(server)

    assert [
        (row["time"], row["entity"], row["project"], row["editor"], row["operating_system"])
        for row in rows
    ] == [
        (start + offset, str(workspace.project / file), project, "vim", "Linux")
        for file, project, offset in [*plan, ("a.py", "A", 400)]
    ]
    assert {(row["machine"], row["language"], row["category"], row["type"]) for row in rows} == {
        ("pi-test", "Python", "coding", "file")
    }
    assert [(row["is_write"], row["lineno"]) for row in rows][-2:] == [(False, None), (True, 7)]
    assert rows[0]["lines"] == 20
    user_agents = {row["user_agent"] for row in rows}
    assert len(user_agents) == 1
    (user_agent,) = user_agents
    assert LEGACY_USER_AGENT.fullmatch(user_agent), user_agent
    print(f"legacy wakatime client user agent: {user_agent}")

    assert today["grand_total"]["total_seconds"] == 210.0
    assert (today["grand_total"]["hours"], today["grand_total"]["minutes"]) == (0, 3)
    assert seconds_by_name(today["projects"]) == [("B", 150.0), ("A", 60.0)]
    assert seconds_by_name(today["editors"]) == [("vim", 210.0)]
    assert seconds_by_name(today["operating_systems"]) == [("Linux", 210.0)]
    assert seconds_by_name(today["languages"]) == [("Python", 210.0)]
    assert seconds_by_name(today["machines"]) == [("pi-test", 210.0)]
    assert today["range"]["timezone"] == workspace.zone


def test_offline_queue_is_sent_on_the_next_run(workspace: Workspace) -> None:
    port = free_port()
    first_at = int(time.time()) - 200
    second_at = first_at + 100

    offline = workspace.heartbeat(port, "a.py", first_at, "A")

    assert offline.returncode == API_ERROR, (offline, workspace.client_log())
    assert [(item["entity"], item["time"]) for item in workspace.queued()] == [
        (str(workspace.project / "a.py"), first_at)
    ]

    with running_server(workspace.db_path, port=port) as server:
        online = workspace.heartbeat(port, "b.py", second_at, "B")
        rows = workspace.stored(server)
        today = workspace.statusbar(server)

    assert online.returncode == 0, (online, workspace.client_log())
    assert workspace.queued() == []
    assert [(row["time"], row["entity"], row["project"]) for row in rows] == [
        (first_at, str(workspace.project / "a.py"), "A"),
        (second_at, str(workspace.project / "b.py"), "B"),
    ]
    assert today["grand_total"]["total_seconds"] == 100.0
    assert seconds_by_name(today["projects"]) == [("A", 100.0)]


# --- The config lines people are given ------------------------------------------------------

README = REPO_ROOT / "README.md"


def readme_config(port: int, key: str) -> str:
    """The `~/.wakatime.cfg` block of the README, for this server's port and key."""
    blocks = re.findall(r"```ini\n(.*?)```", README.read_text(), re.DOTALL)
    assert len(blocks) == 1, blocks
    (block,) = blocks
    assert "http://localhost:3000/api/hackatime/v1" in block
    return block.replace("localhost:3000", f"localhost:{port}").replace("YOUR_API_KEY", key)


def banner_config(startup_output: str) -> str:
    """The lines the first-start banner prints for ~/.wakatime.cfg, as printed."""
    lines = startup_output.splitlines()
    start = lines.index("[settings]")
    return "\n".join(lines[start : start + 3]) + "\n"


def heartbeat_with_config(
    workspace: Workspace, config: str, file: str, at: float
) -> subprocess.CompletedProcess[str]:
    """The client run with no --key and no --api-url: all it knows is ~/.wakatime.cfg."""
    (workspace.home / ".wakatime.cfg").write_text(config)
    return workspace.wakatime(
        *("--entity", str(workspace.project / file), "--time", repr(at)),
        *("--plugin", PLUGIN, "--timeout", "10"),
    )


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("readme", id="readme-lines"),
        pytest.param("banner", id="first-start-banner-lines"),
        pytest.param("wakatime-base-with-slash", id="api-v1-with-a-slash"),
    ],
)
def test_the_config_lines_people_are_given_work(
    wakatime_cli: Path, tmp_path: Path, source: str
) -> None:
    home = tmp_path / "home"
    project = tmp_path / "code"
    home.mkdir()
    project.mkdir()
    (project / "a.py").write_text("print('a')\n")
    db_path = tmp_path / "fresh" / "hackatime.db"
    start = int(time.time()) - 600 + 0.5
    with running_server(db_path, env={"LOGNAME": "dev"}) as server:
        banner = banner_config(server.startup_output)
        key = banner.splitlines()[2].removeprefix("api_key = ")
        workspace = Workspace(wakatime_cli, home, project, db_path, "UTC", key)
        config = {
            "readme": readme_config(server.port, key),
            "banner": banner,
            "wakatime-base-with-slash": banner.replace("/api/hackatime/v1", "/api/v1/"),
        }[source]
        sent = [heartbeat_with_config(workspace, config, "a.py", start + t) for t in (0, 60)]
        rows = workspace.stored(server)

    assert [result.returncode for result in sent] == [0, 0], (sent, workspace.client_log())
    assert [(row["time"], row["entity"]) for row in rows] == [
        (start, str(project / "a.py")),
        (start + 60, str(project / "a.py")),
    ]
