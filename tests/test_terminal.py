"""The terminal overview of hackatime/web/terminal.py: the text from numbers (80 columns, bars
to scale, names made safe), which requests want it, and `GET /` giving the API's numbers."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from hackatime import users
from hackatime.db import Database
from hackatime.web import terminal
from hackatime.web.terminal import Overview, bar, cell_width, clean, fit, render
from tests.conftest import Account, Clock
from tests.helpers import HOUR, MINUTE, beat, day_start_ms, store_beats

TODAY = date(2025, 6, 10)
WEEK = [TODAY - timedelta(days=6 - n) for n in range(7)]

# --- Pure: numbers to text ---------------------------------------------------------------------


def eighths(text: str) -> int:
    """A bar's length in eighths of a cell."""
    return sum(terminal.EIGHTHS.index(char) for char in text if char in terminal.EIGHTHS[1:])


@pytest.mark.parametrize(
    ("ms", "longest", "cells", "expected"),
    [
        pytest.param(100, 100, 10, "█" * 10, id="longest-is-full"),
        pytest.param(50, 100, 10, "█" * 5, id="half"),
        pytest.param(1, 100, 10, "▏", id="any-time-shows"),
        pytest.param(0, 100, 10, "", id="none-is-empty"),
        pytest.param(0, 0, 10, "", id="nothing-at-all"),
        pytest.param(33, 100, 10, "███▎", id="eighths"),
        pytest.param(1, 3, 3, "█", id="third"),
    ],
)
def test_bar(ms: int, longest: int, cells: int, expected: str) -> None:
    assert bar(ms, longest, cells) == expected


@given(
    ms=st.integers(0, 10**9),
    extra=st.integers(0, 10**9),
    cells=st.integers(1, 60),
)
def test_bars_are_proportional(ms: int, extra: int, cells: int) -> None:
    longest = ms + extra
    drawn = bar(ms, longest, cells)
    assert cell_width(drawn) <= cells
    if ms == 0:
        assert drawn == ""
    else:
        # Exact to the nearest eighth of a cell, and never hidden.
        assert eighths(drawn) == max(1, round(ms * cells * 8 / longest))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("evil\x1b[2J", "evil?[2J", id="escape-sequence"),
        pytest.param("a\rb\nc\td", "a?b?c?d", id="line-controls"),
        pytest.param("abc\u202edcba", "abc?dcba", id="bidi-override"),
        pytest.param("naïve 日本", "naïve 日本", id="printable-kept"),
    ],
)
def test_clean(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "cells", "expected"),
    [
        pytest.param("api", 6, "api   ", id="padded"),
        pytest.param("abcdefgh", 5, "abcd…", id="cut"),
        pytest.param("日本語です", 6, "日本… ", id="wide-cut-and-padded"),
        pytest.param("e\u0301t\u00e9", 4, "e\u0301t\u00e9 ", id="combining-mark-no-column"),
    ],
)
def test_fit(text: str, cells: int, expected: str) -> None:
    assert fit(text, cells) == expected
    assert cell_width(fit(text, cells)) == cells


def overview(**changes: Any) -> Overview:
    values: dict[str, Any] = {
        "username": "alice",
        "zone_name": "Europe/Berlin",
        "days": list(
            zip(WEEK, [0, 3_600_000, 1_800_000, 0, 7_200_000, 600_000, 5_400_000], strict=True)
        ),
        # Each split adds up to the week, as every split does.
        "projects": [("hackatime", 12_400_000), ("web", 6_200_000)],
        "languages": [("Python", 15_500_000), ("Go", 3_100_000)],
        **changes,
    }
    return Overview(**values)


EXPECTED = """\
alice: 1 hr 30 mins today                                          Europe/Berlin

Last 7 days: 5 hrs 10 mins
  Wed Jun 04                                                            0 secs
  Thu Jun 05  ███████████████████████▌                                    1 hr
  Fri Jun 06  ███████████▊                                             30 mins
  Sat Jun 07                                                            0 secs
  Sun Jun 08  ███████████████████████████████████████████████            2 hrs
  Mon Jun 09  ███▉                                                     10 mins
  Tue Jun 10  ███████████████████████████████████▎                1 hr 30 mins

Top projects, last 7 days
  hackatime             ████████████████████████████    3 hrs 26 mins   66.67%
  web                   ██████████████                   1 hr 43 mins   33.33%

Top languages, last 7 days
  Python                ████████████████████████████    4 hrs 18 mins   83.33%
  Go                    █████▋                                51 mins   16.67%
"""


def test_render_whole_text() -> None:
    # Thu 1 hr of the longest 2 hrs: 47 cells x 8 x 1/2 = 188 eighths = 23 cells and a half.
    assert render(overview()) == EXPECTED


