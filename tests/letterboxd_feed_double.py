"""A loopback Letterboxd: members' public RSS feeds in Letterboxd's format, scripted per member, with faults on demand.

``LetterboxdFeedDouble`` is an aiohttp server on 127.0.0.1 (a free port) in the test's event loop, like the loopback
Discord and TMDb. It serves ``GET /{username}/rss/`` (usernames case-insensitive, as on Letterboxd) the way
letterboxd.com does:

- RSS 2.0 with the ``letterboxd`` (``https://letterboxd.com``), ``tmdb`` (``https://themoviedb.org``), ``dc`` and
  ``atom`` namespaces; every ``<item>`` on one line; newest first; at most the member's 50 latest entries
  (:attr:`FeedMember.limit`).
- Diary entries (:class:`FeedEntry`): ``<title>Film, 2024 - ★★★★½</title>``, the entry's link, ``<guid
  isPermaLink="false">letterboxd-review-…`` (with a review) or ``letterboxd-watch-…`` (without), ``pubDate``,
  ``letterboxd:watchedDate``/``rewatch``/``filmTitle``/``filmYear``/``memberRating`` (only when rated)/``memberLike``,
  ``tmdb:movieId`` (or ``tmdb:tvId`` for a show), and a CDATA description: the poster ``<p><img/></p>``, then
  ``<p><em>This review may contain spoilers.</em></p>`` when marked, then the review's paragraphs, or "Watched on
  Saturday May 9, 2026." when there is no review. Lists (:class:`FeedList`): ``letterboxd-list-…``, no film elements.
- ``ETag`` (a hash of the body) and ``Last-Modified`` (the feed's last change); ``If-None-Match`` and
  ``If-Modified-Since`` answered with 304 when nothing changed (If-None-Match first, as RFC 9110 says).
- An unknown member is 404 with an HTML page, as on Letterboxd; any other path too (and recorded in
  ``unknown_requests``: the fixture fails a test that hit one).

Scripting: :meth:`add_member`, :meth:`add_entry` (entries added over time: the newest goes first and the feed changes),
:meth:`edit_entry` (same guid, new text), :meth:`remove_entry`, :meth:`add_list`, :meth:`fill_to` (a feed of about N
bytes, e.g. 5 MB). Faults, on the next N requests of one member (or ``"*"``): :meth:`fail` (a status, 500 by
default), :meth:`rate_limit` (429 with ``Retry-After``), :meth:`slow` (answers late), :meth:`malformed` (200 with XML
cut in the middle), :meth:`raw` (200 with any body). Every request is kept in ``requests``; ``most_in_flight`` is the
most requests it was answering at once.

For a bot process: ``double.env()`` is the settings that point it here.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import html
import itertools
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from tests.loopback import serve

#: Letterboxd's feeds hold a member's 50 latest entries.
FEED_LIMIT = 50
SPOILER_NOTICE = "This review may contain spoilers."
_START = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FeedEntry:
    """A diary entry. ``review`` is plain text (paragraphs separated by blank lines, escaped into HTML);
    ``review_html`` is served as it is instead (hostile markup)."""

    guid: str
    film_title: str
    film_year: int | None
    tmdb_id: int | None
    rating: float | None
    watched: date
    published: datetime
    rewatch: bool = False
    liked: bool = False
    review: str = ""
    review_html: str | None = None
    spoiler: bool = False
    tv_id: int | None = None
    slug: str = ""

    def item(self, base: str, username: str, creator: str) -> str:
        slug = self.slug or _slug(self.film_title)
        link = f"{base}/{username}/film/{slug}/"
        stars = _stars(self.rating)
        title = f"{self.film_title}, {self.film_year}" if self.film_year else self.film_title
        poster = f"https://a.ltrbxd.com/resized/film-poster/{slug}-0-600-0-900-crop.jpg"
        body = [f'<p><img src="{poster}"/></p>']
        if self.spoiler:
            body.append(f"<p><em>{SPOILER_NOTICE}</em></p>")
        if self.review_html is not None:
            body.append(self.review_html)
        elif self.review:
            body.extend(f"<p>{html.escape(part).replace(chr(10), '<br />')}</p>" for part in self.review.split("\n\n"))
        else:
            body.append(f"<p>Watched on {self.watched:%A %B} {self.watched.day}, {self.watched.year}.</p>")
        parts = [
            f"<title>{escape(title + (f' - {stars}' if stars else ''))}</title>",
            f"<link>{escape(link)}</link>",
            f'<guid isPermaLink="false">{escape(self.guid)}</guid>',
            f"<pubDate>{email.utils.format_datetime(self.published)}</pubDate>",
            f"<letterboxd:watchedDate>{self.watched.isoformat()}</letterboxd:watchedDate>",
            f"<letterboxd:rewatch>{_yes(self.rewatch)}</letterboxd:rewatch>",
            f"<letterboxd:filmTitle>{escape(self.film_title)}</letterboxd:filmTitle>",
        ]
        if self.film_year is not None:
            parts.append(f"<letterboxd:filmYear>{self.film_year}</letterboxd:filmYear>")
        if self.rating is not None:
            parts.append(f"<letterboxd:memberRating>{self.rating:.1f}</letterboxd:memberRating>")
        parts.append(f"<letterboxd:memberLike>{_yes(self.liked)}</letterboxd:memberLike>")
        if self.tv_id is not None:
            parts.append(f"<tmdb:tvId>{self.tv_id}</tmdb:tvId>")
        elif self.tmdb_id is not None:
            parts.append(f"<tmdb:movieId>{self.tmdb_id}</tmdb:movieId>")
        parts.append(f"<description>{_cdata(' '.join(body))}</description>")
        return "<item> " + " ".join(parts) + f" <dc:creator>{creator}</dc:creator> </item>"


@dataclass(frozen=True)
class FeedList:
    """A list the member published: in the feed, not a diary entry."""

    guid: str
    title: str
    films: tuple[str, ...]
    published: datetime

    def item(self, base: str, username: str, creator: str) -> str:
        link = f"{base}/{username}/list/{_slug(self.title)}/"
        films = " ".join(
            f'<li> <a href="{base}/film/{_slug(film)}/">{html.escape(film)}</a> </li>' for film in self.films
        )
        return (
            f"<item> <title>{escape(self.title)}</title> <link>{escape(link)}</link> "
            f'<guid isPermaLink="false">{escape(self.guid)}</guid> '
            f"<pubDate>{email.utils.format_datetime(self.published)}</pubDate> "
            f"<description>{_cdata(f' <ul> {films} </ul> ')}</description> "
            f"<dc:creator>{creator}</dc:creator> </item>"
        )


@dataclass
class FeedMember:
    username: str
    display_name: str
    items: list[FeedEntry | FeedList] = field(default_factory=list)  # newest first
    modified: datetime = _START
    limit: int | None = FEED_LIMIT
    _rendered: tuple[str, bytes, str] | None = None  # (base, body, etag)

    def changed(self, at: datetime) -> None:
        self.modified = max(self.modified + timedelta(seconds=1), at)
        self._rendered = None

    def body(self, base: str) -> tuple[bytes, str]:
        """The feed and its ETag (rendered once per change)."""
        if self._rendered is None or self._rendered[0] != base:
            shown = self.items if self.limit is None else self.items[: self.limit]
            creator = escape(self.display_name)
            items = "\n".join(item.item(base, self.username, creator) for item in shown)
            document = (
                "<?xml version='1.0' encoding='utf-8'?>\n"
                '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:letterboxd="https://letterboxd.com" '
                'xmlns:tmdb="https://themoviedb.org">\n<channel>\n'
                f"<title>Letterboxd - {creator}</title>\n<link>{escape(base)}/{self.username}/</link>\n"
                f"<description>Letterboxd - {creator}</description>\n"
                f'<atom:link rel="self" href={quoteattr(f"{base}/{self.username}/rss/")} '
                'type="application/rss+xml"/>\n'
                f"{items}\n</channel>\n</rss>\n"
            ).encode()
            etag = '"' + hashlib.sha1(document, usedforsecurity=False).hexdigest()[:20] + '"'
            self._rendered = (base, document, etag)
        return self._rendered[1], self._rendered[2]


@dataclass(frozen=True)
class FeedRequest:
    """One request the double answered: whose feed (None for an unknown path), the conditional headers that came,
    the status sent and the body's size."""

    username: str | None
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    user_agent: str | None
    status: int
    size: int
    at: float


