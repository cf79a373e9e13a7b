"""Guarantee 3: bad input gets a clear 4xx JSON `{"error": ...}`, never a 5xx, and changes
nothing; strings full of SQL metacharacters are stored and returned verbatim. Hypothesis drives
the ingest body and every query parameter of the read routes; schemathesis drives the whole API
from /api/openapi.json."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi
from starlette.applications import Starlette
from starlette.routing import Match, Route

from app import create_app
from hackatime import heartbeats, users
from hackatime.api.openapi import openapi_document
from hackatime.config import Settings
from hackatime.db import Database
from hackatime.web import pages
from tests.conftest import Account

BULK = "/api/hackatime/v1/users/current/heartbeats.bulk"
SINGLE = "/api/v1/users/current/heartbeats"
FUZZ = hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Fuzzing sends many keyless requests: keep the brute-force limiter out of the way.
    return Settings(
        db_path=tmp_path / "hackatime.db",
        default_timezone="UTC",
        create_first_user=False,
        auth_failures_per_minute=1_000_000,
    )


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    # A 500 comes back as a response, so a test can list every one it met.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "nothing changed" compares."""
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {
        table: [tuple(row) for row in await db.fetch_all(f'SELECT * FROM "{table}" ORDER BY 1')]
        for (table,) in tables
    }


def assert_error_shape(response: httpx.Response, where: str = "") -> None:
    assert 400 <= response.status_code < 500, f"{where}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == "application/json", where
    body = response.json()
    assert list(body) == ["error"], where
    assert isinstance(body["error"], str), where
    assert body["error"], where


# Fixed for the whole run: hypothesis replays examples and wants the same sizes each time.
STARTED_S = int(time.time())


def good_item(n: int = 0) -> dict[str, Any]:
    return {"entity": f"/home/alice/good{n}.py", "time": STARTED_S - 60 + n, "project": "good"}


# --- Bodies that are not JSON, or not JSON we take ----------------------------------------------

NASTY_BODIES = [
    pytest.param(b"", id="empty"),
    pytest.param(b"[", id="open-bracket"),
    pytest.param(b'[{"entity": "/a.py", "time": 1', id="truncated"),
    pytest.param(b'[{"entity": "/a.py", "time": NaN}]', id="nan-literal"),
    pytest.param(b'[{"entity": "/a.py", "time": Infinity}]', id="infinity-literal"),
    pytest.param(b'[{"entity": "/a.py", "time": -Infinity}]', id="minus-infinity-literal"),
    pytest.param(b'[{"entity": "/a.py", "time": 1e999999}]', id="overflowing-float"),
    pytest.param(b'[{"entity": "/a.py", "lineno": ' + b"9" * 400 + b"}]", id="400-digit-int"),
    pytest.param(b"[" * 100_000, id="100k-open-brackets"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100k-nested-arrays"),
    pytest.param(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, id="50k-nested-objects"),
    pytest.param(b'[{"entity": "/\xff\xfe.py", "time": 1}]', id="invalid-utf8"),
    pytest.param(b'[{"entity": "/\xed\xa0\x80.py", "time": 1}]', id="utf8-surrogate"),
    pytest.param(b'[{"entity": "/\\ud800.py", "time": 1}]', id="lone-surrogate-escape"),
    pytest.param(b'[{"entity": "/a\x00b.py", "time": 1}]', id="raw-nul"),
    pytest.param(b"\xef\xbb\xbf[]", id="byte-order-mark"),
    pytest.param(b"\x00" * 1000, id="nul-bytes"),
    pytest.param(b"null", id="null"),
    pytest.param(b"42", id="number"),
    pytest.param(b'"[1, 2"', id="string-holding-bad-json"),
    pytest.param(b'"\\"nested string\\""', id="string-holding-a-string"),
    pytest.param(b"true", id="boolean"),
    pytest.param(orjson.dumps([good_item(n) for n in range(101)]), id="101-items"),
]


@pytest.mark.parametrize("body", NASTY_BODIES)
@pytest.mark.parametrize("path", [BULK, SINGLE])
async def test_nasty_body_is_a_4xx_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, alice: Account, path: str, body: bytes
) -> None:
    before = await snapshot(db)
    response = await client.post(
        path, content=body, headers={**alice.bearer, "Content-Type": "application/json"}
    )
    assert_error_shape(response, path)
    assert await snapshot(db) == before


