"""Watchlists and "seen" marks on a real database: no duplicates, pages, seen takes a film off the watchlist,
unmarking keeps a review, and the club's own record."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import reviews, watch
from bot.core.catalog import load_catalog
from bot.core.films import Film, active_films
from bot.db.database import Database
from tests.clocks import StepClock

GUILD = 1
ALICE, BOB = 11, 12


@pytest.fixture
async def films(db: Database, catalog_dir: Path) -> dict[str, Film]:
    await load_catalog(db, catalog_dir)
    return {film.slug: film for film in await active_films(db)}


async def test_a_film_is_on_a_watchlist_once(db: Database, films: dict[str, Film], clock: StepClock) -> None:
    film_id = films["get-back"].id
    assert await watch.add_to_watchlist(db, clock, GUILD, ALICE, film_id)
    assert not await watch.add_to_watchlist(db, clock, GUILD, ALICE, film_id)
    assert await watch.on_watchlist(db, GUILD, ALICE, film_id)
    assert not await watch.on_watchlist(db, GUILD, BOB, film_id)
    assert await watch.watchlist_size(db, GUILD, ALICE) == 1
    assert await watch.watchlist_counts(db, GUILD) == {film_id: 1}
    assert await watch.watchlisted_by(db, GUILD, film_id) == [ALICE]
    assert await watch.remove_from_watchlist(db, GUILD, ALICE, film_id)
    assert not await watch.remove_from_watchlist(db, GUILD, ALICE, film_id)


async def test_watchlist_pages_keep_the_order_films_were_added(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    order = ["get-back", "the-last-waltz", "dont-look-back"]
    for slug in order:
        await watch.add_to_watchlist(db, clock, GUILD, ALICE, films[slug].id)
    first = await watch.watchlist_page(db, GUILD, ALICE, page=0, per_page=2)
    assert (first.count, first.pages) == (3, 2)
    assert [e.film_id for e in first.entries] == [films["get-back"].id, films["the-last-waltz"].id]
    second = await watch.watchlist_page(db, GUILD, ALICE, page=5, per_page=2)
    assert second.page == 1
    assert [e.film_id for e in second.entries] == [films["dont-look-back"].id]
    empty = await watch.watchlist_page(db, GUILD, BOB)
    assert (empty.count, empty.pages, empty.entries) == (0, 1, ())


async def test_marking_seen_takes_it_off_the_watchlist_and_unmarking_keeps_a_review(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    film_id = films["the-last-waltz"].id
    await watch.add_to_watchlist(db, clock, GUILD, ALICE, film_id)
    change = await watch.mark_seen(db, clock, GUILD, ALICE, film_id)
    assert change.changed and change.unwatchlisted
    assert not (await watch.mark_seen(db, clock, GUILD, ALICE, film_id)).changed
    assert await watch.seen_count(db, GUILD, ALICE) == 1
    await reviews.post_review(db, clock, guild_id=GUILD, user_id=ALICE, film_id=film_id, stars=4)
    assert await watch.seen_count(db, GUILD, ALICE) == 1  # marked and reviewed: one film
    undone = await watch.unmark_seen(db, GUILD, ALICE, film_id)
    assert undone.changed and undone.still_seen
    assert await watch.seen_by(db, GUILD, [ALICE]) == {ALICE: {film_id}}
    nothing = await watch.unmark_seen(db, GUILD, BOB, film_id)
    assert not nothing.changed and not nothing.still_seen


async def test_the_clubs_record_is_separate_from_members(
    db: Database, films: dict[str, Film], clock: StepClock
) -> None:
    film_id = films["dont-look-back"].id
    assert await watch.mark_club_watched(db, clock, GUILD, film_id)
    assert not await watch.mark_club_watched(db, clock, GUILD, film_id)
    assert await watch.club_watched(db, GUILD) == {film_id}
    assert await watch.seen_count(db, GUILD, ALICE) == 0
    assert await watch.unmark_club_watched(db, GUILD, film_id)
    assert await watch.club_watched(db, GUILD) == set()
