"""Server films for tests: one place that makes them, straight through bot.db.films.insert_server_films (the storage
every way of adding one ends in), so no test builds the row by hand.

    ids = await add_server_films(db, GUILD, [server_film("Heima", 2007, directors=("Dean DeBlois",))])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.clock import to_db
from bot.core.details import FilmDetails, encode_details
from bot.core.search import SERVER_SLUG_PREFIX
from bot.core.text import normalise_title
from bot.db.database import Database
from bot.db.films import NewServerFilm, insert_server_films
from bot.db.tmdb import store_details

_SLUGS = itertools.count(1)


@dataclass(frozen=True)
class ServerFilm:
    title: str
    year: int
    runtime: int = 0
    kind: str = "film"
    directors: tuple[str, ...] = ()
    blurb: str = ""
    tmdb_id: int | None = None
    imdb_id: str | None = None
    letterboxd_uri: str | None = None
    added_by: int | None = None


def server_film(title: str, year: int, **values: object) -> ServerFilm:
    return ServerFilm(title, year, **values)  # type: ignore[arg-type]


async def add_server_films(
    db: Database, guild_id: int, films: Sequence[ServerFilm], *, now: datetime | None = None
) -> list[int]:
    """Store ``films`` as ``guild_id``'s own and return their ids, in order."""
    rows = [
        NewServerFilm(
            guild_id=guild_id,
            slug=f"{SERVER_SLUG_PREFIX}{normalise_title(f.title).replace(' ', '-')[:60]}-{next(_SLUGS)}",
            title=f.title,
            title_key=normalise_title(f.title),
            year=f.year,
            added_by=f.added_by,
            runtime=f.runtime,
            kind=f.kind,
            blurb=f.blurb,
            directors=f.directors,
            imdb_id=f.imdb_id,
            tmdb_id=f.tmdb_id,
            letterboxd_uri=f.letterboxd_uri,
        )
        for f in films
    ]
    moment = to_db(now or datetime(2026, 1, 1, tzinfo=UTC))
    async with db.transaction() as tx:
        return await insert_server_films(tx, rows, moment)


async def add_server_film(db: Database, guild_id: int, title: str, year: int, **values: object) -> int:
    """One server film; its id."""
    return (await add_server_films(db, guild_id, [server_film(title, year, **values)]))[0]


async def cache_details(db: Database, tmdb_id: int, details: FilmDetails | str | None) -> None:
    """TMDb's answer for ``tmdb_id`` in the details cache, as the details service keeps it (None: TMDb has no such
    film; a string is stored as it is, to store nonsense)."""
    payload = details if isinstance(details, str) else encode_details(details)
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    await store_details(db, tmdb_id, payload, fetched, fetched + timedelta(days=30))


def details_of(tmdb_id: int, title: str, year: int, **values: object) -> FilmDetails:
    """Film details as the provider gives them (genres and keywords as tuples of names)."""
    return FilmDetails(tmdb_id=tmdb_id, title=title, year=year, **values)  # type: ignore[arg-type]
