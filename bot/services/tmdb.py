"""TMDb (The Movie Database), as a :class:`bot.core.details.DetailsSource`: title search, a film's details with its
credits, keywords, external ids and where to watch, IMDb ids, and posters.

Authentication: a v3 API key (32 hex digits) goes in the ``api_key`` query parameter; a v4 read-access token (a JWT,
``eyJ…``) in ``Authorization: Bearer``. Both authenticate the v3 paths used here. Either way it is a secret: it is
added to each request by :class:`~bot.services.http.PoliteHttp` and appears in no log line and no exception.

What TMDb answers is checked, not trusted: a field of the wrong type is ignored, a result without an id or title is
skipped, and an answer that is not the documented shape at all is :class:`DetailsUnavailable`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from bot.core.details import DetailsRefused, DetailsUnavailable, FilmCandidate, FilmDetails, WatchProviders
from bot.services.http import (
    BadAnswer,
    PoliteHttp,
    RetryPolicy,
    ServiceError,
    ServiceNotFound,
    ServiceRefused,
    ServiceUnavailable,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

#: What every details request appends (one request instead of five; TMDb allows up to 20 appended).
APPENDED = "credits,keywords,external_ids,watch/providers"
#: Poster sizes TMDb's image server offers (``/configuration``'s ``poster_sizes``).
POSTER_SIZES = ("w92", "w154", "w185", "w342", "w500", "w780", "original")
#: A v4 read-access token is a JWT: three base64url parts, the first of which starts with ``eyJ`` (``{"``).
_JWT = re.compile(r"^eyJ[\w-]*\.[\w-]+\.[\w-]+$")
_IMDB_ID = re.compile(r"^tt\d{5,10}$")
_POSTER_PATH = re.compile(r"^/[\w.-]{1,100}\.(?:jpg|jpeg|png|webp)$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}$")
#: Search results kept (TMDb pages hold 20; a member chooses among a handful).
SEARCH_LIMIT = 20
LANGUAGE = "en-US"


def is_v4_token(key: str) -> bool:
    """Whether ``key`` is a v4 read-access token (sent as a bearer token) rather than a v3 API key."""
    return bool(_JWT.match(key.strip()))


class TmdbClient:
    """TMDb's v3 API at ``base_url`` and its posters at ``image_base_url``; where-to-watch for ``region``.

    Failures raise :class:`DetailsUnavailable` (:class:`DetailsRefused` for a refused key); a film TMDb does not know
    is ``None``. Close it when done (:meth:`close`)."""

    def __init__(
        self,
        api_key: SecretStr,
        *,
        base_url: str = "https://api.themoviedb.org/3",
        image_base_url: str = "https://image.tmdb.org/t/p",
        region: str = "US",
        policy: RetryPolicy | None = None,
        rate: float = 20.0,
    ) -> None:
        key = api_key.get_secret_value().strip()
        if not key:
            raise ValueError("a TMDb client needs an API key or a read-access token")
        self.region = region
        self.image_base_url = image_base_url.rstrip("/")
        self.auth = "v4 token" if is_v4_token(key) else "v3 key"
        secret = SecretStr(key)
        self.api = PoliteHttp(
            base_url,
            name="TMDb",
            query_secrets=None if is_v4_token(key) else {"api_key": secret},
            header_secrets={"Authorization": SecretStr(f"Bearer {key}")} if is_v4_token(key) else None,
            policy=policy,
            rate=rate,
        )
        # Posters come from a CDN that needs no key: it is never sent there.
        self.images = PoliteHttp(
            self.image_base_url, name="TMDb images", policy=policy, rate=rate, max_bytes=8 * 1024 * 1024
        )
        self._refusal_logged = False

    async def close(self) -> None:
        await self.api.close()
        await self.images.close()

    # -- DetailsSource -----------------------------------------------------------------------------------------------

    async def search(self, title: str, year: int | None) -> list[FilmCandidate]:
        """Films matching ``title`` (released in ``year``, when given), TMDb's most relevant first."""
        query = " ".join(title.split())
        if not query:
            return []
        params = {"query": query, "include_adult": "false", "language": LANGUAGE, "page": "1"}
        if year is not None:
            params["year"] = str(year)
        document = await self._json("/search/movie", params)
        results = _field(document, "results", list)
        if results is None:
            raise DetailsUnavailable("TMDb's search answer has no list of results")
        candidates = [candidate for item in results if (candidate := _candidate(item)) is not None]
        return candidates[:SEARCH_LIMIT]

    async def details(self, tmdb_id: int) -> FilmDetails | None:
        """One film with its credits, keywords, external ids and where to watch in the region; None if unknown."""
        if tmdb_id < 1:
            return None
        params = {"append_to_response": APPENDED, "language": LANGUAGE}
        document = await self._json(f"/movie/{tmdb_id}", params, missing_ok=True)
        if document is None:
            return None
        details = _details(document, self.region)
        if details is None or details.tmdb_id != tmdb_id:
            raise DetailsUnavailable(f"TMDb's answer for film {tmdb_id} is not a film's details")
        return details

    async def find_by_imdb(self, imdb_id: str) -> FilmCandidate | None:
        """The film TMDb knows by that IMDb id (``tt`` and digits), or None."""
        if not _IMDB_ID.match(imdb_id):
            return None
        document = await self._json(f"/find/{imdb_id}", {"external_source": "imdb_id", "language": LANGUAGE})
        results = _field(document, "movie_results", list)
        if results is None:
            raise DetailsUnavailable("TMDb's find answer has no list of movie results")
        return next((candidate for item in results if (candidate := _candidate(item)) is not None), None)

    def poster_url(self, poster_path: str, size: str = "w500") -> str:
        """The poster's address on the image server (Discord fetches an embed's image itself)."""
        if not _POSTER_PATH.match(poster_path):
            raise ValueError("not a TMDb image path")
        return f"{self.image_base_url}/{size if size in POSTER_SIZES else 'w500'}{poster_path}"

    async def poster(self, poster_path: str, size: str = "w500") -> bytes:
        """The poster image's bytes (a scheduled event's cover is uploaded, not linked)."""
        if not _POSTER_PATH.match(poster_path):
            raise DetailsUnavailable("not a TMDb image path")
        path = f"/{size if size in POSTER_SIZES else 'w500'}{poster_path}"
        try:
            body, content_type = await self.images.get(path, accept="image/*")
        except ServiceError as error:
            raise DetailsUnavailable(str(error)) from None
        if not content_type.startswith("image/") or not body:
            raise DetailsUnavailable("TMDb's image server answered with something that is not an image")
        return body

    # -- plumbing ----------------------------------------------------------------------------------------------------

    async def _json(self, path: str, params: Mapping[str, str], *, missing_ok: bool = False) -> Any:
        """The JSON at ``path``; None for a 404 when ``missing_ok``; failures as :class:`DetailsUnavailable`."""
        try:
            document = await self.api.get_json(path, params)
        except ServiceRefused as error:
            if not self._refusal_logged:
                log.error("TMDb refused TMDB_API_KEY (%s); check the key in the settings", error)
                self._refusal_logged = True
            raise DetailsRefused(str(error)) from None
        except ServiceNotFound as error:
            if missing_ok:
                return None
            raise DetailsUnavailable(str(error)) from None
        except (BadAnswer, ServiceUnavailable) as error:
            raise DetailsUnavailable(str(error)) from None
        if not isinstance(document, dict):
            raise DetailsUnavailable(f"TMDb answered {path} with JSON that is not an object")
        return document


