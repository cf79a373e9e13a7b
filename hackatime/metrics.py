"""Prometheus metrics at GET /metrics, served when HACKATIME_METRICS=1: requests by route and
status, their latency, heartbeats stored and rejected, the database's size and its users.

Each app has its own registry, so two apps in one process (the tests) never share a count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hackatime import users

# Paths no route knows share one label, so a scanner cannot grow the label set without bound.
UNMATCHED = "unmatched"
# Likewise for methods: h11 takes any token as one.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# From a status-bar read (milliseconds) to an all-time stats query over years on a Pi.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "hackatime_requests",
            "HTTP requests answered, by route template and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "hackatime_request_duration_seconds",
            "Time from a request's arrival to the end of its response",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.heartbeats_stored = Counter(
            "hackatime_heartbeats_stored",
            "Heartbeats accepted (a resent one is stored once but counted here again)",
            registry=self.registry,
        )
        self.heartbeats_rejected = Counter(
            "hackatime_heartbeats_rejected",
            "Heartbeats refused as invalid (answered 400 for that item)",
            registry=self.registry,
        )
        self.database_bytes = Gauge(
            "hackatime_database_bytes",
            "Size of the database file and its write-ahead log",
            registry=self.registry,
        )
        self.users = Gauge("hackatime_users", "Users in the database", registry=self.registry)


def count_heartbeats(state: Any, *, stored: int, rejected: int) -> None:
    """Record one ingest request's outcome; nothing when metrics are off."""
    metrics: Metrics | None = state.metrics
    if metrics is None:
        return
    if stored:
        metrics.heartbeats_stored.inc(stored)
    if rejected:
        metrics.heartbeats_rejected.inc(rejected)


def route_template(routes: list[BaseRoute], scope: Scope, prefix: str = "") -> str:
    """The template of the route a request goes to (`/api/v1/users/{user}/stats`), never the
    raw path, which holds names and ids."""
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            return route_template(route.routes, {**scope, **child_scope}, prefix + route.path)
        return prefix + getattr(route, "path", "")
    return UNMATCHED


class MetricsMiddleware:
    """Counts and times every HTTP request, errors included."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Matched before the app runs: routing rewrites the scope's root_path as it descends.
        route = route_template(self.routes, scope)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)


def database_bytes(path: Path) -> int:
    files = (path, path.with_name(path.name + "-wal"))
    return sum(file.stat().st_size for file in files if file.exists())


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    db = request.app.state.db
    metrics.database_bytes.set(database_bytes(db.path))
    metrics.users.set(await users.count_users(db))
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
