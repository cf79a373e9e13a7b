"""Importing from a running server: against a second instance of this server started by the
test, and against a tiny scripted stub on 127.0.0.1 for the failures (429, 5xx, 401)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hackatime.cli import main
from hackatime.db import Database
from hackatime.transfer import importer, remote
from tests.conftest import Account
from tests.helpers import API_KEY_PATTERN, running_server, stored_heartbeats
from tests.test_transfer_readers import CODE, VIM

Answer = tuple[int, dict[str, str], bytes]


@contextmanager
def stub_server(
    script: dict[str, list[Answer]], keys: list[str | None] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """A server answering each path (with its query) from `script` in turn, 404 when it has
    nothing more; yields its base URL and the paths it was asked for. `keys` hears the
    Authorization header of each request."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            if keys is not None:
                keys.append(self.headers.get("Authorization"))
            answers = script.get(self.path.removeprefix("/api/v1/"), [])
            status, headers, body = (
                answers.pop(0) if answers else (404, {}, b'{"error": "Not found"}')
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FakeTime:
    """A clock that moves a second at every look and records every wait asked of it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        self.now += 1.0
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def data(items: list[Any]) -> bytes:
    return orjson.dumps({"data": items})


DAY = "users/current/heartbeats?date=2024-03-01"
WAKATIME_BEAT = {
    "id": "b1",
    "time": 1_709_287_200.25,
    "entity": "/src/app.py",
    "type": "file",
    "category": "coding",
    "project": "app",
    "user_agent_id": "ua-1",
    "machine_name_id": "m-1",
}


async def test_429_and_5xx_are_retried_after_retry_after_or_a_doubling_backoff(
    db: Database, alice: Account
) -> None:
    script = {
        "users/current/user_agents": [(200, {}, data([{"id": "ua-1", "value": CODE}]))],
        "users/current/machine_names": [(200, {}, data([{"id": "m-1", "name": "desk"}]))],
        DAY: [
            (429, {"Retry-After": "7"}, b'{"error": "slow down"}'),
            (503, {}, b""),
            (200, {}, data([WAKATIME_BEAT])),
        ],
    }
    fake = FakeTime()
    with stub_server(script) as (base, asked):
        server = remote.RemoteServer(base, "key", clock=fake.clock, sleep=fake.sleep)
        source = remote.RemoteHistory(server, date(2024, 3, 1), date(2024, 3, 1))
        report = importer.ImportReport()
        await importer.import_heartbeats(
            db,
            alice.user.id,
            source.heartbeats(),
            report,
            now_ms=1_800_000_000_000,
            position=source.position,
        )
    assert fake.waits == [7.0, 2.0]
    assert asked.count("/api/v1/" + DAY) == 3
    assert (report.new, source.position()) == (1, 1)
    (row,) = await stored_heartbeats(db, alice.user.id)
    assert (row["time_ms"], row["machine"], row["editor"]) == (1_709_287_200_250, "desk", "vscode")


def test_a_refusal_is_not_retried() -> None:
    script = {"users/current": [(401, {}, b'{"error": "Invalid API key"}')]}
    with stub_server(script) as (base, asked):
        server = remote.RemoteServer(base, "key", clock=FakeTime().clock, sleep=FakeTime().sleep)
        with pytest.raises(remote.RemoteError, match="401 Invalid API key") as raised:
            remote.account_start(server)
    assert asked == ["/api/v1/users/current"]
    assert raised.value.status == 401


def test_retries_end_with_one_error_naming_the_last_answer() -> None:
    script = {DAY: [(503, {}, b""), (502, {}, b""), (500, {}, b'{"error": "down"}')]}
    fake = FakeTime()
    with stub_server(script) as (base, asked):
        server = remote.RemoteServer(base, "k", attempts=3, clock=fake.clock, sleep=fake.sleep)
        with pytest.raises(remote.RemoteError, match="500 down"):
            server.get("users/current/heartbeats", {"date": "2024-03-01"})
    assert fake.waits == [1.0, 2.0]
    assert len(asked) == 3


def test_requests_are_spaced_by_the_rate_cap() -> None:
    class StillTime(FakeTime):
        # Time moves only by waiting: every gap between requests is the cap's doing.
        def clock(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            self.now += seconds

    fake = StillTime()
    script = {"users/current": [(200, {}, data([]))] * 3}
    with stub_server(script) as (base, _):
        server = remote.RemoteServer(
            base, "k", requests_per_second=4, clock=fake.clock, sleep=fake.sleep
        )
        for _ in range(3):
            server.get("users/current")
    assert fake.waits == [0.25, 0.25]


def test_a_redirect_to_another_server_is_refused_and_the_key_never_sent_there() -> None:
    keys_elsewhere: list[str | None] = []
    with stub_server({"users/current": [(200, {}, data([]))]}, keys_elsewhere) as (other, seen):
        script = {"users/current": [(302, {"Location": f"{other}/users/current"}, b"")]}
        with stub_server(script) as (base, asked):
            server = remote.RemoteServer(
                base, "key", clock=FakeTime().clock, sleep=FakeTime().sleep
            )
            with pytest.raises(remote.RemoteError, match="302 redirects to another server"):
                server.get("users/current")
    assert asked == ["/api/v1/users/current"]
    assert (seen, keys_elsewhere) == ([], [])


def test_a_redirect_within_the_server_is_followed_with_the_key() -> None:
    keys: list[str | None] = []
    script = {
        "users/me": [(301, {"Location": "/api/v1/users/current"}, b"")],
        "users/current": [(200, {}, data(["here"]))],
    }
    with stub_server(script, keys) as (base, asked):
        server = remote.RemoteServer(base, "key", clock=FakeTime().clock, sleep=FakeTime().sleep)
        assert server.get("users/me") == {"data": ["here"]}
    assert asked == ["/api/v1/users/me", "/api/v1/users/current"]
    assert keys == ["Basic a2V5"] * 2


def test_an_answer_longer_than_the_cap_is_refused() -> None:
    exact = orjson.dumps({"data": ["x" * 87]})
    assert len(exact) == 100
    script = {"users/current": [(200, {}, exact), (200, {}, exact + b" ")]}
    with stub_server(script) as (base, _):
        server = remote.RemoteServer(
            base, "k", max_answer_bytes=100, clock=FakeTime().clock, sleep=FakeTime().sleep
        )
        assert server.get("users/current") == {"data": ["x" * 87]}
        with pytest.raises(remote.RemoteError, match="longer than 100 bytes"):
            server.get("users/current")


def _key_of_new_user(capsys: pytest.CaptureFixture[str], db_path: Path, name: str) -> str:
    assert main(["user", "add", name, "--db", str(db_path), "--timezone", "UTC"]) == 0
    match = API_KEY_PATTERN.search(capsys.readouterr().out)
    assert match
    return match.group(0)


def _rows(db_path: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT h.time_ms, h.gap_next_ms, h.entity, h.type, h.category, h.project, h.branch,"
            " h.language, h.editor, h.operating_system, h.machine, h.is_write, h.lineno,"
            " h.cursorpos, h.lines, h.dependencies, ua.value FROM heartbeats h"
            " LEFT JOIN user_agents ua ON ua.id = h.user_agent_id ORDER BY h.time_ms, h.id"
        ).fetchall()


@pytest.mark.slow
def test_import_from_another_instance_of_this_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    there, here = tmp_path / "there" / "hackatime.db", tmp_path / "here" / "hackatime.db"
    there.parent.mkdir()
    here.parent.mkdir()
    key = _key_of_new_user(capsys, there, "bob")
    _key_of_new_user(capsys, here, "alice")
    sent = [
        {"time": 1_709_287_200 + 60 * minute, "entity": f"/src/{minute % 3}.py", "project": "app"}
        for minute in range(30)
    ]
    sent += [{"time": 1_709_460_000.5, "entity": "/src/x.rs", "user_agent": VIM, "lineno": 4}]
    with running_server(there) as server:
        response = httpx.post(
            f"{server.base_url}/api/hackatime/v1/users/current/heartbeats.bulk",
            json=sent,
            headers={"Authorization": f"Bearer {key}", "User-Agent": CODE, "X-Machine-Name": "pi"},
        )
        assert response.status_code == 201, response.text
        argv = ["import", "--from", f"{server.base_url}/api/v1", "--key", key, "--user", "alice"]
        argv += ["--db", str(here), "--start", "2024-02-29", "--end", "2024-03-04"]
        assert main(argv) == 0
        first = capsys.readouterr().out.splitlines()
        assert main(argv) == 0
        again = capsys.readouterr().out.splitlines()
    assert first[:3] == ["new:            31", "already there:  0", "rejected:       0"]
    assert again[:3] == ["new:            0", "already there:  31", "rejected:       0"]
    assert first[3] == "dates covered:  2024-03-01 to 2024-03-03 (UTC)"
    assert _rows(here) == _rows(there)