def test_day_bars_are_to_scale_with_the_longest_day() -> None:
    lines = render(overview()).splitlines()[3:10]
    drawn = [eighths(line) for line in lines]
    longest = 7_200_000
    expected = [round(ms * terminal.DAY_BAR * 8 / longest) for _, ms in overview().days]
    assert drawn == expected
    assert max(drawn) == terminal.DAY_BAR * 8


def test_long_tails_say_how_many_more() -> None:
    projects = [(f"p{n}", 1000 * (10 - n)) for n in range(8)]
    text = render(overview(projects=projects))
    assert "  and 3 more\n" in text
    assert "p4" in text
    assert "p5" not in text


def test_a_week_with_no_time() -> None:
    text = render(overview(days=[(day, 0) for day in WEEK], projects=[], languages=[]))
    assert text.splitlines()[0].startswith("alice: 0 secs today")
    assert "Last 7 days: 0 secs" in text
    assert text.count("  no activity\n") == 2
    assert "█" not in text


_NAMES = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=90)
_MS = st.integers(0, 86_400_000)


@given(
    username=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True),
    day_ms=st.lists(_MS, min_size=7, max_size=7),
    projects=st.lists(st.tuples(_NAMES, _MS), max_size=8),
    languages=st.lists(st.tuples(_NAMES, _MS), max_size=8),
    zone=st.sampled_from(["UTC", "America/Argentina/ComodRivadavia", "Pacific/Chatham"]),
)
def test_any_overview_fits_80_columns_and_holds_no_control_characters(
    username: str,
    day_ms: list[int],
    projects: list[tuple[str, int]],
    languages: list[tuple[str, int]],
    zone: str,
) -> None:
    # Each split adds up to the week's total, as every split does.
    needed = max(sum(ms for _, ms in projects), sum(ms for _, ms in languages))
    day_ms[-1] += max(0, needed - sum(day_ms))
    ranked = sorted(projects, key=lambda item: -item[1])
    text = render(
        Overview(
            username=username,
            zone_name=zone,
            days=list(zip(WEEK, day_ms, strict=True)),
            projects=ranked,
            languages=sorted(languages, key=lambda item: -item[1]),
        )
    )
    assert text.endswith("\n")
    for line in text.splitlines():
        assert cell_width(line) <= terminal.WIDTH, line
        assert not [c for c in line if unicodedata.category(c) in ("Cc", "Cf")], line


# --- Which requests want text ------------------------------------------------------------------


def request_with(headers: dict[str, str], query: str = "") -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": raw}
    return Request({**scope, "query_string": query.encode()})


KEY = {"Authorization": "Bearer 00000000-0000-4000-8000-000000000000"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        pytest.param({**KEY, "Accept": "*/*"}, "", True, id="curl"),
        pytest.param(KEY, "", True, id="no-accept"),
        pytest.param({**KEY, "Accept": "text/plain"}, "", True, id="text-plain"),
        pytest.param({"Accept": "*/*"}, "api_key=k", True, id="query-key"),
        pytest.param({**KEY, "Accept": BROWSER_ACCEPT}, "", False, id="browser-with-key"),
        pytest.param({**KEY, "Accept": "TEXT/HTML"}, "", False, id="html-any-case"),
        pytest.param({**KEY, "Accept": "text/html;q=0, */*"}, "", True, id="html-refused"),
        pytest.param({**KEY, "Accept": "text/html; q=0.5"}, "", False, id="html-low-quality"),
        pytest.param({**KEY, "Accept": "text/html;q=x"}, "", False, id="html-bad-quality"),
        pytest.param({"Accept": "*/*"}, "", False, id="curl-without-key"),
        pytest.param({"Accept": BROWSER_ACCEPT}, "", False, id="browser"),
    ],
)
def test_wants_terminal_text(headers: dict[str, str], query: str, expected: bool) -> None:
    assert terminal.wants_terminal_text(request_with(headers, query)) is expected


# --- GET / --------------------------------------------------------------------------------------

# Noon on TODAY in UTC, the clock of both the overview and the API calls it is compared with.
NOW_MS = day_start_ms(TODAY, "UTC") + 12 * HOUR
CURL = {"Accept": "*/*", "User-Agent": "curl/8.5.0"}


@pytest.fixture(autouse=True)
def fixed_clock(clock: Clock) -> None:
    clock.now_s = NOW_MS / 1000


async def store_week(db: Database, account: Account, zone: str) -> None:
    """Runs of beats a minute apart on several days of the week in `zone`, one of them just
    before local midnight, plus one run eight days ago (outside the week)."""

    def run(day: date, minute_of_day: int, project: str, language: str, minutes: int) -> list[Any]:
        start = day_start_ms(day, zone) + minute_of_day * MINUTE
        return [beat(start + n * MINUTE, project, language=language) for n in range(minutes + 1)]

    await store_beats(
        db,
        account,
        [
            *run(TODAY - timedelta(days=8), 600, "old", "C", 50),
            *run(WEEK[0], 540, "hackatime", "Python", 45),
            *run(WEEK[2], 1430, "web", "TypeScript", 9),
            *run(WEEK[4], 600, "hackatime", "Rust", 120),
            *run(WEEK[4], 900, "web", "TypeScript", 20),
            *run(TODAY, 480, "hackatime", "Python", 30),
        ],
    )


