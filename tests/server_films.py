"""Server films for tests: one place that makes them, through bot.core.server_films (validated, with the duplicate
rules, the way a nomination or a Letterboxd import adds them), so no test builds the row by hand.

    ids = await add_server_films(db, GUILD, [server_film("Heima", 2007, directors=("Dean DeBlois",))])
    one = await add_server_film(db, GUILD, "Heima", 2007, runtime=97)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.core.details import FilmDetails, encode_details
from bot.core.films import build_title_index
from bot.core.server_films import ServerFilmEntry
from bot.core.server_films import add_server_films as add_entries
from bot.db.database import Database
from bot.db.tmdb import store_details
from tests.clocks import FixedClock

#: Server films are added as of this moment (the years they accept run to two years after it).
ADDED_AT = datetime(2026, 6, 1, tzinfo=UTC)


def server_film(title: str, year: int, **values: object) -> ServerFilmEntry:
    """A film as a member or an import describes it: ``directors``, ``runtime``, ``tmdb_id``, ``imdb_id``,
    ``letterboxd_uri``, ``blurb``."""
    return ServerFilmEntry(title, year, **values)  # type: ignore[arg-type]


async def add_server_films(
    db: Database, guild_id: int, films: Sequence[ServerFilmEntry], *, added_by: int | None = None
) -> list[int]:
    """Store ``films`` as ``guild_id``'s own and return their ids, in order; a film refused or already there fails
    the test."""
    curated = await build_title_index(db)
    added = await add_entries(db, FixedClock(ADDED_AT), curated, guild_id, added_by, films)
    problems = [(entry.title, outcome) for entry, outcome in zip(films, added, strict=True) if not outcome.created]
    assert not problems, f"server films not added: {problems}"
    return [outcome.film.id for outcome in added if outcome.film is not None]


async def add_server_film(db: Database, guild_id: int, title: str, year: int, **values: object) -> int:
    """One server film; its id."""
    return (await add_server_films(db, guild_id, [server_film(title, year, **values)]))[0]


async def cache_details(db: Database, tmdb_id: int, details: FilmDetails | str | None) -> None:
    """TMDb's answer for ``tmdb_id`` in the details cache, as the details service keeps it (None: TMDb has no such
    film; a string is stored as it is, to store nonsense)."""
    payload = details if isinstance(details, str) else encode_details(details)
    await store_details(db, tmdb_id, payload, ADDED_AT, ADDED_AT + timedelta(days=30))


def details_of(tmdb_id: int, title: str, year: int, **values: object) -> FilmDetails:
    """Film details as the provider gives them (genres and keywords as tuples of names)."""
    return FilmDetails(tmdb_id=tmdb_id, title=title, year=year, **values)  # type: ignore[arg-type]
