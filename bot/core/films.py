"""Films and themes as the rest of the bot sees them, and turning what a member typed into exactly one of them.

Every command that takes a film re-validates its argument through :func:`resolve_film`, because autocomplete only
suggests: a member can type anything. Suggestions come from :class:`~bot.core.search.TitleIndex`. :class:`Film` and
:class:`Theme` are the records :mod:`bot.db.films` reads, re-exported here for the rest of the bot.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable

from bot.core.errors import NotFoundError
from bot.core.search import ClubTitles, TitleIndex, rank_themes
from bot.core.text import normalise_title
from bot.db import films as store
from bot.db.database import Database
from bot.db.films import Film, Theme

__all__ = [
    "ClubTitles",
    "Film",
    "ServerTitles",
    "Theme",
    "active_films",
    "build_title_index",
    "film_for_guild",
    "get_film",
    "get_films",
    "list_themes",
    "resolve_film",
    "resolve_theme",
    "search_themes",
    "theme_film_ids",
]

_YEAR_SUFFIX = re.compile(r"^(?P<title>.*?)\s*[\(\[]?(?P<year>1[89]\d\d|20\d\d)[\)\]]?\s*$")


async def get_film(db: Database, film_id: int) -> Film | None:
    return (await store.films_by_ids(db, (film_id,))).get(film_id)


async def film_for_guild(db: Database, guild_id: int | None, film_id: int, *, active: bool = True) -> Film | None:
    """Film ``film_id`` when members of ``guild_id`` may name it, else None: another server's film is never theirs,
    whatever id a button or form carries; nor is a retired film, unless ``active`` is False (old reviews name one)."""
    film = await get_film(db, film_id)
    if film is None or not film.visible_in(guild_id) or (active and film.retired):
        return None
    return film


async def get_films(db: Database, film_ids: Iterable[int]) -> dict[int, Film]:
    """film id -> film for the ids given (retired ones included: old reviews still name them)."""
    return await store.films_by_ids(db, film_ids)


async def active_films(db: Database) -> list[Film]:
    """Every film that is not retired, in catalog order of id."""
    return await store.active_films(db)


async def build_title_index(db: Database) -> TitleIndex:
    """The autocomplete index over every active film's titles and alternative titles."""
    return TitleIndex(await store.indexed_titles(db))


#: Server films kept indexed across every server at once (about 380 bytes each: bench/server_films.py), so memory
#: follows the servers in use, not every server ever seen: 500,000 is about 180 MiB.
SERVER_TITLES_BUDGET = 500_000


class ServerTitles:
    """Each server's own films' title index, built when the server first needs it and rebuilt when its films changed
    (their version, one key read per use, is the judge: any process may have written them). Servers not used for a
    while are dropped beyond ``capacity`` servers or ``max_films`` films indexed in all (the server just asked for
    always stays), so memory follows the servers in use, not every server ever seen."""

    def __init__(self, db: Database, capacity: int = 1000, max_films: int = SERVER_TITLES_BUDGET) -> None:
        self._db = db
        self._capacity = capacity
        self._max_films = max_films
        self._films = 0  # films in the indexes kept
        self._built: OrderedDict[int, tuple[int, TitleIndex]] = OrderedDict()

    @property
    def films(self) -> int:
        """How many server films the kept indexes hold."""
        return self._films

    async def index(self, guild_id: int) -> TitleIndex:
        version = await store.server_films_version(self._db, guild_id)
        built = self._built.get(guild_id)
        if built is None or built[0] != version:
            titles = await store.server_indexed_titles(self._db, guild_id) if version else []
            index = TitleIndex(titles)
            self._films += len(index) - (len(built[1]) if built is not None else 0)
            built = self._built[guild_id] = (version, index)
        self._built.move_to_end(guild_id)
        while len(self._built) > 1 and (len(self._built) > self._capacity or self._films > self._max_films):
            _guild, (_version, dropped) = self._built.popitem(last=False)
            self._films -= len(dropped)
        return built[1]

    def forget(self, guild_id: int) -> None:
        """Drop the server's index (its films were deleted: their version counter starts again)."""
        built = self._built.pop(guild_id, None)
        if built is not None:
            self._films -= len(built[1])

    async def for_guild(self, curated: TitleIndex, guild_id: int | None) -> ClubTitles:
        """What members of ``guild_id`` can name: the curated catalog and (in a server) the server's own films."""
        return ClubTitles(curated, None if guild_id is None else await self.index(guild_id))


async def resolve_film(db: Database, index: TitleIndex | ClubTitles, text: str, *, guild_id: int | None) -> Film:
    """The one active film a member of ``guild_id`` meant by ``text`` (an autocomplete value or typed words), or a
    helpful error. A film another server entered is never theirs to name, whatever id they send.

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
    if film is None or film.retired or not film.visible_in(guild_id):
        suggestions = [entry.label for entry in index.search(cleaned, limit=3)]
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        where = "in the catalog" if guild_id is None else "in the catalog or this server's films"
        raise NotFoundError(f"No film called {cleaned[:80]!r} {where}.{hint}")
    return film


# -- themes ---------------------------------------------------------------------------------------------------------


async def list_themes(db: Database) -> list[Theme]:
    """Curated themes that are not retired, with how many active films each holds, by title."""
    return await store.themes(db)


async def theme_film_ids(db: Database, slug: str) -> list[int]:
    """The active films of a theme, in catalog order."""
    return await store.theme_film_ids(db, slug)


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
