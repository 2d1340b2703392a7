"""Film details from an outside provider (TMDb): what the bot knows of a film beyond the catalog's own fields.

The core never talks HTTP: it asks a :class:`DetailsSource` (bot/services/tmdb.py is the one implementation, wired in
by the bot when ``TMDB_API_KEY`` is set) and keeps what it said in the database with an expiry. Without a source the
bot works from what the catalog and members provide; every caller must cope with ``None`` details.

The links are the ones any film has once its TMDb or IMDb id is known: Letterboxd resolves both through its
``/tmdb/ID`` and ``/imdb/ID`` redirects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from bot.core.clock import Clock
from bot.core.tasks import BackgroundTasks
from bot.core.text import fold
from bot.db import tmdb as tmdb_db
from bot.db.database import Database
from bot.db.films import Film

log = logging.getLogger(__name__)

#: TMDb's terms ask every app that shows its data to say so, and JustWatch's data (where to watch) likewise.
TMDB_ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."
WATCH_ATTRIBUTION = "Where to watch: data from JustWatch, through TMDB."


@dataclass(frozen=True)
class FilmCandidate:
    """One answer to a title search: enough to let a member choose, and to fetch the details of the one chosen."""

    tmdb_id: int
    title: str
    year: int | None  # None when TMDb has no release date
    original_title: str = ""
    overview: str = ""
    poster_path: str | None = None

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True)
class WatchProviders:
    """Where a film can be streamed, rented or bought in one region, and the page that lists them."""

    region: str
    link: str | None
    stream: tuple[str, ...] = ()
    rent: tuple[str, ...] = ()
    buy: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.stream or self.rent or self.buy)


@dataclass(frozen=True)
class FilmDetails:
    """What the provider says of one film (TMDb's /movie/{id} with credits, keywords, external ids and watch
    providers): runtime in minutes (None when unknown), directors, genres and keywords by name."""

    tmdb_id: int
    title: str
    year: int | None
    runtime: int | None = None
    directors: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    overview: str = ""
    poster_path: str | None = None
    imdb_id: str | None = None
    watch: WatchProviders | None = None
    original_title: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class DetailsUnavailable(Exception):
    """The provider could not answer now (timeout, 5xx after retries, 429 beyond the wait allowed, nonsense): the
    caller answers with what it knows and says the details could not be fetched."""


class DetailsRefused(DetailsUnavailable):
    """The provider refused the bot's credentials (401): a configuration problem to log loudly, not to retry."""


class DetailsSource(Protocol):
    """An outside provider of film details (TMDb). Every call has a deadline; failures raise
    :class:`DetailsUnavailable`, never a transport exception."""

    async def search(self, title: str, year: int | None) -> list[FilmCandidate]:
        """Films matching a title (and year, when given), most relevant first."""
        ...

    async def details(self, tmdb_id: int) -> FilmDetails | None:
        """One film's details, or None when the provider has no such film (404)."""
        ...

    async def find_by_imdb(self, imdb_id: str) -> FilmCandidate | None:
        """The film with that IMDb id, or None."""
        ...

    def poster_url(self, poster_path: str, size: str = "w500") -> str:
        """Where the poster image is served (for embeds: Discord fetches it itself)."""
        ...

    async def poster(self, poster_path: str, size: str = "w500") -> bytes:
        """The poster image itself (a scheduled event's cover must be uploaded)."""
        ...


@dataclass(frozen=True)
class DetailsAnswer:
    """What a command can show of a film's details within its time budget: ``details`` (fresh, or stale when the
    provider failed), and ``unavailable`` when the provider was asked and could not answer in time, so the reply
    can say the details could not be fetched. ``stale``: the details shown are an expired copy, kept for such
    failures (``unavailable`` is then True as well)."""

    details: FilmDetails | None
    unavailable: bool = False
    stale: bool = False


@dataclass(frozen=True)
class FilmLinks:
    """A film's pages elsewhere, each None when the id it needs is unknown."""

    letterboxd: str | None
    imdb: str | None
    tmdb: str | None

    def as_list(self) -> list[tuple[str, str]]:
        """(site, address) for each known link, in the order shown."""
        pairs = (("Letterboxd", self.letterboxd), ("IMDb", self.imdb), ("TMDB", self.tmdb))
        return [(name, url) for name, url in pairs if url]


def film_links(*, tmdb_id: int | None, imdb_id: str | None, letterboxd_uri: str | None = None) -> FilmLinks:
    """Links for a film from its ids: Letterboxd's own page when known, else its TMDb or IMDb redirect."""
    letterboxd = letterboxd_uri or (
        f"https://letterboxd.com/tmdb/{tmdb_id}/"
        if tmdb_id
        else f"https://letterboxd.com/imdb/{imdb_id}/"
        if imdb_id
        else None
    )
    return FilmLinks(
        letterboxd=letterboxd,
        imdb=f"https://www.imdb.com/title/{imdb_id}/" if imdb_id else None,
        tmdb=f"https://www.themoviedb.org/movie/{tmdb_id}" if tmdb_id else None,
    )


