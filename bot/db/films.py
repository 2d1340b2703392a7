"""Reading films and themes: the catalog as the rest of the bot sees it.

:class:`Film` and :class:`Theme` are plain records of stored values, so they are the domain types themselves
(:mod:`bot.core.films` re-exports them). A film's themes are read with a second query and put in order here, rather
than joined into a string in SQL: the two backends spell that aggregate differently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.db.database import Reader, Row, Transaction, placeholders


@dataclass(frozen=True)
class Film:
    id: int
    slug: str
    title: str
    year: int
    runtime: int
    kind: str
    episodes: int | None  # set for series and docuseries only (the catalog loader refuses it on anything else)
    seasons: int | None
    blurb: str
    imdb_id: str | None
    directors: tuple[str, ...]
    featuring: tuple[str, ...]
    countries: tuple[str, ...]
    alt_titles: tuple[str, ...]
    prompts: tuple[str, ...]
    themes: tuple[str, ...]
    retired: bool
    guild_id: int | None = None  # the server a server film belongs to; None for a curated film
    tmdb_id: int | None = None
    letterboxd_uri: str | None = None

    @property
    def is_server_film(self) -> bool:
        """A film one server entered itself (a nomination, a Letterboxd import), not one from the curated catalog."""
        return self.guild_id is not None

    def visible_in(self, guild_id: int | None) -> bool:
        """Whether members of ``guild_id`` may name this film: curated films everywhere, a server film at home."""
        return self.guild_id is None or self.guild_id == guild_id

    @property
    def label(self) -> str:
        """How a film is named in lists: "The Last Waltz (1978)"."""
        return f"{self.title} ({self.year})"

    @property
    def length(self) -> str:
        """ "117 min", or for a series "3 episodes · 468 min"; a server film may not know its running time."""
        if not self.runtime:
            return "running time unknown"
        if self.episodes:
            return f"{self.episodes} episodes · {self.runtime} min"
        return f"{self.runtime} min"


@dataclass(frozen=True)
class Theme:
    """A curated theme from the catalog, or (``collection_id`` set) one server's own collection.

    A collection's ``slug`` is ``@<collection id>``: curated slugs never contain ``@``, so the two never collide and
    every place that takes a theme (autocomplete values, button ids) can carry either.
    """

    slug: str
    title: str
    description: str
    film_count: int
    collection_id: int | None = None

    @property
    def is_collection(self) -> bool:
        return self.collection_id is not None


class IndexedTitle(NamedTuple):
    """What the autocomplete index needs of an active film."""

    id: int
    slug: str
    title: str
    year: int
    alt_titles: tuple[str, ...]


#: Ids per ``IN (...)`` list: well under SQLite's limit of bound parameters.
_CHUNK = 500

_FILM_COLUMNS = """
id, slug, title, year, runtime, kind, episodes, seasons, blurb, imdb_id, directors, featuring, countries, alt_titles,
prompts, retired, guild_id, tmdb_id, letterboxd_uri
"""
# The f-strings below join constant SQL fragments; values always go through placeholders.
FILMS_BY_IDS = f"SELECT {_FILM_COLUMNS} FROM films WHERE id IN ({{ids}})"  # noqa: S608
THEMES_OF_FILMS = "SELECT film_id, theme_slug FROM film_themes WHERE film_id IN ({ids}) ORDER BY film_id, position"
ACTIVE_FILMS = f"SELECT {_FILM_COLUMNS} FROM films WHERE retired = 0 AND guild_id IS NULL ORDER BY id"  # noqa: S608
THEMES_OF_ACTIVE_FILMS = """
SELECT ft.film_id, ft.theme_slug FROM film_themes ft JOIN films f ON f.id = ft.film_id
WHERE f.retired = 0 AND f.guild_id IS NULL ORDER BY ft.film_id, ft.position
"""
INDEX_ROWS = "SELECT id, slug, title, year, alt_titles FROM films WHERE retired = 0 AND guild_id IS NULL ORDER BY id"
SERVER_FILMS = f"SELECT {_FILM_COLUMNS} FROM films WHERE guild_id = ? AND retired = 0 ORDER BY id"  # noqa: S608
SERVER_INDEX_ROWS = "SELECT id, slug, title, year, alt_titles FROM films WHERE guild_id = ? AND retired = 0 ORDER BY id"
_KNOWN_COLUMNS = "id, guild_id, title_key, year, tmdb_id, imdb_id, retired, letterboxd_uri"
# A server's own films, retired ones too (the unique indexes on (guild, title, year) and the ids count them): all of
# them, or those with one of a few titles or Letterboxd links.
SERVER_FILM_KEYS = f"SELECT {_KNOWN_COLUMNS} FROM films WHERE guild_id = ? ORDER BY id"  # noqa: S608
SERVER_FILMS_TITLED = f"""
SELECT {_KNOWN_COLUMNS} FROM films WHERE guild_id = CAST(? AS BIGINT) AND title_key IN ({{values}}) ORDER BY id
"""  # noqa: S608
SERVER_FILMS_LINKED = f"""
SELECT {_KNOWN_COLUMNS} FROM films WHERE guild_id = CAST(? AS BIGINT) AND letterboxd_uri IN ({{values}}) ORDER BY id
"""  # noqa: S608
# Curated films (and the server's own) holding any of these TMDb or IMDb ids.
FILMS_WITH_TMDB_IDS = f"""
SELECT {_KNOWN_COLUMNS} FROM films
WHERE (guild_id IS NULL OR guild_id = CAST(? AS BIGINT)) AND tmdb_id IN ({{values}}) ORDER BY id
"""  # noqa: S608
FILMS_WITH_IMDB_IDS = f"""
SELECT {_KNOWN_COLUMNS} FROM films
WHERE (guild_id IS NULL OR guild_id = CAST(? AS BIGINT)) AND imdb_id IN ({{values}}) ORDER BY id
"""  # noqa: S608
COUNT_SERVER_FILMS = "SELECT count(*) FROM films WHERE guild_id = ?"
NEXT_FILM_ID = "SELECT coalesce(max(id), 0) + 1 FROM films"
SERVER_FILMS_VERSION = "SELECT version FROM server_film_versions WHERE guild_id = ?"
BUMP_SERVER_FILMS_VERSION = """
INSERT INTO server_film_versions (guild_id, version) VALUES (?, 1)
ON CONFLICT (guild_id) DO UPDATE SET version = server_film_versions.version + 1
"""
INSERT_SERVER_FILM = """
INSERT INTO films (id, slug, title, year, runtime, kind, blurb, imdb_id, directors, source_file, content_hash,
                   guild_id, tmdb_id, letterboxd_uri, title_key, added_by, added_at, updated_at)