@dataclass(eq=False)
class Fault:
    username: str
    kind: str  # "status", "rate_limit", "slow", "malformed", "raw"
    remaining: int | None  # None: until cleared
    status: int = 500
    retry_after: str = "1"
    seconds: float = 0.0
    body: bytes = b""

    def matches(self, username: str) -> bool:
        return (self.remaining is None or self.remaining > 0) and self.username in (username, "*")


class LetterboxdFeedDouble:
    """The loopback Letterboxd (see the module). ``async with LetterboxdFeedDouble() as letterboxd:``."""

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.members: dict[str, FeedMember] = {}
        self.requests: list[FeedRequest] = []
        self.unknown_requests: list[str] = []
        self.faults: list[Fault] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._ids = itertools.count(1_000_000_001)
        self._runner: web.AppRunner | None = None

    # -- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The settings that point a bot process at the double."""
        return {"LETTERBOXD_BASE_URL": self.base_url}

    async def start(self) -> LetterboxdFeedDouble:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/{username}/rss/", self._feed)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner, self.port = await serve(app, self.host)
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LetterboxdFeedDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the members and their feeds

    def add_member(self, username: str, display_name: str | None = None) -> FeedMember:
        member = FeedMember(username.lower(), display_name or username)
        self.members[member.username] = member
        return member

    def member(self, username: str) -> FeedMember:
        return self.members[username.lower()]

    def add_entry(
        self,
        username: str,
        film_title: str,
        film_year: int | None = None,
        *,
        tmdb_id: int | None = None,
        rating: float | None = None,
        watched: date | None = None,
        published: datetime | None = None,
        **details: Any,
    ) -> FeedEntry:
        """A new diary entry at the top of the member's feed (a review's guid when it has a review)."""
        member = self.member(username)
        at = published or member.modified + timedelta(minutes=5)
        has_review = bool(details.get("review") or details.get("review_html"))
        kind = "review" if has_review else "watch"
        entry = FeedEntry(
            guid=details.pop("guid", None) or f"letterboxd-{kind}-{next(self._ids)}",
            film_title=film_title,
            film_year=film_year,
            tmdb_id=tmdb_id,
            rating=rating,
            watched=watched or at.date(),
            published=at,
            **details,
        )
        member.items.insert(0, entry)
        member.changed(at)
        return entry

    def edit_entry(self, username: str, guid: str, **changes: Any) -> FeedEntry:
        """The entry with ``guid`` changed in place (an edited review keeps its guid and its place)."""
        member = self.member(username)
        for index, item in enumerate(member.items):
            if item.guid == guid and isinstance(item, FeedEntry):
                member.items[index] = edited = replace(item, **changes)
                member.changed(member.modified)
                return edited
        raise KeyError(guid)

    def remove_entry(self, username: str, guid: str) -> None:
        member = self.member(username)
        member.items = [item for item in member.items if item.guid != guid]
        member.changed(member.modified)

    def add_list(self, username: str, title: str, films: tuple[str, ...] = ("Alien", "Aliens")) -> FeedList:
        member = self.member(username)
        at = member.modified + timedelta(minutes=5)
        item = FeedList(f"letterboxd-list-{next(self._ids)}", title, films, at)
        member.items.insert(0, item)
        member.changed(at)
        return item

    def fill_to(self, username: str, size: int) -> int:
        """Entries with long reviews added until the member's feed is at least ``size`` bytes (the 50-entry limit
        lifted); returns how many were added."""
        member = self.member(username)
        member.limit = None
        paragraph = "A long look at a long film, with many words about every scene of it. " * 20
        added = 0
        while (missing := size - len(member.body(self.base_url)[0])) > 0:
            for _ in range(missing // 5000 + 1):  # an entry is about 5 KB
                self.add_entry(
                    username, f"Long Film {added}", 1990 + added % 30, tmdb_id=500_000 + added, rating=3.5,
                    review="\n\n".join([paragraph] * 3),
                )  # fmt: skip
                added += 1
        return added

    # -- faults

    def fail(self, username: str = "*", *, status: int = 500, times: int | None = 1) -> None:
        """The next ``times`` requests for ``username`` answer ``status`` (an HTML error page)."""
        self.faults.append(Fault(username.lower(), "status", times, status=status))

    def rate_limit(self, username: str = "*", *, retry_after: str = "1", times: int | None = 1) -> None:
        """The next ``times`` requests answer 429 with ``Retry-After: retry_after``."""
        self.faults.append(Fault(username.lower(), "rate_limit", times, status=429, retry_after=retry_after))

    def slow(self, username: str = "*", *, seconds: float, times: int | None = None) -> None:
        """Answer ``seconds`` late (every request until :meth:`clear_faults`, or the next ``times``)."""
        self.faults.append(Fault(username.lower(), "slow", times, seconds=seconds))

    def malformed(self, username: str = "*", *, times: int | None = 1) -> None:
        """Answer 200 with the member's feed cut off in the middle of an item."""
        self.faults.append(Fault(username.lower(), "malformed", times))

    def raw(self, username: str = "*", *, body: bytes, times: int | None = 1) -> None:
        """Answer 200 with ``body`` as ``application/rss+xml``."""
        self.faults.append(Fault(username.lower(), "raw", times, body=body))

    def clear_faults(self) -> None:
        self.faults.clear()

    def count(self, username: str | None = None) -> int:
        """How many requests the double answered (for ``username``'s feed)."""
        return sum(1 for request in self.requests if username is None or request.username == username.lower())

    # -- serving

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            response = await handler(request)
        finally:
            self.in_flight -= 1
        username = request.match_info.get("username")
        self.requests.append(
            FeedRequest(
                username.lower() if username is not None else None,
                request.path,
                request.headers.get("If-None-Match"),
                request.headers.get("If-Modified-Since"),
                request.headers.get("User-Agent"),
                response.status,
                len(response.body) if isinstance(response, web.Response) and isinstance(response.body, bytes) else 0,
                time.monotonic(),
            )
        )
        return response

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        username = request.match_info["username"].lower()
        for fault in self.faults:
            if not fault.matches(username):
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
                continue  # then answer (or meet another fault)
            if fault.kind == "rate_limit":
                return _page(429, "Too Many Requests", headers={"Retry-After": fault.retry_after})
            if fault.kind == "raw":
                return web.Response(body=fault.body, content_type="application/rss+xml", charset="utf-8")
            if fault.kind == "malformed" and username in self.members:
                body, _etag = self.members[username].body(self.base_url)
                cut = body.find(b"<letterboxd:filmTitle>", len(body) // 2)
                return web.Response(body=body[: cut if cut > 0 else len(body) // 2], content_type="application/rss+xml")
            if fault.kind == "status":
                return _page(fault.status, "Error")
        member = self.members.get(username)
        if member is None:
            return _page(404, "Sorry, we can’t find the page you’ve requested.")
        body, etag = member.body(self.base_url)
        modified = email.utils.format_datetime(member.modified, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified, "Cache-Control": "max-age=0"}
        if _not_modified(request, etag, member.modified):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/rss+xml", charset="utf-8", headers=headers)

    async def _unknown(self, request: web.Request) -> web.Response:
        self.unknown_requests.append(f"{request.method} {request.path}")
        return _page(404, "Not found")


def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match.strip() == "*"
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return email.utils.parsedate_to_datetime(since) >= modified.replace(microsecond=0)
        except (TypeError, ValueError):
            return False
    return False


def _page(status: int, title: str, *, headers: dict[str, str] | None = None) -> web.Response:
    body = f"<!DOCTYPE html><html><head><title>{html.escape(title)} • Letterboxd</title></head><body></body></html>"
    return web.Response(status=status, text=body, content_type="text/html", headers=headers)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _stars(rating: float | None) -> str:
    if rating is None:
        return ""
    return "★" * int(rating) + ("½" if rating % 1 else "")


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "film"
