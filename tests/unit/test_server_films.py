"""The server's own films (bot/core/server_films.py) on both backends: validation, the duplicate rules against the
curated catalog and the server's films, and many films added in one transaction (what a Letterboxd import uses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import server_films
from bot.core.catalog import FIRST_FILM_YEAR, load_catalog
from bot.core.details import FilmCandidate, FilmDetails
from bot.core.errors import UserError
from bot.core.films import build_title_index, get_film
from bot.core.search import TitleIndex
from bot.core.server_films import ServerFilmEntry, add_server_films
from bot.db.database import Database
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.clocks import StepClock

GUILD, OTHER = 1 << 60, 42
ALICE = 11


@pytest.fixture
async def curated(db: Database, tmp_path: Path) -> TitleIndex:
    films = [
        film("alien", title="Alien", year=1979, themes=["space"]),
        film("heat", title="Heat", year=1995, themes=["space"], imdb="tt0113277"),
    ]
    files = {"themes.toml": to_toml(themes=[theme("space")]), "films.toml": to_toml(films=films)}
    await load_catalog(db, write_catalog(tmp_path / "catalog", files))
    return await build_title_index(db)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (ServerFilmEntry("   ", 2000), "The title is empty"),
        (ServerFilmEntry("x" * 300, 2000), "at most 200"),
        (ServerFilmEntry("!!!", 2000), "at least one letter"),
        (ServerFilmEntry("Film", None), "Give the film's year"),
        (ServerFilmEntry("Film", 1873), "between 1874 and 2028"),
        (ServerFilmEntry("Film", 2029), "between 1874 and 2028"),
        (ServerFilmEntry("Film", 2000, directors=("d" * 101,)), "at most 100"),
    ],
)
def test_validation_says_what_is_wrong(entry: ServerFilmEntry, message: str) -> None:
    with pytest.raises(UserError, match=message):
        server_films.validate(entry, StepClock())


def test_validation_cleans() -> None:
    cleaned = server_films.validate(
        ServerFilmEntry("  The   Room ", 2003, (" Tommy  Wiseau ", " "), imdb_id="nonsense", runtime=-4), StepClock()
    )
    assert (cleaned.title, cleaned.directors, cleaned.imdb_id, cleaned.runtime) == (
        "The Room",
        ("Tommy Wiseau",),
        None,
        None,
    )


async def test_many_films_in_one_transaction_each_accounted_for(
    db: Database, curated: TitleIndex, clock: StepClock
) -> None:
    entries = [
        ServerFilmEntry("The Room", 2003, ("Tommy Wiseau",), letterboxd_uri="https://letterboxd.com/film/the-room/"),
        ServerFilmEntry("alien", 1979),  # curated: same title and year
        ServerFilmEntry("Alien", 1980),  # another year: a film of its own
        ServerFilmEntry("Something Else", 1995, imdb_id="tt0113277"),  # curated by IMDb id
        ServerFilmEntry("Room, The", 2003),  # repeats the first entry of this batch
        ServerFilmEntry("", 2003),  # refused
    ]
    outcomes = await add_server_films(db, clock, curated, GUILD, ALICE, entries)
    room, alien, alien_1980, heat, room_again, empty = outcomes
    assert room.created and room.film is not None and room.film.guild_id == GUILD
    assert room.film.slug.startswith("~") and room.film.letterboxd_uri == "https://letterboxd.com/film/the-room/"
    assert room.film.length == "running time unknown" and room.film.directors == ("Tommy Wiseau",)
    assert alien.duplicate and alien.film is not None and alien.film.slug == "alien"
    assert alien_1980.created
    assert heat.duplicate and heat.film is not None and heat.film.slug == "heat"
    assert room_again.duplicate and room_again.film == room.film
    assert empty.film is None and empty.problem is not None and "empty" in empty.problem

    again = await add_server_films(db, clock, curated, GUILD, ALICE, [ServerFilmEntry("THE ROOM!", 2003)])
    assert again[0].duplicate and again[0].film == room.film
    other = await add_server_films(db, clock, curated, OTHER, ALICE, [ServerFilmEntry("The Room", 2003)])
    assert other[0].created and other[0].film is not None and other[0].film.id != room.film.id


async def test_control_characters_in_a_title_are_dropped(db: Database, curated: TitleIndex, clock: StepClock) -> None:
    """A title pasted with a NUL (PostgreSQL refuses it in text) is stored without it, on both backends."""
    (added,) = await add_server_films(db, clock, curated, GUILD, ALICE, [ServerFilmEntry("The\x00 Ro\x07om", 2003)])
    assert added.film is not None and added.film.title == "The Room"
    stored = await get_film(db, added.film.id)
    assert stored is not None and stored.title == "The Room"


async def test_from_the_provider(db: Database, curated: TitleIndex, clock: StepClock) -> None:
    details = FilmDetails(
        tmdb_id=17473, title="The Room", year=2003, runtime=99, directors=("Tommy Wiseau",), overview="Johnny…"
    )
    async with db.transaction() as tx:
        added = await server_films.add_in(tx, clock, curated, GUILD, ALICE, server_films.from_details(details))
    assert added.created and added.film is not None
    stored = await get_film(db, added.film.id)
    assert stored is not None and (stored.tmdb_id, stored.runtime, stored.blurb) == (17473, 99, "Johnny…")
    candidate = FilmCandidate(tmdb_id=17473, title="The Room (different title)", year=2004)
    async with db.transaction() as tx:
        same = await server_films.add_in(tx, clock, curated, GUILD, ALICE, server_films.from_candidate(candidate))
    assert same.duplicate and same.film == stored


@pytest.mark.parametrize("filler", [0, 600])  # a few titles: looked up; more than one query takes: all read at once
async def test_a_batch_in_the_callers_transaction_checks_links_ids_and_the_limit(
    db: Database, curated: TitleIndex, clock: StepClock, filler: int
) -> None:
    link = "https://boxd.it/1u4I"
    [soylent] = await add_server_films(
        db, clock, curated, GUILD, ALICE, [ServerFilmEntry("Soylent Green", 1973, letterboxd_uri=link, tmdb_id=12101)]
    )
    assert soylent.created and soylent.film is not None
    entries = [ServerFilmEntry(f"Filler {n}", 2000) for n in range(filler)] + [
        ServerFilmEntry("Soylent Green (Restored)", 1972, letterboxd_uri=link),  # renamed on Letterboxd: its link
        ServerFilmEntry("Another Title", 1973, tmdb_id=12101),  # the server's, by TMDb id
        ServerFilmEntry("New One", 2001, imdb_id="tt0000001"),
        ServerFilmEntry("New One, Renamed", 2001, imdb_id="tt0000001"),  # repeats the batch's by IMDb id
        ServerFilmEntry("Heat", 1995),  # curated, through the title index
        ServerFilmEntry("One Too Many", 2002),  # past the limit (Soylent Green, the fillers, New One)
    ]
    async with db.transaction() as tx:
        outcomes = await server_films.add_all_in(tx, clock, curated, GUILD, ALICE, entries, limit=filler + 2)
    *fillers, renamed, by_tmdb, new, new_again, heat, too_many = outcomes
    assert all(added.created for added in fillers)
    assert renamed.film == soylent.film and by_tmdb.film == soylent.film and not renamed.created
    assert new.created and new_again.duplicate and new_again.film == new.film
    assert heat.duplicate and heat.film is not None and heat.film.slug == "heat"
    assert too_many.film is None and too_many.problem == server_films.SERVER_FULL
    stored = await get_film(db, new.film.id) if new.film is not None else None
    assert stored == new.film  # the film returned is the film stored


async def test_a_batch_leaves_nothing_when_the_callers_transaction_fails(
    db: Database, curated: TitleIndex, clock: StepClock
) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            [added] = await server_films.add_all_in(tx, clock, curated, GUILD, ALICE, [ServerFilmEntry("Gone", 1999)])
            assert added.created
            raise RuntimeError("the caller's next write fails")
    [again] = await add_server_films(db, clock, curated, GUILD, ALICE, [ServerFilmEntry("Gone", 1999)])
    assert again.created


async def test_films_begin_in_1874(clock: StepClock) -> None:
    first, _last = server_films.year_range(clock)
    assert first == FIRST_FILM_YEAR == 1874
    assert server_films.validate(ServerFilmEntry("Passage de Vénus", 1874), clock).year == 1874
