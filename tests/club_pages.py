"""The club the web tests look at, built through the real core functions on real storage (both backends): a
screening that took place with its reviews (one hostile, one a spoiler), a closed poll with a result, an open poll
with live counts and one that hides them, the next screening and this week's picks; and the web application serving
it over loopback (aiohttp's test client) as the bot would. Shared by tests/unit/test_club_page.py,
tests/unit/test_web_server.py, tests/unit/test_web_api.py and the browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.core import config, picks, polls, reviews, screenings, web_pages
from bot.core.catalog import load_catalog
from bot.core.films import ClubTitles, ServerTitles, build_title_index
from bot.core.guilds import get_settings
from bot.core.timers import TimerService
from bot.core.web_pages import WebPage
from bot.db.database import Database
from bot.web.app import RateLimit, SiteServices
from bot.web.server import create_app
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.clocks import FixedClock

# Snowflake-sized, as Discord's are: the page tests look for them in the HTML.
GUILD = 810_000_000_000_001_001
OTHER = 810_000_000_000_001_002
MAYA, ALICE, BOB, CAROL = (820_000_000_000_000_011 + n for n in range(4))
CHANNEL, VOICE = 830_000_000_000_000_500, 830_000_000_000_000_501
PAST_EVENT, NEXT_EVENT = 840_000_000_000_009_100, 840_000_000_000_009_200
PICKS_MESSAGE, POLL_MESSAGE = 850_000_000_000_007_000, 850_000_000_000_008_000


@dataclass
class Club:
    ids: dict[str, int]
    page: WebPage
    open_poll: polls.Poll
    hidden_poll: polls.Poll
    closed_poll: polls.Poll
    next_screening: screenings.Screening
    past_screening: screenings.Screening


HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


async def make_club(db: Database, clock: FixedClock, tmp_path: Path) -> Club:
    timers = TimerService(db, clock)
    films = [film(f"noir-{n}", title=f"Noir {n}", year=1950 + n, themes=["noir"]) for n in range(1, 5)]
    films.append(film("waltz", title="The Last Waltz", year=1978, themes=["noir"]))
    catalog = {"themes.toml": to_toml(themes=[theme("noir")]), "films.toml": to_toml(films=films)}
    await load_catalog(db, write_catalog(tmp_path / "catalog", catalog))
    ids = {row["slug"]: row["id"] for row in await db.fetchall("SELECT id, slug FROM films")}
    await config.set_timezone(db, clock, timers, GUILD, MAYA, "Europe/Paris")
    page = (await web_pages.configure(db, clock, GUILD, MAYA, public=True)).page

    # A screening that took place, and its reviews (one with a spoiler, one hostile).
    past = await screenings.plan_screening(
        db,
        clock,
        timers,
        guild_id=GUILD,
        film_id=ids["noir-1"],
        starts_at=clock.now() + timedelta(hours=1),
        announce_channel_id=CHANNEL,
        channel_id=VOICE,
    )
    past = await screenings.attach_event(db, clock, timers, past.id, PAST_EVENT)
    clock.advance(timedelta(hours=4))
    assert await screenings.complete(db, clock, past.id)
    await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["noir-1"], stars=4.5, body=HOSTILE)
    clock.advance(timedelta(minutes=1))
    await reviews.rate(
        db, clock, guild_id=GUILD, user_id=BOB, film_id=ids["noir-1"], stars=2, body="The twist!", spoiler=True
    )
    await reviews.rate(db, clock, guild_id=OTHER, user_id=CAROL, film_id=ids["noir-2"], stars=5, body="elsewhere")

    # A closed poll (a result with a chart), an open one with live counts, one that hides them.
    closed = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=GUILD,
        channel_id=CHANNEL,
        creator_id=MAYA,
        title="Last week",
        film_ids=[ids["noir-2"], ids["noir-3"]],
        closes_at=clock.now() + timedelta(days=1),
    )
    for user, choice in ((ALICE, "noir-3"), (BOB, "noir-3"), (CAROL, "noir-2")):
        await polls.vote(db, clock, poll_id=closed.id, guild_id=GUILD, user_id=user, role_ids=(), film_id=ids[choice])
    await polls.close_poll(db, clock, closed.id)
    open_poll = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=GUILD,
        channel_id=CHANNEL,
        creator_id=MAYA,
        title=HOSTILE,
        film_ids=[ids["noir-2"], ids["noir-4"], ids["waltz"]],
        closes_at=clock.now() + timedelta(hours=30),
    )
    await polls.vote(db, clock, poll_id=open_poll.id, guild_id=GUILD, user_id=ALICE, role_ids=(), film_id=ids["waltz"])
    hidden = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=GUILD,
        channel_id=CHANNEL,
        creator_id=MAYA,
        title="Secret ballot",
        film_ids=[ids["noir-2"], ids["noir-4"]],
        closes_at=clock.now() + timedelta(days=2),
        show_counts=False,
    )
    await polls.vote(db, clock, poll_id=hidden.id, guild_id=GUILD, user_id=BOB, role_ids=(), film_id=ids["noir-4"])

    # The next screening, and this week's picks.
    upcoming = await screenings.plan_screening(
        db,
        clock,
        timers,
        guild_id=GUILD,
        film_id=ids["noir-3"],
        starts_at=clock.now() + timedelta(days=3),
        announce_channel_id=CHANNEL,
        channel_id=VOICE,
        poll_id=closed.id,
    )
    upcoming = await screenings.attach_event(db, clock, timers, upcoming.id, NEXT_EVENT)
    chosen = await picks.choose(db, await get_settings(db, GUILD), "2026-W10")
    assert chosen is not None
    post = await picks.claim(db, clock, chosen, trigger="now", channel_id=CHANNEL, requested_by=MAYA)
    assert post is not None
    await picks.mark_posted(db, clock, post.id, PICKS_MESSAGE)
    await polls.attach_message(db, open_poll.id, POLL_MESSAGE)
    return Club(ids, page, open_poll, hidden, closed, upcoming, past)


@dataclass
class Site:
    client: TestClient
    club: Club
    db: Database
    clock: FixedClock

    @property
    def home(self) -> str:
        assert self.club.page.slug is not None
        return web_pages.page_path(self.club.page.slug)


class Ticks:
    """A monotonic clock for the rate limiter that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def names(guild_id: int, user_ids: Collection[int]) -> Mapping[int, str]:
    del guild_id
    return {ALICE: "Alice <i>", BOB: "Bob"} | {user: "?" for user in user_ids if user not in (ALICE, BOB)}


def site_services(db: Database, clock: FixedClock) -> SiteServices:
    async def titles_for(guild_id: int | None) -> ClubTitles:
        return await ServerTitles(db).for_guild(await build_title_index(db), guild_id)

    return SiteServices(
        db=db, clock=clock, titles_for=titles_for, club_name=lambda _g: "Film <Club>", member_names=names
    )


@asynccontextmanager
async def serve_club(db: Database, tmp_path: Path, ticks: Ticks) -> AsyncIterator[Site]:
    """The club, built on ``db``, served by the web application with a generous rate limit on ``ticks`` and no page
    cache (each request sees the database as it is)."""
    clock = FixedClock()
    club = await make_club(db, clock, tmp_path)
    app = create_app(
        site_services(db, clock), rate_limit=RateLimit(per_minute=600, burst=100, clock=ticks), page_cache_seconds=0
    )
    async with TestClient(TestServer(app)) as client:
        yield Site(client, club, db, clock)
