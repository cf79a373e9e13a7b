"""The measured queries: each endpoint over HTTP beside its SQLite floor, with a check that both
give the same numbers, so a fast wrong answer cannot pass.

Product requests and floor repetitions alternate, and so do the requests to the big and the small
history when measuring growth: a noisy neighbour then slows both sides alike.
"""

from __future__ import annotations

import http.client
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import orjson

from bench import dataset, floors, history
from bench.floors import FloorQuery

TIMEOUT_MS = 120_000
PAGE_LIMIT = 100
ALL_TIME = (0, 2**62)

Check = Callable[[Any, dict[str, list[Any]]], list[str]]


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    floor: list[FloorQuery]
    check: Check
    # "seed": within 0.3x its floor; "plain": within 1.0x its floor + 5 ms.
    target: Literal["seed", "plain"] = "plain"
    # Rows the range holds: growth is judged against it.
    rows: int = 0


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Measured:
    case: Case
    product: Timing
    floor: Timing
    problems: list[str]


def cases(
    conn: Any, user_id: int, zone: str, now_ms: int, username: str = dataset.USERNAME
) -> list[Case]:
    """The five measured endpoints at this moment, each with the floor queries of its numbers."""
    tz = ZoneInfo(zone)
    offset = tz.utcoffset(datetime.now())
    assert offset is not None
    offset_ms = round(offset.total_seconds() * 1000)
    base = {"user_id": user_id, "timeout_ms": TIMEOUT_MS, "offset_ms": offset_ms}

    def params(start_ms: int, end_ms: int) -> dict[str, Any]:
        return {**base, "start_ms": start_ms, "end_ms": end_ms}

    def count(start_ms: int, end_ms: int) -> int:
        sql = "SELECT count(*) FROM hb WHERE user_id = ? AND time_ms >= ? AND time_ms < ?"
        return conn.execute(sql, (user_id, start_ms, end_ms)).fetchone()[0]

    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    day = (history.midnight_ms(today, tz), history.midnight_ms(today + timedelta(days=1), tz))
    week_first = today - timedelta(days=6)
    week = (history.midnight_ms(week_first, tz), day[1])
    # WakaTime's last year: from the day after this day a year ago, through today.
    year = (history.midnight_ms(_year_before(today) + timedelta(days=1), tz), day[1])
    statusbar = params(*day)
    every = params(*ALL_TIME)
    last_year = params(*year)
    last_week = params(*week)
    return [
        Case(
            "statusbar/today",
            "/api/hackatime/v1/users/current/statusbar/today",
            [
                FloorQuery("total", floors.total(), statusbar),
                *(FloorQuery(name, floors.split(col), statusbar) for name, col in _splits()),
            ],
            _check_statusbar,
            rows=count(*day),
        ),
        Case(
            "stats all-time (seed)",
            f"/api/v1/users/{username}/stats",
            [
                FloorQuery("total", floors.total(), every),
                FloorQuery("languages", floors.split("language"), every),
                FloorQuery("projects", floors.split("project"), every),
                FloorQuery("span", floors.SPAN, every),
            ],
            _check_seed_stats,
            target="seed",
            rows=count(*ALL_TIME),
        ),
        Case(
            "stats/last_year",
            "/api/v1/users/current/stats/last_year",
            [
                # WakaTime's stats are the sums of their days, each day measured on its own.
                FloorQuery("total", floors.total(each_day=True), last_year),
                *(
                    FloorQuery(name, floors.split(col, each_day=True), last_year)
                    for name, col in _splits()
                ),
                FloorQuery("dependencies", floors.dependencies(each_day=True), last_year),
                FloorQuery("daily total", floors.total(by_day=True), last_year),
            ],
            _check_stats,
            rows=count(*year),
        ),
        Case(
            "summaries last 7 days",
            f"/api/v1/users/current/summaries?start={week_first}&end={today}",
            [
                FloorQuery("daily total", floors.total(by_day=True), last_week),
                *(
                    FloorQuery(f"daily {name}", floors.split(col, by_day=True), last_week)
                    for name, col in _splits()
                ),
                FloorQuery("daily dependencies", floors.dependencies(by_day=True), last_week),
            ],
            _summaries_check((week[0] + offset_ms) // floors.DAY_MS),
            rows=count(*week),
        ),
        Case(
            "my/heartbeats page",
            f"/api/v1/my/heartbeats?limit={PAGE_LIMIT}",
            [
                FloorQuery("page", floors.PAGE, {**every, "limit": PAGE_LIMIT + 1}),
                FloorQuery("total", floors.total(), every),
            ],
            _check_page,
            rows=count(*ALL_TIME),
        ),
    ]


def _year_before(day: date) -> date:
    # 29 February a year back is the 28th.
    return day.replace(year=day.year - 1, day=min(day.day, 28 if day.month == 2 else day.day))


def _splits() -> list[tuple[str, str]]:
    return list(floors.SPLITS.items())


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _named(rows: list[Any]) -> dict[str, int]:
    return {row[-2]: row[-1] for row in rows if row[-1]}


def _compare(what: str, got: object, expected: object) -> list[str]:
    return [] if got == expected else [f"{what}: product {got!r} != floor {expected!r}"]


def _check_statusbar(body: Any, floor: dict[str, list[Any]]) -> list[str]:
    data = body["data"]
    problems = _compare("total", _ms(data["grand_total"]["total_seconds"]), floor["total"][0][0])
    for name, _ in _splits():
        got = {item["name"]: _ms(item["total_seconds"]) for item in data[name]}
        problems += _compare(name, got, _named(floor[name]))
    return problems


def _check_seed_stats(body: Any, floor: dict[str, list[Any]]) -> list[str]:
    data = body["data"]
    problems = _compare("total", _ms(data["total_seconds"]), floor["total"][0][0])
    for name in ("languages", "projects"):
        got = {item["name"]: item["seconds"] for item in body[name]}
        expected = {key: ms // 1000 for key, ms in _named(floor[name]).items()}
        problems += _compare(name, got, expected)
    return problems


def _check_stats(body: Any, floor: dict[str, list[Any]]) -> list[str]:
    data = body["data"]
    problems = _compare("total", _ms(data["total_seconds"]), floor["total"][0][0])
    for name, _ in _splits():
        got = {item["name"]: _ms(item["total_seconds"]) for item in data[name]}
        problems += _compare(name, got, _named(floor[name]))
    got_dependencies = {item["name"]: _ms(item["total_seconds"]) for item in data["dependencies"]}
    problems += _compare("dependencies", got_dependencies, _named(floor["dependencies"]))
    best = max((ms for _, ms in floor["daily total"] if ms), default=0)
    problems += _compare("best day", _ms(data["best_day"]["total_seconds"]), best)
    return problems


def _summaries_check(first_day: int) -> Check:
    """`first_day` is the first local day's number in the floor's day column."""

    def check(body: Any, floor: dict[str, list[Any]]) -> list[str]:
        problems: list[str] = []
        totals = {day - first_day: ms for day, ms in floor["daily total"]}
        for index, entry in enumerate(body["data"]):
            got = _ms(entry["grand_total"]["total_seconds"])
            problems += _compare(f"day {index} total", got, totals.get(index) or 0)
            for name in [*(name for name, _ in _splits()), "dependencies"]:
                got_split = {item["name"]: _ms(item["total_seconds"]) for item in entry[name]}
                expected = {
                    key: ms for day, key, ms in floor[f"daily {name}"] if day - first_day == index
                }
                problems += _compare(f"day {index} {name}", got_split, _named_items(expected))
        cumulative = _ms(body["cumulative_total"]["seconds"])
        problems += _compare("cumulative", cumulative, sum(ms or 0 for ms in totals.values()))
        return problems

    return check


def _named_items(values: dict[str, int | None]) -> dict[str, int]:
    return {key: ms for key, ms in values.items() if ms}


def _check_page(body: Any, floor: dict[str, list[Any]]) -> list[str]:
    problems = _compare("total", _ms(body["total_seconds"]), floor["total"][0][0])
    got = [_ms(item["time"]) for item in body["heartbeats"]]
    expected = [row[2] for row in floor["page"][:PAGE_LIMIT]]
    return problems + _compare("page times", got, expected)


def measure(
    server_port: int,
    floor_conn: Any,
    case: Case,
    headers: dict[str, str],
    *,
    budget: float,
    min_reps: int = 5,
    max_reps: int = 30,
) -> Measured:
    """Alternate one HTTP request and one floor repetition until the budget or max_reps.

    One untimed round first warms the server's and SQLite's caches for both, and its answers
    are compared.
    """
    client = Client(server_port)
    body = client.get(case.path, headers)
    floor_result = floors.run_all(floor_conn, case.floor)
    try:
        problems = case.check(body, floor_result)
    except (KeyError, IndexError, TypeError) as error:
        problems = [f"answer shape changed: {error!r}"]

    def floor_once() -> float:
        started = time.perf_counter()
        floors.run_all(floor_conn, case.floor)
        return time.perf_counter() - started

    product, floor = alternate(
        lambda: client.timed_get(case.path, headers),
        floor_once,
        budget=budget,
        min_reps=min_reps,
        max_reps=max_reps,
    )
    client.close()
    return Measured(case, product, floor, problems)


def growth(
    big_port: int,
    small_port: int,
    path: str,
    headers: dict[str, str],
    *,
    budget: float,
    min_reps: int = 5,
    max_reps: int = 30,
) -> tuple[Timing, Timing]:
    """The same request to two servers (the big and the small history), alternately."""
    big, small = Client(big_port), Client(small_port)
    big.get(path, headers)
    small.get(path, headers)
    timings = alternate(
        lambda: big.timed_get(path, headers),
        lambda: small.timed_get(path, headers),
        budget=budget,
        min_reps=min_reps,
        max_reps=max_reps,
    )
    big.close()
    small.close()
    return timings


def side_by_side(
    port: int,
    first: tuple[str, dict[str, str]],
    second: tuple[str, dict[str, str]],
    *,
    budget: float,
    min_reps: int = 5,
    max_reps: int = 30,
) -> tuple[tuple[bytes, bytes], tuple[Timing, Timing]]:
    """Two requests (path, headers) to one server, alternately: a view and the JSON call it
    stands for. The bodies of an untimed first round come back, for checking."""
    one, two = Client(port), Client(port)
    bodies = (one.fetch(*first), two.fetch(*second))
    timings = alternate(
        lambda: one.timed_get(*first),
        lambda: two.timed_get(*second),
        budget=budget,
        min_reps=min_reps,
        max_reps=max_reps,
    )
    one.close()
    two.close()
    return bodies, timings


def alternate(
    first: Callable[[], float],
    second: Callable[[], float],
    *,
    budget: float,
    min_reps: int,
    max_reps: int,
) -> tuple[Timing, Timing]:
    """Run each in turn, both timing themselves, so that a noisy neighbour slows both alike."""
    one, two = Timing(), Timing()
    began = time.perf_counter()
    while len(one.samples) < max_reps and (
        len(one.samples) < min_reps or time.perf_counter() - began < budget
    ):
        one.samples.append(first())
        two.samples.append(second())
    return one, two


class Client:
    """One keep-alive connection, reopened off the clock before uvicorn's 5 s idle timeout
    (a slow floor repetition sits between two requests) could close it under a request."""

    IDLE_SECONDS = 3.0

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.last_used = time.perf_counter()

    def timed_get(self, path: str, headers: dict[str, str]) -> float:
        if time.perf_counter() - self.last_used > self.IDLE_SECONDS:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            self.conn.connect()
        started = time.perf_counter()
        self.fetch(path, headers)
        return time.perf_counter() - started

    def get(self, path: str, headers: dict[str, str]) -> Any:
        return orjson.loads(self.fetch(path, headers))

    def fetch(self, path: str, headers: dict[str, str]) -> bytes:
        self.conn.request("GET", path, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        self.last_used = time.perf_counter()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {data[:300]!r}")
        return data

    def close(self) -> None:
        self.conn.close()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
