"""The dashboard in a real browser: Debian's chromium driven by Playwright against the real server
process, from signing in to signing out, with no console errors on the way."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from tests.helpers import local_today, midday_zone, now_ms, running_server

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.slow


def _first_key(banner: str) -> str:
    match = re.search(r"^api_key = ([0-9a-f-]{36})$", banner, re.MULTILINE)
    assert match, banner
    return match[1]


def _send_week(base_url: str, key: str) -> None:
    """Half an hour on two projects just now, and an hour on one of them three days ago."""
    now = now_ms()
    beats = [
        {
            "entity": f"/home/pi/{project}/main.py",
            "time": (now - 1_800_000 + n * 60_000) / 1000,
            "project": project,
            "language": "Python" if project == "app" else "Go",
            "type": "file",
        }
        for n, project in enumerate(["app", "web"] * 15)
    ]
    beats += [
        {
            "entity": "/home/pi/app/lib.py",
            "time": (now - 3 * 86_400_000 + n * 60_000) / 1000,
            "project": "app",
            "type": "file",
        }
        for n in range(60)
    ]
    url = f"{base_url}/api/hackatime/v1/users/current/heartbeats.bulk"
    for start in range(0, len(beats), 100):
        response = httpx.post(
            url, json=beats[start : start + 100], headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 201, response.text


def _api(base_url: str, key: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(base_url + path, params=params, headers={"Authorization": f"Bearer {key}"})


def _shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def test_a_user_signs_in_reads_their_time_changes_settings_and_signs_out(tmp_path: Path) -> None:
    # Midday in the server's zone: "today" cannot end while the test runs.
    zone = midday_zone()
    env = {"HACKATIME_TIMEZONE": zone}
    with running_server(tmp_path / "data" / "hackatime.db", env=env) as server:
        base, key = server.base_url, _first_key(server.startup_output)
        _send_week(base, key)
        today = local_today(zone)
        assert Path(CHROMIUM).exists(), "the browser tests need Debian's chromium package"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on(
                "console",
                lambda message: problems.append(message.text) if _is_error(message) else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(base + "/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            _shot(page, tmp_path, "signin")
            page.fill("#key", "00000000-0000-4000-8000-000000000000")
            page.click("button[type=submit]")
            expect(page.get_by_role("alert")).to_have_text("That is not a valid API key.")
            problems.clear()  # the browser reports the 401 of the refused sign-in
            page.fill("#key", key)
            page.click("button[type=submit]")

            statusbar = _api(base, key, "/api/hackatime/v1/users/current/statusbar/today").json()
            expect(page.locator("#today-total")).to_have_text(
                statusbar["data"]["grand_total"]["text"]
            )
            week = _api(
                base,
                key,
                "/api/v1/stats",
                start_date=(today - timedelta(days=6)).isoformat(),
                end_date=today.isoformat(),
            ).json()
            expect(page.locator("#range-total")).to_have_text(week["data"]["human_readable_total"])
            _shot(page, tmp_path, "overview")

            page.get_by_role("link", name="All time", exact=True).click()
            all_time = _api(base, key, "/api/v1/stats").json()
            expect(page.locator("#range-total")).to_have_text(
                all_time["data"]["human_readable_total"]
            )
            expect(page.get_by_role("link", name="All time", exact=True)).to_have_attribute(
                "aria-current", "page"
            )

            page.locator("#split-projects .legend").get_by_role("link", name="app").click()
            expect(page.get_by_role("heading", name="app", exact=True)).to_be_visible()
            project = _api(base, key, "/api/v1/stats", filter_by_project="app").json()
            expect(page.locator("#range-total")).to_have_text(
                project["data"]["human_readable_total"]
            )
            _shot(page, tmp_path, "project")

            page.get_by_role("link", name="Settings").click()
            page.fill("#timezone", "Pacific/Kiritimati")
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_text("Days are counted in Pacific/Kiritimati.")).to_be_visible()
            profile = _api(base, key, "/api/hackatime/v1/users/current").json()
            assert profile["data"]["timezone"] == "Pacific/Kiritimati"

            page.get_by_role("button", name="Make a new key").click()
            new_key = page.locator("#new-key").inner_text()
            assert re.fullmatch(r"[0-9a-f-]{36}", new_key)
            assert new_key in page.locator("#cfg").inner_text()
            _shot(page, tmp_path, "settings")
            assert _api(base, key, "/api/v1/stats").status_code == 401
            assert _api(base, new_key, "/api/v1/stats").status_code == 200
            page.get_by_role("link", name="Overview").click()
            expect(page.locator("#today-total")).to_be_visible()

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.goto(base + "/settings")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            browser.close()
    assert problems == []


def _is_error(message: ConsoleMessage) -> bool:
    return message.type == "error"
