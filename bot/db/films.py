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

from bot.db.database import Reader, Row, placeholders


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

    @property
    def label(self) -> str:
        """How a film is named in lists: "The Last Waltz (1978)"."""
        return f"{self.title} ({self.year})"

    @property
    def length(self) -> str:
        """ "117 min", or for a series "3 episodes · 468 min"."""
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
prompts, retired
"""
# The f-strings below join constant SQL fragments; values always go through placeholders.
FILMS_BY_IDS = f"SELECT {_FILM_COLUMNS} FROM films WHERE id IN ({{ids}})"  # noqa: S608
THEMES_OF_FILMS = "SELECT film_id, theme_slug FROM film_themes WHERE film_id IN ({ids}) ORDER BY film_id, position"
ACTIVE_FILMS = f"SELECT {_FILM_COLUMNS} FROM films WHERE retired = 0 ORDER BY id"  # noqa: S608
THEMES_OF_ACTIVE_FILMS = """
SELECT ft.film_id, ft.theme_slug FROM film_themes ft JOIN films f ON f.id = ft.film_id
WHERE f.retired = 0 ORDER BY ft.film_id, ft.position
"""
INDEX_ROWS = "SELECT id, slug, title, year, alt_titles FROM films WHERE retired = 0 ORDER BY id"

THEMES = """
SELECT themes.slug, themes.title, themes.description,
       (SELECT count(*) FROM film_themes ft JOIN films f ON f.id = ft.film_id
        WHERE ft.theme_slug = themes.slug AND f.retired = 0)
FROM themes WHERE retired = 0
"""
THEME_FILMS = """
SELECT f.id FROM film_themes ft JOIN films f ON f.id = ft.film_id
WHERE ft.theme_slug = ? AND f.retired = 0 ORDER BY f.id
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
    """Every film that is not retired, in order of id."""
    rows = await db.fetchall(ACTIVE_FILMS)
    themes = _themes_by_film(await db.fetchall(THEMES_OF_ACTIVE_FILMS))
    return [_film(row, themes.get(int(row["id"]), ())) for row in rows]


async def indexed_titles(db: Reader) -> list[IndexedTitle]:
    """Every active film's id, slug, title, year and alternative titles, in order of id."""
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
