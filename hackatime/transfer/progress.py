"""Progress of long CLI work: a tqdm bar on a terminal, plain lines otherwise (logs, pipes).

Both show how far the work got (bytes of a file, or days of a remote import), heartbeats per
second and the time left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TextIO

from tqdm import tqdm

from hackatime import summaries


class Progress(Protocol):
    def update(self, done: int, heartbeats: int) -> None:
        """`done` units of the total so far, `heartbeats` read so far."""

    def close(self) -> None: ...


def progress_for(
    stream: TextIO,
    *,
    total: int,
    unit: str,
    description: str,
    terminal: bool | None = None,
    clock: Callable[[], float] = time.monotonic,
    every_seconds: float = 10.0,
) -> Progress:
    """A bar when `stream` is a terminal (or `terminal` says so), else a line every few
    seconds and one at the end."""
    if terminal is None:
        terminal = stream.isatty()
    if terminal:
        return _Bar(stream, total, unit, description, clock)
    return _Lines(stream, total, unit, description, clock, every_seconds)


class _Bar:
    def __init__(
        self, stream: TextIO, total: int, unit: str, description: str, clock: Callable[[], float]
    ) -> None:
        self._bar = tqdm(
            total=total,
            unit=unit,
            unit_scale=unit == "B",
            unit_divisor=1024 if unit == "B" else 1000,
            desc=description,
            file=stream,
            dynamic_ncols=True,
        )
        self._clock = clock
        self._started = clock()

    def update(self, done: int, heartbeats: int) -> None:
        elapsed = max(self._clock() - self._started, 1e-9)
        self._bar.set_postfix_str(
            f"{heartbeats:,} heartbeats, {heartbeats / elapsed:,.0f}/s", refresh=False
        )
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


class _Lines:
    def __init__(
        self,
        stream: TextIO,
        total: int,
        unit: str,
        description: str,
        clock: Callable[[], float],
        every_seconds: float,
    ) -> None:
        self._stream = stream
        self._total = total
        self._unit = unit
        self._description = description
        self._clock = clock
        self._every = every_seconds
        self._started = clock()
        self._last_line = self._started
        self._done = self._heartbeats = 0

    def update(self, done: int, heartbeats: int) -> None:
        self._done, self._heartbeats = done, heartbeats
        now = self._clock()
        if now - self._last_line >= self._every:
            self._last_line = now
            self._line(now)

    def close(self) -> None:
        self._line(self._clock())

    def _line(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-9)
        share = self._done / self._total if self._total else 1.0
        left = elapsed * (1 - share) / share if share > 0 else None
        print(
            f"{self._description}: {_amount(self._done, self._unit)} of"
            f" {_amount(self._total, self._unit)} ({share:.0%}),"
            f" {self._heartbeats:,} heartbeats, {self._heartbeats / elapsed:,.0f}/s,"
            f" {_duration(left)} left",
            file=self._stream,
            flush=True,
        )


def _amount(count: int, unit: str) -> str:
    if unit == "B":
        return f"{count / 1_048_576:,.1f} MiB"
    return f"{count:,} {unit}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown time"
    return summaries.clock(round(seconds) * 1000, seconds=True)
