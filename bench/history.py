"""A heavy user's years of heartbeats, generated deterministically.

Days are laid out backwards from `end_ms` (day 0 is today in the user's zone), each drawn from
its own seeded generator, so a history of N heartbeats is exactly the most recent N of any longer
one: the 100k database holds the last 100k rows of the 1M one, with the same today and the same
last 7 days. A working day has about 470 heartbeats in 2-4 sessions, 5-90 s apart with breaks of
minutes; evenings, weekends and holidays are mostly off, so 1M heartbeats span about 8-9 years.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bench import world

SEED = 1729
_MINUTE_MS = 60_000
_HOUR_MS = 3_600_000


class Beat(NamedTuple):
    """One heartbeat as a WakaTime client sends it, plus the machine from X-Machine-Name."""

    time_ms: int
    entity: str
    type: str
    category: str
    project: str | None
    branch: str | None
    language: str | None
    is_write: bool
    lineno: int | None
    cursorpos: int | None
    lines: int | None
    dependencies: tuple[str, ...] | None
    line_additions: int | None
    line_deletions: int | None
    project_root_count: int | None
    ai_line_changes: int | None
    human_line_changes: int | None
    user_agent: str
    machine: str
    created_at_ms: int


def evening_zone(now_ms: int) -> str:
    """A fixed-offset zone where it is now about 17:00, so today is a near-complete work day.

    The Etc zones use the POSIX sign: Etc/GMT-5 is five hours ahead of UTC.
    """
    hour = datetime.fromtimestamp(now_ms / 1000, ZoneInfo("UTC")).hour
    offset = 17 - hour
    if offset > 14:
        offset -= 24
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


# --- When: the times of one day ---------------------------------------------------------------

# Session slots in local hours: morning, after lunch, late afternoon, evening.
_SLOTS = (8.6, 13.4, 16.2, 20.5)
_SESSION_SLOTS = {1: (3,), 2: (0, 1), 3: (0, 1, 2), 4: (0, 1, 2, 3)}


class Day(NamedTuple):
    times: list[int]
    # Index into `times` where each session begins.
    session_starts: list[int]
    # Slot of each session, so that evenings get the laptop.
    slots: list[int]


def _day_times(seed: int, offset: int, midnight_ms: int) -> Day:
    rng = random.Random(seed * 1_000_003 + offset)
    weekend = offset % 7 in (5, 6)
    holiday = (offset // 7) % 26 == 17 and offset >= 7
    if offset == 0:
        count, sessions = _work_day(rng)
    elif holiday or (weekend and rng.random() < 0.75) or (not weekend and rng.random() < 0.06):
        return Day([], [], [])
    elif weekend:
        count, sessions = rng.randint(60, 220), rng.choice((1, 2))
    else:
        count, sessions = _work_day(rng)
    slots = list(_SESSION_SLOTS[sessions]) if not weekend else [1, 3][:sessions]
    shares = [rng.uniform(0.6, 1.4) * (0.6 if slot == 3 else 1.0) for slot in slots]
    counts = [max(20, round(count * share / sum(shares))) for share in shares]
    times: list[int] = []
    starts: list[int] = []
    day_end = midnight_ms + 24 * _HOUR_MS
    for slot, session_count in zip(slots, counts, strict=True):
        at = midnight_ms + round((_SLOTS[slot] + rng.uniform(-0.8, 0.8)) * _HOUR_MS)
        if times:
            at = max(at, times[-1] + rng.randint(20, 60) * _MINUTE_MS)
        starts.append(len(times))
        for _ in range(session_count):
            if at >= day_end:
                break
            times.append(at)
            if rng.random() < 0.012:
                at += rng.randint(2 * _MINUTE_MS, 25 * _MINUTE_MS)  # coffee, a meeting
            else:
                at += 5_000 + min(round(rng.expovariate(1 / 22_000)), 85_000)
    return Day(times, starts, slots)


def _work_day(rng: random.Random) -> tuple[int, int]:
    count = min(800, max(160, round(rng.gauss(470, 120))))
    return count, rng.choices((2, 3, 4), weights=(35, 45, 20))[0]


def midnight_ms(day: date, tz: ZoneInfo) -> int:
    return round(datetime.combine(day, clock(0), tzinfo=tz).timestamp() * 1000)


# --- What: the attributes of each heartbeat ---------------------------------------------------


# A visit to a code file is sometimes something else than coding: (cumulative share, category).
_ACTIVITIES = ((0.07, "debugging"), (0.10, "building"), (0.13, "code reviewing"))


class _Visit(NamedTuple):
    """A stretch on one file (or one web page) within a session."""

    entity: str
    type: str
    category: str
    language: str | None
    project: str | None
    dependencies: tuple[str, ...] | None
    lines: int
    user_agent: str


def _day_beats(plan: world.World, seed: int, offset: int, day: Day) -> Iterator[Beat]:
    rng = random.Random(f"{seed}:attributes:{offset}")
    quarter = offset // 91
    weights = plan.project_weights(offset // 30)
    modern = quarter < 10
    bounds = [*day.session_starts[1:], len(day.times)]
    for start, stop, slot in zip(day.session_starts, bounds, day.slots, strict=True):
        machine = plan.pick_machine(rng, quarter, evening=slot == 3)
        editor_ua = machine.user_agent(
            rng.choices(machine.editors, machine.editor_weights)[0], quarter
        )
        project = rng.choices(plan.projects, weights)[0]
        branch = rng.choice(plan.branches(project.name, offset // 30))
        visit = _visit(rng, machine, project, editor_ua, quarter)
        lineno = rng.randint(1, visit.lines)
        for index in range(start, stop):
            if rng.random() < 0.06:
                if rng.random() < 0.03:
                    # A mid-session switch to another project.
                    project = rng.choices(plan.projects, weights)[0]
                    branch = rng.choice(plan.branches(project.name, offset // 30))
                visit = _visit(rng, machine, project, editor_ua, quarter)
                lineno = rng.randint(1, visit.lines)
            time_ms = day.times[index]
            lineno = max(1, min(visit.lines, lineno + rng.randint(-6, 9)))
            is_write = rng.random() < 0.11
            code = visit.type == "file"
            yield Beat(
                time_ms=time_ms,
                entity=visit.entity,
                type=visit.type,
                category=visit.category,
                project=visit.project,
                branch=branch if code else None,
                language=visit.language,
                is_write=is_write,
                lineno=lineno if code else None,
                cursorpos=lineno * 38 + rng.randint(0, 90) if code else None,
                lines=visit.lines if code else None,
                dependencies=visit.dependencies,
                line_additions=(lineno % 9 if is_write else 0) if modern and code else None,
                line_deletions=(lineno % 4 if is_write else 0) if modern and code else None,
                project_root_count=project.root_count if modern and code else None,
                ai_line_changes=lineno % 5 if quarter < 2 and code else None,
                human_line_changes=lineno % 7 if quarter < 2 and code else None,
                user_agent=visit.user_agent,
                machine=machine.name,
                created_at_ms=time_ms + rng.randint(400, 130_000),
            )


def _visit(
    rng: random.Random,
    machine: world.Machine,
    project: world.Project,
    editor_ua: str,
    quarter: int,
) -> _Visit:
    if rng.random() < 0.03:
        return _Visit(
            entity=rng.choice(world.DOMAINS),
            type="domain",
            category="browsing",
            language=None,
            project=None,
            dependencies=None,
            lines=1,
            user_agent=machine.browser_user_agent(quarter),
        )
    source = project.files[rng.choices(range(len(project.files)), cum_weights=project.hot)[0]]
    category = source.category
    if category == "coding":
        roll = rng.random()
        category = next((name for below, name in _ACTIVITIES if roll < below), "coding")
    return _Visit(
        entity=machine.entity(project.name, source.path),
        type="file",
        category=category,
        language=source.language,
        project=project.name,
        dependencies=source.dependencies,
        lines=source.lines,
        user_agent=editor_ua,
    )


def newest(n: int, end_ms: int, zone: str, seed: int = SEED) -> Iterator[Beat]:
    """The most recent `n` heartbeats of the user's history ending just before `end_ms`."""
    tz = ZoneInfo(zone)
    today = datetime.fromtimestamp(end_ms / 1000, tz).date()
    days: list[tuple[int, Day]] = []
    total = 0
    offset = 0
    while total < n:
        day = _day_times(seed, offset, midnight_ms(today - timedelta(days=offset), tz))
        if offset == 0:
            kept = [at for at in day.times if at < end_ms]
            starts = [start for start in day.session_starts if start < len(kept)]
            day = Day(kept, starts, day.slots[: len(starts)])
        if day.times:
            days.append((offset, day))
            total += len(day.times)
        offset += 1
    plan = world.World(seed)
    beats = (_day_beats(plan, seed, offset, day) for offset, day in reversed(days))
    # The oldest day is drawn whole, for the same draws as in a longer history, then trimmed.
    yield from itertools.islice(itertools.chain.from_iterable(beats), total - n, None)
