"""A loopback TMDb: the endpoints the bot uses, with TMDb's documented shapes and errors, and faults on demand.

``TmdbDouble`` is an aiohttp server on 127.0.0.1 (a free port) in the test's event loop, like the loopback Discord:

- ``GET /3/search/movie?query=&year=&page=`` (TMDb's page of 20: ``page``, ``results``, ``total_pages``,
  ``total_results``; every word of the query must start a word of the title or original title; ``year`` or
  ``primary_release_year`` filters; most popular first),
- ``GET /3/movie/{id}?append_to_response=credits,keywords,external_ids,watch/providers`` (the appended parts only when
  asked for, under those keys; ``watch/providers`` as ``{"results": {REGION: {link, flatrate, rent, buy}}}``),
- ``GET /3/find/{imdb_id}?external_source=imdb_id`` (``movie_results`` and the other, empty, lists),
- ``GET /t/p/{size}/{file}``: poster images (real JPEGs, made with Pillow), no key needed, as on TMDb's image server.

Authentication as TMDb does it: the v3 key as the ``api_key`` query parameter or the v4 read-access token as
``Authorization: Bearer``; anything else is 401 ``{"status_code": 7, ...}``. An unknown film is 404 ``status_code``
34, an unknown route too (and recorded in ``unknown_requests``: the fixture fails a test that hit one).

Faults, on the next N requests of a route (``"search"``, ``"movie"``, ``"find"``, ``"image"`` or ``"*"``):
``fail(status=500)`` (TMDb's error body for 500/503/504), ``rate_limit(retry_after="1")`` (429 ``status_code`` 25 with
``Retry-After``), ``slow(seconds)`` (answers late; ``times=None`` until :meth:`clear_faults`), ``nonsense(body=...)``
(200 with a body that is not what TMDb documents). Every request is kept in ``requests`` (route, path, query without
the key, which credentials, status).

For a bot process: ``double.env()`` is the settings that point it here (the e2e harness's ``launch_bot(tmdb=...)``).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve

API_PREFIX = "/3"
IMAGE_PREFIX = "/t/p"
#: A v3 API key looks like this: 32 hex digits.
V3_KEY = "0123456789abcdef0123456789abcdef"
#: A v4 read-access token is a JWT (header.payload.signature, base64url).
V4_TOKEN = ".".join(
    (
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhdWQiOiIwMTIzNDU2Nzg5YWJjZGVmIiwic2NvcGVzIjpbImFwaV9yZWFkIl0sInZlcnNpb24iOjF9",
        "ZmlsbWNsdWItdGVzdC1zaWduYXR1cmUtbm90LXJlYWw",
    )
)
PAGE_SIZE = 20
POSTER_SIZES = ("w92", "w154", "w185", "w342", "w500", "w780", "original")
GENRES = {
    "Action": 28,
    "Adventure": 12,
    "Comedy": 35,
    "Crime": 80,
    "Documentary": 99,
    "Drama": 18,
    "Horror": 27,
    "Music": 10402,
    "Mystery": 9648,
    "Romance": 10749,
    "Science Fiction": 878,
    "Thriller": 53,
    "Western": 37,
}

#: TMDb's error bodies (https://developer.themoviedb.org/docs/errors) by HTTP status.
ERRORS = {
    401: (7, "Invalid API key: You must be granted a valid key."),
    404: (34, "The resource you requested could not be found."),
    429: (25, "Your request count (#) is over the allowed limit of (40)."),
    500: (11, "Internal error: Something went wrong, contact TMDB."),
    503: (9, "Service offline: This service is temporarily offline, try again later."),
    504: (24, "Your request to the backend server timed out. Try again."),
    400: (47, "The input is not valid."),
}


def tmdb_error(status: int) -> web.Response:
    code, message = ERRORS.get(status, (11, "Internal error: Something went wrong, contact TMDB."))
    return web.json_response({"success": False, "status_code": code, "status_message": message}, status=status)


@dataclass
class TmdbFilm:
    """A film the double knows. ``providers``: region -> {"flatrate"|"rent"|"buy"|"free"|"ads": [provider names]}."""

    id: int
    title: str
    release_date: str = ""
    runtime: int | None = None
    directors: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    overview: str = ""
    poster_path: str | None = None
    imdb_id: str | None = None
    original_title: str = ""
    popularity: float = 10.0
    providers: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def year(self) -> int | None:
        return int(self.release_date[:4]) if self.release_date[:4].isdigit() else None

    def summary(self) -> dict[str, Any]:
        """The film as a search or find result."""
        return {
            "adult": False,
            "backdrop_path": None,
            "genre_ids": [GENRES.get(name, 18) for name in self.genres],
            "id": self.id,
            "original_language": "en",
            "original_title": self.original_title or self.title,
            "overview": self.overview,
            "popularity": self.popularity,
            "poster_path": self.poster_path,
            "release_date": self.release_date,
            "title": self.title,
            "video": False,
            "vote_average": 7.5,
            "vote_count": 1000,
        }

    def details(self, appended: set[str]) -> dict[str, Any]:
        """The film as ``/movie/{id}`` answers, with the parts ``append_to_response`` asked for."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")
        document: dict[str, Any] = {
            **{key: value for key, value in self.summary().items() if key != "genre_ids"},
            "belongs_to_collection": None,
            "budget": 0,
            "genres": [{"id": GENRES.get(name, 18), "name": name} for name in self.genres],
            "homepage": "",
            "imdb_id": self.imdb_id,
            "origin_country": ["US"],
            "production_companies": [],
            "production_countries": [],
            "revenue": 0,
            "runtime": self.runtime if self.runtime is not None else 0,
            "spoken_languages": [],
            "status": "Released",
            "tagline": "",
        }
        if "credits" in appended:
            people = [(name, "Directing", "Director") for name in self.directors]
            people.append(("Pat Producer", "Production", "Producer"))  # the crew is more than its directors
            document["credits"] = {
                "cast": [],
                "crew": [
                    {
                        "adult": False,
                        "gender": 0,
                        "id": 1000 + index,
                        "known_for_department": department,
                        "name": name,
                        "original_name": name,
                        "popularity": 1.0,
                        "profile_path": None,
                        "credit_id": f"credit{self.id}x{index}",
                        "department": department,
                        "job": job,
                    }
                    for index, (name, department, job) in enumerate(people)
                ],
            }
        if "keywords" in appended:
            document["keywords"] = {
                "keywords": [{"id": 9000 + index, "name": name} for index, name in enumerate(self.keywords)]
            }
        if "external_ids" in appended:
            document["external_ids"] = {
                "imdb_id": self.imdb_id,
                "wikidata_id": None,
                "facebook_id": None,
                "instagram_id": None,
                "twitter_id": None,
            }
        if "watch/providers" in appended:
            results = {}
            for region, kinds in self.providers.items():
                entry: dict[str, Any] = {
                    "link": f"https://www.themoviedb.org/movie/{self.id}-{slug}/watch?locale={region}"
                }
                for kind, names in kinds.items():
                    entry[kind] = [
                        {
                            "logo_path": f"/logo{index}.jpg",
                            "provider_id": 100 + index,
                            "provider_name": name,
                            "display_priority": index,
                        }
                        for index, name in enumerate(names)
                    ]
                results[region] = entry
            document["watch/providers"] = {"results": results}
        return document


