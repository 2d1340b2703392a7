"""The club's web pages in a real browser: Debian's Chromium driven by Playwright (never a browser of its own).

The site is the real web application on loopback over a real database (the club of tests/club_pages.py:
a hostile review, a spoiler, open and closed polls, screenings). Each test fails on any console error (a script
error, or anything the Content-Security-Policy refused). Screenshots go to ``test-output/browser/`` (at 375 and 1280
pixels wide, light and dark), kept with the test output. axe-core (the axe.min.js that axe-playwright-python ships)
checks accessibility: no serious or critical violations.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.core import web_pages
from bot.db.database import Database
from bot.web.app import RateLimit
from bot.web.server import create_app
from tests.clocks import FixedClock
from tests.club_pages import GUILD, MAYA, Club, make_club, site_services
from tests.conftest import CHROMIUM, CHROMIUM_MISSING

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(CHROMIUM_MISSING, allow_module_level=True)

from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright  # noqa: E402

#: How Chromium is started: headless, and quiet (no update checks, sync or first-run work on a shared machine).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = {"phone": 375, "desktop": 1280}
SHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-output" / "browser"))
AXE_JS = (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


@dataclass
class Site:
    base: str
    club: Club
    db: Database
    clock: FixedClock
    errors: list[str] = field(default_factory=list)

    @property
    def home(self) -> str:
        assert self.club.page.slug is not None
        return self.base + web_pages.page_path(self.club.page.slug)


@pytest.fixture
async def site(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[Site]:
    clock = FixedClock()
    club = await make_club(sqlite_db, clock, tmp_path)
    await web_pages.configure(sqlite_db, clock, GUILD, MAYA, show_members=True)
    app = create_app(site_services(sqlite_db, clock), rate_limit=RateLimit(per_minute=0), page_cache_seconds=0)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Site(str(server.make_url("")).rstrip("/"), club, sqlite_db, clock)
    finally:
        await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """The system Chromium; Playwright starts it with a fresh temporary profile (user-data-dir) at each launch and
    removes it afterwards, so no test sees another's cookies or cache."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def open_page(browser: Browser, site: Site, *, width: int, dark: bool = False, script: bool = True) -> Page:
    context = await browser.new_context(
        viewport={"width": width, "height": 900},
        color_scheme="dark" if dark else "light",
        java_script_enabled=script,
        locale="en-GB",
        timezone_id="America/New_York",
    )
    page = await context.new_page()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            site.errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: site.errors.append(str(error)))
    page.on("response", lambda r: site.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return page


async def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot in :data:`SHOTS` (Playwright creates the folder)."""
    path = SHOTS / f"{name}.png"
    png = await page.screenshot(path=str(path), full_page=True)
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    return path


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical (WCAG 2 A/AA rules and best practices)."""
    await page.evaluate(AXE_JS)
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("size", list(WIDTHS))
async def test_the_club_page_reads_well_at_each_width_in_both_schemes(
    browser: Browser, site: Site, size: str, dark: bool
) -> None:
    width = WIDTHS[size]
    page = await open_page(browser, site, width=width, dark=dark)
    response = await page.goto(site.home)
    assert response is not None and response.status == 200
    await page.wait_for_load_state("networkidle")
    assert await page.locator("h1").first.inner_text() == "Film <Club>"
    # The script ran (no CSP refusal): the next screening is in the visitor's timezone, New York.
    local = await page.locator("time[data-local]").first.inner_text()
    assert "EST" in local or "GMT-5" in local, local
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(part) for part in background.removeprefix("rgb(").removesuffix(")").split(","))
    assert (red + green + blue < 3 * 128) is dark, background  # a dark page in the dark scheme, a light one else
    await shoot(page, f"club-{size}-{'dark' if dark else 'light'}")
    assert await serious_violations(page) == []
    assert site.errors == []


async def test_follow_a_film_and_reveal_a_spoiler(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site, width=WIDTHS["phone"])
    await page.goto(site.home)
    await page.get_by_role("link", name="Noir 1 (1951)").first.click()
    await page.wait_for_load_state()
    assert page.url.endswith(f"/films/{site.club.ids['noir-1']}")
    assert (await page.locator("h1").inner_text()).startswith("Noir 1")
    # The hostile review is text, not markup: no alert, no <script> element from it.
    assert await page.locator("text=<script>alert").count() >= 1
    spoiler = page.locator("details.spoiler").first
    assert not await spoiler.evaluate("node => node.open")
    assert not await page.get_by_text("The twist!").is_visible()
    await spoiler.locator("summary").click()
    assert await spoiler.evaluate("node => node.open")
    assert await page.get_by_text("The twist!").is_visible()
    await shoot(page, "film-phone-spoiler-revealed")
    assert await serious_violations(page) == []
    assert site.errors == []


async def test_search_the_catalog_with_a_typo(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site, width=WIDTHS["desktop"])
    await page.goto(site.home + "catalog")
    await page.get_by_label("Search films by title").fill("last walts")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_load_state()
    assert "catalog/search?q=last+walts" in page.url
    found = page.get_by_role("link", name="The Last Waltz (1978)")
    assert await found.count() >= 1
    await found.first.click()
    await page.wait_for_load_state()
    assert (await page.locator("h1").inner_text()).startswith("The Last Waltz")
    await shoot(page, "search-desktop")
    assert await serious_violations(page) == []
    assert site.errors == []


async def test_the_page_works_without_javascript(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site, width=WIDTHS["phone"], script=False)
    await page.goto(site.home)
    # The server's own words for the time, in the club's timezone.
    assert "(Europe/Paris)" in await page.locator("time[data-local]").first.inner_text()
    spoiler = page.locator("details.spoiler").first
    await spoiler.locator("summary").click()
    assert await page.get_by_text("The twist!").is_visible()
    await shoot(page, "club-phone-no-script")
    assert site.errors == []
