"""Charts as inline SVG: pure functions from numbers to markup.

Every chart has a visible title, labelled axes and a `<title>` on each mark with its exact value
(browsers show it on hover). Text is escaped here; the result is Markup so templates insert it
as it is. Colours that mean something (levels, "Other") are classes, so the stylesheet can
follow the light or dark theme.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

OTHER = "Other"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOUR_MS = 3_600_000
LEVELS = 4

_WIDTH = 640
_TITLE_HEIGHT = 24


@dataclass(frozen=True)
class Mark:
    """One bar or segment: what it is, how much, and the exact value said in words."""

    label: str
    value: int
    text: str


@dataclass(frozen=True)
class Column:
    label: str
    marks: Sequence[Mark]

    @property
    def total(self) -> int:
        return sum(mark.value for mark in self.marks)


def colour(name: str) -> str:
    """A colour of the name's own, the same on every chart and every page."""
    hue = int.from_bytes(hashlib.sha256(name.encode()).digest()[:2], "big") % 360
    return f"hsl({hue} 62% 52%)"


def _fill(name: str) -> str:
    # "Other" takes its grey from the stylesheet, where the theme decides it.
    return 'class="other"' if name == OTHER else f'fill="{colour(name)}"'


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _svg(title: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<text class="chart-title" x="0" y="16">{escape(title)}</text>{body}</svg>'
    )


def axis_maximum(value: float) -> float:
    """The round number a value axis ends at: 1, 2 or 5 times a power of ten, at least the value."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def ranked_bars(title: str, marks: Sequence[Mark], total: int, *, axis_label: str) -> Markup:
    """Horizontal bars, largest first; each bar's length is its share of `total`."""
    label_width, value_width, row = 170, 110, 24
    bar_width = _WIDTH - label_width - value_width
    top = _TITLE_HEIGHT + 8
    height = top + row * len(marks) + 36
    largest = max((mark.value / total for mark in marks), default=0.0) if total else 0.0
    scale = axis_maximum(largest * 100)
    parts = []
    for index, mark in enumerate(marks):
        share = mark.value / total * 100 if total else 0.0
        y = top + index * row
        width = bar_width * share / scale
        parts.append(
            f'<text class="label" x="{label_width - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(_shorten(mark.label, 24))}</text>"
            f'<rect x="{label_width}" y="{y + 4}" width="{_number(width)}" height="{row - 8}"'
            f" {_fill(mark.label)}><title>{escape(mark.label)}: {escape(mark.text)}"
            f" ({_number(share)}%)</title></rect>"
            f'<text class="value" x="{_number(label_width + width)}" y="{y + 16}" dx="6">'
            f"{_number(share)}%</text>"
        )
    axis_y = top + row * len(marks)
    parts.append(
        f'<line class="axis" x1="{label_width}" y1="{axis_y}" x2="{label_width + bar_width}"'
        f' y2="{axis_y}"/>'
        f'<text class="tick" x="{label_width}" y="{axis_y + 14}">0%</text>'
        f'<text class="tick" x="{label_width + bar_width}" y="{axis_y + 14}"'
        f' text-anchor="end">{_number(scale)}%</text>'
        f'<text class="axis-label" x="{label_width + bar_width / 2}" y="{axis_y + 30}"'
        f' text-anchor="middle">{escape(axis_label)}</text>'
    )
    return _svg(title, _WIDTH, height, "".join(parts))