JSON_ITEMS = st.lists(
    st.builds(
        lambda n, project: {**good_item(n), "project": project},
        st.integers(0, 50),
        st.text(max_size=20),
    ),
    min_size=1,
    max_size=5,
)


@FUZZ
@given(items=JSON_ITEMS, data=st.data())
async def test_truncated_json_is_400_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    items: list[dict[str, Any]],
    data: st.DataObject,
) -> None:
    body = orjson.dumps(items)
    cut = data.draw(st.integers(0, len(body) - 1), label="cut")
    truncated = body[:cut]
    if data.draw(st.booleans(), label="double-encoded"):
        truncated = orjson.dumps(truncated.decode(errors="ignore"))
    content_type = data.draw(st.sampled_from(["application/json", "text/plain", ""]))
    before = await snapshot(db)
    response = await client.post(
        BULK, content=truncated, headers={**alice.bearer, "Content-Type": content_type}
    )
    assert response.status_code == 400, response.text
    assert_error_shape(response)
    assert await snapshot(db) == before


@FUZZ
@given(body=st.binary(max_size=3000))
async def test_random_bytes_never_a_5xx(
    client: httpx.AsyncClient, db: Database, alice: Account, body: bytes
) -> None:
    before = await snapshot(db)
    response = await client.post(BULK, content=body, headers=alice.bearer)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_error_shape(response)
        assert await snapshot(db) == before


# --- Items with one bad field -------------------------------------------------------------------

_NOT_STRINGS = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_NUL_STRINGS = st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=5), st.text(max_size=5))


def _too_long(limit: int) -> st.SearchStrategy[str]:
    return st.sampled_from([limit + 1, limit * 3, 100_000]).map(lambda n: "x" * n)


_BAD_TEXT = {
    name: st.one_of(_NOT_STRINGS, _NUL_STRINGS, _too_long(heartbeats.MAX_TEXT_CHARS))
    for name in ("project", "branch", "language", "machine", "user_agent", "category")
}
_BAD_INT = st.one_of(
    st.integers(min_value=2**53),
    st.integers(max_value=-(2**53)),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "abc", "1.5", "0x10", "²"]),
    st.lists(st.integers(), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2),
)
_EARLIEST_S = heartbeats.EARLIEST_MS / 1000
BAD_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "entity": st.one_of(
        _NOT_STRINGS,
        _NUL_STRINGS,
        st.sampled_from(["", "   "]),
        _too_long(heartbeats.MAX_ENTITY_CHARS),
    ),
    "time": st.one_of(
        st.floats(max_value=_EARLIEST_S - 1, allow_nan=False, allow_infinity=False),
        st.integers(max_value=int(_EARLIEST_S) - 1),
        # Far in the future in seconds, or so large that even as nanoseconds it is.
        st.floats(min_value=STARTED_S + 7200, max_value=9e10),
        st.floats(min_value=1e30, allow_infinity=False),
        st.integers(min_value=10**30),
        st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "inf", "1e999", "", "soon"]),
        st.sampled_from([None, True, False, [], {}, [1], {"t": 1}]),
    ),
    "type": st.one_of(
        st.text(min_size=1, max_size=10).filter(lambda s: s not in heartbeats.TYPES),
        st.integers().filter(bool),
        st.lists(st.text(), min_size=1, max_size=2),
    ),
    **_BAD_TEXT,
    **{name: _BAD_INT for name in ("lineno", "cursorpos", "lines", "line_additions")},
    "is_write": st.one_of(
        st.integers().filter(lambda n: n not in (0, 1)),
        st.text(max_size=5).filter(lambda s: s.lower() not in ("true", "false", "1", "0")),
        st.lists(st.booleans(), min_size=1, max_size=2),
    ),
    "dependencies": st.one_of(
        st.integers(),
        st.dictionaries(st.text(max_size=3), st.text(max_size=3), min_size=1, max_size=2),
        st.lists(st.integers(), min_size=1, max_size=3),
        st.just(["x"] * (heartbeats.MAX_DEPENDENCIES + 1)),
        st.just(["x" * (heartbeats.MAX_TEXT_CHARS + 1)]),
    ),
}


