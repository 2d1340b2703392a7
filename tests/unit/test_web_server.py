"""The web server over HTTP (aiohttp's test client, real storage on both backends): status codes, escaping,
headers, caching, the rate limit, and hostile requests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from yarl import URL

from bot.core import polls, screenings, web_pages
from bot.core.details import FilmDetailsService
from bot.core.timers import TimerService
from bot.db.database import Database
from bot.services.tmdb import TmdbClient
from bot.web.app import RateLimit, origin_of
from bot.web.server import create_app
from tests.clocks import FixedClock
from tests.club_pages import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    GUILD,
    HOSTILE,
    MAYA,
    NEXT_EVENT,
    PAST_EVENT,
    PICKS_MESSAGE,
    POLL_MESSAGE,
    VOICE,
    Site,
    Ticks,
    make_club,
    serve_club,
    site_services,
)
from tests.server_films import add_server_film
from tests.tmdb_double import TmdbDouble

NOT_FOUND = "Not found"


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def site(db: Database, tmp_path: Path, ticks: Ticks) -> AsyncIterator[Site]:
    async with serve_club(db, tmp_path, ticks) as site:
        yield site


async def test_the_club_page_escapes_member_text_and_shows_no_discord_ids(site: Site) -> None:
    response = await site.client.get(site.home)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = await response.text()

    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "Film &lt;Club&gt;" in html
    assert re.findall(r"<script[^>]*>", html) == [re.search(r'<script src="/static/time\.js\?v=\w+" defer>', html)[0]]
    assert " style=" not in html and "onclick" not in html.lower()  # nothing the CSP would refuse
    for discord_id in (
        GUILD,
        CHANNEL,
        VOICE,
        MAYA,
        ALICE,
        BOB,
        CAROL,
        PAST_EVENT,
        NEXT_EVENT,
        PICKS_MESSAGE,
        POLL_MESSAGE,
    ):
        assert str(discord_id) not in html, discord_id
    assert "a member" in html and "Alice" not in html

    # The next screening in the club's timezone (and a <time> for the visitor's), linked to Discord through us.
    starts = site.club.next_screening.starts_at
    assert f'<time datetime="{starts.isoformat(timespec="seconds")}" data-local>' in html
    assert "Wednesday 4 March 2026, 05:01 (Europe/Paris)" in html  # planned 3 days after the clock stood at 04:01 UTC
    assert f'href="{site.home}screenings/{site.club.next_screening.id}/event"' in html
    # The spoiler is folded into <details>, the live counts and time left are there, the result has its chart.
    assert re.search(r"<details class=\"spoiler\">\s*<summary>[^<]+</summary>\s*<blockquote>The twist!", html)
    assert "1 ballot so far" in html and "30 hours left" in html
    assert "The counts are hidden until the poll closes." in html
    assert f'src="{site.home}polls/{site.club.closed_poll.id}/chart.png"' in html


async def test_members_are_named_only_when_moderators_choose_so(site: Site) -> None:
    await web_pages.configure(site.db, site.clock, GUILD, MAYA, show_members=True)
    html = await (await site.client.get(site.home)).text()
    assert "by Alice &lt;i&gt;" in html and "by Bob" in html and "a member" not in html


async def test_security_headers_on_pages_and_errors(site: Site) -> None:
    for path in (site.home, "/nowhere", f"{site.home}films/999999", "/static/style.css"):
        response = await site.client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_etag_and_cache_control_answer_304(site: Site) -> None:
    first = await site.client.get(site.home)
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=15"
    again = await site.client.get(site.home, headers={"If-None-Match": tag})
    assert again.status == 304 and await again.read() == b"" and again.headers["ETag"] == tag
    stale = await site.client.get(site.home, headers={"If-None-Match": '"something-else"'})
    assert stale.status == 200

    # A vote changes the page, and so its ETag.
    await polls.vote(
        site.db,
        site.clock,
        poll_id=site.club.open_poll.id,
        guild_id=GUILD,
        user_id=BOB,
        role_ids=(),
        film_id=site.club.ids["waltz"],
    )
    changed = await site.client.get(site.home, headers={"If-None-Match": tag})
    assert changed.status == 200 and changed.headers["ETag"] != tag
    assert "2 ballots so far" in await changed.text()


async def test_unknown_retired_and_taken_down_addresses_are_the_same_plain_404(site: Site) -> None:
    nowhere = await site.client.get("/c/" + "A" * 24 + "/")
    body = await nowhere.text()
    assert nowhere.status == 404 and body == NOT_FOUND
    old = site.home
    await web_pages.configure(site.db, site.clock, GUILD, MAYA, rotate=True)
    retired = await site.client.get(old)
    assert retired.status == 404 and await retired.text() == body
    assert (await site.client.get(f"{old}films/{site.club.ids['noir-1']}")).status == 404
    assert (await site.client.get(f"{old}polls/{site.club.closed_poll.id}/chart.png")).status == 404
    slug = (await web_pages.web_page(site.db, GUILD)).slug
    assert slug is not None
    assert (await site.client.get(web_pages.page_path(slug))).status == 200
    await web_pages.configure(site.db, site.clock, GUILD, MAYA, public=False)
    down = await site.client.get(web_pages.page_path(slug))
    assert down.status == 404 and await down.text() == body
    assert dict(down.headers).keys() == dict(nowhere.headers).keys()


@pytest.mark.parametrize(
    "path",
    [
        "/static/../bot/settings.py",
        "/static/..%2f..%2fbot%2fsettings.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/../../../../etc/passwd",
        "/static/",
        "/static/templates",
        "/static/style.css/..%2f..%2fapp.py",
        "/c/../../etc/passwd",
        "/c/%2e%2e/static/style.css",
        "/bot/web/templates/base.html",
        "/.env",
    ],
)
async def test_path_traversal_finds_nothing(site: Site, path: str) -> None:
    response = await site.client.get(URL(path, encoded=True))  # sent as written, not normalised by the client
    assert response.status in (404, 400), path
    text = await response.text()
    assert "discord_token" not in text.lower() and "root:" not in text and "{%" not in text


async def test_page_paths_that_are_not_ours_are_404(site: Site) -> None:
    for tail in ("films/..%2f..%2fetc", "films/abc", "films/" + "9" * 40, "catalog/../../x", "catalog/NOIR", "x"):
        assert (await site.client.get(site.home + tail)).status == 404, tail


async def test_huge_query_strings_are_refused_without_trouble(site: Site) -> None:
    search = f"{site.home}catalog/search"
    assert (await site.client.get(search, params={"q": "x" * 3000})).status == 414
    huge = await site.client.get(search + "?q=" + "x" * 20_000)
    assert huge.status in (400, 414)
    assert (await site.client.get(site.home)).status == 200  # the server is fine
    many = "&".join(f"k{n}=v" for n in range(300))
    assert (await site.client.get(f"{search}?q=walts&{many}")).status == 200


async def test_read_only(site: Site) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = await site.client.request(method, site.home, data=b"x")
        assert response.status == 405, method


async def test_the_rate_limit_answers_429_per_client(site: Site, ticks: Ticks) -> None:
    app = create_app(site_services(site.db, site.clock), rate_limit=RateLimit(per_minute=60, burst=3, clock=ticks))
    async with TestClient(TestServer(app)) as client:
        statuses = [(await client.get(site.home)).status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await client.get(site.home)
        assert limited.status == 429 and limited.headers["Retry-After"] == "1"
        assert "default-src 'none'" in limited.headers["Content-Security-Policy"]
        # Another visitor behind the same (loopback) reverse proxy has a bucket of their own.
        other = await client.get(site.home, headers={"X-Forwarded-For": "203.0.113.9"})
        assert other.status == 200
        ticks.now += 1.0  # a second later, one more request is allowed
        assert (await client.get(site.home)).status == 200
        assert (await client.get(site.home)).status == 429


async def test_film_catalog_theme_and_search_pages(site: Site) -> None:
    film = await site.client.get(f"{site.home}films/{site.club.ids['noir-1']}")
    html = await film.text()
    assert film.status == 200 and "<h1>Noir 1" in html and "3.2 out of 5" in html and "(2 ratings)" in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html

    catalog = await (await site.client.get(f"{site.home}catalog")).text()
    assert f'href="{site.home}catalog/noir"' in catalog and 'action="' + site.home + 'catalog/search"' in catalog
    theme = await (await site.client.get(f"{site.home}catalog/noir")).text()
    assert "The Last Waltz (1978)" in theme

    found = await site.client.get(f"{site.home}catalog/search", params={"q": "last walts"})
    html = await found.text()
    assert f'href="{site.home}films/{site.club.ids["waltz"]}">The Last Waltz (1978)</a>' in html
    hostile = await site.client.get(f"{site.home}catalog/search", params={"q": HOSTILE})
    assert "<script>alert" not in await hostile.text()


async def test_charts_and_event_links(site: Site) -> None:
    chart = await site.client.get(f"{site.home}polls/{site.club.closed_poll.id}/chart.png")
    assert chart.status == 200 and chart.headers["Content-Type"] == "image/png"
    assert (await chart.read()).startswith(b"\x89PNG\r\n\x1a\n")
    assert (await site.client.get(f"{site.home}polls/{site.club.open_poll.id}/chart.png")).status == 404

    event = await site.client.get(f"{site.home}screenings/{site.club.next_screening.id}/event", allow_redirects=False)
    assert event.status == 303
    assert event.headers["Location"] == f"https://discord.com/events/{GUILD}/{NEXT_EVENT}"
    assert (await site.client.get(f"{site.home}screenings/424242/event", allow_redirects=False)).status == 404


async def test_static_files_are_versioned_and_kept(site: Site) -> None:
    html = await (await site.client.get(site.home)).text()
    href = re.search(r'href="(/static/style\.css\?v=\w+)"', html)
    assert href is not None
    css = await site.client.get(href[1])
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "prefers-color-scheme: dark" in await css.text()
    assert css.headers["Cache-Control"] == "public, max-age=86400"
    script = await site.client.get("/static/time.js")
    assert script.headers["Content-Type"].startswith("text/javascript")


async def test_the_next_screening_shows_tmdbs_poster_and_the_csp_allows_only_its_host(
    db: Database, tmp_path: Path, tmdb_double: TmdbDouble
) -> None:
    clock = FixedClock()
    club = await make_club(db, clock, tmp_path)
    alien = await add_server_film(db, GUILD, "Alien", 1979, tmdb_id=348)
    soon = await screenings.plan_screening(
        db,
        clock,
        TimerService(db, clock),
        guild_id=GUILD,
        film_id=alien,
        starts_at=clock.now() + timedelta(hours=5),
        announce_channel_id=CHANNEL,
        channel_id=VOICE,
    )
    client = TmdbClient(
        SecretStr(tmdb_double.api_key), base_url=tmdb_double.api_base, image_base_url=tmdb_double.image_base
    )
    details = FilmDetailsService(db, clock, client)
    origin = origin_of(tmdb_double.image_base)
    services = replace(site_services(db, clock), details=details, image_origin=origin)
    try:
        async with TestClient(TestServer(create_app(services))) as http:
            assert club.page.slug is not None
            response = await http.get(web_pages.page_path(club.page.slug))
            html = await response.text()
    finally:
        await details.close()
    poster = f"{tmdb_double.image_base}/w342/vfrQk5IPloGg1v9Rzbh2Eg3VGyM.jpg"
    assert f'<img class="poster" src="{poster}" alt="Poster of Alien (1979)"' in html
    assert f'href="{web_pages.page_path(club.page.slug)}screenings/{soon.id}/event"' not in html  # no event yet
    assert f"img-src 'self' {origin};" in response.headers["Content-Security-Policy"]


async def test_a_busy_page_is_rendered_once_a_span_and_a_retired_address_still_stops_at_once(site: Site) -> None:
    app = create_app(site_services(site.db, site.clock), per_minute=0, page_cache_seconds=600)
    async with TestClient(TestServer(app)) as client:
        first = await (await client.get(site.home)).text()
        assert "1 ballot so far" in first
        await polls.vote(
            site.db,
            site.clock,
            poll_id=site.club.open_poll.id,
            guild_id=GUILD,
            user_id=BOB,
            role_ids=(),
            film_id=site.club.ids["waltz"],
        )
        assert await (await client.get(site.home)).text() == first  # served again, not rendered anew
        await web_pages.configure(site.db, site.clock, GUILD, MAYA, show_members=True)
        assert "2 ballots so far" in await (await client.get(site.home)).text()  # another page: names shown
        await web_pages.configure(site.db, site.clock, GUILD, MAYA, rotate=True)
        assert (await client.get(site.home)).status == 404