VALUES (:id, :slug, :title, :year, :runtime, :kind, :blurb, :imdb_id, :directors, '', '',
        :guild_id, :tmdb_id, :letterboxd_uri, :title_key, :added_by, :now, :now)
"""

THEMES = """
SELECT themes.slug, themes.title, themes.description,
       (SELECT count(*) FROM film_themes ft JOIN films f ON f.id = ft.film_id
        WHERE ft.theme_slug = themes.slug AND f.retired = 0)
FROM themes WHERE retired = 0
"""
THEME_FILMS = """
SELECT f.id FROM film_themes ft JOIN films f ON f.id = ft.film_id
WHERE ft.theme_slug = ? AND f.retired = 0 AND f.guild_id IS NULL ORDER BY f.id
"""


def _strings(text: str) -> tuple[str, ...]:
    """A stored JSON array of strings."""
    return tuple(json.loads(text))


def _film(row: Row, themes: Sequence[str]) -> Film:
    return Film(
        id=int(row["id"]),
        slug=row["slug"],
        title=row["title"],
        year=int(row["year"]),
        runtime=int(row["runtime"]),
        kind=row["kind"],
        episodes=None if row["episodes"] is None else int(row["episodes"]),
        seasons=None if row["seasons"] is None else int(row["seasons"]),
        blurb=row["blurb"],
        imdb_id=row["imdb_id"],
        directors=_strings(row["directors"]),
        featuring=_strings(row["featuring"]),
        countries=_strings(row["countries"]),
        alt_titles=_strings(row["alt_titles"]),
        prompts=_strings(row["prompts"]),
        themes=tuple(themes),
        retired=bool(row["retired"]),
        guild_id=None if row["guild_id"] is None else int(row["guild_id"]),
        tmdb_id=None if row["tmdb_id"] is None else int(row["tmdb_id"]),
        letterboxd_uri=row["letterboxd_uri"],
    )


def _themes_by_film(rows: Iterable[Row]) -> dict[int, list[str]]:
    """film id -> its theme slugs, from rows already in (film, position) order."""
    themes: dict[int, list[str]] = {}
    for film_id, slug in rows:
        themes.setdefault(int(film_id), []).append(slug)
    return themes


async def films_by_ids(db: Reader, film_ids: Iterable[int]) -> dict[int, Film]:
    """film id -> film for the ids given that exist (retired ones included)."""
    ids = sorted(set(film_ids))
    films: dict[int, Film] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = placeholders(len(chunk))
        rows = await db.fetchall(FILMS_BY_IDS.format(ids=marks), chunk)
        themes = _themes_by_film(await db.fetchall(THEMES_OF_FILMS.format(ids=marks), chunk))
        films.update((int(row["id"]), _film(row, themes.get(int(row["id"]), ()))) for row in rows)
    return films


async def active_films(db: Reader) -> list[Film]:
    """Every curated film that is not retired, in order of id."""
    rows = await db.fetchall(ACTIVE_FILMS)
    themes = _themes_by_film(await db.fetchall(THEMES_OF_ACTIVE_FILMS))
    return [_film(row, themes.get(int(row["id"]), ())) for row in rows]


async def indexed_titles(db: Reader) -> list[IndexedTitle]:
    """Every active curated film's id, slug, title, year and alternative titles, in order of id."""
    return [
        IndexedTitle(int(row[0]), row[1], row[2], int(row[3]), _strings(row[4]))
        for row in await db.fetchall(INDEX_ROWS)
    ]


