"""GET /api/v1/users/current/export: the signed-in user's own heartbeats as a streamed file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from hackatime import aliases
from hackatime.db import Database
from hackatime.transfer import importer
from tests.conftest import Account
from tests.helpers import beat, set_zone, store_beats, stored_heartbeats

EXPORT = "/api/v1/users/current/export"
# 2024-03-01T23:30:00Z
LATE = 1_709_335_800_000


async def _history(db: Database, alice: Account, bob: Account) -> None:
    await store_beats(db, alice, [beat(LATE), beat(LATE + 60_000, "web"), beat(LATE + 3_600_000)])
    await store_beats(db, bob, [beat(LATE + 30_000, "secret")])


async def test_json_is_wakatimes_dump_shape_with_days_in_the_users_zone(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account
) -> None:
    await _history(db, alice, bob)
    await set_zone(db, alice, "Europe/Berlin")
    response = await client.get(EXPORT, headers=alice.bearer)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith('attachment; filename="hackatime-')
    body = response.json()
    assert body["user"]["username"] == "alice"
    # Up to now, at the latest: the end of the range is when the export was made.
    assert body["range"]["start"] == LATE // 1000
    assert body["range"]["end"] > LATE // 1000 + 3600
    # 00:30 and 00:31 Berlin time on 2 March, then 01:30.
    assert [(day["date"], [b["time"] for b in day["heartbeats"]]) for day in body["days"]] == [
        ("2024-03-02", [LATE / 1000, LATE / 1000 + 60, LATE / 1000 + 3600])
    ]
    assert [b["project"] for b in body["days"][0]["heartbeats"]] == ["app", "web", "app"]


async def test_csv_and_a_range(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account
) -> None:
    await _history(db, alice, bob)
    response = await client.get(
        EXPORT,
        params={"format": "csv", "start": "2024-03-01", "end": "2024-03-01"},
        headers=alice.bearer,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["time"], row["project"], row["is_write"]) for row in rows] == [
        (str(LATE / 1000), "app", ""),
        (str(LATE / 1000 + 60), "web", ""),
    ]
    assert rows[0]["dependencies"] == "[]"


async def test_empty_history_is_an_empty_dump(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get(EXPORT, headers=alice.bearer)
    assert response.status_code == 200
    assert response.json()["days"] == []


async def test_bad_format_and_no_key_are_json_errors(
    client: httpx.AsyncClient, alice: Account
) -> None:
    bad = await client.get(EXPORT, params={"format": "xml"}, headers=alice.bearer)
    assert (bad.status_code, bad.json()) == (400, {"error": "format: must be one of json, csv"})
    anonymous = await client.get(EXPORT)
    assert anonymous.status_code == 401
    assert list(anonymous.json()) == ["error"]


async def test_only_your_own(client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    response = await client.get("/api/v1/users/bob/export", headers=alice.bearer)
    assert response.status_code == 403


async def test_the_export_has_the_stored_project_names_and_imports_back_as_is(
    client: httpx.AsyncClient, db: Database, alice: Account, bob: Account, tmp_path: Path
) -> None:
    await _history(db, alice, bob)
    await aliases.rename(db, alice.user.id, "web", "site")
    stored = await stored_heartbeats(db, alice.user.id)
    response = await client.get(EXPORT, headers=alice.bearer)
    days = response.json()["days"]
    assert [b["project"] for day in days for b in day["heartbeats"]] == ["app", "web", "app"]
    csv_rows = await client.get(EXPORT, params={"format": "csv"}, headers=alice.bearer)
    assert [row["project"] for row in csv.DictReader(io.StringIO(csv_rows.text))] == [
        "app",
        "web",
        "app",
    ]
    path = tmp_path / "export.json"
    path.write_bytes(response.content)
    report = importer.ImportReport()
    await importer.import_file(db, alice.user.id, path, report, now_ms=LATE + 86_400_000)
    assert (report.new, report.already_stored, report.rejected) == (0, 3, 0)
    assert await stored_heartbeats(db, alice.user.id) == stored
