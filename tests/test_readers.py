"""Commands that only read never block the server: a real server, a reader holding a snapshot
open, and `hackatime user list` beside them while heartbeats keep arriving."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from hackatime.dbcheck import BUSY_TIMEOUT_MS
from tests.helpers import API_KEY_PATTERN, running_server

pytestmark = pytest.mark.slow

HEARTBEATS = "/api/hackatime/v1/users/current/heartbeats.bulk"


def test_readers_never_stall_ingest(tmp_path: Path) -> None:
    db_path = tmp_path / "hackatime.db"
    with running_server(db_path) as server, httpx.Client(base_url=server.base_url) as http:
        match = API_KEY_PATTERN.search(server.startup_output)
        assert match, server.startup_output
        auth = {"Authorization": "Basic " + base64.b64encode(match[0].encode()).decode()}
        start = time.time() - 3600
        slowest = 0.0
        with closing(sqlite3.connect(db_path, isolation_level=None)) as reader:
            # A long report or a backup elsewhere: its snapshot stays open throughout.
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM heartbeats").fetchone()
            command = subprocess.Popen(
                [sys.executable, "-m", "hackatime.cli", "user", "list", "--db", str(db_path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            sent = 0
            # Heartbeats before, while and after the command runs.
            while command.poll() is None or sent < 20:
                beat = {"entity": f"/src/{sent}.py", "time": start + sent}
                began = time.monotonic()
                response = http.post(HEARTBEATS, json=[beat], headers=auth)
                slowest = max(slowest, time.monotonic() - began)
                assert response.status_code == 201, response.text
                sent += 1
            reader.execute("ROLLBACK")
        out, err = command.communicate(timeout=30)
        assert command.returncode == 0, err
        assert out.decode().count("admin=yes") == 1
        # A command that took the write lock would hold each of these up to the busy timeout.
        assert slowest < BUSY_TIMEOUT_MS / 1000 / 2, slowest
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT count(*) FROM heartbeats").fetchone()[0] == sent