# -- the service: the cache in front of the provider ------------------------------------------------------------------

#: How long an answer is fresh. A film's details hardly change (where to watch does, weekly at most); searches find
#: new films as TMDb adds them; a film TMDb does not know may be added soon.
DETAILS_FRESH = timedelta(days=7)
SEARCH_FRESH = timedelta(days=3)
MISSING_FRESH = timedelta(days=1)
#: A fetch a command stopped waiting for goes on in the background (so the next command finds it cached), but no
#: longer than this.
BACKGROUND_LIMIT = 15.0
#: Titles longer than this are cut before searching (nominations allow 200 characters).
MAX_QUERY = 200
#: Poster images kept in memory (a scheduled event's cover; they are not stored in the database).
POSTER_MEMORY = 32
#: The version of the cached JSON: an entry of another version is treated as absent and fetched again.
CACHE_FORMAT = 1

T = TypeVar("T")


@runtime_checkable
class SupportsClose(Protocol):
    async def close(self) -> None: ...


@dataclass
class DetailsCounters:
    """What the cache did since the bot started: answers from a fresh entry (``hits``), questions put to the provider
    (``misses``), the provider's failures, and stale entries shown because of them."""

    hits: int = 0
    misses: int = 0
    failures: int = 0
    stale: int = 0

    @property
    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


@dataclass(frozen=True)
class _Outcome(Generic[T]):
    """How a fetch ended: its value, or the provider's failure (a task's result, so nothing is left unretrieved)."""

    value: T | None = None
    error: DetailsUnavailable | None = None


def search_key(title: str, year: int | None) -> str:
    """The cache key of a search: the folded title with its spaces collapsed, and the year ("alien|1979")."""
    return f"{' '.join(fold(title[:MAX_QUERY]).split())}|{'' if year is None else year}"


def encode_details(details: FilmDetails | None) -> str:
    """The cached form of a film's details (``null``: TMDb has no such film)."""
    if details is None:
        return "null"
    return json.dumps({"format": CACHE_FORMAT, **asdict(details)}, ensure_ascii=False, separators=(",", ":"))


def decode_details(text: str) -> FilmDetails | None:
    """A film's details from their cached form; None for ``null``. Raises ValueError for anything else."""
    document = json.loads(text)
    if document is None:
        return None
    if not isinstance(document, dict) or document.pop("format", None) != CACHE_FORMAT:
        raise ValueError("not film details in the cache's format")
    try:
        watch = document.pop("watch")
        if watch is not None:
            watch = WatchProviders(
                region=watch["region"],
                link=watch["link"],
                stream=tuple(watch["stream"]),
                rent=tuple(watch["rent"]),
                buy=tuple(watch["buy"]),
            )
        for name in ("directors", "genres", "keywords"):
            document[name] = tuple(document[name])
        return FilmDetails(**document, watch=watch)
    except (KeyError, TypeError) as error:
        raise ValueError(f"cached details are incomplete: {error}") from None


def encode_candidates(candidates: Sequence[FilmCandidate]) -> str:
    return json.dumps([asdict(candidate) for candidate in candidates], ensure_ascii=False, separators=(",", ":"))


def decode_candidates(text: str) -> list[FilmCandidate]:
    """Search results from their cached form; raises ValueError if they are not that."""
    document = json.loads(text)
    if not isinstance(document, list):
        raise ValueError("not a list of search results")
    try:
        return [FilmCandidate(**item) for item in document]
    except TypeError as error:
        raise ValueError(f"cached search results are malformed: {error}") from None