#: The films the double starts with: two films of one title ten years apart (Solaris, The Thing) for "which one?",
#: a film without a release date or poster, and where-to-watch in two regions.
FILMS = (
    TmdbFilm(
        348,
        "Alien",
        "1979-05-25",
        117,
        ("Ridley Scott",),
        ("Horror", "Science Fiction"),
        ("android", "space", "extraterrestrial"),
        "During its return to the earth, commercial spaceship Nostromo intercepts a distress signal.",
        "/vfrQk5IPloGg1v9Rzbh2Eg3VGyM.jpg",
        "tt0078748",
        popularity=60.0,
        providers={
            "US": {"flatrate": ["Hulu", "Disney Plus"], "rent": ["Apple TV"], "buy": ["Apple TV", "Amazon Video"]},
            "GB": {"flatrate": ["Disney Plus"]},
        },
    ),
    TmdbFilm(
        679,
        "Aliens",
        "1986-07-18",
        137,
        ("James Cameron",),
        ("Action", "Science Fiction"),
        ("space marine",),
        "",
        "/r1x5JGpyqZU8PYhbs4UcrO1Xb6x.jpg",
        "tt0090605",
        popularity=40.0,
    ),
    TmdbFilm(
        593,
        "Solaris",
        "1972-02-05",
        167,
        ("Andrei Tarkovsky",),
        ("Drama", "Science Fiction", "Mystery"),
        ("space station", "memory"),
        "",
        "/mIgVZJd3gkjLLhAkbkhXIFmmEsi.jpg",
        "tt0069293",
        "Солярис",
        15.0,
    ),
    TmdbFilm(
        2103,
        "Solaris",
        "2002-11-27",
        99,
        ("Steven Soderbergh",),
        ("Drama", "Science Fiction", "Romance"),
        ("space station",),
        "",
        "/4DEwuLQbNaCSTNyfcAmVkmbzP9k.jpg",
        "tt0307479",
        popularity=12.0,
    ),
    TmdbFilm(
        1091,
        "The Thing",
        "1982-06-25",
        109,
        ("John Carpenter",),
        ("Horror", "Mystery", "Science Fiction"),
        ("antarctica", "shape shifting"),
        "",
        "/tzGY49kseSE9QAKk47uuDGwnSCu.jpg",
        "tt0084787",
        popularity=35.0,
    ),
    TmdbFilm(
        60935,
        "The Thing",
        "2011-10-12",
        103,
        ("Matthijs van Heijningen Jr.",),
        ("Horror", "Science Fiction"),
        ("antarctica",),
        "",
        "/jm6DhV8S2ix3XZDSGIWPYbZH5fF.jpg",
        "tt0905372",
        popularity=20.0,
    ),
    TmdbFilm(
        655,
        "Paris, Texas",
        "1984-05-19",
        145,
        ("Wim Wenders",),
        ("Drama",),
        ("desert", "road movie"),
        "",
        "/kQ2SnlD4XyDuMsQA3Z5iSD6vbjI.jpg",
        "tt0087884",
        popularity=14.0,
    ),
    TmdbFilm(
        24128,
        "Stop Making Sense",
        "1984-10-19",
        88,
        ("Jonathan Demme",),
        ("Documentary", "Music"),
        ("concert film", "talking heads"),
        "",
        "/wzdhWkbdRNOvqIrmlVqgoYxg3n1.jpg",
        "tt0088178",
        popularity=9.0,
        providers={"US": {"free": ["Kanopy"], "rent": ["Apple TV"]}},
    ),
    TmdbFilm(999001, "Untitled Home Movie", "", None, (), (), (), "", None, None, popularity=0.5),
)


