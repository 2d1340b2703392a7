"""A server's own films work wherever curated films do, in that server only: recommendations (/forme, /tonight,
/surprise, collections through /recommend, /film facts), genres and keywords from the details cache as taste
features, polls, screenings (an unknown running time), collections, weekly picks' pools, stats and profiles; another
server never sees them."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import collections, config, picks, polls, reviews, screenings, stats, watch
from bot.core.catalog import load_catalog
from bot.core.clock import Clock
from bot.core.errors import NotFoundError
from bot.core.films import Film, ServerTitles, active_films, build_title_index, film_for_guild, resolve_film
from bot.core.guilds import get_settings
from bot.core.recommend import FilmTags, Filters, NothingFound, Recommender, film_tags
from bot.core.timers import TimerService
from bot.db import recommend as recommend_db
from bot.db.database import Database
from tests.server_films import add_server_film, cache_details, details_of
from tests.unit.test_recommend import club_catalog

GUILD, OTHER = 100, 200
ALICE, BOB, CAROL, DAN = 1, 2, 3, 4


@pytest.fixture
async def films(db: Database, tmp_path: Path) -> dict[str, Film]:
    await load_catalog(db, club_catalog(tmp_path / "catalog"))
    return {f.slug: f for f in await active_films(db)}


@pytest.fixture
def engine(db: Database) -> Recommender:
    return Recommender(db, rng=random.Random(7))


async def rate(db: Database, clock: Clock, user_id: int, film_id: int, stars: float, guild_id: int = GUILD) -> None:
    await reviews.rate(db, clock, guild_id=guild_id, user_id=user_id, film_id=film_id, stars=stars)


async def every_cold_pick(engine: Recommender, guild_id: int, user_id: int) -> list[int]:
    """Every film /forme would ever show a member without ratings, page after page."""
    found: list[int] = []
    for page in range(50):
        try:
            result = await engine.for_member(guild_id, user_id, count=10, page=page)
        except NothingFound:
            return found
        found += result.film_ids
    raise AssertionError("more pages than films")


# -- recommendations ------------------------------------------------------------------------------------------------


async def test_for_me_and_tonight_rank_the_servers_own_films_there_and_nowhere_else(
    db: Database, engine: Recommender, films: dict[str, Film], clock: Clock
) -> None:
    waltz = films["last-waltz"].id
    heima = await add_server_film(db, GUILD, "Heima", 2007, runtime=97, directors=("Dean DeBlois",))
    theirs = await add_server_film(db, OTHER, "Their Secret Film", 1999)
    for member in (BOB, CAROL):
        await rate(db, clock, member, waltz, 5)
        await rate(db, clock, member, heima, 5)
    await rate(db, clock, ALICE, waltz, 5)
    mine = await engine.for_member(GUILD, ALICE, count=3)
    assert mine.picks[0].film.id == heima  # the members who loved what she loved loved it too
    assert "2 members with similar taste gave it 5★" in mine.picks[0].reason
    tonight = await engine.tonight(GUILD, {ALICE: "Alice", DAN: "Dan"}, count=10)
    assert heima in tonight.film_ids and theirs not in tonight.film_ids
    # The other server: its own film among everything it can be shown, never this one's.
    shown = await every_cold_pick(engine, OTHER, DAN)
    assert theirs in shown and heima not in shown
    assert len(shown) == len(films) + 1
    for _ in range(30):
        assert (await engine.surprise(OTHER)).film.id != heima


async def test_a_new_server_film_joins_the_snapshot_of_its_server_at_once(
    db: Database, engine: Recommender, films: dict[str, Film]
) -> None:
    before = await every_cold_pick(engine, GUILD, DAN)
    assert len(before) == len(films)
    added = await add_server_film(db, GUILD, "Heima", 2007, runtime=97)
    after = await every_cold_pick(engine, GUILD, DAN)
    assert added in after and len(after) == len(films) + 1
    assert (await engine.snapshot()).server_films == 0  # the shared catalog snapshot never holds a server's films


async def test_curated_themes_never_hold_server_films_but_a_collection_does(
    db: Database, engine: Recommender, films: dict[str, Film], clock: Clock
) -> None:
    heima = await add_server_film(db, GUILD, "Heima", 2007)  # running time unknown
    themes = {t.slug: t for t in await engine.themes(GUILD)}
    for slug in ("live", "road", "studio", "misc"):
        assert heima not in (await engine.recommend(GUILD, themes[slug], count=10)).film_ids
    mine = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Iceland")
    await collections.add_film(db, clock, collection=mine, film_id=heima, user_id=ALICE)
    await collections.add_film(db, clock, collection=mine, film_id=films["local-hero"].id, user_id=ALICE)
    iceland = await engine.resolve_theme(GUILD, "Iceland")
    result = await engine.recommend(GUILD, iceland, count=5)
    assert result.film_ids == [heima, films["local-hero"].id]
    assert "film · running time unknown · no club ratings yet" in result.picks[0].reason
    # An unknown running time fits no maximum: the filter keeps only what it can promise.
    short = await engine.recommend(GUILD, iceland, Filters(max_runtime=200))
    assert short.film_ids == [films["local-hero"].id]
    page = await engine.theme_page(GUILD, iceland)
    assert page.lines[0] == "**Heima** (2007) · film · running time unknown"
    assert (2000, 1) in await engine.decades(GUILD, iceland)
    # Weekly picks read a collection's films the same way.
    assert heima in await picks.theme_films(db, GUILD, iceland)


async def test_film_facts_of_a_server_film(
    db: Database, engine: Recommender, films: dict[str, Film], clock: Clock
) -> None:
    heima = await add_server_film(db, GUILD, "Heima", 2007)
    film = await film_for_guild(db, GUILD, heima)
    assert film is not None and film.is_server_film and film.length == "running time unknown"
    await rate(db, clock, ALICE, heima, 4)
    await watch.add_to_watchlist(db, clock, GUILD, BOB, heima)
    await watch.mark_club_watched(db, clock, GUILD, heima)
    facts = await engine.film_facts(GUILD, film)
    assert (facts.theme_titles, facts.average, facts.reviews, facts.watchlisted_by, facts.club_watched) == (
        (),
        4.0,
        1,
        (BOB,),
        True,
    )
    similar = engine.similar(GUILD, film)
    with pytest.raises(NothingFound, match="shares a theme or a person"):
        await similar


async def test_genres_and_keywords_of_cached_details_link_films_for_the_taste_model(
    db: Database, engine: Recommender, films: dict[str, Film], clock: Clock
) -> None:
    heima = await add_server_film(db, GUILD, "Heima", 2007, tmdb_id=11)
    glow = await add_server_film(db, GUILD, "Glow of the Mountain", 2010, tmdb_id=12)
    fright = await add_server_film(db, GUILD, "Fright Night Again", 2011, tmdb_id=13)
    music = ("Music", "Documentary")
    await cache_details(db, 11, details_of(11, "Heima", 2007, genres=music, keywords=("iceland", "concert")))
    await cache_details(db, 12, details_of(12, "Glow of the Mountain", 2010, genres=music, keywords=("iceland",)))
    await cache_details(db, 13, details_of(13, "Fright Night Again", 2011, genres=("Horror",), keywords=("vampire",)))
    await rate(db, clock, ALICE, heima, 5)
    result = await engine.for_member(GUILD, ALICE, count=5)
    assert result.picks[0].film.id == glow
    assert fright not in result.film_ids[:1]
    tags = {t.film_id: t for t in film_tags(await recommend_db.cached_film_details(db, GUILD))}
    assert tags[heima].genres == ("Music", "Documentary") and tags[heima].keywords == ("iceland", "concert")
    assert await recommend_db.cached_film_details(db, OTHER) == []  # another server's films' details are not its own


async def test_film_tags_skip_what_is_not_details(db: Database, films: dict[str, Film]) -> None:
    tagged = await add_server_film(db, GUILD, "Tagged", 2001, tmdb_id=21)
    for number, title in ((22, "Nonsense"), (23, "Not on TMDb"), (24, "No genres"), (25, "Old format")):
        await add_server_film(db, GUILD, title, 2002, tmdb_id=number)
    await cache_details(db, 21, details_of(21, "Tagged", 2001, genres=("Music",), keywords=("concert",)))
    await cache_details(db, 22, "not json {")
    await cache_details(db, 23, None)  # TMDb said there is no such film
    await cache_details(db, 24, details_of(24, "No genres", 2002))
    await cache_details(db, 25, '{"genres": ["Music"]}')  # not the cache's format
    curated = films["last-waltz"]
    await db.execute("UPDATE films SET tmdb_id = 26 WHERE id = ?", (curated.id,))  # a curated film's details count too
    await cache_details(db, 26, details_of(26, "The Last Waltz", 1978, genres=("Music",)))
    found = film_tags(await recommend_db.cached_film_details(db, GUILD))
    assert found == [FilmTags(curated.id, ("Music",), ()), FilmTags(tagged, ("Music",), ("concert",))]


# -- isolation everywhere a film is named ----------------------------------------------------------------------------


async def test_another_servers_film_is_refused_wherever_an_id_is_sent(
    db: Database, films: dict[str, Film], clock: Clock, timers: TimerService
) -> None:
    theirs = await add_server_film(db, OTHER, "Their Secret Film", 1999)
    titles = await ServerTitles(db).for_guild(await build_title_index(db), GUILD)
    assert theirs not in [m.film_id for m in titles.search("their secret film")]
    with pytest.raises(NotFoundError):
        await resolve_film(db, titles, "Their Secret Film", guild_id=GUILD)
    assert await film_for_guild(db, GUILD, theirs) is None
    assert await film_for_guild(db, OTHER, theirs) is not None
    mine = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Stolen")
    with pytest.raises(NotFoundError):
        await collections.add_film(db, clock, collection=mine, film_id=theirs, user_id=ALICE)
    now = clock.now()
    with pytest.raises(NotFoundError):
        await polls.create_poll(
            db, clock, timers, guild_id=GUILD, channel_id=5, creator_id=ALICE, title="Friday",
            film_ids=[films["paterson"].id, theirs], closes_at=now + timedelta(days=1), now=now,
        )  # fmt: skip
    with pytest.raises(NotFoundError):
        await screenings.plan_screening(
            db, clock, timers, guild_id=GUILD, film_id=theirs, starts_at=now + timedelta(days=1),
            announce_channel_id=5, channel_id=7, now=now,
        )  # fmt: skip
    assert int(await db.fetchval("SELECT count(*) FROM polls")) == 0
    assert int(await db.fetchval("SELECT count(*) FROM screenings")) == 0
    assert int(await db.fetchval("SELECT count(*) FROM collection_films")) == 0


async def test_polls_screenings_stats_and_profiles_take_the_servers_own_film(
    db: Database, films: dict[str, Film], clock: Clock, timers: TimerService
) -> None:
    heima = await add_server_film(db, GUILD, "Heima", 2007)
    now = clock.now()
    poll = await polls.create_poll(
        db, clock, timers, guild_id=GUILD, channel_id=5, creator_id=ALICE, title="Friday",
        film_ids=[films["paterson"].id, heima], closes_at=now + timedelta(days=1), now=now,
    )  # fmt: skip
    assert [c.film_id for c in poll.candidates] == [films["paterson"].id, heima]
    screening = await screenings.plan_screening(
        db, clock, timers, guild_id=GUILD, film_id=heima, starts_at=now + timedelta(days=1), announce_channel_id=5,
        channel_id=7, now=now,
    )  # fmt: skip
    assert screening.ends_at - screening.starts_at == screenings.UNKNOWN_RUNTIME + screenings.DISCUSSION
    await rate(db, clock, ALICE, heima, 4.5)
    await rate(db, clock, BOB, heima, 4)
    club = await stats.club_stats(db, GUILD)
    assert [r.film.title for r in club.most_reviewed][:1] == ["Heima"]
    assert [r.film.title for r in (await stats.club_stats(db, OTHER)).most_reviewed] == []
    profile = await stats.member_profile(db, GUILD, ALICE)
    assert [r.film_id for r in profile.recent] == [heima]
    assert await watch.add_to_watchlist(db, clock, GUILD, CAROL, heima)


async def test_server_title_indexes_are_kept_within_a_budget_of_films(db: Database) -> None:
    for guild in (1, 2, 3):
        for number in range(2):
            await add_server_film(db, guild, f"Club {guild} film {number}", 2000 + number)
    titles = ServerTitles(db, max_films=4)
    for guild in (1, 2, 3):
        assert len(await titles.index(guild)) == 2
    assert titles.films == 4  # the least recently used server's index was dropped
    await add_server_film(db, 3, "Club 3 film 2", 2010)  # a change: rebuilt, and the budget holds
    assert len(await titles.index(3)) == 3 and titles.films == 3
    lone = ServerTitles(db, max_films=1)
    assert len(await lone.index(3)) == 3  # the server asked for always stays, even over the budget


async def test_weekly_picks_reach_server_films_through_a_collection_only(
    db: Database, films: dict[str, Film], clock: Clock, timers: TimerService
) -> None:
    own = [await add_server_film(db, GUILD, f"Club Night {n}", 2000 + n) for n in range(3)]
    made = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Club Nights")
    for film_id in own:
        await collections.add_film(db, clock, collection=made, film_id=film_id, user_id=ALICE)
    await config.set_channel(db, clock, timers, GUILD, ALICE, config.ChannelKind.PICKS, 500)
    await config.set_picks(db, clock, timers, GUILD, ALICE, day=4, at="20:00", count=3, themes="club nights")
    chosen = await picks.choose(db, await get_settings(db, GUILD), "2026-W10")
    assert chosen is not None and chosen.theme.title == "Club Nights"
    assert sorted(p.film.id for p in chosen.picks) == own
    await config.set_picks(db, clock, timers, GUILD, ALICE, themes="live")
    curated = await picks.choose(db, await get_settings(db, GUILD), "2026-W11")
    assert curated is not None and not any(p.film.is_server_film for p in curated.picks)