class FilmDetailsService:
    """Film details for commands: the database's cache first, the provider (``source``) within a time budget, and a
    stale copy when the provider fails. Without a source (no ``TMDB_API_KEY``) it is :attr:`enabled` False and
    answers from the cache alone, never failing.

    Each method takes ``within``: the seconds the caller can wait (a command must answer within Discord's 3 seconds).
    A fetch that takes longer goes on in the background and fills the cache for the next command; two commands asking
    for the same film at once share one request. Call :meth:`close` at shut-down (it also closes the source)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        source: DetailsSource | None,
        *,
        background_limit: float = BACKGROUND_LIMIT,
    ) -> None:
        self.db = db
        self.clock = clock
        self.source = source
        self.counters = DetailsCounters()
        self.background_limit = background_limit
        self._inflight: dict[str, asyncio.Task[_Outcome[Any]]] = {}
        self._tasks = BackgroundTasks("film details")
        self._posters: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether a provider is configured (search and fetching work); otherwise only the cache answers."""
        return self.source is not None

    # -- reading

    async def cached(self, tmdb_ids: Iterable[int]) -> dict[int, FilmDetails]:
        """What the cache holds of those films, fresh or stale, by TMDb id; never asks the provider (lists of many
        films: polls, picks, the recommender)."""
        found: dict[int, FilmDetails] = {}
        for tmdb_id, entry in (await tmdb_db.cached_details(self.db, tmdb_ids)).items():
            details = self._decode(tmdb_id, entry.payload)
            if details is not None:
                found[tmdb_id] = details
        return found

    async def for_film(self, film: Film, *, within: float = 2.0) -> DetailsAnswer:
        """The details of a film of ours: by its TMDb id, else through its IMDb id; nothing for a film with neither."""
        if film.tmdb_id is not None:
            return await self.details(film.tmdb_id, within=within)
        if film.imdb_id is None or self.source is None:
            return DetailsAnswer(None)
        deadline = asyncio.get_running_loop().time() + within
        try:
            candidate = await self.find_by_imdb(film.imdb_id, within=within)
        except DetailsUnavailable:
            return DetailsAnswer(None, unavailable=True)
        if candidate is None:
            return DetailsAnswer(None)
        return await self.details(candidate.tmdb_id, within=deadline - asyncio.get_running_loop().time())

    async def details(self, tmdb_id: int, *, within: float = 2.0) -> DetailsAnswer:
        """One film's details: a fresh cache entry, else the provider's answer within ``within`` seconds, else the
        stale entry (``unavailable`` and ``stale``), else nothing (``unavailable``). A film the provider does not
        know is ``DetailsAnswer(None)``."""
        deadline = asyncio.get_running_loop().time() + within
        entry = (await tmdb_db.cached_details(self.db, [tmdb_id])).get(tmdb_id)
        known = entry is not None and self._readable(tmdb_id, entry.payload)
        cached = self._decode(tmdb_id, entry.payload) if entry is not None and known else None
        if entry is not None and known and entry.fresh(self.clock.now()):
            self.counters.hits += 1
            return DetailsAnswer(cached)
        if self.source is None:
            return DetailsAnswer(cached, stale=cached is not None)
        source = self.source
        self.counters.misses += 1

        async def store(found: FilmDetails | None) -> None:
            now = self.clock.now()
            fresh_for = DETAILS_FRESH if found is not None else MISSING_FRESH
            await tmdb_db.store_details(self.db, tmdb_id, encode_details(found), now, now + fresh_for)

        outcome = await self._fetch(f"details:{tmdb_id}", lambda: source.details(tmdb_id), store, deadline)
        if outcome.error is None:
            return DetailsAnswer(outcome.value)
        self.counters.failures += 1
        if cached is not None:
            self.counters.stale += 1
            return DetailsAnswer(cached, unavailable=True, stale=True)
        return DetailsAnswer(None, unavailable=True)

    async def search(self, title: str, year: int | None, *, within: float = 2.0) -> list[FilmCandidate]:
        """Films matching a title (and year), most relevant first: from the cache when fresh, else the provider's
        answer (a stale one if it fails). Raises :class:`DetailsUnavailable` when there is neither, or no provider."""
        deadline = asyncio.get_running_loop().time() + within
        query = " ".join(title[:MAX_QUERY].split())
        if not query:
            return []
        key = search_key(query, year)
        entry = await tmdb_db.cached_search(self.db, key)
        cached = self._candidates(key, entry.payload) if entry is not None else None
        if entry is not None and cached is not None and entry.fresh(self.clock.now()):
            self.counters.hits += 1
            return cached
        if self.source is None:
            raise DetailsUnavailable("film details are not configured (TMDB_API_KEY)")
        source = self.source
        self.counters.misses += 1

        async def store(found: list[FilmCandidate] | None) -> None:
            now = self.clock.now()
            await tmdb_db.store_search(self.db, key, encode_candidates(found or []), now, now + SEARCH_FRESH)

        outcome = await self._fetch(f"search:{key}", lambda: source.search(query, year), store, deadline)
        if outcome.error is None:
            return list(outcome.value or [])
        self.counters.failures += 1
        if cached is not None:
            self.counters.stale += 1
            return cached
        raise outcome.error

    async def find_by_imdb(self, imdb_id: str, *, within: float = 2.0) -> FilmCandidate | None:
        """The film with that IMDb id (cached like a search), or None; raises :class:`DetailsUnavailable` like
        :meth:`search`."""
        deadline = asyncio.get_running_loop().time() + within
        key = f"imdb:{imdb_id.strip().lower()}"
        entry = await tmdb_db.cached_search(self.db, key)
        cached = self._candidates(key, entry.payload) if entry is not None else None
        if entry is not None and cached is not None and entry.fresh(self.clock.now()):
            self.counters.hits += 1
            return cached[0] if cached else None
        if self.source is None:
            raise DetailsUnavailable("film details are not configured (TMDB_API_KEY)")
        source = self.source
        self.counters.misses += 1

        async def store(found: FilmCandidate | None) -> None:
            now = self.clock.now()
            fresh_for = SEARCH_FRESH if found is not None else MISSING_FRESH
            await tmdb_db.store_search(self.db, key, encode_candidates([found] if found else []), now, now + fresh_for)

        outcome = await self._fetch(key, lambda: source.find_by_imdb(imdb_id.strip()), store, deadline)
        if outcome.error is None:
            return outcome.value
        self.counters.failures += 1
        if cached is not None:
            self.counters.stale += 1
            return cached[0] if cached else None
        raise outcome.error

    # -- posters

    def poster_url(self, details: FilmDetails | FilmCandidate | None, size: str = "w500") -> str | None:
        """The poster's address for an embed (Discord fetches it), or None without a poster or a provider."""
        if self.source is None or details is None or not details.poster_path:
            return None
        try:
            return self.source.poster_url(details.poster_path, size)
        except ValueError:
            return None

    async def poster_bytes(
        self, details: FilmDetails | FilmCandidate | None, *, within: float = 2.0, size: str = "w500"
    ) -> bytes | None:
        """The poster image itself (a scheduled event's cover is uploaded), or None: no poster, no provider, or the
        image server did not answer within ``within`` seconds. Recent posters are kept in memory."""
        if self.source is None or details is None or not details.poster_path:
            return None
        memo = (details.poster_path, size)
        if (image := self._posters.get(memo)) is not None:
            self._posters.move_to_end(memo)
            return image
        source, path = self.source, details.poster_path

        async def keep(found: bytes | None) -> None:
            if found:
                self._posters[memo] = found
                while len(self._posters) > POSTER_MEMORY:
                    self._posters.popitem(last=False)

        deadline = asyncio.get_running_loop().time() + within
        outcome = await self._fetch(f"poster:{size}:{path}", lambda: source.poster(path, size), keep, deadline)
        return outcome.value

    # -- upkeep

    async def forget_expired(self, older_than: timedelta = timedelta(days=90)) -> int:
        """Drop cached answers that went stale more than ``older_than`` ago (kept till then for outages)."""
        return await tmdb_db.forget_expired(self.db, self.clock.now() - older_than)

    async def close(self) -> None:
        """Stop the fetches still running in the background, then close the source."""
        await self._tasks.close()
        source: object = self.source  # a DetailsSource need not be closable; TmdbClient is
        if isinstance(source, SupportsClose):
            await source.close()

    # -- plumbing

    async def _fetch(
        self,
        key: str,
        call: Callable[[], Awaitable[T]],
        store: Callable[[T], Awaitable[None]],
        deadline: float,
    ) -> _Outcome[T]:
        """Ask the provider (or join the request already asking the same), waiting until ``deadline`` at most; the
        request itself may go on, up to :attr:`background_limit`, and stores its answer when it comes."""
        task = self._inflight.get(key)
        if task is None:
            task = self._tasks.spawn(self._ask(key, call, store), name=f"details {key}")
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(0.0, remaining)):
                return await asyncio.shield(task)
        except TimeoutError:
            log.info("the details provider did not answer %s within %.1f s; answering without", key, max(0, remaining))
            return _Outcome(error=DetailsUnavailable("the details provider did not answer in time"))

    def _forget(self, key: str, task: asyncio.Task[_Outcome[Any]]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]

    async def _ask(
        self, key: str, call: Callable[[], Awaitable[T]], store: Callable[[T], Awaitable[None]]
    ) -> _Outcome[T]:
        try:
            async with asyncio.timeout(self.background_limit):
                value = await call()
        except TimeoutError:
            log.warning("the details provider gave no answer to %s in %.0f s", key, self.background_limit)
            return _Outcome(error=DetailsUnavailable("the details provider did not answer"))
        except DetailsUnavailable as error:
            log.info("the details provider could not answer %s: %s", key, error)
            return _Outcome(error=error)
        try:
            await store(value)
        except Exception:
            log.exception("could not keep the details provider's answer to %s", key)
        return _Outcome(value=value)

    def _readable(self, tmdb_id: int, payload: str) -> bool:
        try:
            decode_details(payload)
        except ValueError:
            log.warning("the cached details of TMDb film %d are unreadable; fetching them again", tmdb_id)
            return False
        return True

    def _decode(self, tmdb_id: int, payload: str) -> FilmDetails | None:
        try:
            return decode_details(payload)
        except ValueError:
            return None

    def _candidates(self, key: str, payload: str) -> list[FilmCandidate] | None:
        try:
            return decode_candidates(payload)
        except ValueError:
            log.warning("the cached search %r is unreadable; searching again", key)
            return None
