"""The text and image views beside the JSON calls they stand for (issue 12): the terminal
overview against the summaries of the same 7 days, badges against WakaTime's stats of the same
range. Both alternate on the same server, and each view must show its JSON call's numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from bench import queries
from bench.report import Row

Check = Callable[[str, Any], list[str]]


@dataclass(frozen=True)
class View:
    name: str
    path: str
    keyed: bool  # badges are asked with no key, as a README's images are
    reference_name: str
    reference_path: str
    check: Check
    # The view's p50 may be at most this many times its JSON call's.
    limit: float


def _check_terminal(text: str, summaries: Any) -> list[str]:
    lines = text.splitlines()
    days = summaries["data"]
    problems = []
    if f": {days[-1]['grand_total']['text']} today" not in lines[0]:
        problems.append(f"today: {lines[0]!r} against {days[-1]['grand_total']['text']!r}")
    week = summaries["cumulative_total"]["text"]
    if lines[2] != f"Last 7 days: {week}":
        problems.append(f"week: {lines[2]!r} against {week!r}")
    for line, day in zip(lines[3:10], days, strict=True):
        if not line.endswith(day["grand_total"]["text"]):
            problems.append(f"day {day['range']['date']}: {line!r}")
    return problems


def _check_badge(svg: str, stats: Any) -> list[str]:
    total = stats["data"]["human_readable_total"]
    return [] if f">{total}</text>" in svg else [f"badge does not show {total!r}"]


def views(username: str) -> list[View]:
    return [
        View(
            "terminal overview (7 days)",
            "/",
            True,
            "summaries last 7 days",
            "/api/v1/users/current/summaries?range=last_7_days",
            _check_terminal,
            1.5,
        ),
        View(
            "badge last 7 days",
            f"/api/v1/badge/{username}?range=last_7_days",
            False,
            "stats/last_7_days",
            "/api/v1/users/current/stats/last_7_days",
            _check_badge,
            1.0,
        ),
        View(
            "badge all time",
            f"/api/v1/badge/{username}",
            False,
            "stats/all_time",
            "/api/v1/users/current/stats/all_time",
            _check_badge,
            1.0,
        ),
    ]


def measure(
    port: int, username: str, key: str, size: str
) -> tuple[list[Row], list[tuple[str, str]]]:
    """A row per view, and the differences found between a view and its JSON call."""
    keyed = {**queries.bearer(key), "Accept": "*/*"}
    rows, problems = [], []
    for view in views(username):
        (body, reference), (product, json_call) = queries.side_by_side(
            port,
            (view.path, keyed if view.keyed else {"Accept": "*/*"}),
            (view.reference_path, keyed),
            budget=4.0,
        )
        found = view.check(body.decode(), orjson.loads(reference))
        problems += [(f"VIEW DIFFERS, {view.name} at {size}", text[:400]) for text in found]
        ratio = product.p50 / json_call.p50
        rows.append(
            Row(
                f"{view.name} at {size}, p50 (p95), {len(product.samples)} reps",
                f"{product.p50 * 1000:.1f} ms ({product.p95 * 1000:.1f})",
                f"{view.reference_name}: {json_call.p50 * 1000:.1f} ms",
                f"{ratio:.2f}x",
                f"<= {view.limit}x its JSON call" + (" (view differs)" if found else ""),
                ratio <= view.limit and not found,
            )
        )
    return rows, problems
