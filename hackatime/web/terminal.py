"""The overview for a terminal: `curl -H "Authorization: Bearer $KEY" http://host/` answers
today's total, the last 7 days as bars and the week's top projects and languages as plain text
within 80 columns. The numbers are WakaTime's stats over the last 7 days, day by day, in the
user's zone: the same calls, so the same numbers as the API."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from hackatime import durations, summaries, timeranges
from hackatime.api.common import caller, database, now_ms, request_zone, settings
from hackatime.auth import offers_key
from hackatime.db import Database
from hackatime.users import User

WIDTH = 80
DAYS = 7
TOP = 5
# Eighths of a character cell, empty to full: a bar's length is exact to 1/8 of a cell.
EIGHTHS = " ▏▎▍▌▋▊▉█"
_INDENT = "  "
_GAP = "  "
_DAY_LABEL = 10  # "Mon Nov 30"
_TIME = 15  # "167 hrs 59 mins", the longest a week can give
_PERCENT = 7  # "100.00%"
_NAME = 20
# Bars take what the columns beside them leave, with two columns to spare.
DAY_BAR = WIDTH - 2 - len(_INDENT) - _DAY_LABEL - _TIME - 2 * len(_GAP)
TOP_BAR = WIDTH - 2 - len(_INDENT) - _NAME - _TIME - _PERCENT - 3 * len(_GAP)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Overview:
    username: str
    zone_name: str
    days: Sequence[tuple[date, int]]  # oldest first, today last: (day, ms)
    projects: Sequence[tuple[str, int]]  # largest first
    languages: Sequence[tuple[str, int]]

    @property
    def today_ms(self) -> int:
        return self.days[-1][1] if self.days else 0

    @property
    def week_ms(self) -> int:
        return sum(ms for _, ms in self.days)


def bar(ms: int, longest_ms: int, cells: int) -> str:
    """A bar `cells` long for `longest_ms`, in eighths of a cell; any time shows at least 1/8."""
    if ms <= 0 or longest_ms <= 0:
        return ""
    eighths = max(1, round(ms * cells * 8 / longest_ms))
    full, rest = divmod(min(eighths, cells * 8), 8)
    return EIGHTHS[8] * full + (EIGHTHS[rest] if rest else "")


def clean(text: str) -> str:
    """A name as it may reach a terminal: control and format characters (escape sequences,
    bidirectional overrides) and surrogates become `?`."""
    return "".join(
        "?" if unicodedata.category(char) in ("Cc", "Cf", "Cs") else char for char in text
    )


def cell_width(text: str) -> int:
    """Columns a terminal gives the text: wide East Asian characters take two, marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def fit(text: str, cells: int) -> str:
    """The text cut to `cells` columns (an ellipsis marks the cut) and padded to them."""
    text = clean(text)
    width = cell_width(text)
    if width > cells:
        # Each cut subtracts its character's width: measuring the rest again at every cut
        # took quadratic time on a long name (up to 1,024 characters).
        while text and width > cells - 1:
            width -= cell_width(text[-1])
            text = text[:-1]
        text += "…"
    return text + " " * (cells - cell_width(text))


def _ranked_rows(title: str, split: Sequence[tuple[str, int]], total_ms: int) -> list[str]:
    lines = [title]
    if not split:
        return [*lines, f"{_INDENT}no activity"]
    longest = split[0][1]
    for name, ms in split[:TOP]:
        percent = f"{summaries.percent(ms, total_ms):.2f}%"
        lines.append(
            f"{_INDENT}{fit(name, _NAME)}{_GAP}{fit(bar(ms, longest, TOP_BAR), TOP_BAR)}{_GAP}"
            f"{summaries.human_text(ms):>{_TIME}}{_GAP}{percent:>{_PERCENT}}"
        )
    if len(split) > TOP:
        lines.append(f"{_INDENT}and {len(split) - TOP} more")
    return lines


def render(overview: Overview) -> str:
    """The whole overview as text: no line wider than WIDTH columns."""
    today = summaries.human_text(overview.today_ms)
    heading = f"{overview.username}: {today} today"
    zone = clean(overview.zone_name)
    lines = [fit(heading, WIDTH - cell_width(zone) - 1) + " " + zone, ""]
    lines.append(f"Last {len(overview.days)} days: {summaries.human_text(overview.week_ms)}")
    longest = max((ms for _, ms in overview.days), default=0)
    for day, ms in overview.days:
        label = f"{day:%a %b %d}"
        lines.append(
            f"{_INDENT}{label:<{_DAY_LABEL}}{_GAP}{fit(bar(ms, longest, DAY_BAR), DAY_BAR)}{_GAP}"
            f"{summaries.human_text(ms):>{_TIME}}"
        )
    lines.append("")
    lines += _ranked_rows("Top projects, last 7 days", overview.projects, overview.week_ms)
    lines.append("")
    lines += _ranked_rows("Top languages, last 7 days", overview.languages, overview.week_ms)
    return "\n".join(line.rstrip() for line in lines) + "\n"


async def week_overview(
    db: Database, user: User, today: date, tz: ZoneInfo, zone_name: str, timeout_ms: int
) -> Overview:
    """WakaTime's stats over the last 7 days ending today: each day measured on its own."""
    days = timeranges.days_in(today - timedelta(days=DAYS - 1), today, tz)
    daily = await durations.breakdowns(
        db,
        user.id,
        [span.bucket for _, span in days],
        dimensions=("projects", "languages"),
        timeout_ms=timeout_ms,
    )
    week = durations.combine(daily)
    return Overview(
        username=user.username,
        zone_name=zone_name,
        days=[(day, result.total_ms) for (day, _), result in zip(days, daily, strict=True)],
        projects=week.splits["projects"],
        languages=week.splits["languages"],
    )


def _asks_for_html(accept: str) -> bool:
    for part in accept.split(","):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        if media_type.lower() not in _HTML_TYPES:
            continue
        quality = next((p[2:] for p in parameters if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            return True
    return False


def wants_terminal_text(request: Request) -> bool:
    """A request with a key whose Accept does not name HTML (curl sends `*/*`)."""
    return offers_key(request.headers, request.query_params) and not _asks_for_html(
        request.headers.get("accept", "")
    )


# Personal numbers, and `/` answers a browser differently: never from a shared cache.
_HEADERS = {"Cache-Control": "no-store", "Vary": "Accept, Authorization"}


async def terminal_overview(request: Request) -> Response:
    user = await caller(request)
    zone_name, tz = request_zone(request, user)
    overview = await week_overview(
        database(request),
        user,
        timeranges.today(now_ms(request), tz),
        tz,
        zone_name,
        settings(request).timeout_ms,
    )
    return PlainTextResponse(render(overview), headers=_HEADERS)
