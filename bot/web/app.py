"""What every page is written with: the middlewares every answer passes, the route helper, rendering.

Every answer carries the security headers (a Content-Security-Policy with no inline script and no framing,
``nosniff``, no referrer, so a club's secret address never leaks to an image host or a followed link). Pages are
rendered by Jinja2 with autoescaping on, so member text is escaped wherever it is printed. A 200 answer gets an ETag
(a hash of its body) and Cache-Control; a request that already holds the body (``If-None-Match``) gets 304 without
it. Each client may make :attr:`RateLimit.per_minute` requests a minute (a token bucket); beyond that, 429.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web

from bot.core.clock import Clock
from bot.core.club_page import MemberNames, no_names
from bot.core.details import FilmDetailsService
from bot.core.films import ClubTitles
from bot.core.web_pages import WebPage, public_page
from bot.db.database import Database

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: The static files, read once at start-up and served from memory: no path from a request ever reaches the file
#: system, so no ``..`` can either.
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}

#: How long browsers and proxies may keep a page before asking again (with its ETag); live counts are at most this
#: old. Static files carry a version in their address and are kept for a day.
PAGE_MAX_AGE = 15
STATIC_MAX_AGE = 86_400

#: Requests a query string may not exceed (aiohttp refuses request lines over 8 KB before any of this runs).
MAX_QUERY = 2_000


@dataclass(frozen=True)
class SiteServices:
    """What the pages read, handed over by the bot: the database and clock, each server's title index (the search
    box), film details (posters), the club's display name from the bot's cache, and where TMDb's posters come from."""

    db: Database
    clock: Clock
    titles_for: Callable[[int | None], Awaitable[ClubTitles]]
    details: FilmDetailsService | None = None
    club_name: Callable[[int], str | None] = lambda _guild_id: None
    image_origin: str | None = None
    member_names: MemberNames = no_names
    #: Where visitors reach the server (WEB_BASE_URL, else its own host and port), for absolute links (the calendar
    #: feed's); None: the request's own origin.
    base_url: str | None = None


@dataclass
class RateLimit:
    """A token bucket per client: ``burst`` requests at once, refilled at ``per_minute`` a minute (0: no limit)."""

    per_minute: int = 120
    burst: int = 60
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    #: Clients remembered at most; beyond it, the full buckets (idle clients) are forgotten.
    MAX_CLIENTS = 10_000

    def allow(self, client: str) -> bool:
        if self.per_minute <= 0:
            return True
        now = self.clock()
        tokens, since = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.per_minute / 60)
        allowed = tokens >= 1
        self._buckets[client] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self.MAX_CLIENTS:
            self._forget_idle(now)
        return allowed

    def retry_after(self) -> int:
        return max(1, round(60 / self.per_minute)) if self.per_minute > 0 else 0

    def _forget_idle(self, now: float) -> None:
        refill = self.per_minute / 60
        for client, (tokens, since) in list(self._buckets.items()):
            if tokens + (now - since) * refill >= self.burst:
                del self._buckets[client]