async def themes(db: Reader) -> list[Theme]:
    """Curated themes that are not retired, with how many active films each holds, by title.

    Sorted here, not by ``ORDER BY``: PostgreSQL orders text by the server's collation, SQLite by code point, and the
    list must read the same on both."""
    found = [Theme(row[0], row[1], row[2], int(row[3])) for row in await db.fetchall(THEMES)]
    return sorted(found, key=lambda theme: (theme.title, theme.slug))


async def theme_film_ids(db: Reader, slug: str) -> list[int]:
    """The active films of a theme, in order of id."""
    return [int(row[0]) for row in await db.fetchall(THEME_FILMS, (slug,))]


# -- the server's own films -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewServerFilm:
    """A film a server enters itself, as the core validated it: ``title_key`` is its normalised title, ``slug`` a
    fresh ``~`` slug, ``directors`` plain names; ``runtime`` 0 when unknown."""

    guild_id: int
    slug: str
    title: str
    title_key: str
    year: int
    added_by: int | None
    runtime: int = 0
    kind: str = "film"
    blurb: str = ""
    directors: tuple[str, ...] = ()
    imdb_id: str | None = None
    tmdb_id: int | None = None
    letterboxd_uri: str | None = None

    def stored(self, film_id: int) -> Film:
        """The film as :func:`insert_server_films` stores it under ``film_id`` (no need to read it back)."""
        return Film(
            id=film_id,
            slug=self.slug,
            title=self.title,
            year=self.year,
            runtime=self.runtime,
            kind=self.kind,
            episodes=None,
            seasons=None,
            blurb=self.blurb,
            imdb_id=self.imdb_id,
            directors=self.directors,
            featuring=(),
            countries=(),
            alt_titles=(),
            prompts=(),
            themes=(),
            retired=False,
            guild_id=self.guild_id,
            tmdb_id=self.tmdb_id,
            letterboxd_uri=self.letterboxd_uri,
        )


@dataclass(frozen=True)
class KnownFilm:
    """What a duplicate check needs of a film a new server film might repeat: its server (None: curated), normalised
    title (server films only), year, ids, Letterboxd link, and whether it is retired."""

    id: int
    guild_id: int | None
    title_key: str | None
    year: int
    tmdb_id: int | None
    imdb_id: str | None
    retired: bool
    letterboxd_uri: str | None = None


async def server_films(db: Reader, guild_id: int) -> list[Film]:
    """A server's own films that are not retired, in order of id (their themes are always none)."""
    return [_film(row, ()) for row in await db.fetchall(SERVER_FILMS, (guild_id,))]


async def server_indexed_titles(db: Reader, guild_id: int) -> list[IndexedTitle]:
    """What the autocomplete index needs of a server's own films."""
    return [
        IndexedTitle(int(row[0]), row[1], row[2], int(row[3]), _strings(row[4]))
        for row in await db.fetchall(SERVER_INDEX_ROWS, (guild_id,))
    ]


async def lock_new_films(tx: Transaction) -> None:
    """Make any other writer of new films (a nomination, an import, a catalog load) wait until this transaction ends,
    so that a duplicate check and the insert that follows it see the same films (SQLite's write lock does it already;
    PostgreSQL takes the catalog lock, which :func:`insert_server_films` takes again harmlessly)."""
    lock = tx.dialect.catalog_load_lock()
    if lock is not None:
        await tx.execute(lock)


