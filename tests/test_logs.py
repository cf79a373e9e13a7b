"""Every logging path survives any input and writes exactly one printable line per record."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from hackatime import logs, users
from hackatime.api import wakatime
from tests.conftest import Account
from tests.helpers import API_BASES

# What must never reach a log line from a client: controls (C0, DEL, C1) and the Unicode line
# and paragraph separators.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FUZZ = hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(["a", "\n", "\r", "\x1b", "[", "\x00", "\u2028", "\x85", "é", "\\"])
    | st.characters(codec="utf-8"),
    max_size=60,
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | HOSTILE_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(HOSTILE_TEXT, children, max_size=4)
    ),
    max_leaves=30,
)


@given(text=HOSTILE_TEXT, limit=st.none() | st.integers(1, 80))
def test_printable_leaves_no_control_character(text: str, limit: int | None) -> None:
    line = logs.printable(text, limit)
    assert not UNPRINTABLE.search(line)
    if not UNPRINTABLE.search(text) and limit is None:
        assert line == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a\nINFO: forged", "a\\nINFO: forged", id="newline"),
        pytest.param("a\r\nb", "a\\r\\nb", id="carriage-return"),
        pytest.param("\x1b[31mred", "\\x1b[31mred", id="ansi-escape"),
        pytest.param("a\u2028b", "a\\u2028b", id="line-separator"),
        pytest.param("plain é", "plain é", id="printable-kept"),
    ],
)
def test_printable_escapes(text: str, expected: str) -> None:
    assert logs.printable(text) == expected


@pytest.fixture(params=API_BASES)
def base(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def raw_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    # A 500 comes back as a response, so the test sees it rather than an exception.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def plugin_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == wakatime.log.name]


@FUZZ
@given(value=JSON_VALUES)
async def test_plugin_errors_log_any_json_as_one_printable_line(
    raw_client: httpx.AsyncClient, alice: Account, caplog: pytest.LogCaptureFixture, value: Any
) -> None:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=wakatime.log.name):
        response = await raw_client.post(
            "/api/v1/plugins/errors", content=orjson.dumps(value), headers=alice.bearer
        )
    assert response.status_code == 201, response.text
    (line,) = plugin_lines(caplog)
    assert not UNPRINTABLE.search(line)
    assert len(line) <= wakatime.PLUGIN_ERROR_LOG_CHARS + 100


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 1000 + b"]" * 1000, id="nested-1000-arrays"),
        pytest.param(b'{"a":' * 5000 + b"1" + b"}" * 5000, id="nested-5000-objects"),
        pytest.param(b"[" * 100_000, id="unclosed-100k"),
        pytest.param(b'{"msg": "x\\nERROR: forged line\\u001b[2J"}', id="forged-line"),
        pytest.param(b"\xff\xfe not utf-8 \n\r", id="not-utf8"),
    ],
)
async def test_plugin_errors_survive_any_body(
    raw_client: httpx.AsyncClient,
    alice: Account,
    caplog: pytest.LogCaptureFixture,
    base: str,
    body: bytes,
) -> None:
    with caplog.at_level(logging.WARNING, logger=wakatime.log.name):
        response = await raw_client.post(
            f"{base}/plugins/errors", content=body, headers=alice.bearer
        )
    assert response.status_code == 201, response.text
    (line,) = plugin_lines(caplog)
    assert not UNPRINTABLE.search(line)
    assert line.startswith("plugin error reported by alice: ")


def _disk_full() -> sqlite3.Error:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorname = "SQLITE_FULL"
    return error


FORGED = "x\\x1b[2J\\u2028ERROR: forged"


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        pytest.param(
            RuntimeError("boom"),
            500,
            f"unhandled error on GET /api/v1/users/{FORGED}/stats",
            id="unhandled",
        ),
        pytest.param(
            _disk_full(),
            507,
            f"disk full: GET /api/v1/users/{FORGED}/stats was refused with 507",
            id="disk-full",
        ),
    ],
)
async def test_an_error_logs_its_path_on_one_line(
    raw_client: httpx.AsyncClient,
    alice: Account,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
    message: str,
) -> None:
    async def fail(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(users, "find_user", fail)
    with caplog.at_level(logging.WARNING, logger="hackatime"):
        response = await raw_client.get(
            "/api/v1/users/x%1b[2J%E2%80%A8ERROR:%20forged/stats", headers=alice.bearer
        )
    assert response.status_code == status, response.text
    messages = [record.getMessage() for record in caplog.records if record.name == "hackatime"]
    assert messages == [message]