class PageCache:
    """Pages rendered in the last ``seconds``, by club and address: a burst of visitors costs one rendering a page
    every ``seconds`` (0: off). Looked up after the address is resolved, so a retired address stops at once."""

    #: Pages kept at most; beyond it the oldest go.
    MAX_PAGES = 512

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._pages: dict[tuple[object, ...], tuple[float, bytes, str]] = {}

    async def get(self, key: tuple[object, ...], produce: Callable[[], Awaitable[web.Response]]) -> web.Response:
        now = self.clock()
        found = self._pages.get(key)
        if found is not None and found[0] > now:
            return web.Response(body=found[1], headers={"Content-Type": found[2]})
        response = await produce()
        if self.seconds > 0 and response.status == 200 and isinstance(response.body, bytes):
            if len(self._pages) >= self.MAX_PAGES:
                for stale in sorted(self._pages, key=lambda k: self._pages[k][0])[: self.MAX_PAGES // 4]:
                    del self._pages[stale]
            self._pages[key] = (now + self.seconds, response.body, response.headers["Content-Type"])
        return response


SERVICES = web.AppKey("services", SiteServices)
PAGES = web.AppKey("page_cache", PageCache)
TEMPLATE_ENV = web.AppKey("templates", jinja2.Environment)
STATIC_FILES = web.AppKey("static", dict)
LIMITER = web.AppKey("rate_limit", RateLimit)


def services(request: web.Request) -> SiteServices:
    return request.app[SERVICES]


async def club_of(request: web.Request) -> WebPage:
    """The public club the address's ``{slug}`` names; any other slug (never issued, rotated, taken down, garbage)
    is the same plain 404 as an unknown address, so nothing tells whether a server exists."""
    page = await public_page(services(request).db, request.match_info.get("slug", ""))
    if page is None:
        raise web.HTTPNotFound()
    return page


async def cached_page(
    request: web.Request, page: WebPage, produce: Callable[[], Awaitable[web.Response]]
) -> web.Response:
    """The page at this address, rendered by ``produce`` at most once every :class:`PageCache` span."""
    key = (page.guild_id, page.slug, page.show_members, request.path_qs)
    return await request.app[PAGES].get(key, produce)


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    """A page from ``templates/``, autoescaped, as text/html."""
    env = request.app[TEMPLATE_ENV]
    body = env.get_template(template).render(static=static_url, **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def static_url(name: str) -> str:
    """A static file's address with its content's version, so browsers keep it for a day and still see changes."""
    return f"/static/{name}?v={_STATIC_VERSIONS.get(name, '0')}"


_STATIC_VERSIONS: dict[str, str] = {}


def load_static() -> dict[str, tuple[bytes, str]]:
    files: dict[str, tuple[bytes, str]] = {}
    for path in sorted(STATIC.iterdir()):
        if path.is_file() and path.suffix in STATIC_TYPES:
            body = path.read_bytes()
            files[path.name] = (body, STATIC_TYPES[path.suffix])
            _STATIC_VERSIONS[path.name] = hashlib.sha256(body).hexdigest()[:10]
    return files


async def static_file(request: web.Request) -> web.Response:
    found = request.app[STATIC_FILES].get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    body, content_type = found
    response = web.Response(body=body, headers={"Content-Type": content_type})
    response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
    return response


def content_security_policy(image_origin: str | None) -> str:
    images = " ".join(filter(None, ["'self'", image_origin]))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL (TMDb's image server, for the CSP), or None."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def client_key(request: web.Request) -> str:
    """Who is asking, for the rate limit: the peer's address; behind a reverse proxy on the same machine (a
    loopback peer), the address that proxy appended last to X-Forwarded-For."""
    peer = request.remote or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded:
        try:
            loopback = ip_address(peer).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return forwarded.rsplit(",", 1)[-1].strip() or peer
    return peer


def plain_error(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain", charset="utf-8")


ERROR_TEXTS: Mapping[int, str] = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    414: "Address too long",
    429: "Too many requests; try again in a minute",
}


def make_headers_middleware(csp: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def security(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            if error.status >= 400:
                response = plain_error(error.status, ERROR_TEXTS.get(error.status, error.reason))
                for name in ("Allow", "Retry-After"):
                    if name in error.headers:
                        response.headers[name] = error.headers[name]
            else:  # a redirect: answered as a plain response (aiohttp no longer takes the exception as one)
                response = web.Response(status=error.status, headers={"Location": error.headers["Location"]})
        except Exception:
            log.exception("the web page %s failed", request.path)
            response = plain_error(500, "Something went wrong; try again later")
        headers = response.headers
        headers["Content-Security-Policy"] = csp
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers.setdefault("Cache-Control", "no-store")
        return response

    return security


@web.middleware
async def rate_limited(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    limiter = request.app[LIMITER]
    if not limiter.allow(client_key(request)):
        raise web.HTTPTooManyRequests(headers={"Retry-After": str(limiter.retry_after())})
    if len(request.query_string) > MAX_QUERY:
        raise web.HTTPRequestURITooLong()
    return await handler(request)


@web.middleware
async def conditional(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    """ETag on every 200 with a body; 304 when the client already has it. Pages not marked otherwise may be kept
    :data:`PAGE_MAX_AGE` seconds (they are behind an unguessable address, but still nobody's private data)."""
    response = await handler(request)
    if response.status != 200 or not isinstance(response, web.Response) or response.body is None:
        return response
    body = response.body
    if not isinstance(body, bytes):
        return response
    tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    response.headers["ETag"] = tag
    response.headers.setdefault("Cache-Control", f"public, max-age={PAGE_MAX_AGE}")
    wanted = request.headers.get("If-None-Match", "")
    if tag in (part.strip() for part in wanted.split(",")) or wanted.strip() == "*":
        return web.Response(status=304, headers={"ETag": tag, "Cache-Control": response.headers["Cache-Control"]})
    return response
