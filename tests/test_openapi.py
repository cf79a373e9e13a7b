"""The OpenAPI document: valid, served without a key, and describing every route the app serves
(and nothing it does not). Schemathesis runs against it in tests/test_bad_input.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from hackatime.api.openapi import openapi_document

HACKATIME_DIR = Path(__file__).resolve().parent.parent / "hackatime"


def _shape(path: str) -> str:
    # `/users/{user}/stats` and `/users/{username}/stats` are one path to a client.
    return re.sub(r"\{[^}]+\}", "{}", path)


def served_routes(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path shape) for every route the app answers, HEAD aside (it follows GET)."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= served_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method.lower(), _shape(prefix + route.path)))
        else:
            raise AssertionError(f"unexpected route type {route!r}: describe it in openapi.py")
    return found


def documented_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, _shape(path)) for path, methods in document["paths"].items() for method in methods
    }


def test_every_served_route_is_documented(app: Starlette) -> None:
    # The dashboard's pages (hackatime/web) answer HTML to browsers: not part of the JSON API.
    api_routes = {route for route in served_routes(app.routes) if route[1].startswith("/api/")}
    missing = api_routes - documented_routes(openapi_document())
    assert not missing


def test_every_documented_route_is_served(app: Starlette) -> None:
    extra = documented_routes(openapi_document()) - served_routes(app.routes)
    assert not extra


def test_document_is_valid_openapi_3() -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    schema.validate()


async def test_served_without_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == openapi_document()


def test_both_bases_carry_the_same_wakatime_operations() -> None:
    paths = openapi_document()["paths"]
    hackatime = {_shape(p.removeprefix("/api/hackatime/v1")) for p in paths if "/hackatime/" in p}
    wakatime = {_shape(p.removeprefix("/api/v1")) for p in paths if p.startswith("/api/v1")}
    assert hackatime <= wakatime


# Answered without a key for public users (README cards and badges); a key sent is still checked.
KEY_OPTIONAL = {
    "/api/v1/users/{username}/stats",
    "/api/v1/badge/{username}",
    "/api/v1/badge/{username}/{project}",
    "/api/v1/shields/{username}",
    "/api/v1/shields/{username}/{project}",
}


def test_every_authenticated_operation_documents_the_error_shape() -> None:
    document = openapi_document()
    error = {"$ref": "#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"] == {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    }
    assert set(document["components"]["securitySchemes"]) == {"bearer", "basic", "api_key"}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            where = f"{method.upper()} {path}"
            if path in ("/api/openapi.json", "/api/health"):
                assert operation["security"] == [], where
                continue
            expected = [{}, *document["security"]] if path in KEY_OPTIONAL else document["security"]
            assert operation["security"] == expected, where
            for status in ("401", "429"):
                assert operation["responses"][status]["content"]["application/json"] == {
                    "schema": error
                }, where
            assert "Retry-After" in operation["responses"]["429"]["headers"], where
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == error, where
            if method == "post":
                assert operation["requestBody"]["required"], where


def test_path_parameters_are_declared() -> None:
    for path, methods in openapi_document()["paths"].items():
        names = set(re.findall(r"\{([^}]+)\}", path))
        for operation in methods.values():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == names, path


# Ways the API modules read query parameters; a new parameter must be documented.
_QUERY_READS = [
    re.compile(r"query_params\.get\(\s*\"(\w+)\""),
    re.compile(r"query_params\[\"(\w+)\"\]"),
    re.compile(r"query_(?:list|positive_int)\(\s*request,\s*\"(\w+)\""),
    re.compile(r"\"(\w+)\" in params"),
]


def test_every_query_parameter_read_by_an_endpoint_is_documented() -> None:
    documented = {
        parameter["name"]
        for methods in openapi_document()["paths"].values()
        for operation in methods.values()
        for parameter in operation["parameters"]
        if parameter["in"] == "query"
    }
    read: set[str] = set()
    for module in sorted((HACKATIME_DIR / "api").glob("*.py")):
        source = module.read_text()
        for pattern in _QUERY_READS:
            read |= set(pattern.findall(source))
    # api_key is the apiKey security scheme rather than a parameter.
    assert read - documented - {"api_key"} == set()
    assert len(read) > 10


@pytest.mark.parametrize(
    ("path", "name", "expected"),
    [
        pytest.param("/api/v1/stats", "features", "array", id="features"),
        pytest.param("/api/v1/users/{user}/durations", "slice_by", "string", id="slice_by"),
        pytest.param("/api/v1/users/{user}/summaries", "range", "string", id="summary-range"),
        pytest.param("/api/v1/my/heartbeats", "limit", "integer", id="limit"),
    ],
)
def test_parameter_schemas(path: str, name: str, expected: str) -> None:
    operation = openapi_document()["paths"][path]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == name]
    schema = parameter["schema"]
    assert schema["type"] == expected
    if expected == "integer":
        assert schema["minimum"] == 1
    elif expected == "array":
        assert schema["items"]["enum"]
    else:
        assert schema["enum"]