async def insert_server_films(tx: Transaction, films: Sequence[NewServerFilm], now: str) -> list[int]:
    """Store new server films and return their ids, in order. Film ids are handed out as the largest plus one under
    the catalog lock, the way the catalog loader hands them out, so that a load and a nomination never take the same."""
    if not films:
        return []
    lock = tx.dialect.catalog_load_lock()
    if lock is not None:
        await tx.execute(lock)
    first = int(await tx.fetchval(NEXT_FILM_ID))
    ids = list(range(first, first + len(films)))
    await tx.executemany(
        INSERT_SERVER_FILM,
        [
            {
                "id": film_id,
                "slug": film.slug,
                "title": film.title,
                "year": film.year,
                "runtime": film.runtime,
                "kind": film.kind,
                "blurb": film.blurb,
                "imdb_id": film.imdb_id,
                "directors": json.dumps(list(film.directors)),
                "guild_id": film.guild_id,
                "tmdb_id": film.tmdb_id,
                "letterboxd_uri": film.letterboxd_uri,
                "title_key": film.title_key,
                "added_by": film.added_by,
                "now": now,
            }
            for film_id, film in zip(ids, films, strict=True)
        ],
    )
    for guild_id in {film.guild_id for film in films}:
        await bump_server_films_version(tx, guild_id)
    return ids


async def server_films_version(db: Reader, guild_id: int) -> int:
    """A number every change to the server's films increases (0 before its first): one key read tells a process
    whether its title index of them is current."""
    value = await db.fetchval(SERVER_FILMS_VERSION, (guild_id,))
    return 0 if value is None else int(value)


async def bump_server_films_version(tx: Transaction, guild_id: int) -> None:
    """Call in every transaction that adds, changes or removes a server's films."""
    await tx.execute(BUMP_SERVER_FILMS_VERSION, (guild_id,))


def _known(row: Row) -> KnownFilm:
    return KnownFilm(
        int(row[0]),
        None if row[1] is None else int(row[1]),
        row[2],
        int(row[3]),
        None if row[4] is None else int(row[4]),
        row[5],
        bool(row[6]),
        row[7],
    )


async def _known_in(db: Reader, sql: str, guild_id: int, values: Iterable[object]) -> dict[int, KnownFilm]:
    """The films one ``IN (...)`` query finds, the values sent in chunks (SQLite's limit of bound parameters)."""
    ordered = sorted(set(values), key=str)
    found: dict[int, KnownFilm] = {}
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        rows = await db.fetchall(sql.format(values=placeholders(len(chunk))), [guild_id, *chunk])
        found.update((film.id, film) for film in map(_known, rows))
    return found


async def server_film_keys(
    db: Reader, guild_id: int, title_keys: Iterable[str] | None = None, letterboxd_uris: Iterable[str] = ()
) -> list[KnownFilm]:
    """The server's own films, retired ones too, in order of id: every one (``title_keys`` None, or more titles and
    links than one query takes: one read of them all is then cheaper), or those with one of these normalised titles
    or Letterboxd links."""
    titles, uris = set(title_keys or ()), set(letterboxd_uris)
    if title_keys is None or len(titles) + len(uris) > _CHUNK:
        return [_known(row) for row in await db.fetchall(SERVER_FILM_KEYS, (guild_id,))]
    found = await _known_in(db, SERVER_FILMS_TITLED, guild_id, titles)
    found.update(await _known_in(db, SERVER_FILMS_LINKED, guild_id, uris))
    return [found[film_id] for film_id in sorted(found)]


async def films_with_ids(
    db: Reader, guild_id: int, tmdb_ids: Iterable[int], imdb_ids: Iterable[str]
) -> list[KnownFilm]:
    """Curated films and the server's own holding any of these TMDb or IMDb ids (another server's never)."""
    found = await _known_in(db, FILMS_WITH_TMDB_IDS, guild_id, tmdb_ids)
    found.update(await _known_in(db, FILMS_WITH_IMDB_IDS, guild_id, imdb_ids))
    return [found[film_id] for film_id in sorted(found)]


async def count_server_films(db: Reader, guild_id: int) -> int:
    """How many films the server has of its own, retired ones too."""
    return int(await db.fetchval(COUNT_SERVER_FILMS, (guild_id,)))
