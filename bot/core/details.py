"""Film details from an outside provider (TMDb): what the bot knows of a film beyond the catalog's own fields.

The core never talks HTTP: it asks a :class:`DetailsSource` (bot/services/tmdb.py is the one implementation, wired in
by the bot when ``TMDB_API_KEY`` is set) and keeps what it said in the database with an expiry. Without a source the
bot works from what the catalog and members provide; every caller must cope with ``None`` details.

The links are the ones any film has once its TMDb or IMDb id is known: Letterboxd resolves both through its
``/tmdb/ID`` and ``/imdb/ID`` redirects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

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
    can say the details could not be fetched."""

    details: FilmDetails | None
    unavailable: bool = False


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