@st.composite
def bad_items(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    field = draw(st.sampled_from(sorted(BAD_FIELDS)))
    value = draw(BAD_FIELDS[field])
    item = {**good_item(draw(st.integers(0, 50))), field: value}
    if field == "time" and value is None and draw(st.booleans()):
        del item["time"]
    return field, item


# Stored before each example, so resending it beside a bad item changes nothing.
ANCHOR = {"entity": "/home/alice/anchor.py", "time": STARTED_S - 3600, "project": "a"}


@FUZZ
@given(bad=bad_items(), as_array=st.booleans())
async def test_item_with_a_bad_field_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    bad: tuple[str, dict[str, Any]],
    as_array: bool,
) -> None:
    field, item = bad
    anchored = await client.post(BULK, json=[ANCHOR], headers=alice.bearer)
    assert anchored.status_code == 201
    before = await snapshot(db)
    body = [ANCHOR, item] if as_array else item
    # Python's json writes ints past 64 bits as they are, which orjson.dumps refuses.
    content = orjson.dumps(body) if _fits_orjson(body) else json.dumps(body).encode()
    response = await client.post(
        BULK, content=content, headers={**alice.bearer, "Content-Type": "application/json"}
    )
    note(f"{response.status_code} {response.text[:500]}")
    if as_array and response.status_code == 201:
        anchor, refused = response.json()["responses"]
        assert anchor == [{"data": None, "error": None}, 201]
        assert refused[1] == 400
        assert list(refused[0]) == ["error"]
        assert field in refused[0]["error"]
    else:
        # A single object, or a body the JSON parser refused (a number past 64 bits): 400.
        assert response.status_code == 400, response.text
        assert_error_shape(response)
    assert await snapshot(db) == before


def _fits_orjson(body: Any) -> bool:
    try:
        orjson.dumps(body)
    except TypeError:
        return False
    return True


@pytest.mark.parametrize(
    ("field", "length", "accepted"),
    [
        pytest.param("entity", heartbeats.MAX_ENTITY_CHARS, True, id="entity-at-bound"),
        pytest.param("entity", heartbeats.MAX_ENTITY_CHARS + 1, False, id="entity-over-bound"),
        pytest.param("entity", 100_000, False, id="entity-100k"),
        pytest.param("project", heartbeats.MAX_TEXT_CHARS, True, id="project-at-bound"),
        pytest.param("project", heartbeats.MAX_TEXT_CHARS + 1, False, id="project-over-bound"),
        pytest.param("project", 100_000, False, id="project-100k"),
        pytest.param("branch", 100_000, False, id="branch-100k"),
        pytest.param("user_agent", 100_000, False, id="user-agent-100k"),
    ],
)
async def test_documented_string_bounds(
    client: httpx.AsyncClient,
    db: Database,
    alice: Account,
    field: str,
    length: int,
    accepted: bool,
) -> None:
    value = "/" + "x" * (length - 1)
    before = await snapshot(db)
    response = await client.post(SINGLE, json={**good_item(), field: value}, headers=alice.bearer)
    if accepted:
        assert response.status_code == 202, response.text
        assert response.json()["data"][field] == value
    else:
        assert_error_shape(response)
        assert field in response.json()["error"]
        assert await snapshot(db) == before


# --- SQL metacharacters are data ----------------------------------------------------------------

DROP = "'; DROP TABLE heartbeats; --"


