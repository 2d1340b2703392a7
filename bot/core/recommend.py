"""Recommendations: by theme, like a film, a surprise, for one member, and for tonight's group.

Everything ranks over an in-memory snapshot of the catalog held as numpy arrays (year, runtime, kind, themes and
people as posting lists), so a request costs a few vectorised operations and one query for the films it shows,
whatever the catalog's size. What a server's members did (ratings, watched, watchlists, collections) is cached per
server and rebuilt only when its change counters move: database triggers bump them (migration 0006) whichever
feature wrote the change, and a request compares them with one primary-key read.

A server's own films (issue 13) join the snapshot for that server only: :meth:`CatalogSnapshot.with_server_films`
appends them after the catalog's films, sharing the catalog's lists and postings, cached per server on the version of
its films, so no server pays for another's and another never sees them. They have no curated themes, so curated
themes (and weekly picks through them) never hold one; a collection does. The taste model learns them from ratings,
and from their genres and keywords where the film-details cache knows them (curated films' too).

Rankings (ties always broken by catalog order, or a collection's own order, so results are stable):

- **Club score** of a film: its club rating (:mod:`bot.core.score`, the same as weekly picks and /club stats) minus
  the rating of an unrated film, plus a little for how many rated it and for how many have it on their watchlist.
  Unrated films score 0: above what the club disliked, below what it liked.
- **/recommend theme**: club score plus :data:`CENTRALITY` for a film whose first (or second) theme this is; films
  the club has watched are left out, or (``include_watched``) ranked a little lower.
- **/similar**: shared themes and people weighted by rarity (inverse document frequency), closeness in years, the
  same kind, and a little club score. Themes lead: a film sharing no theme comes after every film sharing one, and
  shared people add at most one theme's weight.
- **/surprise**: a random film the club has not watched, drawn with weight ``exp(2 × score)``.
- **/forme**: the member's :class:`~bot.core.taste.TasteModel` scores as of now (never a film they rated or marked
  watched); a member the model knows nothing about gets :class:`_ColdStart` picks, and is told what they follow.
- **/tonight**: every member's predicted ranking of the films none of them has seen turned into a percentile
  ("match"); the group score is the least-happy member's match (plus a twentieth of the average, to break ties).
  Members without ratings rank by :class:`_ColdStart`; when none of the group has any, no "match" is claimed.
"""

from __future__ import annotations

import asyncio
import copy
import math
import random
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import numpy as np
import numpy.typing as npt

from bot.core.catalog import KINDS, SERIES_KINDS
from bot.core.clock import Clock, SystemClock, from_db
from bot.core.collections import Collection, collection_id_of, list_collections
from bot.core.details import decode_details
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, Theme, get_films, list_themes, resolve_theme, search_themes
from bot.core.reviews import film_ratings
from bot.core.score import PRIOR_STARS, club_rating
from bot.core.taste import Interaction, TasteModel, TasteParams
from bot.core.text import fold
from bot.core.watch import club_watched, seen_by, watchlist_counts, watchlisted_by
from bot.core.watch import watchlist as member_watchlist
from bot.db import recommend as store
from bot.db.database import Database
from bot.db.recommend import CachedDetails, SnapshotFilm, Versions

Positions = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float64]

#: Bonus for a film whose first theme is this one, then second; the rest get none.
CENTRALITY = (0.3, 0.15)
#: Rank penalty for a film the club watched, when a member asked to include them.
WATCHED_PENALTY = 0.2
MAX_COUNT = 10
MAX_GROUP = 10
THEME_KEY_LIMIT = 40
PAGE_SIZE_THEME = 10
PAGE_SIZE_THEMES = 20
DECADE_RANGE = (1880, 2030)
MAX_RUNTIME = 3000
RECENT_FILMS = 200  # a member's latest films that reasons ("because you gave ...") draw on
MATCH_SUITS_ALL = 0.75  # every member's match at least this: the film "suits everyone"
MATCH_TIE = 0.01  # matches closer than this are the same: nobody is singled out by a rounding difference
#: /similar: everything a film shares in people counts at most as much as one shared theme, and a film that shares
#: no theme ranks below every film that shares one (Stop Making Sense is not "like" The Silence of the Lambs).
DIRECTOR_WEIGHT = 1.2
#: Cold start (a member with no ratings or marks): how much a theme they (or the club) engaged with counts, against
#: the club score; a film on the member's own watchlist gets :data:`COLD_OWN_WATCHLIST` more.
COLD_THEME = 1.0
COLD_OWN_WATCHLIST = 0.5
COLD_SCREENED = 0.25  # the club screened it: a title the club knows
#: Servers whose own films are kept joined to the catalog snapshot (each costs ~30 bytes per catalog film).
SERVER_SNAPSHOTS = 32


class NothingFound(UserError):
    """A request that is valid but matches nothing; the message says which filter to widen."""


@dataclass(frozen=True)
class Filters:
    """What /recommend narrows a theme with. ``None`` means "any"."""

    decade: int | None = None
    max_runtime: int | None = None
    kind: str | None = None
    include_watched: bool = False

    def __post_init__(self) -> None:
        if self.decade is not None and (self.decade % 10 or not DECADE_RANGE[0] <= self.decade <= DECADE_RANGE[1]):
            raise UserError(f"A decade is a year ending in 0 between {DECADE_RANGE[0]} and {DECADE_RANGE[1]}.")
        if self.max_runtime is not None and not 1 <= self.max_runtime <= MAX_RUNTIME:
            raise UserError(f"The longest runtime is given in minutes, 1 to {MAX_RUNTIME}.")
        if self.kind is not None and self.kind not in KINDS:
            raise UserError(f"A kind is one of: {', '.join(KINDS)}.")

    def describe(self) -> str:
        """ "documentaries from the 1970s up to 100 min" style text, or "" with no filter."""
        parts = []
        if self.kind:
            parts.append(f"kind {self.kind}")
        if self.decade is not None:
            parts.append(f"from the {self.decade}s")
        if self.max_runtime is not None:
            parts.append(f"up to {self.max_runtime} min")
        return ", ".join(parts)


@dataclass(frozen=True)
class Pick:
    film: Film
    reason: str


@dataclass(frozen=True)
class PickList:
    """One page of ranked picks with their reasons; never empty (an empty result raises :class:`NothingFound`)."""

    heading: str
    picks: tuple[Pick, ...]
    page: int
    per_page: int
    total: int  # films that passed every filter
    note: str | None = None

    @property
    def has_more(self) -> bool:
        return (self.page + 1) * self.per_page < self.total

    @property
    def film_ids(self) -> list[int]:
        return [pick.film.id for pick in self.picks]


@dataclass(frozen=True)
class FilmFacts:
    """What /film shows beyond the catalog entry: the club's view of it."""

    film: Film
    theme_titles: tuple[str, ...]
    collections: tuple[str, ...]
    average: float | None
    reviews: int
    watchlisted_by: tuple[int, ...]
    club_watched: bool


