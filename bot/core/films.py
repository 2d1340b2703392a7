"""Films and themes as the rest of the bot sees them, and turning what a member typed into exactly one of them.

Every command that takes a film re-validates its argument through :func:`resolve_film`, because autocomplete only
suggests: a member can type anything. Suggestions come from :class:`~bot.core.search.TitleIndex`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.catalog import SERIES_KINDS
from bot.core.errors import NotFoundError
from bot.core.search import TitleIndex, rank_themes
from bot.core.text import normalise_title
from bot.db import films as sql
from bot.db.database import Database, Row

_YEAR_SUFFIX = re.compile(r"^(?P<title>.*?)\s*[\(\[]?(?P<year>1[89]\d\d|20\d\d)[\)\]]?\s*$")


@dataclass(frozen=True)
class Film:
    id: int
    slug: str
    title: str
    year: int
    runtime: int
    kind: str
    episodes: int | None
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
        if self.kind in SERIES_KINDS and self.episodes:
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


def _film(r: Row) -> Film:
    themes = r["themes"]
    return Film(
        id=r["id"],
        slug=r["slug"],
        title=r["title"],
        year=r["year"],
        runtime=r["runtime"],
        kind=r["kind"],
        episodes=r["episodes"],
        seasons=r["seasons"],
        blurb=r["blurb"],
        imdb_id=r["imdb_id"],
        directors=tuple(json.loads(r["directors"])),
        featuring=tuple(json.loads(r["featuring"])),
        countries=tuple(json.loads(r["countries"])),
        alt_titles=tuple(json.loads(r["alt_titles"])),
        prompts=tuple(json.loads(r["prompts"])),
        themes=tuple(themes.split(",")) if themes else (),
        retired=bool(r["retired"]),
    )


async def get_film(db: Database, film_id: int) -> Film | None:
    row = await db.fetchone(sql.FILM_BY_ID, (film_id,))
    return None if row is None else _film(row)


async def get_films(db: Database, film_ids: Iterable[int]) -> dict[int, Film]:
    """film id -> film for the ids given (retired ones included: old reviews still name them)."""
    ids = sorted(set(film_ids))
    films: dict[int, Film] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = sql.FILMS_BY_IDS.format(placeholders=",".join("?" * len(chunk)))
        films.update((film.id, film) for film in map(_film, await db.fetchall(query, chunk)))
    return films


async def active_films(db: Database) -> list[Film]:
    """Every film that is not retired, in catalog order of id."""
    return [_film(row) for row in await db.fetchall(sql.ACTIVE_FILMS)]


async def build_title_index(db: Database) -> TitleIndex:
    """The autocomplete index over every active film's titles and alternative titles."""
    rows = await db.fetchall(sql.INDEX_ROWS)
    return TitleIndex(
        (row["id"], row["slug"], row["title"], row["year"], json.loads(row["alt_titles"])) for row in rows
    )


async def resolve_film(db: Database, index: TitleIndex, text: str) -> Film:
    """The one active film a member meant by ``text`` (an autocomplete value or typed words), or a helpful error.

    Accepts the catalog id that autocomplete sends, an exact title (with or without punctuation or articles), a
    title followed by its year to pick between films that share a title, or a mistyped title when one film is clearly
    meant (:meth:`~bot.core.search.TitleIndex.clear_match`: "last walts" is The Last Waltz). Anything less clear
    gets "did you mean" with the closest films.
    """
    cleaned = text.strip()
    if not cleaned:
        raise NotFoundError("Pick a film from the list as you type.")
    film_id = index.id_for_slug(cleaned)
    if film_id is None:
        title, year = cleaned, None
        match = _YEAR_SUFFIX.match(cleaned)
        if match and match.group("title"):
            title, year = match.group("title"), int(match.group("year"))
        exact = index.exact(title)
        if year is not None:
            exact = [entry for entry in exact if entry.year == year]
        if len(exact) == 1:
            film_id = exact[0].film_id
        elif len(exact) > 1:
            options = " or ".join(entry.label for entry in exact[:4])
            raise NotFoundError(f"Several films are called {cleaned!r}: {options}. Pick one from the list.")
        else:
            clear = index.clear_match(title, year)
            film_id = clear.film_id if clear else None
    film = None if film_id is None else await get_film(db, film_id)
    if film is None or film.retired:
        suggestions = [entry.label for entry in index.search(cleaned, limit=3)]
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        raise NotFoundError(f"No film called {cleaned[:80]!r} in the catalog.{hint}")
    return film


# -- themes ---------------------------------------------------------------------------------------------------------


async def list_themes(db: Database) -> list[Theme]:
    """Curated themes that are not retired, with how many active films each holds, by title."""
    return [Theme(row[0], row[1], row[2], int(row[3])) for row in await db.fetchall(sql.THEMES)]


async def theme_film_ids(db: Database, slug: str) -> list[int]:
    """The active films of a theme, in catalog order."""
    return [row[0] for row in await db.fetchall(sql.THEME_FILMS, (slug,))]


def search_themes(themes: list[Theme], text: str, limit: int = 25) -> list[Theme]:
    """Themes for autocomplete and "did you mean": all of them for an empty query, else by title (exact, prefix, word
    start, inside a word, typo), then by description (:func:`bot.core.search.rank_themes`)."""
    return rank_themes(themes, text, limit)


def resolve_theme(themes: list[Theme], text: str) -> Theme:
    """The theme a member meant: its slug (what autocomplete sends) or its exact title; else "did you mean".

    ``themes`` may mix curated themes and a server's collections (see bot.core.collections.themes_for).
    """
    cleaned = text.strip()
    for theme in themes:
        if cleaned == theme.slug or normalise_title(cleaned) == normalise_title(theme.title):
            return theme
    suggestions = [t.title for t in search_themes(themes, cleaned, limit=3)] if cleaned else []
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise NotFoundError(f"No theme named {cleaned[:80]!r}.{hint} `/theme list` shows them all.")
