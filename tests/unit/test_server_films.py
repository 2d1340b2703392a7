"""The server's own films (bot/core/server_films.py) on both backends: validation, the duplicate rules against the
curated catalog and the server's films, and many films added in one transaction (what a Letterboxd import uses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import server_films
from bot.core.catalog import load_catalog
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
        (ServerFilmEntry("Film", 1887), "between 1888 and 2028"),
        (ServerFilmEntry("Film", 2029), "between 1888 and 2028"),
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
