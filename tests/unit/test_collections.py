"""Server collections on a real database (names, limits, per-server isolation), and the change counters that the
0006 migration's triggers keep for recommendation caches, whichever feature writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import collections, reviews, watch
from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, active_films
from bot.core.recommend import NothingFound, Recommender
from bot.db.database import Database
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.clocks import StepClock
from tests.unit.test_recommend import ALICE, BOB, GUILD, OTHER_GUILD, club_catalog


@pytest.fixture
async def films(db: Database, tmp_path: Path) -> dict[str, Film]:
    await load_catalog(db, club_catalog(tmp_path / "catalog"))
    return {f.slug: f for f in await active_films(db)}


@pytest.fixture
def engine(db: Database) -> Recommender:
    return Recommender(db)


async def counters(db: Database, guild: int = GUILD) -> tuple[int, int, int]:
    row = await db.fetchone(
        "SELECT ratings, watching, collections FROM recommend_versions WHERE guild_id = ?", (guild,)
    )
    return (0, 0, 0) if row is None else (int(row[0]), int(row[1]), int(row[2]))


async def test_every_write_that_recommendations_read_moves_a_counter(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    waltz = films["last-waltz"].id
    assert await counters(db) == (0, 0, 0)
    await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=waltz, stars=4)
    await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=waltz, stars=4.5)  # replaced
    assert (await counters(db))[0] == 2
    await watch.add_to_watchlist(db, clock, GUILD, BOB, waltz)
    await watch.add_to_watchlist(db, clock, GUILD, BOB, waltz)  # already there: nothing changes
    await watch.mark_watched(db, clock, GUILD, BOB, waltz)
    await watch.mark_club_watched(db, clock, GUILD, waltz)
    await watch.unmark_club_watched(db, GUILD, waltz)
    assert (await counters(db))[1] == 4
    made = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Noir")
    await collections.add_film(db, clock, collection=made, film_id=waltz, user_id=ALICE)
    await collections.remove_film(db, collection=made, film_id=waltz)
    await collections.delete_collection(db, collection=made)
    assert await counters(db) == (2, 4, 4)
    assert await counters(db, OTHER_GUILD) == (0, 0, 0)


async def test_collection_rules(db: Database, engine: Recommender, films: dict[str, Film], clock: StepClock) -> None:
    empty = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Later")
    assert empty.description == collections.DEFAULT_DESCRIPTION
    with pytest.raises(NothingFound, match=r"Later has no films yet\. A moderator can add films"):
        await engine.recommend(GUILD, empty.as_theme())
    with pytest.raises(UserError, match="already has a collection called 'later!'"):
        await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="later!")
    with pytest.raises(UserError, match="curated theme"):
        await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Live on stage")
    with pytest.raises(UserError, match="2 to 80"):
        await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="x")
    with pytest.raises(UserError, match="letter or digit"):
        await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="!!!")
    with pytest.raises(UserError, match="under 800 characters"):
        await collections.create_collection(
            db, clock, guild_id=GUILD, user_id=ALICE, name="Long", description="x" * 801
        )
    assert (await collections.create_collection(db, clock, guild_id=OTHER_GUILD, user_id=BOB, name="Later")).id
    found = await collections.list_collections(db, GUILD)
    assert collections.resolve_collection(found, "later").id == empty.id
    assert collections.resolve_collection(found, f"@{empty.id}").id == empty.id
    assert collections.collection_id_of(f"@{empty.id}") == empty.id
    assert collections.collection_id_of("live") is None
    with pytest.raises(NotFoundError, match="Did you mean Later"):
        collections.resolve_collection(found, "latter")
    with pytest.raises(NotFoundError, match="no collections yet"):
        collections.resolve_collection([], "anything")
    with pytest.raises(UserError, match="at most 50 collections"):
        for number in range(collections.MAX_COLLECTIONS):
            await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name=f"List {number}")


async def test_collections_are_listed_by_name_whatever_the_case(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    for name in ("beta", "Gamma", "Alpha"):
        await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name=name)
    assert [c.title for c in await collections.list_collections(db, GUILD)] == ["Alpha", "beta", "Gamma"]
    themes = await collections.themes_for(db, GUILD)  # the curated themes first, then the collections
    assert [t.title for t in themes][-3:] == ["Alpha", "beta", "Gamma"]
    assert [t.title for t in themes if not t.is_collection] == sorted(t.title for t in themes if not t.is_collection)


async def test_a_collection_keeps_its_order_and_holds_at_most_200_films(
    db: Database, tmp_path: Path, clock: StepClock
) -> None:
    many = [film(f"film-{n:03d}", title=f"Film {n:03d}", themes=["live"]) for n in range(collections.MAX_FILMS + 1)]
    await load_catalog(db, write_catalog(tmp_path / "many", {"c.toml": to_toml([theme("live")], many)}))
    ids = [f.id for f in await active_films(db)]
    made = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Everything")
    for film_id in reversed(ids[: collections.MAX_FILMS]):
        assert await collections.add_film(db, clock, collection=made, film_id=film_id, user_id=ALICE)
    full = (await collections.list_collections(db, GUILD))[0]
    assert full.film_ids == tuple(reversed(ids[: collections.MAX_FILMS]))  # the order they were added
    assert not await collections.add_film(db, clock, collection=full, film_id=ids[0], user_id=ALICE)
    with pytest.raises(UserError, match="at most 200 films"):
        await collections.add_film(db, clock, collection=full, film_id=ids[-1], user_id=ALICE)
    assert not await collections.remove_film(db, collection=full, film_id=ids[-1])
    assert await collections.delete_collection(db, collection=full)
    assert not await collections.delete_collection(db, collection=full)
    assert await db.fetchval("SELECT count(*) FROM collection_films") == 0