async def test_sql_metacharacters_are_stored_and_returned_verbatim(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    values = {"project": DROP, "branch": 'x" OR 1=1 --', "language": "%_\\"}
    item = {**good_item(), "entity": "/tmp/'); DELETE FROM users; --.py", **values}
    response = await client.post(BULK, json=[item, good_item(1)], headers=alice.bearer)
    assert response.status_code == 201, response.text

    beats = (await client.get("/api/v1/my/heartbeats", headers=alice.bearer)).json()["heartbeats"]
    stored = next(beat for beat in beats if beat["project"] == DROP)
    assert stored["entity"] == item["entity"]
    assert {name: stored[name] for name in values} == values

    stats = await client.get(
        "/api/v1/stats",
        params={"filter_by_project": DROP, "features": "projects,languages"},
        headers=alice.bearer,
    )
    assert stats.status_code == 200, stats.text
    assert [entry["name"] for entry in stats.json()["projects"]] == [DROP]
    # LIKE wildcards in a search are literal: `%` finds only the project holding a `%`.
    await client.post(BULK, json=[{**good_item(2), "project": "100%"}], headers=alice.bearer)
    found = await client.get(
        "/api/v1/users/current/projects", params={"q": "%"}, headers=alice.bearer
    )
    assert [project["name"] for project in found.json()["data"]] == ["100%"]
    assert await db.fetch_value("SELECT count(*) FROM users") == 1


_SQLISH = st.text(
    alphabet=st.sampled_from(list("'\";%_\\-*/()[]=`|&,.abcXYZ019 ")), min_size=1, max_size=40
).filter(lambda s: s == s.strip() and s)


@FUZZ
@given(project=_SQLISH, branch=_SQLISH, entity=_SQLISH)
async def test_any_metacharacters_round_trip(
    client: httpx.AsyncClient, alice: Account, project: str, branch: str, entity: str
) -> None:
    item = {"entity": "/" + entity, "time": time.time() - 1, "project": project, "branch": branch}
    response = await client.post(SINGLE, json=item, headers=alice.bearer)
    assert response.status_code == 202, response.text
    expected = ("/" + entity, project, branch)
    stored = response.json()["data"]
    assert (stored["entity"], stored["project"], stored["branch"]) == expected
    latest = await client.get("/api/v1/my/heartbeats/most_recent", headers=alice.bearer)
    beat = latest.json()["heartbeat"]
    assert (beat["entity"], beat["project"], beat["branch"]) == expected


# --- Unknown routes and methods -----------------------------------------------------------------

_SEGMENT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    prefix=st.sampled_from(["", "/api", "/api/v1", "/api/hackatime/v1", "/api/v1/users/current"]),
    segments=st.lists(_SEGMENT, min_size=1, max_size=4),
)
async def test_unknown_routes_and_methods_are_json_4xx(
    client: httpx.AsyncClient,
    db: Database,
    method: str,
    prefix: str,
    segments: list[str],
) -> None:
    path = prefix + "/" + "/".join(quote(segment, safe="") for segment in segments)
    assume(not _dashboard_page(path))
    before = await snapshot(db)
    response = await client.request(method, path, content=b"[]")
    if method == "GET" and path == "/api/openapi.json":
        return
    assert_error_shape(response, f"{method} {path}")
    assert await snapshot(db) == before


def _dashboard_page(path: str) -> bool:
    """Whether the dashboard answers the path: its pages are HTML, for browsers."""
    scope = {"type": "http", "path": unquote(path), "method": "GET"}
    return any(
        isinstance(route, Route) and route.matches(scope)[0] != Match.NONE for route in pages.routes
    )


def _documented_paths() -> list[tuple[str, set[str]]]:
    return [(path, set(methods)) for path, methods in openapi_document()["paths"].items()]


async def test_wrong_method_on_every_route_is_json_405(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    before = await snapshot(db)
    for path, methods in _documented_paths():
        url = path.replace("{goal_id}", "1").replace("{range}", "all_time")
        url = url.replace("{email}", "a@b.c").replace("{slack_uid}", "U1")
        url = url.replace("{user}", "current").replace("{username}", "my")
        url = url.replace("{project}", "good")
        for method in {"get", "post", "put", "patch", "delete"} - methods:
            response = await client.request(method.upper(), url, headers=alice.bearer, json=[])
            assert response.status_code == 405, f"{method} {url}: {response.text}"
            assert_error_shape(response, f"{method} {url}")
    assert await snapshot(db) == before


# --- Every query and path parameter of the read routes ------------------------------------------

EDGE_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "²",  # a digit to str.isdigit(), not to int()
    "١٢",  # Arabic-Indic digits
    "99999999999999999999",  # past SQLite's 64-bit integers
    "9" * 5000,  # past Python's int() digit limit
    "1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "\x00",
    "a\x00b",
    DROP,
    "%",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "9999-12",
    "0000",
    "9999",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "253402300799",
    "today",
    "x" * 60_000,  # httpx refuses URLs past 64 KiB
    "languages,nope",
    ",,,",
    "².1",
    "9999999999999999999999.1",
    "../../etc/passwd",
    "Europe/Nowhere",
]

_PATH_DEFAULTS = {
    "user": "current",
    "username": "my",
    "range": "last_7_days",
    "goal_id": "1",
    "email": "root@example.com",
    "slack_uid": "U1",
    "project": "good",
}


def _read_operations() -> list[tuple[str, list[str], list[str]]]:
    """(path, path parameter names, query parameter names) of every GET operation."""
    found = []
    for path, methods in openapi_document()["paths"].items():
        if "get" in methods:
            parameters = methods["get"]["parameters"]
            found.append(
                (
                    path,
                    [p["name"] for p in parameters if p["in"] == "path"],
                    [p["name"] for p in parameters if p["in"] == "query"],
                )
            )
    return found