@dataclass(frozen=True)
class TmdbRequest:
    """One request the double answered: ``route`` ("search", "movie", "find", "image" or "unknown"), the query
    without the key, which credentials came (``"v3"``, ``"v4"``, ``"wrong"`` or None) and the status sent."""

    route: str
    method: str
    path: str
    query: dict[str, str]
    auth: str | None
    status: int
    at: float


@dataclass(eq=False)
class Fault:
    route: str
    kind: str  # "status", "rate_limit", "slow", "nonsense"
    remaining: int | None  # None: until cleared
    status: int = 500
    retry_after: str = "1"
    seconds: float = 0.0
    body: bytes = b""

    def matches(self, route: str) -> bool:
        return (self.remaining is None or self.remaining > 0) and self.route in (route, "*")


class TmdbDouble:
    """The loopback TMDb (see the module). ``async with TmdbDouble() as tmdb:``; ``tmdb.api_base`` is its API."""

    def __init__(self, films: tuple[TmdbFilm, ...] = FILMS, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.api_key = V3_KEY
        self.v4_token = V4_TOKEN
        self.films: dict[int, TmdbFilm] = {film.id: film for film in films}
        self.requests: list[TmdbRequest] = []
        self.unknown_requests: list[str] = []
        self.faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._images: dict[str, bytes] = {}

    # -- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def image_base(self) -> str:
        return self.base_url + IMAGE_PREFIX

    def env(self, *, key: str | None = None, region: str = "US") -> dict[str, str]:
        """The settings that point a bot process at the double (the v3 key unless ``key`` says otherwise)."""
        return {
            "TMDB_API_KEY": self.api_key if key is None else key,
            "TMDB_API_BASE_URL": self.api_base,
            "TMDB_IMAGE_BASE_URL": self.image_base,
            "WATCH_REGION": region,
        }

    async def start(self) -> TmdbDouble:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get(API_PREFIX + "/search/movie", self._search)
        app.router.add_get(API_PREFIX + "/movie/{movie_id}", self._movie)
        app.router.add_get(API_PREFIX + "/find/{external_id}", self._find)
        app.router.add_get(IMAGE_PREFIX + "/{size}/{file}", self._image)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner, self.port = await serve(app, self.host)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TmdbDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the world and its faults

    def add_film(self, film: TmdbFilm) -> TmdbFilm:
        self.films[film.id] = film
        return film

    def fail(self, route: str = "*", *, status: int = 500, times: int | None = 1) -> None:
        """The next ``times`` requests of ``route`` answer ``status`` with TMDb's error body."""
        self.faults.append(Fault(route, "status", times, status=status))

    def rate_limit(self, route: str = "*", *, retry_after: str = "1", times: int | None = 1) -> None:
        """The next ``times`` requests answer 429 (TMDb's ``status_code`` 25) with ``Retry-After: retry_after``."""
        self.faults.append(Fault(route, "rate_limit", times, status=429, retry_after=retry_after))

    def slow(self, route: str = "*", *, seconds: float, times: int | None = None) -> None:
        """Answer ``seconds`` late (every request until :meth:`clear_faults`, or the next ``times``)."""
        self.faults.append(Fault(route, "slow", times, seconds=seconds))

    def nonsense(self, route: str = "*", *, body: bytes = b"<html>Bad gateway</html>", times: int | None = 1) -> None:
        """Answer 200 (as JSON) with ``body``: not what TMDb documents."""
        self.faults.append(Fault(route, "nonsense", times, body=body))

    def clear_faults(self) -> None:
        self.faults.clear()

    def count(self, route: str = "*") -> int:
        """How many requests the double answered on ``route``."""
        return sum(1 for request in self.requests if route in ("*", request.route))

    # -- serving

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        route = _route_of(request.path)
        auth = self._auth(request) if route != "image" else None
        response = await self._faulted(route)
        if response is None:
            if route not in ("image", "unknown") and auth not in ("v3", "v4"):
                response = tmdb_error(401)
            else:
                response = await handler(request)
        query = {name: value for name, value in request.query.items() if name != "api_key"}
        self.requests.append(
            TmdbRequest(route, request.method, request.path, query, auth, response.status, time.monotonic())
        )
        return response

    async def _faulted(self, route: str) -> web.Response | None:
        for fault in self.faults:
            if not fault.matches(route):
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
                continue  # then answer (or meet another fault)
            if fault.kind == "rate_limit":
                response = tmdb_error(429)
                response.headers["Retry-After"] = fault.retry_after
                return response
            if fault.kind == "nonsense":
                return web.Response(body=fault.body, content_type="application/json")
            return tmdb_error(fault.status)
        return None

    def _auth(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header:
            return "v4" if header == f"Bearer {self.v4_token}" else "wrong"
        key = request.query.get("api_key")
        if key is None:
            return None
        return "v3" if key == self.api_key else "wrong"

    async def _search(self, request: web.Request) -> web.Response:
        words = _words(request.query.get("query", ""))
        year = request.query.get("year") or request.query.get("primary_release_year")
        try:
            page = int(request.query.get("page", "1"))
        except ValueError:
            return tmdb_error(400)
        if not 1 <= page <= 500:
            return tmdb_error(400)
        found = [
            film
            for film in self.films.values()
            if words and _matches(words, film) and (not year or (film.year is not None and str(film.year) == year))
        ]
        found.sort(key=lambda film: (-film.popularity, film.id))
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return web.json_response(
            {
                "page": page,
                "results": [film.summary() for film in chunk],
                "total_pages": (len(found) + PAGE_SIZE - 1) // PAGE_SIZE,
                "total_results": len(found),
            }
        )

    async def _movie(self, request: web.Request) -> web.Response:
        movie_id = request.match_info["movie_id"]
        film = self.films.get(int(movie_id)) if movie_id.isdigit() else None
        if film is None:
            return tmdb_error(404)
        appended = {part.strip() for part in request.query.get("append_to_response", "").split(",") if part.strip()}
        return web.json_response(film.details(appended))

    async def _find(self, request: web.Request) -> web.Response:
        if request.query.get("external_source") != "imdb_id":
            return tmdb_error(400)
        external_id = request.match_info["external_id"]
        films = [film.summary() for film in self.films.values() if film.imdb_id == external_id]
        return web.json_response(
            {
                "movie_results": films,
                "person_results": [],
                "tv_results": [],
                "tv_episode_results": [],
                "tv_season_results": [],
            }
        )

    async def _image(self, request: web.Request) -> web.Response:
        size, name = request.match_info["size"], "/" + request.match_info["file"]
        if size not in POSTER_SIZES or all(film.poster_path != name for film in self.films.values()):
            return web.Response(status=404, text="Not Found")
        if name not in self._images:
            self._images[name] = poster_jpeg(name)
        return web.Response(body=self._images[name], content_type="image/jpeg")

    async def _unknown(self, request: web.Request) -> web.Response:
        self.unknown_requests.append(f"{request.method} {request.path}")
        return tmdb_error(404)


def poster_jpeg(name: str, size: tuple[int, int] = (60, 90)) -> bytes:
    """A small real JPEG, its colour from the file name (so two posters differ)."""
    from PIL import Image

    digest = hashlib.sha256(name.encode()).digest()
    buffer = io.BytesIO()
    Image.new("RGB", size, (digest[0], digest[1], digest[2])).save(buffer, format="JPEG")
    return buffer.getvalue()


def _route_of(path: str) -> str:
    if path.startswith(IMAGE_PREFIX + "/"):
        return "image"
    for prefix, route in (("/search/movie", "search"), ("/movie/", "movie"), ("/find/", "find")):
        if path.startswith(API_PREFIX + prefix):
            return route
    return "unknown"


def _words(text: str) -> list[str]:
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(ch))
    return re.findall(r"\w+", folded)


def _matches(words: list[str], film: TmdbFilm) -> bool:
    """Every word of the query starts a word of the title or of the original title (TMDb's search is looser, but
    never misses such a film)."""
    titles = [_words(film.title), _words(film.original_title)]
    return any(all(any(word.startswith(typed) for word in title) for typed in words) for title in titles if title)


def film_json(film: TmdbFilm) -> str:
    """The film as ``/movie/{id}`` with everything appended (for a test that wants TMDb's JSON itself)."""
    return json.dumps(film.details({"credits", "keywords", "external_ids", "watch/providers"}))
