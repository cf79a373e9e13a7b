"""GET /api/health: 200 with the schema and program versions, 503 in the same shape when the
database does not answer; never a key needed."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

import hackatime
from hackatime import migrations
from hackatime.db import Database


async def test_healthy_without_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "schema_version": migrations.latest_version(),
        "version": hackatime.__version__,
    }


async def test_closed_database_is_503(client: httpx.AsyncClient, db: Database) -> None:
    await db.close()

    response = await client.get("/api/health")

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "database is not open",
        "schema_version": None,
        "version": hackatime.__version__,
    }


async def test_a_failing_read_is_503(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(db, "fetch_one", broken)

    response = await client.get("/api/health")

    assert response.status_code == 503
    assert response.json()["database"] == "database disk image is malformed"
    assert response.json()["status"] == "error"