def columns(
    title: str,
    bars: Sequence[Column],
    *,
    x_label: str,
    y_label: str,
    target: int | None = None,
    target_text: str = "",
) -> Markup:
    """Vertical columns of stacked marks measured in milliseconds, on an axis in hours; each
    mark's height is its share of the axis. An optional target is drawn as a line."""
    left, bottom, plot_height = 48, 44, 180
    top = _TITLE_HEIGHT + 10
    plot_width = _WIDTH - left - 8
    highest = max([column.total for column in bars] + [target or 0])
    scale = axis_maximum(highest / HOUR_MS) * HOUR_MS
    slot = plot_width / max(len(bars), 1)
    # Room for about ten labels below the axis; every column keeps its label in its titles.
    label_every = math.ceil(len(bars) / 10) or 1
    parts = []
    for index, column in enumerate(bars):
        x = left + index * slot + slot * 0.15
        y = top + plot_height
        for mark in column.marks:
            height = plot_height * mark.value / scale
            y -= height
            parts.append(
                f'<rect x="{_number(x)}" y="{_number(y)}" width="{_number(slot * 0.7)}"'
                f' height="{_number(height)}" {_fill(mark.label)}><title>{escape(column.label)},'
                f" {escape(mark.label)}: {escape(mark.text)}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text class="tick" x="{_number(left + index * slot + slot / 2)}"'
                f' y="{top + plot_height + 14}" text-anchor="middle">{escape(column.label)}</text>'
            )
    if target is not None:
        y = top + plot_height - plot_height * target / scale
        parts.append(
            f'<line class="target" x1="{left}" y1="{_number(y)}" x2="{left + plot_width}"'
            f' y2="{_number(y)}"><title>Goal: {escape(target_text)}</title></line>'
        )
    parts.append(
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_height}"/>'
        f'<line class="axis" x1="{left}" y1="{top + plot_height}" x2="{left + plot_width}"'
        f' y2="{top + plot_height}"/>'
        f'<text class="tick" x="{left - 6}" y="{top + plot_height}" text-anchor="end">0</text>'
        f'<text class="tick" x="{left - 6}" y="{top + plot_height / 2 + 4}" text-anchor="end">'
        f"{_number(scale / HOUR_MS / 2)}</text>"
        f'<text class="tick" x="{left - 6}" y="{top + 10}" text-anchor="end">'
        f"{_number(scale / HOUR_MS)}</text>"
        f'<text class="axis-label" x="{left + plot_width / 2}" y="{top + plot_height + 34}"'
        f' text-anchor="middle">{escape(x_label)}</text>'
        f'<text class="axis-label" x="12" y="{top + plot_height / 2}" text-anchor="middle"'
        f' transform="rotate(-90 12 {top + plot_height / 2})">{escape(y_label)}</text>'
    )
    return _svg(title, _WIDTH, top + plot_height + bottom, "".join(parts))


def level(value: int, highest: int) -> int:
    """0 for nothing, else 1 to LEVELS by the value's share of the highest."""
    if value <= 0 or highest <= 0:
        return 0
    return max(1, math.ceil(LEVELS * value / highest))


def heatmap(title: str, days: Sequence[tuple[date, int, str]]) -> Markup:
    """A calendar of days (the first a Monday): one column per week, one row per weekday."""
    cell, left = 11, 32
    top = _TITLE_HEIGHT + 22
    if not days:
        return _svg(title, _WIDTH, top, "")
    first = days[0][0]
    highest = max(value for _, value, _ in days)
    parts = []
    month = None
    for day, value, text in days:
        week = (day - first).days // 7
        x, y = left + week * cell, top + day.weekday() * cell
        if day.month != month and day.weekday() == 0:
            month = day.month
            parts.append(f'<text class="tick" x="{x}" y="{top - 6}">{day:%b}</text>')
        parts.append(
            f'<rect class="l{level(value, highest)}" x="{x}" y="{y}" width="{cell - 2}"'
            f' height="{cell - 2}"><title>{day:%a %b} {day.day} {day.year}: {escape(text)}'
            "</title></rect>"
        )
    for row in (0, 2, 4):
        parts.append(
            f'<text class="tick" x="{left - 4}" y="{top + row * cell + 9}" text-anchor="end">'
            f"{WEEKDAYS[row]}</text>"
        )
    weeks = (days[-1][0] - first).days // 7 + 1
    height = top + 7 * cell + 20
    parts.append(
        f'<text class="axis-label" x="{left + weeks * cell / 2}" y="{height - 4}"'
        ' text-anchor="middle">Week (rows: day of the week)</text>'
    )
    return _svg(title, max(_WIDTH, left + weeks * cell), height, "".join(parts))


def hour_grid(title: str, grid: Sequence[Sequence[tuple[int, str]]]) -> Markup:
    """Seven rows (Monday first) of 24 hours: how much time each hour of each weekday holds."""
    cell_width, cell_height, left = 24, 18, 40
    top = _TITLE_HEIGHT + 8
    highest = max((value for row in grid for value, _ in row), default=0)
    parts = []
    for weekday, row in enumerate(grid):
        y = top + weekday * cell_height
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 13}" text-anchor="end">'
            f"{WEEKDAYS[weekday]}</text>"
        )
        for hour, (value, text) in enumerate(row):
            parts.append(
                f'<rect class="l{level(value, highest)}" x="{left + hour * cell_width}" y="{y}"'
                f' width="{cell_width - 2}" height="{cell_height - 2}"><title>'
                f"{WEEKDAYS[weekday]} {hour:02d}:00-{hour + 1:02d}:00: {escape(text)}"
                "</title></rect>"
            )
    bottom = top + 7 * cell_height
    for hour in range(0, 24, 3):
        parts.append(
            f'<text class="tick" x="{left + hour * cell_width}" y="{bottom + 12}">{hour:02d}</text>'
        )
    parts.append(
        f'<text class="axis-label" x="{left + 12 * cell_width}" y="{bottom + 30}"'
        ' text-anchor="middle">Hour of the day</text>'
    )
    return _svg(title, left + 24 * cell_width + 8, bottom + 36, "".join(parts))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]
