"""Guarantee 6, backups: `hackatime backup PATH` copies the live database consistently while the
server runs and ingests, and the copy, served again, holds every heartbeat acknowledged before
the backup began."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.clients import IngestClient, add_user, entity_counts, integrity, wait_for
from tests.helpers import REPO_ROOT, running_server

pytestmark = pytest.mark.slow


def hackatime(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HACKATIME_")}
    return subprocess.run(
        [sys.executable, "-m", "hackatime.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env=env,
    )


def all_entities(base_url: str, key: str) -> list[str]:
    """Every heartbeat the API serves the user, following `next` (bounded)."""
    entities: list[str] = []
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        url: str | None = "/api/v1/my/heartbeats?limit=100"
        for _ in range(1000):
            if url is None:
                return entities
            response = http.get(url)
            assert response.status_code == 200, response.text
            body = response.json()
            entities += [beat["entity"] for beat in body["heartbeats"]]
            url = body["next"]
    raise AssertionError("more than 1000 pages of heartbeats")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hackatime.db"


def test_backup_while_serving_and_ingesting_holds_every_acknowledged_heartbeat(
    db_path: Path, tmp_path: Path
) -> None:
    key = add_user(db_path, "writer")
    copy = tmp_path / "backups" / "copy.db"
    copy.parent.mkdir()
    clients = [IngestClient("", key, f"w{n}", max_batches=2000) for n in range(2)]
    try:
        with running_server(db_path) as server:
            for client in clients:
                client.base_url = server.base_url
                client.start()
            wait_for(lambda: all(len(c.acknowledged) >= 200 for c in clients), 60, "ingest")
            before = [entity for client in clients for entity in client.acknowledged]
            result = hackatime("backup", "--db", db_path, copy)
            # The clients were still ingesting when the copy finished.
            assert all(client.is_alive() for client in clients)
            after = sum(len(client.acknowledged) for client in clients)
            for client in clients:
                client.stop()
            server.stop(signal.SIGTERM)
    finally:
        for client in clients:
            client.stop_event.set()

    assert result.returncode == 0, result.stderr
    assert after > len(before), "no heartbeat was acknowledged while the backup ran"
    assert integrity(copy) == "ok"
    with closing(sqlite3.connect(copy)) as conn:
        # A self-contained file: no WAL needed beside it.
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    counts = entity_counts(copy)
    assert [entity for entity in before if counts[entity] != 1] == []

    # Restoring is serving the copy: the API finds every heartbeat acknowledged before.
    with running_server(copy) as restored:
        served = all_entities(restored.base_url, key)
        restored.stop(signal.SIGTERM)
    assert len(served) == len(set(served))
    assert set(before) <= set(served)


def test_backup_refuses_an_existing_path_unless_forced(db_path: Path, tmp_path: Path) -> None:
    key = add_user(db_path, "writer")
    target = tmp_path / "existing.db"
    target.write_bytes(b"precious")

    refused = hackatime("backup", "--db", db_path, target)
    assert refused.returncode == 2
    assert "exists" in refused.stderr
    assert target.read_bytes() == b"precious"

    forced = hackatime("backup", "--db", db_path, target, "--force")
    assert forced.returncode == 0, forced.stderr
    assert integrity(target) == "ok"
    with running_server(target) as restored, httpx.Client(base_url=restored.base_url) as http:
        response = http.get(
            "/api/v1/my/heartbeats", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
    assert response.status_code == 200, response.text


def test_backup_refuses_the_database_itself(db_path: Path) -> None:
    add_user(db_path, "writer")
    before = db_path.read_bytes()
    result = hackatime("backup", "--db", db_path, db_path, "--force")
    assert result.returncode == 2
    assert db_path.read_bytes() == before
