"""Slow and greedy clients against the real server process: unfinished heads and silent
connections are closed, a stalled body answers 408, and running out of file descriptors
neither floods the log nor stops service once the clients leave."""

from __future__ import annotations

import base64
import resource
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from hackatime.config import ConfigError, load_settings
from tests.helpers import API_KEY_PATTERN, ServerProcess, running_server

pytestmark = pytest.mark.slow

REQUEST_TIMEOUT = 2
MAX_CONNECTIONS = 20
SERVER_ENV = {
    "HACKATIME_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
    "HACKATIME_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
}
HALF_A_HEAD = b"POST /api/hackatime/v1/users/current/heartbeats HTTP/1.1\r\nHost: pi\r\n"


@contextmanager
def connections(
    server: ServerProcess, count: int, first_bytes: bytes
) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        opened = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", server.port)))
            if first_bytes:
                sock.sendall(first_bytes)
            opened.append(sock)
        yield opened


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False


def answered_within(server: ServerProcess, seconds: float) -> int:
    """The status of the first answer to a plain request, retried over `seconds` while the
    server turns clients away (503) or does not accept yet."""
    deadline = time.monotonic() + seconds
    status = 0
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"{server.base_url}/api/openapi.json", timeout=1).status_code
        except httpx.TransportError:
            status = 0
        if status == 200:
            return status
        time.sleep(0.1)
    return status


def test_half_sent_requests_are_closed_and_a_normal_client_is_answered(tmp_path: Path) -> None:
    with running_server(tmp_path / "hackatime.db", env=SERVER_ENV) as server:
        with (
            connections(server, 2 * MAX_CONNECTIONS, HALF_A_HEAD) as half_sent,
            connections(server, MAX_CONNECTIONS, b"") as silent,
        ):
            # More than the server takes at once: it must drop them to serve anyone else.
            assert answered_within(server, REQUEST_TIMEOUT + 8) == 200
            still_open = [
                sock
                for sock in half_sent + silent
                if not closed_by_server(sock, REQUEST_TIMEOUT + 5)
            ]
            assert still_open == []
        assert "Traceback" not in server.log()


def test_a_body_that_stops_arriving_answers_408(tmp_path: Path) -> None:
    with running_server(tmp_path / "hackatime.db", env=SERVER_ENV) as server:
        key = API_KEY_PATTERN.search(server.startup_output)
        assert key, server.startup_output
        auth = base64.b64encode(key[0].encode()).decode()
        head = (
            HALF_A_HEAD
            + (
                f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
                "Content-Length: 1000\r\n\r\n"
            ).encode()
        )
        with connections(server, 1, head + b'[{"entity": "/src/') as (sock,):
            sock.settimeout(REQUEST_TIMEOUT + 10)
            # The server closes the connection after answering: the client never finished.
            answer = b"".join(iter(lambda: sock.recv(65536), b"")).decode()
    status_line, _, rest = answer.partition("\r\n")
    assert status_line == "HTTP/1.1 408 Request Timeout", answer
    assert rest.endswith(f'{{"error":"Body not received within {REQUEST_TIMEOUT} seconds"}}')


def test_running_out_of_file_descriptors_is_one_line_and_service_returns(tmp_path: Path) -> None:
    with running_server(tmp_path / "hackatime.db", env=SERVER_ENV) as server:
        resource.prlimit(server.process.pid, resource.RLIMIT_NOFILE, (48, 48))
        # Accepted ones are dropped after the request timeout, the backlog's then accepted,
        # and so on: several rounds of running out, each of which asyncio would log.
        with connections(server, 120, b""):
            time.sleep(2 * REQUEST_TIMEOUT + 1)
        assert answered_within(server, REQUEST_TIMEOUT + 8) == 200
        log = server.log()
    assert "Traceback" not in log, log[-3000:]
    assert log.count("out of file descriptors (limit 48)") == 1, log[-3000:]


@pytest.mark.parametrize(
    ("variable", "field", "default"),
    [
        pytest.param("HACKATIME_REQUEST_TIMEOUT", "request_timeout_seconds", 10, id="request"),
        pytest.param("HACKATIME_KEEP_ALIVE", "keep_alive_seconds", 5, id="keep-alive"),
        pytest.param("HACKATIME_MAX_CONNECTIONS", "max_connections", 200, id="connections"),
        pytest.param("HACKATIME_BACKLOG", "backlog", 128, id="backlog"),
    ],
)
def test_each_bound_has_a_default_and_a_variable(variable: str, field: str, default: int) -> None:
    assert getattr(load_settings({}), field) == default
    assert getattr(load_settings({variable: "7"}), field) == 7
    with pytest.raises(ConfigError, match=f"{variable} must be positive"):
        load_settings({variable: "0"})