@dataclass(frozen=True)
class ThemePage:
    theme: Theme
    lines: tuple[str, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class ThemeListPage:
    themes: tuple[Theme, ...]
    page: int
    pages: int
    total: int


# -- formatting ----------------------------------------------------------------------------------------------------


def stars_text(value: float) -> str:
    """4.5★, 4★, 3.7★."""
    return f"{value:.1f}".rstrip("0").rstrip(".") + "★"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def theme_key(theme: Theme) -> str:
    """A short stand-in for a theme in a button's custom id (which has room for 100 characters in all)."""
    if len(theme.slug) <= THEME_KEY_LIMIT:
        return theme.slug
    return f"#{zlib.crc32(theme.slug.encode()):08x}"


# -- the catalog snapshot ------------------------------------------------------------------------------------------


_T = TypeVar("_T")


@dataclass(frozen=True)
class FilmTags:
    """A film's genres and keywords by name, from its cached details: side information for the taste model."""

    film_id: int
    genres: tuple[str, ...]
    keywords: tuple[str, ...]


def film_tags(cached: Iterable[CachedDetails]) -> list[FilmTags]:
    """The genres and keywords of the films whose cached details name any (:func:`bot.core.details.decode_details`:
    the cache's own format); unreadable details, and TMDb's "no such film", are skipped."""
    found = []
    for entry in cached:
        try:
            details = decode_details(entry.payload)
        except ValueError:
            continue
        if details is not None and (details.genres or details.keywords):
            found.append(FilmTags(entry.film_id, details.genres, details.keywords))
    return found


class _Joined(Sequence[_T]):
    """Two lists read as one, without copying the first (the catalog's, shared by every server)."""

    def __init__(self, first: Sequence[_T], second: Sequence[_T]) -> None:
        self._first, self._second, self._split = first, second, len(first)

    def __len__(self) -> int:
        return self._split + len(self._second)

    @overload
    def __getitem__(self, index: int) -> _T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[_T]: ...
    def __getitem__(self, index: int | slice) -> _T | Sequence[_T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        return self._first[index] if index < self._split else self._second[index - self._split]


_K = TypeVar("_K")


class _Layered(Mapping[_K, _T]):
    """A small mapping read over a large one it leaves untouched (the catalog's, shared by every server): keys of the
    small one win."""

    def __init__(self, top: Mapping[_K, _T], below: Mapping[_K, _T]) -> None:
        self._top, self._below = top, below

    def __getitem__(self, key: _K) -> _T:
        if key in self._top:
            return self._top[key]
        return self._below[key]

    def __contains__(self, key: object) -> bool:
        return key in self._top or key in self._below

    def __iter__(self) -> Iterator[_K]:
        yield from self._top
        yield from (key for key in self._below if key not in self._top)

    def __len__(self) -> int:
        return len(self._below) + sum(1 for key in self._top if key not in self._below)


class CatalogSnapshot:
    """Every active film as arrays indexed by position (films in id order), and themes/people as posting lists.

    The curated catalog's snapshot is shared by every server; a server with films of its own gets
    :meth:`with_server_films`: the same arrays with its films appended after the catalog's, sharing (not copying)
    everything but the per-film arrays. Server films never have curated themes; their people are their directors."""

    ids: npt.NDArray[np.int64]
    position: Mapping[int, int]
    titles: Sequence[str]
    directors: Sequence[frozenset[str]]
    people: Sequence[tuple[str, ...]]
    people_keys: Sequence[tuple[str, ...]]
    themes_of: Sequence[Sequence[str]]
    person_films: Mapping[str, Positions]
    person_idf: Mapping[str, float]
    server_films: int  # how many of the last positions are the server's own films

    def __init__(
        self,
        key: str,
        films: Sequence[SnapshotFilm],
        film_themes: Iterable[tuple[int, str]],
        themes: list[Theme],
    ) -> None:
        self.key = key
        self.server_films = 0
        n = len(films)
        self.ids = np.fromiter((f.id for f in films), dtype=np.int64, count=n)
        self.position = {int(film_id): pos for pos, film_id in enumerate(self.ids.tolist())}
        self.titles = [f"{f.title} ({f.year})" for f in films]
        self.year = np.fromiter((f.year for f in films), dtype=np.int32, count=n)
        self.runtime = np.fromiter((f.runtime for f in films), dtype=np.int32, count=n)
        self.kinds = sorted({f.kind for f in films} | set(KINDS))
        kind_code = {kind: code for code, kind in enumerate(self.kinds)}
        self.kind = np.fromiter((kind_code[f.kind] for f in films), dtype=np.int16, count=n)
        directors, people, people_keys, person_films = _people(films, 0)
        self.directors, self.people, self.people_keys = directors, people, people_keys
        themes_of: list[list[str]] = [[] for _ in range(n)]
        self.themes_of = themes_of
        theme_films: dict[str, list[int]] = {}
        theme_rank: dict[str, list[int]] = {}
        for film_id, slug in film_themes:
            at = self.position.get(film_id)
            if at is None:
                continue
            theme_films.setdefault(slug, []).append(at)
            theme_rank.setdefault(slug, []).append(len(themes_of[at]))
            themes_of[at].append(slug)
        self.theme_films = {s: np.asarray(p, dtype=np.int64) for s, p in theme_films.items()}
        self.theme_rank = {s: np.asarray(r, dtype=np.int64) for s, r in theme_rank.items()}
        self.person_films = person_films
        self.series = np.fromiter((f.kind in SERIES_KINDS for f in films), dtype=bool, count=n)
        # With no signal at all, picks go round the themes: each theme's first film (by its first theme), biggest
        # theme first, then each theme's second film, and so on; never a run of one theme in catalog order.
        self.core_index = np.zeros(n, dtype=np.int32)
        self.core_size = np.zeros(n, dtype=np.int32)
        core_of: dict[str, list[int]] = {}
        for pos in sorted(range(n), key=lambda at: (bool(self.series[at]), at)):  # a theme's series after its films
            if self.themes_of[pos]:
                core_of.setdefault(self.themes_of[pos][0], []).append(pos)
        for members in core_of.values():
            self.core_index[members] = np.arange(len(members))
            self.core_size[members] = len(members)
        self.themes = themes
        self.theme_by_slug = {t.slug: t for t in themes}
        self.theme_idf = {s: math.log(1 + n / len(p)) for s, p in theme_films.items()}
        self.person_idf = {p: math.log(1 + n / len(f)) for p, f in person_films.items()}

    def with_server_films(self, key: str, films: Sequence[SnapshotFilm]) -> CatalogSnapshot:
        """This catalog snapshot with one server's own ``films`` after its films (only that server's: each server's
        request reads its own). The catalog's lists and postings are shared, not copied: a server pays for the
        per-film arrays (about 30 bytes a catalog film) and for its own films."""
        joined = copy.copy(self)
        joined.key = key
        joined.server_films = len(films)
        n, m = len(self), len(films)
        ids = np.fromiter((f.id for f in films), dtype=np.int64, count=m)
        joined.ids = np.concatenate([self.ids, ids])
        joined.position = _Layered({int(film_id): n + at for at, film_id in enumerate(ids.tolist())}, self.position)
        joined.titles = _Joined(self.titles, [f"{f.title} ({f.year})" for f in films])
        joined.year = np.concatenate([self.year, np.fromiter((f.year for f in films), dtype=np.int32, count=m)])
        joined.runtime = np.concatenate(
            [self.runtime, np.fromiter((f.runtime for f in films), dtype=np.int32, count=m)]
        )
        joined.kinds = [*self.kinds, *sorted({f.kind for f in films} - set(self.kinds))]  # codes stay what they were
        kind_code = {kind: code for code, kind in enumerate(joined.kinds)}
        kinds = np.fromiter((kind_code[f.kind] for f in films), dtype=np.int16, count=m)
        joined.kind = np.concatenate([self.kind, kinds])
        series = np.fromiter((f.kind in SERIES_KINDS for f in films), dtype=bool, count=m)
        joined.series = np.concatenate([self.series, series])
        joined.core_index = np.concatenate([self.core_index, np.zeros(m, dtype=np.int32)])
        joined.core_size = np.concatenate([self.core_size, np.zeros(m, dtype=np.int32)])
        directors, people, people_keys, person_films = _people(films, n)
        joined.directors = _Joined(self.directors, directors)
        joined.people = _Joined(self.people, people)
        joined.people_keys = _Joined(self.people_keys, people_keys)
        joined.themes_of = _Joined(self.themes_of, [() for _ in range(m)])
        merged = {
            person: np.concatenate([self.person_films.get(person, np.zeros(0, dtype=np.int64)), found])
            for person, found in person_films.items()
        }
        joined.person_films = _Layered(merged, self.person_films)
        total = n + m
        joined.person_idf = _Layered(
            {person: math.log(1 + total / len(found)) for person, found in merged.items()}, self.person_idf
        )
        return joined

    def __len__(self) -> int:
        return len(self.ids)

    def positions_of(self, film_ids: Iterable[int]) -> Positions:
        return np.asarray([self.position[f] for f in film_ids if f in self.position], dtype=np.int64)

    def features(self, tags: Iterable[FilmTags] = ()) -> dict[int, list[str]]:
        """film id -> its themes and people, and the genres and keywords of ``tags`` (films whose details are
        known): the taste model's side information."""
        found = {
            int(film_id): [*(f"t:{s}" for s in self.themes_of[pos]), *(f"p:{k}" for k in self.people_keys[pos])]
            for pos, film_id in enumerate(self.ids.tolist())
        }
        for tag in tags:
            names = found.get(tag.film_id)
            if names is not None:
                names += [*(f"g:{fold(g)}" for g in tag.genres), *(f"k:{fold(k)}" for k in tag.keywords)]
        return found

    def length(self, pos: int) -> str:
        """ "117 min", or "running time unknown" (a server film may not know it)."""
        runtime = int(self.runtime[pos])
        return f"{runtime} min" if runtime else "running time unknown"

    def theme_title(self, slug: str) -> str:
        theme = self.theme_by_slug.get(slug)
        return theme.title if theme else slug


def _people(
    films: Sequence[SnapshotFilm], first: int
) -> tuple[list[frozenset[str]], list[tuple[str, ...]], list[tuple[str, ...]], dict[str, Positions]]:
    """Each film's directors (folded), people (directors then featured, as written, without repeats) and their folded
    keys, and each person's positions (counted from ``first``)."""
    directors: list[frozenset[str]] = []
    people: list[tuple[str, ...]] = []
    people_keys: list[tuple[str, ...]] = []
    person_films: dict[str, list[int]] = {}
    for pos, film in enumerate(films, start=first):
        names = tuple(dict.fromkeys([*film.directors, *film.featuring]))
        keys = tuple(fold(person) for person in names)
        directors.append(frozenset(fold(d) for d in film.directors))
        people.append(names)
        people_keys.append(keys)
        for person_key in dict.fromkeys(keys):
            person_films.setdefault(person_key, []).append(pos)
    postings = {p: np.asarray(f, dtype=np.int64) for p, f in person_films.items()}
    return directors, people, people_keys, postings


class ClubStats:
    """A server's ratings, watchlists and screenings as arrays over the snapshot's positions."""

    def __init__(
        self,
        snapshot: CatalogSnapshot,
        ratings: Mapping[int, tuple[float, int]],
        watchlist: Mapping[int, int],
        watched: Iterable[int],
    ) -> None:
        n = len(snapshot)
        self.count = np.zeros(n, dtype=np.int64)
        self.total = np.zeros(n, dtype=np.float64)
        for film_id, (average, count) in ratings.items():
            pos = snapshot.position.get(film_id)
            if pos is not None:
                self.count[pos] = count
                self.total[pos] = average * count
        self.watchlist = np.zeros(n, dtype=np.int64)
        for film_id, count in watchlist.items():
            pos = snapshot.position.get(film_id)
            if pos is not None:
                self.watchlist[pos] = count
        self.watched = np.zeros(n, dtype=bool)
        self.watched[snapshot.positions_of(watched)] = True
        rating = club_rating(self.total, self.count.astype(np.float64))  # PRIOR_STARS for a film nobody rated
        self.base: Scores = rating - PRIOR_STARS + 0.1 * np.log1p(self.count)
        self.base += 0.25 * np.log1p(self.watchlist)

    def average(self, pos: int) -> float | None:
        return float(self.total[pos] / self.count[pos]) if self.count[pos] else None

    def rating_text(self, pos: int) -> str:
        count = int(self.count[pos])
        if not count:
            return "no club ratings yet"
        return f"{stars_text(self.total[pos] / count)} from {_plural(count, 'member')}"


@dataclass(frozen=True)
class _Taste:
    model: TasteModel
    positions: Positions  # snapshot position of each of model.films


_V = TypeVar("_V")


class _Cache(OrderedDict[int, tuple[object, _V]], Generic[_V]):
    """Per-server values with the key they were built for, least recently used dropped beyond ``size``."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def fresh(self, guild_id: int, key: object) -> _V | None:
        hit = self.get(guild_id)
        if hit is None or hit[0] != key:
            return None
        self.move_to_end(guild_id)
        return hit[1]

    def store(self, guild_id: int, key: object, value: _V) -> _V:
        self[guild_id] = (key, value)
        self.move_to_end(guild_id)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


# -- the engine ----------------------------------------------------------------------------------------------------


class Recommender:
    """Recommendations for every server of one database, with the caches that keep them fast.

    Use one per database (:func:`recommender_for`); it is safe to share between cogs and concurrent requests.
    """

    def __init__(
        self,
        db: Database,
        *,
        params: TasteParams | None = None,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.params = params or TasteParams()
        self.rng = rng or random.Random()
        self.clock = clock or SystemClock()  # "now" for the taste model: what a member rated in the last hour leads
        self._snapshot: CatalogSnapshot | None = None
        self._snapshot_lock = asyncio.Lock()
        self._servers: _Cache[CatalogSnapshot] = _Cache(SERVER_SNAPSHOTS)
        self._club: _Cache[ClubStats] = _Cache(64)
        self._collections: _Cache[list[Collection]] = _Cache(64)
        self._taste: _Cache[_Taste | None] = _Cache(8)
        self._locks: dict[int, asyncio.Lock] = {}

    # -- caches ----------------------------------------------------------------------------------------------------

    def forget(self, guild_id: int) -> None:
        """Drop what is cached for the server (its data was deleted: its version counters start again)."""
        self._servers.pop(guild_id, None)
        self._club.pop(guild_id, None)
        self._collections.pop(guild_id, None)
        self._taste.pop(guild_id, None)

    async def _versions(self, guild_id: int) -> Versions:
        return await store.versions(self.db, guild_id)

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(guild_id, asyncio.Lock())

    async def snapshot(self, catalog_key: str | None = None) -> CatalogSnapshot:
        """The catalog as arrays, rebuilt when the loaded catalog changed."""
        if catalog_key is None:
            catalog_key = (await self._versions(0)).catalog
        current = self._snapshot
        if current is not None and current.key == catalog_key:
            return current
        async with self._snapshot_lock:
            current = self._snapshot
            if current is not None and current.key == catalog_key:
                return current
            films = await store.snapshot_films(self.db)
            film_themes = await store.snapshot_film_themes(self.db)
            themes = await list_themes(self.db)
            built = await asyncio.to_thread(CatalogSnapshot, catalog_key, films, film_themes, themes)
            self._snapshot = built
            return built

    async def warm(self) -> None:
        """Build the catalog snapshot now (at start-up) instead of on the first request."""
        await self.snapshot()

    async def server_snapshot(self, guild_id: int, versions: Versions) -> CatalogSnapshot:
        """What ``guild_id``'s members can be recommended: the catalog snapshot, and the server's own films after it
        when it has any (built from its films alone and cached on their version, so no server pays for another's)."""
        snapshot = await self.snapshot(versions.catalog)
        if not versions.server_films:
            return snapshot
        key = (versions.catalog, versions.server_films)
        joined = self._servers.fresh(guild_id, key)
        if joined is None:
            films = await store.server_snapshot_films(self.db, guild_id)
            built = await asyncio.to_thread(snapshot.with_server_films, snapshot.key, films)
            joined = self._servers.store(guild_id, key, built)
        return joined

    async def _state(self, guild_id: int) -> tuple[Versions, CatalogSnapshot, ClubStats]:
        versions = await self._versions(guild_id)
        snapshot = await self.server_snapshot(guild_id, versions)
        key = (versions.catalog, versions.server_films, versions.ratings, versions.watching)
        club = self._club.fresh(guild_id, key)
        if club is None:
            async with self._lock(guild_id):
                club = self._club.fresh(guild_id, key)
                if club is None:
                    ratings = {f: (s.average, s.count) for f, s in (await film_ratings(self.db, guild_id)).items()}
                    watchlist = await watchlist_counts(self.db, guild_id)
                    watched = await club_watched(self.db, guild_id)
                    club = self._club.store(guild_id, key, ClubStats(snapshot, ratings, watchlist, watched))
        return versions, snapshot, club

    async def _guild_collections(self, guild_id: int, versions: Versions) -> list[Collection]:
        key = (versions.catalog, versions.server_films, versions.collections)
        found = self._collections.fresh(guild_id, key)
        if found is None:
            found = self._collections.store(guild_id, key, await list_collections(self.db, guild_id))
        return found

    async def _taste_model(self, guild_id: int, versions: Versions, snapshot: CatalogSnapshot) -> _Taste | None:
        key = (versions.catalog, versions.server_films, versions.ratings, versions.watching)
        hit = self._taste.get(guild_id)
        if hit is not None and hit[0] == key:
            return hit[1]
        async with self._lock(guild_id):
            hit = self._taste.get(guild_id)
            if hit is not None and hit[0] == key:
                return hit[1]
            interactions = [
                Interaction(i.user_id, i.film_id, i.stars, _seconds(i.at))
                for i in await store.interactions(self.db, guild_id)
                if i.film_id in snapshot.position
            ]
            taste = None
            if interactions:
                details = await store.cached_film_details(self.db, guild_id)
                taste = await asyncio.to_thread(self._fit, interactions, snapshot, details)
            return self._taste.store(guild_id, key, taste)

    async def needs_fit(self, guild_id: int) -> bool:
        """Whether the next /forme or /tonight must (re)fit the server's taste model first (worth a deferral)."""
        versions = await self._versions(guild_id)
        hit = self._taste.get(guild_id)
        stale_snapshot = self._snapshot is None or self._snapshot.key != versions.catalog
        key = (versions.catalog, versions.server_films, versions.ratings, versions.watching)
        return stale_snapshot or hit is None or hit[0] != key

    def _fit(self, interactions: list[Interaction], snapshot: CatalogSnapshot, details: list[CachedDetails]) -> _Taste:
        features = snapshot.features(film_tags(details))  # decoded here, in the worker thread
        model = TasteModel.fit(interactions, features, films=snapshot.ids.tolist(), params=self.params)
        return _Taste(model, snapshot.positions_of(model.films.tolist()))

    # -- themes ----------------------------------------------------------------------------------------------------

    async def themes(self, guild_id: int) -> list[Theme]:
        """The curated themes (by title), then this server's collections (by name)."""
        versions = await self._versions(guild_id)
        snapshot = await self.snapshot(versions.catalog)
        collections = await self._guild_collections(guild_id, versions)
        return [*snapshot.themes, *(c.as_theme() for c in collections)]

    async def search_themes(self, guild_id: int, text: str, limit: int = 25) -> list[Theme]:
        return search_themes(await self.themes(guild_id), text, limit)

    async def resolve_theme(self, guild_id: int, text: str) -> Theme:
        """Re-validate what a member typed (or autocomplete sent) as a theme of this server."""
        return resolve_theme(await self.themes(guild_id), text)

    async def theme_from_key(self, guild_id: int, key: str) -> Theme:
        """The theme a button's :func:`theme_key` stands for."""
        for theme in await self.themes(guild_id):
            if theme_key(theme) == key:
                return theme
        raise NotFoundError("That theme or collection no longer exists.")

    async def _theme_members(
        self, guild_id: int, versions: Versions, snapshot: CatalogSnapshot, theme: Theme
    ) -> tuple[Positions, Scores]:
        """(positions in the theme's own order, centrality bonus per position)."""
        collection_id = theme.collection_id or collection_id_of(theme.slug)
        if collection_id is not None:
            collections = await self._guild_collections(guild_id, versions)
            found = next((c for c in collections if c.id == collection_id), None)
            if found is None:
                raise NotFoundError(f"The collection {theme.title!r} no longer exists.")
            positions = snapshot.positions_of(found.film_ids)
            return positions, np.zeros(len(positions))
        positions = snapshot.theme_films.get(theme.slug, np.zeros(0, dtype=np.int64))
        ranks = snapshot.theme_rank.get(theme.slug, np.zeros(0, dtype=np.int64))
        bonus = np.zeros(len(positions))
        for rank, value in enumerate(CENTRALITY):
            bonus[ranks == rank] = value
        return positions, bonus

    async def decades(self, guild_id: int, theme: Theme | None = None) -> list[tuple[int, int]]:
        """(decade, number of films) for every decade that has films, oldest first: across the catalog, or in
        ``theme`` (a curated theme or one of this server's collections). What the decade option offers."""
        versions, snapshot, _club = await self._state(guild_id)
        if theme is None:
            positions = np.arange(len(snapshot), dtype=np.int64)
        else:
            positions, _bonus = await self._theme_members(guild_id, versions, snapshot, theme)
        found, counts = np.unique((snapshot.year[positions] // 10) * 10, return_counts=True)
        return [(int(decade), int(count)) for decade, count in zip(found.tolist(), counts.tolist(), strict=True)]

    # -- /recommend ------------------------------------------------------------------------------------------------

    async def recommend(
        self, guild_id: int, theme: Theme, filters: Filters | None = None, *, count: int = 5, page: int = 0
    ) -> PickList:
        """One page of a theme's best films for the club, each with why."""
        filters = filters or Filters()
        count = _clamp_count(count)
        versions, snapshot, club = await self._state(guild_id)
        positions, bonus = await self._theme_members(guild_id, versions, snapshot, theme)
        if not len(positions):
            hint = " A moderator can add films with `/collection add`." if theme.is_collection else ""
            raise NothingFound(f"{theme.title} has no films yet.{hint}")
        mask = _filter_mask(snapshot, club, positions, filters)
        if not mask.any():
            raise NothingFound(_explain_empty(snapshot, club, positions, filters, theme.title))
        chosen, score = positions[mask], club.base[positions[mask]] + bonus[mask]
        score = score - WATCHED_PENALTY * club.watched[chosen]
        order = np.lexsort((np.arange(len(chosen)), -score))
        start = page * count
        if start >= len(chosen):
            raise NothingFound(f"That was every pick in {theme.title} with these filters.")
        shown = chosen[order[start : start + count]]
        films = await get_films(self.db, snapshot.ids[shown].tolist())
        picks = tuple(
            Pick(films[int(snapshot.ids[pos])], _theme_reason(snapshot, club, int(pos), theme)) for pos in shown
        )
        described = filters.describe()
        heading = f"{theme.title} · {described}" if described else theme.title
        return PickList(heading, picks, page, count, len(chosen))

    # -- /similar --------------------------------------------------------------------------------------------------

    async def similar(self, guild_id: int, film: Film, *, count: int = 5, page: int = 0) -> PickList:
        """Films sharing themes, people and era with ``film``, ranked, with what they share; one page of them.

        Shared themes lead: a film that shares no theme comes after every film that shares one, and whatever a
        film shares in people (directors count :data:`DIRECTOR_WEIGHT` times) adds at most one theme's weight, so
        a lone shared director is a footnote, not a reason to rank a thriller beside a concert film.
        """
        count = _clamp_count(count)
        _versions, snapshot, club = await self._state(guild_id)
        target = snapshot.position.get(film.id)
        if target is None:
            raise NotFoundError(f"{film.label} is no longer in the catalog.")
        themed = np.zeros(len(snapshot))
        for slug in snapshot.themes_of[target]:
            themed[snapshot.theme_films[slug]] += snapshot.theme_idf[slug]
        people = np.zeros(len(snapshot))
        directors = snapshot.directors[target]
        for key in dict.fromkeys(snapshot.people_keys[target]):
            weight = DIRECTOR_WEIGHT if key in directors else 1.0
            people[snapshot.person_films[key]] += weight * snapshot.person_idf[key]
        one_theme = max((snapshot.theme_idf[slug] for slug in snapshot.themes_of[target]), default=1.0)
        score = themed + np.minimum(people, one_theme)
        score[target] = 0.0
        candidates = np.flatnonzero(score > 0)
        if not len(candidates):
            raise NothingFound(f"Nothing else in the catalog shares a theme or a person with {film.label}.")
        gap = np.abs(snapshot.year[candidates] - snapshot.year[target]).astype(np.float64)
        total = (
            score[candidates]
            + 0.6 * np.clip(1.0 - gap / 20.0, 0.0, None)
            + 0.2 * (snapshot.kind[candidates] == snapshot.kind[target])
            + 0.25 * club.base[candidates]
        )
        order = np.lexsort((candidates, -total, themed[candidates] <= 0))
        start = page * count
        if start >= len(candidates):
            raise NothingFound(f"That was every film like {film.label}.")
        shown = candidates[order[start : start + count]]
        films = await get_films(self.db, snapshot.ids[shown].tolist())
        picks = tuple(
            Pick(films[int(snapshot.ids[pos])], _similar_reason(snapshot, club, int(pos), target)) for pos in shown
        )
        return PickList(f"Like {film.label}", picks, page, count, len(candidates))

    # -- /surprise -------------------------------------------------------------------------------------------------

    async def surprise(self, guild_id: int, theme: Theme | None = None, *, exclude: int | None = None) -> Pick:
        """One film the club has not watched, drawn at random, better-rated films more likely."""
        versions, snapshot, club = await self._state(guild_id)
        if theme is None:
            positions, bonus = np.arange(len(snapshot), dtype=np.int64), np.zeros(len(snapshot))
        else:
            positions, bonus = await self._theme_members(guild_id, versions, snapshot, theme)
        mask = ~club.watched[positions]
        where = f" in {theme.title}" if theme else ""
        if not mask.any():
            raise NothingFound(
                f"The club has watched every film{where}. Try another theme, or `/recommend` with include_watched."
            )
        if exclude is not None and int(mask.sum()) > 1:
            mask &= snapshot.ids[positions] != exclude
        pool, weight = positions[mask], club.base[positions[mask]] + bonus[mask]
        weights = np.exp(2.0 * (weight - weight.max()))
        pos = int(pool[self.rng.choices(range(len(pool)), weights=weights.tolist())[0]])
        film = (await get_films(self.db, [int(snapshot.ids[pos])]))[int(snapshot.ids[pos])]
        reason = " · ".join([f"the club hasn't seen it{where}", film.kind, film.length, club.rating_text(pos)])
        return Pick(film, reason)

    # -- /forme ----------------------------------------------------------------------------------------------------

    async def for_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        count: int = 5,
        page: int = 0,
        theme: Theme | None = None,
        kind: str | None = None,
    ) -> PickList:
        """Picks from a member's own ratings; never a film they rated or marked watched."""
        count = _clamp_count(count)
        only = Filters(kind=kind, include_watched=True)
        versions, snapshot, club = await self._state(guild_id)
        if theme is None:
            positions = np.arange(len(snapshot), dtype=np.int64)
        else:
            positions, _bonus = await self._theme_members(guild_id, versions, snapshot, theme)
        positions = positions[_filter_mask(snapshot, club, positions, only)]
        taste = await self._taste_model(guild_id, versions, snapshot)
        if taste is not None and taste.model.knows(user_id):
            seen = taste.model.interacted(user_id)  # the same ratings and marks as seen_by, already in memory
        else:
            seen = (await seen_by(self.db, guild_id, [user_id]))[user_id]
        positions = positions[_unseen(snapshot, positions, [seen])]
        where = "".join([f" in {theme.title}" if theme else "", f" ({only.describe()})" if kind else ""])
        if not len(positions):
            raise NothingFound(f"You have seen every film{where}: nothing left to recommend.")
        now = self.clock.now().timestamp()
        scores = _member_scores(taste, user_id, len(snapshot), now)
        if taste is None or scores is None:
            cold = _ColdStart(snapshot, club, await member_watchlist(self.db, guild_id, user_id))
            return await self._cold_picks(snapshot, cold, positions, count, page, f"For you{where}")
        known = positions[~np.isnan(scores[positions])]
        if not len(known):
            raise NothingFound(f"No film{where} is close enough to your ratings yet; rate a few more.")
        raw = scores[known]
        spread = float(np.abs(raw).max()) or 1.0
        final = raw / spread + 0.02 * club.base[known]
        order = np.lexsort((known, -final))
        start = page * count
        if start >= len(known):
            raise NothingFound("That was every pick for you.")
        shown = known[order[start : start + count]]
        films = await get_films(self.db, snapshot.ids[shown].tolist())
        explain = _TasteExplainer(snapshot, club, taste.model, user_id, now)
        picks = tuple(Pick(films[int(snapshot.ids[pos])], explain.reason(int(pos))) for pos in shown)
        return PickList(f"For you{where}", picks, page, count, len(known))

    async def _cold_picks(
        self, snapshot: CatalogSnapshot, cold: _ColdStart, positions: Positions, count: int, page: int, heading: str
    ) -> PickList:
        """/forme for a member the taste model knows nothing about: :class:`_ColdStart`'s order, and why."""
        order = cold.order(positions)
        start = page * count
        if start >= len(positions):
            raise NothingFound("That was every pick.")
        shown = order[start : start + count]
        films = await get_films(self.db, snapshot.ids[shown].tolist())
        picks = tuple(Pick(films[int(snapshot.ids[pos])], cold.reason(int(pos))) for pos in shown)
        note = f"You haven't rated anything yet, so {cold.basis()}. Rate films you've watched and these become yours."
        return PickList(heading, picks, page, count, len(positions), note)

    # -- /tonight --------------------------------------------------------------------------------------------------

    async def tonight(
        self,
        guild_id: int,
        members: Mapping[int, str],
        *,
        count: int = 5,
        max_runtime: int | None = None,
        kind: str | None = None,
        page: int = 0,
    ) -> PickList:
        """Films none of ``members`` (user id -> display name) has seen, best for the least-happy of them."""
        if not members:
            raise UserError("Name who is watching, or pick a voice channel with people in it.")
        if len(members) > MAX_GROUP:
            raise UserError(f"Tonight's picks work for up to {MAX_GROUP} people at once.")
        count = _clamp_count(count)
        filters = Filters(max_runtime=max_runtime, kind=kind, include_watched=True)
        versions, snapshot, club = await self._state(guild_id)
        seen = await seen_by(self.db, guild_id, members)
        taste = await self._taste_model(guild_id, versions, snapshot)
        positions = np.arange(len(snapshot), dtype=np.int64)
        if taste is not None and len(snapshot) > self.params.max_films:
            positions = np.sort(taste.positions)  # rank only the films the model knows
        positions = positions[_unseen(snapshot, positions, seen.values())]
        unseen = len(positions)
        positions = positions[_filter_mask(snapshot, club, positions, filters)]
        if not len(positions):
            if unseen:
                widen = " or ".join(
                    name for name, value in (("raise max_runtime", max_runtime), ("drop kind", kind)) if value
                )
                raise NothingFound(f"No film that none of you has seen fits {filters.describe()}; {widen}.")
            raise NothingFound("Between you, you have seen every film in the catalog.")
        club_cold = _ColdStart(snapshot, club, ())
        matches: dict[int, Scores] = {}
        untrained: dict[int, _ColdStart] = {}
        now = self.clock.now().timestamp()
        for user_id in members:
            scores = _member_scores(taste, user_id, len(snapshot), now)
            if scores is None:
                untrained[user_id] = _ColdStart(snapshot, club, await member_watchlist(self.db, guild_id, user_id))
                values = untrained[user_id].values(positions)
            else:
                values = np.nan_to_num(scores[positions], nan=float(np.nanmin(scores)))
            matches[user_id] = _percentiles(values)
        table = np.vstack(list(matches.values()))
        group = table.min(axis=0) + 0.05 * table.mean(axis=0)
        ranked = np.lexsort((*club_cold.tie_breaks(positions), -group))
        start = page * count
        if start >= len(positions):
            raise NothingFound("That was every pick for tonight.")
        order = ranked[start : start + count]
        shown = positions[order]
        films = await get_films(self.db, snapshot.ids[shown].tolist())
        no_signal = len(untrained) == len(members)  # nobody has rated: a "match" would be the same guess for all
        picks = []
        for column, pos in zip(order.tolist(), shown.tolist(), strict=True):
            film = films[int(snapshot.ids[pos])]
            if no_signal:
                fans = [members[u] for u, cold in untrained.items() if cold.own[pos]]
                reason = club_cold.reason(pos)
                if fans:
                    reason = f"on the watchlist of {_join(fans)} · {reason}"
            else:
                reason = _tonight_reason({members[u]: float(matches[u][column]) for u in members}, film)
            picks.append(Pick(film, reason))
        note = None
        if no_signal:
            watchlists = any(cold.own.any() for cold in untrained.values())
            basis = "these follow your watchlists and the club's best-known films" if watchlists else club_cold.basis()
            note = f"None of you has rated anything yet, so {basis}."
        elif untrained:
            follows = (
                "their matches follow their watchlists" if len(untrained) > 1 else "that match follows their watchlist"
            )
            verb = "has" if len(untrained) == 1 else "have"
            names = [members[u] for u in untrained]
            note = f"{_join(names)} {verb} no ratings yet, so {follows} and the club's taste."
        heading = f"Tonight for {_join(list(members.values()))}"
        return PickList(heading, tuple(picks), page, count, len(positions), note)

    async def remember_group(self, guild_id: int, members: Mapping[int, str]) -> int:
        """An id for tonight's group (user id -> display name), short enough for a button to carry."""
        return await store.remember_group(self.db, guild_id, members)

    async def group(self, guild_id: int, group_id: int) -> dict[int, str]:
        """The group :meth:`remember_group` gave ``group_id`` to, in this server."""
        found = await store.group(self.db, guild_id, group_id)
        if found is None:
            raise NotFoundError("That group is no longer known. Ask `/tonight` again.")
        return found

    # -- /film, /theme ---------------------------------------------------------------------------------------------

    async def film_facts(self, guild_id: int, film: Film) -> FilmFacts:
        versions, snapshot, club = await self._state(guild_id)
        pos = snapshot.position.get(film.id)
        collections = await self._guild_collections(guild_id, versions)
        # The server's snapshot holds its own films too; a film outside it is retired (old reviews still name it).
        if pos is None:
            average, reviews, watched = None, 0, False
        else:
            average, reviews, watched = club.average(pos), int(club.count[pos]), bool(club.watched[pos])
        return FilmFacts(
            film=film,
            theme_titles=tuple(snapshot.theme_title(slug) for slug in film.themes),
            collections=tuple(c.title for c in collections if film.id in c.film_ids),
            average=average,
            reviews=reviews,
            watchlisted_by=tuple(await watchlisted_by(self.db, guild_id, film.id)),
            club_watched=watched,
        )

    async def theme_page(self, guild_id: int, theme: Theme, page: int = 0) -> ThemePage:
        """A theme's (or collection's) films in its own order, :data:`PAGE_SIZE_THEME` to a page."""
        versions, snapshot, club = await self._state(guild_id)
        positions, bonus = await self._theme_members(guild_id, versions, snapshot, theme)
        positions = positions[np.lexsort((np.arange(len(positions)), -bonus))]  # its core films first
        pages = _pages(len(positions), PAGE_SIZE_THEME)
        page = min(max(page, 0), pages - 1)
        shown = positions[page * PAGE_SIZE_THEME : (page + 1) * PAGE_SIZE_THEME]
        films = await get_films(self.db, snapshot.ids[shown].tolist())
        lines = []
        for pos in shown.tolist():
            film = films[int(snapshot.ids[pos])]
            parts = [f"**{film.title}** ({film.year})", film.kind, film.length]
            if club.count[pos]:
                parts.append(club.rating_text(pos))
            if club.watched[pos]:
                parts.append("watched by the club")
            lines.append(" · ".join(parts))
        return ThemePage(theme, tuple(lines), page, pages, len(positions))

    async def theme_list(self, guild_id: int, page: int = 0) -> ThemeListPage:
        themes = await self.themes(guild_id)
        pages = _pages(len(themes), PAGE_SIZE_THEMES)
        page = min(max(page, 0), pages - 1)
        shown = themes[page * PAGE_SIZE_THEMES : (page + 1) * PAGE_SIZE_THEMES]
        return ThemeListPage(tuple(shown), page, pages, len(themes))


# -- helpers -------------------------------------------------------------------------------------------------------


def _seconds(text: str) -> float:
    """A stored moment as Unix seconds (0 for anything unreadable: it then only counts as the oldest)."""
    try:
        return from_db(text).timestamp()
    except ValueError:
        return 0.0


def _unseen(snapshot: CatalogSnapshot, positions: Positions, seen: Iterable[Iterable[int]]) -> npt.NDArray[np.bool_]:
    """Which of ``positions`` nobody in ``seen`` (one set of film ids per member) has seen."""
    keep = np.ones(len(snapshot), dtype=bool)
    for films in seen:
        keep[snapshot.positions_of(films)] = False
    return keep[positions]


def _clamp_count(count: int) -> int:
    if not 1 <= count <= MAX_COUNT:
        raise UserError(f"Ask for 1 to {MAX_COUNT} picks.")
    return count


def _member_scores(taste: _Taste | None, user_id: int, size: int, now: float) -> Scores | None:
    """A member's taste scores over snapshot positions as of ``now`` (NaN where the model does not rank), or None."""
    if taste is None:
        return None
    raw = taste.model.scores(user_id, now)
    if raw is None:
        return None
    scores = np.full(size, np.nan)
    scores[taste.positions] = raw
    return scores


def _percentiles(values: Scores) -> Scores:
    """Each film's match for one member: 1.0 for their best-predicted film, 0.0 for their worst; films predicted
    equally share their average rank, so a tie never pretends to be a preference."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    below = np.searchsorted(ordered, ordered, side="left")  # sorted queries: a linear merge, not random probes
    through = np.searchsorted(ordered, ordered, side="right")
    rank = np.empty(len(values))
    rank[order] = below + (through - below - 1) / 2.0
    return np.asarray(rank / max(1, len(values) - 1), dtype=np.float64)


def _filter_mask(
    snapshot: CatalogSnapshot, club: ClubStats, positions: Positions, filters: Filters
) -> npt.NDArray[np.bool_]:
    mask = np.ones(len(positions), dtype=bool)
    if filters.decade is not None:
        mask &= (snapshot.year[positions] // 10) * 10 == filters.decade
    if filters.max_runtime is not None:  # an unknown running time (0) fits no maximum
        runtime = snapshot.runtime[positions]
        mask &= (runtime > 0) & (runtime <= filters.max_runtime)
    if filters.kind is not None:
        code = snapshot.kinds.index(filters.kind)
        mask &= snapshot.kind[positions] == code
    if not filters.include_watched:
        mask &= ~club.watched[positions]
    return mask


def _explain_empty(
    snapshot: CatalogSnapshot, club: ClubStats, positions: Positions, filters: Filters, title: str
) -> str:
    """Which filter left nothing, and how many films widening it would give."""
    options = []
    relaxed = {
        "decade": Filters(None, filters.max_runtime, filters.kind, filters.include_watched),
        "max_runtime": Filters(filters.decade, None, filters.kind, filters.include_watched),
        "kind": Filters(filters.decade, filters.max_runtime, None, filters.include_watched),
        "include_watched": Filters(filters.decade, filters.max_runtime, filters.kind, True),
    }
    active = {
        "decade": filters.decade is not None,
        "max_runtime": filters.max_runtime is not None,
        "kind": filters.kind is not None,
        "include_watched": not filters.include_watched,
    }
    for name, wider in relaxed.items():
        if active[name]:
            found = int(_filter_mask(snapshot, club, positions, wider).sum())
            if found:
                options.append((found, name))
    options.sort(key=lambda pair: -pair[0])
    described = filters.describe()
    what = f"No film in {title} fits {described}" if described else f"No film in {title} is left"
    if not filters.include_watched:
        what += " that the club hasn't watched"
    if not options:
        return f"{what}. Try fewer filters or another theme."
    advice = []
    for found, name in options[:2]:
        if name == "include_watched":
            advice.append(f"set include_watched to True ({_plural(found, 'film')})")
        elif name == "max_runtime":
            advice.append(f"raise or drop max_runtime ({_plural(found, 'film')})")
        else:
            advice.append(f"drop {name} ({_plural(found, 'film')})")
    return f"{what}. To widen it, {' or '.join(advice)}."


def _theme_reason(snapshot: CatalogSnapshot, club: ClubStats, pos: int, theme: Theme) -> str:
    parts = [snapshot.kinds[snapshot.kind[pos]], snapshot.length(pos)]
    others = [snapshot.theme_title(s) for s in snapshot.themes_of[pos] if s != theme.slug][:2]
    if others:
        parts.append(f"also {', '.join(others)}")
    parts.append(club.rating_text(pos))
    if club.watchlist[pos]:
        parts.append(f"on {_plural(int(club.watchlist[pos]), 'watchlist')}")
    parts.append("the club watched it" if club.watched[pos] else "the club hasn't seen it")
    return " · ".join(parts)


def _similar_reason(snapshot: CatalogSnapshot, club: ClubStats, pos: int, target: int) -> str:
    parts = []
    shared_themes = [snapshot.theme_title(s) for s in snapshot.themes_of[pos] if s in snapshot.themes_of[target]]
    if shared_themes:
        parts.append(f"shares {', '.join(shared_themes[:2])}")
    mine = set(snapshot.people_keys[target])
    people = [p for p, k in zip(snapshot.people[pos], snapshot.people_keys[pos], strict=True) if k in mine]
    if people:
        parts.append(f"with {', '.join(people[:2])}")
    gap = abs(int(snapshot.year[pos]) - int(snapshot.year[target]))
    parts.append(
        "same year"
        if gap == 0
        else f"{gap} year{'s' if gap != 1 else ''} apart"
        if gap <= 10
        else str(snapshot.year[pos])
    )
    if club.count[pos]:
        parts.append(club.rating_text(pos))
    if club.watched[pos]:
        parts.append("the club watched it")
    return " · ".join(parts)


def _tonight_reason(per_member: Mapping[str, float], film: Film) -> str:
    """Who the film suits, from each member's match; members matched equally are never told apart."""
    ranked = sorted(per_member.items(), key=lambda pair: (-pair[1], pair[0]))
    best, lowest = ranked[0][1], ranked[-1][1]
    tail = f"{film.kind} · {film.length}"
    if len(ranked) > 1 and best - lowest < MATCH_TIE:
        lead = f"suits all {len(ranked)}" if lowest >= MATCH_SUITS_ALL else f"suits all {len(ranked)} equally"
        return f"{lead} — match {round(lowest * 100)}% each · {tail}"
    matches = ", ".join(f"{name} {round(value * 100)}%" for name, value in ranked)
    if len(ranked) == 1:
        lead = f"suits {ranked[0][0]}"
    elif lowest >= MATCH_SUITS_ALL:
        lead = f"suits all {len(ranked)}"
    else:
        leaders = [name for name, value in ranked if value >= MATCH_SUITS_ALL or best - value < MATCH_TIE]
        lead = f"suits {_join(leaders)} most"
    return f"{lead} — match {matches} · {tail}"


class _ColdStart:
    """Picks for someone the taste model knows nothing about (no ratings, no films marked watched).

    What there is to go on, honestly: the club score (ratings, how many rated it, watchlists), the films the club
    screened, and the themes of the films on the member's watchlist, or, with an empty watchlist, the themes of
    everything the club rated, saved or screened. The catalog itself has no popularity figure, so when nobody has
    done anything yet the picks go round the themes (:attr:`CatalogSnapshot.core_index`) instead of following the
    catalog file. Films come before series whatever the score: a 1,400-minute series is a commitment, not a first
    pick (a kind filter that asks for series still gets them).
    """

    def __init__(self, snapshot: CatalogSnapshot, club: ClubStats, own_watchlist: Iterable[int]) -> None:
        self.snapshot = snapshot
        self.club = club
        n = len(snapshot)
        self.own = np.zeros(n, dtype=bool)
        self.own[snapshot.positions_of(own_watchlist)] = True
        if self.own.any():
            engaged, self.source = self.own.astype(np.float64), "your watchlist"
        else:
            engaged = (club.count + club.watchlist + club.watched).astype(np.float64)
            self.source = "the club" if engaged.any() else ""
        weight = {slug: float(engaged[films].sum()) for slug, films in snapshot.theme_films.items()}
        weight = {slug: value for slug, value in weight.items() if value > 0}
        total = sum(weight.values()) or 1.0
        self.share = {slug: value / total for slug, value in weight.items()}
        affinity = np.zeros(n)
        for slug, share in self.share.items():
            affinity[snapshot.theme_films[slug]] += share
        self.score: Scores = (
            club.base + COLD_THEME * affinity + COLD_OWN_WATCHLIST * self.own + COLD_SCREENED * club.watched
        )

    def tie_breaks(self, positions: Positions) -> tuple[npt.NDArray[Any], ...]:
        """np.lexsort keys, least significant first: catalog order, round the themes, score, films before series."""
        snapshot = self.snapshot
        return (
            positions,
            -snapshot.core_size[positions],
            snapshot.core_index[positions],
            -self.score[positions],
            snapshot.series[positions],
        )

    def order(self, positions: Positions) -> Positions:
        return positions[np.lexsort(self.tie_breaks(positions))]

    def values(self, positions: Positions) -> Scores:
        """A stand-in for taste-model scores over ``positions``: the order of :meth:`order`, as numbers."""
        values = np.empty(len(positions))
        values[np.lexsort(self.tie_breaks(positions))] = -np.arange(len(positions), dtype=np.float64)
        return values

    def basis(self) -> str:
        """What these picks follow, for the note above them."""
        if self.source == "your watchlist":
            return "these follow the themes on your watchlist and the club's best-known films"
        if self.source:
            return "these are the club's best-known films and themes"
        return "these are films from across the catalog's themes, series last, until the club rates, saves or screens"

    def reason(self, pos: int) -> str:
        snapshot, club = self.snapshot, self.club
        parts = []
        if self.own[pos]:
            parts.append("on your watchlist")
        themes = sorted((s for s in snapshot.themes_of[pos] if s in self.share), key=lambda s: (-self.share[s], s))
        if themes:
            like = "like your watchlist" if self.source == "your watchlist" else "a theme the club is into"
            parts.append(f"{snapshot.theme_title(themes[0])}, {like}")
        if club.count[pos]:
            parts.append(club.rating_text(pos))
        if club.watchlist[pos]:
            parts.append(f"on {_plural(int(club.watchlist[pos]), 'watchlist')}")
        if club.watched[pos]:
            parts.append("the club screened it")
        if not parts and snapshot.themes_of[pos]:
            parts.append(f"a core film of {snapshot.theme_title(snapshot.themes_of[pos][0])}")
        parts += [snapshot.kinds[snapshot.kind[pos]], snapshot.length(pos)]
        return " · ".join(parts)


class _TasteExplainer:
    """Reasons for one member's picks: their films that predict it, shared themes and people, like-minded members."""

    def __init__(self, snapshot: CatalogSnapshot, club: ClubStats, model: TasteModel, user_id: int, now: float) -> None:
        self.snapshot = snapshot
        self.now = now
        self.club = club
        self.model = model
        self.user_id = user_id
        ratings = model.ratings_by(user_id)
        mean = sum(ratings.values()) / len(ratings) if ratings else 0.0
        recent = model.recent(user_id, RECENT_FILMS)  # what "you liked" means: lately, not ten years ago
        self.liked = {f for f in recent if ratings.get(f, 5.0) >= min(3.5, mean)}  # unrated: watched, counts
        liked = self.liked or set(recent)
        self.liked_themes: dict[str, int] = {}
        self.liked_people: dict[str, int] = {}
        for film_id in liked:
            pos = snapshot.position.get(film_id)
            if pos is None:
                continue
            for slug in snapshot.themes_of[pos]:
                self.liked_themes[slug] = self.liked_themes.get(slug, 0) + 1
            for person in snapshot.people_keys[pos]:
                self.liked_people[person] = self.liked_people.get(person, 0) + 1
        self.neighbours = model.similar_members(user_id)

    def reason(self, pos: int) -> str:
        film_id = int(self.snapshot.ids[pos])
        parts = []
        because = [
            b for b in self.model.because(self.user_id, film_id, limit=5, now=self.now) if b.film_id in self.liked
        ][:1]
        if because:
            other = self.snapshot.position.get(because[0].film_id)
            title = self.snapshot.titles[other] if other is not None else "a film you watched"
            stars = because[0].stars
            parts.append(f"because you gave {title} {stars_text(stars)}" if stars else f"because you watched {title}")
        themes = sorted(
            (s for s in self.snapshot.themes_of[pos] if s in self.liked_themes),
            key=lambda s: (-self.liked_themes[s], s),
        )
        if themes:
            parts.append(", ".join(self.snapshot.theme_title(s) for s in themes[:2]))
        people = [
            p
            for p, k in zip(self.snapshot.people[pos], self.snapshot.people_keys[pos], strict=True)
            if k in self.liked_people
        ]
        if people:
            parts.append(f"with {', '.join(people[:2])}")
        fans = [self.model.rating(other, film_id) for other, _similarity in self.neighbours]
        liked = [stars for stars in fans if stars is not None and stars >= 3.5]
        if liked:
            average = sum(liked) / len(liked)
            who = "member" if len(liked) == 1 else "members"
            parts.append(f"{len(liked)} {who} with similar taste gave it {stars_text(average)}")
        if not parts:
            parts.append(self.club.rating_text(pos))
        if self.club.watched[pos]:
            parts.append("the club watched it without you")
        return " · ".join(parts)


_ENGINES: weakref.WeakKeyDictionary[Database, Recommender] = weakref.WeakKeyDictionary()


def recommender_for(db: Database) -> Recommender:
    """The one :class:`Recommender` of a database, shared by every cog that recommends."""
    engine = _ENGINES.get(db)
    if engine is None:
        engine = _ENGINES[db] = Recommender(db)
    return engine