async def api_numbers(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    summaries = await client.get(
        "/api/v1/users/current/summaries", params={"range": "last_7_days"}, headers=account.bearer
    )
    stats = await client.get("/api/v1/users/current/stats/last_7_days", headers=account.bearer)
    assert summaries.status_code == stats.status_code == 200
    return {"days": summaries.json()["data"], "stats": stats.json()["data"]}


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/Los_Angeles"])
async def test_overview_gives_the_apis_numbers_in_the_users_zone(
    client: httpx.AsyncClient, db: Database, alice: Account, zone: str
) -> None:
    await users.update_user(db, "alice", timezone=zone)
    await store_week(db, alice, zone)
    # The clock is noon UTC: in Auckland that is already the next day.
    local_today = (await api_numbers(client, alice))["days"][-1]["range"]["date"]

    response = await client.get("/", headers={**alice.bearer, **CURL})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    lines = response.text.splitlines()
    api = await api_numbers(client, alice)
    today_text = api["days"][-1]["grand_total"]["text"]
    assert lines[0].startswith(f"alice: {today_text} today")
    assert lines[0].endswith(zone)
    assert lines[2] == f"Last 7 days: {api['stats']['human_readable_total']}"
    for line, day in zip(lines[3:10], api["days"], strict=True):
        shown = date.fromisoformat(day["range"]["date"])
        assert line.startswith(f"  {shown:%a %b %d}  ")
        assert line.endswith(day["grand_total"]["text"])
    assert date.fromisoformat(local_today) == date.fromisoformat(api["days"][-1]["range"]["date"])
    for title, split in (("Top projects", "projects"), ("Top languages", "languages")):
        start = next(n for n, line in enumerate(lines) if line.startswith(title))
        rows = lines[start + 1 : start + 1 + len(api["stats"][split])]
        for row, item in zip(rows, api["stats"][split], strict=True):
            assert row.split()[0] == item["name"]
            assert row.endswith(f"{item['text']}  {item['percent']:>6.2f}%")
    assert "old" not in response.text


async def test_the_users_zone_decides_the_days(
    client: httpx.AsyncClient, db: Database, alice: Account
) -> None:
    """30 minutes at 23:40 UTC on Monday: Monday in UTC, Tuesday in Auckland (UTC+12)."""
    start = day_start_ms(TODAY - timedelta(days=1), "UTC") + 23 * HOUR + 40 * MINUTE
    await store_beats(db, alice, [beat(start + n * MINUTE) for n in range(11)])

    def day_rows(text: str) -> list[tuple[str, str]]:
        return [(line[2:12], line.rsplit("  ", 1)[-1].strip()) for line in text.splitlines()[3:10]]

    utc = (await client.get("/", headers=alice.bearer)).text
    await users.update_user(db, "alice", timezone="Pacific/Auckland")
    auckland = (await client.get("/", headers=alice.bearer)).text
    assert utc.startswith("alice: 0 secs today")
    assert day_rows(utc)[-2:] == [("Mon Jun 09", "10 mins"), ("Tue Jun 10", "0 secs")]
    # Noon UTC is already midnight in Auckland: its today is Wednesday.
    assert auckland.startswith("alice: 0 secs today")
    assert day_rows(auckland)[-2:] == [("Tue Jun 10", "10 mins"), ("Wed Jun 11", "0 secs")]


async def test_timezone_parameter(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get("/", params={"timezone": "Asia/Tokyo"}, headers=alice.bearer)
    assert response.status_code == 200
    assert response.text.splitlines()[0].endswith("Asia/Tokyo")
    bad = await client.get("/", params={"timezone": "Mars/Olympus"}, headers=alice.bearer)
    assert bad.status_code == 400
    assert list(bad.json()) == ["error"]


async def test_a_wrong_key_is_401_json(client: httpx.AsyncClient, alice: Account) -> None:
    headers = {**CURL, "Authorization": "Bearer 00000000-0000-4000-8000-000000000000"}
    response = await client.get("/", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Invalid API key"}


async def test_without_a_key_it_is_the_sign_in_page(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.get("/", headers=CURL)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'name="key"' in response.text


async def test_each_key_form_works(client: httpx.AsyncClient, alice: Account) -> None:
    for kwargs in (
        {"headers": alice.bearer},
        {"headers": alice.basic},
        {"params": {"api_key": alice.key}},
    ):
        response = await client.get("/", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200
        assert response.text.startswith("alice: ")