def _field(document: object, name: str, kind: type[Any]) -> Any:
    """``document[name]`` if ``document`` is an object and the value is of ``kind``, else None."""
    if not isinstance(document, dict):
        return None
    value = document.get(name)
    return value if isinstance(value, kind) and not (kind is int and isinstance(value, bool)) else None


def _text(document: object, name: str) -> str:
    value = _field(document, name, str)
    return value.strip() if value else ""


def _year(document: object) -> int | None:
    match = _DATE.match(_text(document, "release_date"))
    return int(match.group(1)) if match else None


def _poster(document: object) -> str | None:
    path = _text(document, "poster_path")
    return path if _POSTER_PATH.match(path) else None


def _candidate(item: object) -> FilmCandidate | None:
    """A search or find result, or None when it lacks an id or a title."""
    tmdb_id = _field(item, "id", int)
    title = _text(item, "title")
    if tmdb_id is None or tmdb_id < 1 or not title:
        return None
    return FilmCandidate(
        tmdb_id=tmdb_id,
        title=title,
        year=_year(item),
        original_title=_text(item, "original_title"),
        overview=_text(item, "overview"),
        poster_path=_poster(item),
    )


def _names(items: object, *, key: str = "name") -> tuple[str, ...]:
    """The distinct names of a list of objects, in order."""
    if not isinstance(items, list):
        return ()
    names = (_text(item, key) for item in items)
    return tuple(dict.fromkeys(name for name in names if name))


def _details(document: Mapping[str, Any], region: str) -> FilmDetails | None:
    tmdb_id = _field(document, "id", int)
    title = _text(document, "title")
    if tmdb_id is None or not title:
        return None
    runtime = _field(document, "runtime", int)
    crew = _field(_field(document, "credits", dict), "crew", list) or []
    directors = _names([person for person in crew if _text(person, "job") == "Director"])
    keywords = _names(_field(_field(document, "keywords", dict), "keywords", list))
    imdb_id = _text(document, "imdb_id") or _text(_field(document, "external_ids", dict), "imdb_id")
    extra = {name: _text(document, name) for name in ("tagline", "original_language", "release_date", "status")}
    return FilmDetails(
        tmdb_id=tmdb_id,
        title=title,
        year=_year(document),
        runtime=runtime if runtime is not None and 0 < runtime < 10_000 else None,
        directors=directors,
        genres=_names(_field(document, "genres", list)),
        keywords=keywords,
        overview=_text(document, "overview"),
        poster_path=_poster(document),
        imdb_id=imdb_id if _IMDB_ID.match(imdb_id) else None,
        watch=_watch(document.get("watch/providers"), region),
        original_title=_text(document, "original_title"),
        extra={name: value for name, value in extra.items() if value},
    )


def _watch(document: object, region: str) -> WatchProviders | None:
    """Where to watch in ``region`` (JustWatch's data through TMDb), or None when TMDb lists nothing there."""
    offers = _field(_field(document, "results", dict), region, dict)
    if offers is None:
        return None

    def providers(*kinds: str) -> tuple[str, ...]:
        listed = [item for kind in kinds for item in (_field(offers, kind, list) or []) if isinstance(item, dict)]
        listed.sort(key=lambda item: _field(item, "display_priority", int) or 0)
        return _names(listed, key="provider_name")

    link = _text(offers, "link")
    return WatchProviders(
        region=region,
        link=link if link.startswith("https://") else None,
        stream=providers("flatrate", "free", "ads"),
        rent=providers("rent"),
        buy=providers("buy"),
    )


def client_from_settings(settings: Settings) -> TmdbClient | None:
    """The TMDb client the settings ask for: None without ``TMDB_API_KEY`` (the bot then runs without details)."""
    if settings.tmdb_api_key is None:
        return None
    return TmdbClient(
        settings.tmdb_api_key,
        base_url=str(settings.tmdb_api_base_url),
        image_base_url=str(settings.tmdb_image_base_url),
        region=settings.watch_region,
    )
