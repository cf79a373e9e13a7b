"""Guarantee 1 and the shutdown half of 6: no acknowledged heartbeat is lost, whether the server
is killed (SIGKILL, like a power cut for the process) or stopped (SIGTERM, like systemd)."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from tests.clients import (
    ACCEPTED,
    BULK,
    IngestClient,
    acknowledged_count,
    add_user,
    entity_counts,
    integrity,
    wait_for,
    wal_size,
)
from tests.helpers import running_server

pytestmark = pytest.mark.slow

CLIENTS = 4
# Enough acknowledged heartbeats that the kill lands mid-stream, not before the first batch.
ACKNOWLEDGED_BEFORE_KILL = 1500


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hackatime.db"


def start_clients(base_url: str, key: str, round_name: str) -> list[IngestClient]:
    # The last client sends one heartbeat a request (202), the others batches (201).
    clients = [
        IngestClient(base_url, key, f"{round_name}{n}", single=n == CLIENTS - 1)
        for n in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    return clients


def assert_stored_once(db_path: Path, clients: list[IngestClient]) -> None:
    counts = entity_counts(db_path)
    acknowledged = [entity for client in clients for entity in client.acknowledged]
    missing = [entity for entity in acknowledged if counts[entity] == 0]
    assert not missing, f"{len(missing)} acknowledged heartbeats lost, e.g. {missing[:5]}"
    repeated = {entity: n for entity, n in counts.items() if n > 1}
    assert not repeated, f"stored more than once: {list(repeated.items())[:5]}"
    for client in clients:
        assert not client.failures, client.failures[:3]


def test_sigkill_mid_stream_loses_no_acknowledged_heartbeat(db_path: Path) -> None:
    key = add_user(db_path, "loader")
    clients: list[IngestClient] = []
    try:
        with running_server(db_path) as server:
            clients = start_clients(server.base_url, key, "kill")
            wait_for(
                lambda: acknowledged_count(clients) >= ACKNOWLEDGED_BEFORE_KILL,
                timeout=60,
                what=f"{ACKNOWLEDGED_BEFORE_KILL} acknowledged heartbeats",
            )
            still_posting = [client.is_alive() for client in clients]
            server.stop(signal.SIGKILL)
            for client in clients:
                client.stop()
    finally:
        for client in clients:
            client.stop_event.set()
    assert all(still_posting), "a client finished before the kill: the kill was not mid-stream"
    # The kill cut requests off: at least one client saw its connection fail.
    assert any(client.errors for client in clients)

    with running_server(db_path) as server:
        assert_stored_once(db_path, clients)
        # Offline queues resend whatever they were not sure of: resending is harmless.
        with httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http:
            for client in clients:
                for batch in client.batches[-3:]:
                    response = http.post(BULK, json=batch)
                    assert response.status_code == 201, response.text
                    assert response.json()["responses"] == [ACCEPTED] * len(batch)
        assert_stored_once(db_path, clients)
        assert server.stop(signal.SIGTERM) == 0, server.log()

    assert integrity(db_path) == "ok"


def test_sigterm_mid_stream_exits_cleanly_and_keeps_every_acknowledged_heartbeat(
    db_path: Path,
) -> None:
    key = add_user(db_path, "loader")
    clients: list[IngestClient] = []
    try:
        with running_server(db_path) as server:
            clients = start_clients(server.base_url, key, "term")
            wait_for(
                lambda: acknowledged_count(clients) >= ACKNOWLEDGED_BEFORE_KILL // 2,
                timeout=60,
                what="acknowledged heartbeats",
            )
            status = server.stop(signal.SIGTERM)
            for client in clients:
                client.stop()
            log = server.log()
    finally:
        for client in clients:
            client.stop_event.set()

    assert status == 0, log
    assert "Traceback" not in log, log
    # Closed cleanly: the WAL was folded back into the database file.
    assert wal_size(db_path) == 0
    assert integrity(db_path) == "ok"
    assert_stored_once(db_path, clients)