READ_OPERATIONS = _read_operations()


def _url(path: str, values: dict[str, str]) -> str:
    for name, default in _PATH_DEFAULTS.items():
        path = path.replace("{" + name + "}", quote(values.get(name, default), safe=""))
    return path


@pytest.fixture
async def with_data(client: httpx.AsyncClient, admin: Account) -> Account:
    """The admin (so admin-only routes run their code) with heartbeats and a goal."""
    response = await client.post(BULK, json=[good_item(n) for n in range(5)], headers=admin.bearer)
    assert response.status_code == 201
    return admin


@pytest.mark.parametrize(
    ("path", "path_names", "query_names"),
    [pytest.param(*operation, id=operation[0]) for operation in READ_OPERATIONS],
)
async def test_edge_values_in_every_parameter_never_a_5xx(
    client: httpx.AsyncClient,
    db: Database,
    with_data: Account,
    path: str,
    path_names: list[str],
    query_names: list[str],
) -> None:
    before = await snapshot(db)
    failures = []
    for value in EDGE_VALUES:
        requests = [(_url(path, {name: value}), {}) for name in path_names]
        requests += [(_url(path, {}), {name: value}) for name in query_names]
        for url, query in requests:
            response = await client.get(url, params=query, headers=with_data.bearer)
            if response.status_code >= 500 or (
                response.status_code >= 400 and list(response.json()) != ["error"]
            ):
                failures.append(f"{url[:80]} {str(query)[:80]} -> {response.status_code}")
    assert not failures, "\n".join(failures)
    assert await snapshot(db) == before


_QUERY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(EDGE_VALUES),
    st.integers().map(str),
    st.floats().map(str),
    st.dates().map(str),
    st.datetimes().map(lambda moment: moment.isoformat()),
)


@FUZZ
@given(data=st.data())
async def test_fuzzed_parameters_of_read_routes_never_a_5xx(
    client: httpx.AsyncClient, db: Database, with_data: Account, data: st.DataObject
) -> None:
    path, path_names, query_names = data.draw(st.sampled_from(READ_OPERATIONS), label="route")
    path_values = data.draw(st.dictionaries(st.sampled_from(path_names or ["-"]), _QUERY_TEXT))
    query = data.draw(st.dictionaries(st.sampled_from(query_names or ["-"]), _QUERY_TEXT))
    # httpx itself refuses a query past 64 KiB, which two of the 60,000-character values make:
    # such a request never leaves the test client.
    assume(len(urlencode(query)) < 65_536)
    url = _url(path, path_values)
    response = await client.get(url, params=query, headers=with_data.bearer)
    assert response.status_code < 500, f"{url} {query}: {response.text}"
    if response.status_code >= 400:
        assert_error_shape(response)


# --- schemathesis against /api/openapi.json, in-process -----------------------------------------


@pytest.fixture
def served_app(settings: Settings) -> Iterator[tuple[Starlette, str]]:
    """An app whose lifespan schemathesis runs itself, and a key on its database."""

    async def make_key() -> str:
        db = Database(settings.db_path, read_connections=1)
        await db.open()
        try:
            _, key = await users.create_user(db, "fuzz", email="fuzz@example.com", is_admin=True)
        finally:
            await db.close()
        return key

    key = asyncio.run(make_key())
    app = create_app(settings)
    try:
        yield app, key
    finally:
        schemathesis_asgi.shutdown_lifespans()


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=str)
def test_schemathesis_finds_no_server_error(
    served_app: tuple[Starlette, str], mode: schemathesis.GenerationMode
) -> None:
    app, key = served_app
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    failures: list[str] = []
    labels = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.add(operation.label)

        @hypothesis_settings(
            max_examples=10,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except Exception as error:
                failures.append(f"{case.as_curl_command()}\n{error}"[:2000])

        try:
            run()
        except Unsatisfiable:
            # No parameter, no body and no key: nothing there to make invalid.
            assert mode is schemathesis.GenerationMode.NEGATIVE
            assert operation.label == "GET /api/health"
    # Every operation but the document itself, which schemathesis leaves out as its source.
    documented = {f"{m.upper()} {path}" for path, methods in _documented_paths() for m in methods}
    assert labels == documented - {"GET /api/openapi.json"}
    assert not failures, "\n\n".join(failures[:10])
