"""Guarantee 2: 16 clients mixing ingest and every read endpoint against the real server get no
5xx and never see "database is locked", in a body or in the server's log."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import httpx
import pytest

from hackatime.api.openapi import openapi_document
from tests.clients import BULK, add_goal, add_user
from tests.helpers import running_server

pytestmark = pytest.mark.slow

CLIENTS = 16
DURATION_S = 20.0
# Bounded by time and by count, whichever comes first.
MAX_REQUESTS_PER_CLIENT = 1500
LOCKED = "database is locked"


def read_urls(goal_id: str) -> list[str]:
    """One URL for every read operation the API documents (so every read endpoint)."""
    today = date.today().isoformat()
    path_values = {
        "user": "current",
        "username": "my",
        "range": "last_7_days",
        "goal_id": goal_id,
        "email": "peer@example.com",
        "slack_uid": "U0PEER",
        "project": "mixed",
    }
    queries = {
        "/users/{user}/summaries": "?range=last_7_days",
        "/users/{user}/durations": f"?date={today}",
        "/users/{user}/heartbeats": f"?date={today}",
        "/stats": "?features=languages,projects,editors&limit=3",
        "/my/heartbeats": "?limit=100",
    }
    urls = []
    for path, methods in openapi_document()["paths"].items():
        # file_experts reads, though by POST.
        if "get" not in methods and not path.endswith("/file_experts"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda match: path_values[match.group(1)], path)
        suffix = next((q for tail, q in queries.items() if path.endswith(tail)), "")
        urls.append(url + suffix)
    return urls


class MixedClient(threading.Thread):
    def __init__(self, base_url: str, key: str, number: int, urls: list[str]) -> None:
        super().__init__(name=f"mixed-{number}", daemon=True)
        self.base_url = base_url
        self.key = key
        self.number = number
        self.urls = urls
        self.deadline = 0.0
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.problems: list[str] = []

    def heartbeats(self, sequence: int) -> list[dict[str, object]]:
        now = time.time()
        return [
            {
                "entity": f"/mixed/{self.number}/{sequence}/{item}.py",
                "time": now - 60 + item,
                "project": f"mixed-{self.number % 4}",
                "branch": "main",
            }
            for item in range(10)
        ]

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as http:
            for sequence in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() > self.deadline:
                    return
                # Every client alternates: one ingest, then the next read endpoint in turn.
                url = self.urls[(sequence // 2 + self.number) % len(self.urls)]
                label = "ingest" if sequence % 2 == 0 else url.split("?")[0]
                try:
                    if sequence % 2 == 0:
                        response = http.post(BULK, json=self.heartbeats(sequence))
                    elif url.endswith("/file_experts"):
                        response = http.post(url, json={"entity": f"/mixed/{self.number}/0/1.py"})
                    else:
                        response = http.get(url)
                except httpx.HTTPError as error:
                    self.problems.append(f"{label}: {error!r}")
                    return
                self.statuses[(label, response.status_code)] += 1
                if response.status_code >= 500 or LOCKED in response.text:
                    self.problems.append(f"{label}: {response.status_code} {response.text[:300]}")


def test_sixteen_clients_mixing_ingest_and_reads(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "hackatime.db"
    key = add_user(db_path, "main", email="main@example.com", is_admin=True)
    add_user(db_path, "peer", email="peer@example.com", slack_uid="U0PEER")
    goal_id = add_goal(db_path, "main", title="Code", seconds=3600, period="day")
    urls = read_urls(goal_id)
    clients = [MixedClient("", key, n, urls) for n in range(CLIENTS)]

    with running_server(db_path) as server:
        deadline = time.monotonic() + DURATION_S
        for client in clients:
            client.base_url = server.base_url
            client.deadline = deadline
            client.start()
        for client in clients:
            client.join(DURATION_S + 60)
        stuck = [client.name for client in clients if client.is_alive()]
        server.stop(signal.SIGTERM)
        log = server.log()

    assert not stuck, f"clients still running: {stuck}"
    problems = [problem for client in clients for problem in client.problems]
    assert not problems, problems[:10]
    assert LOCKED not in log
    assert "Traceback" not in log, log[-5000:]

    statuses: Counter[tuple[str, int]] = Counter()
    for client in clients:
        statuses.update(client.statuses)
    # Every endpoint was really exercised, and answered with success, not an error shape.
    answered = {label for label, status in statuses if 200 <= status < 300}
    expected = {"ingest"} | {url.split("?")[0] for url in urls}
    assert answered == expected, {label: n for label, n in statuses.items() if label[1] >= 300}
    print(f"{statuses.total()} requests in {DURATION_S} s or less")
