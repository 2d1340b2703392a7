"""Letterboxd's public RSS feeds: one member's recent diary at ``{LETTERBOXD_BASE_URL}/{username}/rss/``, read
politely and parsed into :class:`bot.core.letterboxd_live.FeedResult`.

Politeness (on top of :class:`bot.services.http.PoliteHttp`: a deadline on every read and a timeout on every attempt,
429 ``Retry-After`` honoured for every read of the client, 5xx and network failures retried with back-off):
- **Conditional requests**: the previous answer's ``ETag`` and ``Last-Modified`` go out as ``If-None-Match`` and
  ``If-Modified-Since``; an unchanged feed costs a 304 and no parsing.
- **A global concurrency cap**: at most :data:`MAX_CONCURRENT_READS` reads at once per client (one client per bot
  process), and at most :data:`READS_PER_SECOND` requests a second.
- **A size cap**: a feed larger than :data:`MAX_FEED_BYTES` is refused (Letterboxd's feeds hold the member's 50
  latest entries, about 100 KB; 5 MB feeds still read).

Parsing uses feedparser (it copes with the encodings and date formats feeds use). Letterboxd's own elements are read
from their namespaces (``https://letterboxd.com``: filmTitle, filmYear, memberRating, watchedDate, rewatch,
memberLike; ``https://themoviedb.org``: movieId), whatever prefix the feed gives them. Items that are not a film's
diary entry are skipped: lists (``letterboxd-list-…``), items without a film title, TV entries (``tmdb:tvId``). The
description's HTML becomes plain text (:func:`bot.core.letterboxd.html_to_text`, the file import's own): the poster
image and the generated "Watched on …" line dropped, paragraphs kept, and Letterboxd's notice "This review may
contain spoilers." taken out of the text into the entry's spoiler flag.

Parsing a feed is CPU work (about 25 ms for 50 entries, a second for 5 MB; bench/letterboxd_follow.py): it runs
in a worker thread, and only when the feed changed.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import feedparser

from bot.core.letterboxd import html_to_text
from bot.core.letterboxd_live import DiaryEntry, FeedResult, FeedStatus, valid_username
from bot.services.http import BadAnswer, PoliteHttp, RetryPolicy, ServiceError, ServiceNotFound
from bot.settings import Settings

log = logging.getLogger(__name__)

#: The largest feed read, in bytes; beyond it the read fails ("larger than … MB").
MAX_FEED_BYTES = 8 * 1024 * 1024
#: Reads in flight at once (per client, so per bot process), whatever the number of members followed.
MAX_CONCURRENT_READS = 4
#: Requests a second on average (bursts of :data:`READS_BURST`): 1,000 members every 30 minutes need 0.56.
READS_PER_SECOND = 2.0
READS_BURST = 4
#: How hard one read tries: 3 attempts of at most 15 s each, all within 40 s.
FEED_POLICY = RetryPolicy(attempts=3, attempt_timeout=15.0, backoff=1.0, backoff_cap=8.0, deadline=40.0)

LETTERBOXD_NS = "https://letterboxd.com"
TMDB_NS = "https://themoviedb.org"

#: Letterboxd's notice at the top of a review marked as containing spoilers.
SPOILER_NOTICE = "This review may contain spoilers."
#: The line Letterboxd writes in place of a review for an entry without one ("Watched on Saturday May 9, 2026.").
_GENERATED_LINE = re.compile(r"(?:Re)?[Ww]atched on \w+ \w+ \d{1,2}, \d{4}\.?")
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z]")
_EMPHASIS = re.compile(r"^[*_\s]+|[*_\s]+$")


class FeedMalformed(Exception):
    """The body is not an RSS feed (malformed XML, an HTML page)."""


@dataclass(frozen=True)
class ParsedFeed:
    entries: tuple[DiaryEntry, ...]
    skipped: int


class LetterboxdFeed:
    """Reads members' feeds (a :class:`bot.core.letterboxd_live.FeedReader`). One per bot process: the caps are per
    client."""

    def __init__(
        self,
        base_url: str,
        *,
        concurrency: int = MAX_CONCURRENT_READS,
        rate: float = READS_PER_SECOND,
        burst: int = READS_BURST,
        policy: RetryPolicy = FEED_POLICY,
        max_bytes: int = MAX_FEED_BYTES,
    ) -> None:
        if concurrency < 1:
            raise ValueError("at least one read at a time")
        self.http = PoliteHttp(
            base_url,
            name="Letterboxd",
            headers={"User-Agent": "filmclub/0.1 (Discord bot for film clubs; reads members' public RSS feeds)"},
            rate=rate,
            burst=burst,
            policy=policy,
            max_bytes=max_bytes,
        )
        self.max_bytes = max_bytes
        self._slots = asyncio.Semaphore(concurrency)

    async def read(self, username: str, *, etag: str | None = None, last_modified: str | None = None) -> FeedResult:
        """The member's feed (see :class:`bot.core.letterboxd_live.FeedReader`); never raises for the feed's sake."""
        if not valid_username(username):
            return FeedResult(FeedStatus.NOT_FOUND, reason="not a Letterboxd username")
        path = f"/{quote(username.lower())}/rss/"
        conditions = {}
        if etag:
            conditions["If-None-Match"] = etag
        if last_modified:
            conditions["If-Modified-Since"] = last_modified
        async with self._slots:
            try:
                answer = await self.http.fetch(
                    path, headers=conditions, accept="application/rss+xml, application/xml;q=0.9, */*;q=0.1"
                )
            except ServiceNotFound:
                return FeedResult(FeedStatus.NOT_FOUND, reason="no such member on Letterboxd (404)")
            except BadAnswer:
                limit = self.max_bytes / (1024 * 1024)
                return FeedResult(FeedStatus.FAILED, reason=f"the feed is larger than {limit:g} MB")
            except ServiceError as error:
                return FeedResult(FeedStatus.FAILED, reason=str(error), retry_after=error.retry_after)
            new_etag = answer.headers.get("ETag") or None
            new_modified = answer.headers.get("Last-Modified") or None
            if answer.status == 304:
                return FeedResult(
                    FeedStatus.NOT_MODIFIED, etag=new_etag or etag, last_modified=new_modified or last_modified
                )
            # Parsed while holding the slot: the cap bounds the parsing threads (CPU) as well as the connections.
            try:
                parsed = await asyncio.to_thread(parse_feed, answer.body, answer.content_type)
            except FeedMalformed as error:
                log.info("Letterboxd feed %s: %s", path, error)
                return FeedResult(FeedStatus.FAILED, reason=str(error))
            except Exception:
                # A feed no parser should choke on made feedparser fail: one member's feed, not the bot's problem.
                log.warning("Letterboxd feed %s could not be parsed", path, exc_info=True)
                return FeedResult(FeedStatus.FAILED, reason="the feed could not be read")
        return FeedResult(
            FeedStatus.OK,
            entries=parsed.entries,
            etag=new_etag,
            last_modified=new_modified,
            skipped=parsed.skipped,
        )

    async def close(self) -> None:
        await self.http.close()


def client_from_settings(settings: Settings) -> LetterboxdFeed:
    return LetterboxdFeed(str(settings.letterboxd_base_url))


# -- parsing ---------------------------------------------------------------------------------------------------------


def parse_feed(body: bytes, content_type: str = "") -> ParsedFeed:
    """A feed's diary entries, in the feed's order (newest first). Raises :class:`FeedMalformed`."""
    root = _FIRST_ELEMENT.search(body)
    if root is not None and b"<!DOCTYPE" in body[: root.start()]:
        # Feeds have no DTD; one declaring entities is an expansion bomb that costs expat seconds to refuse.
        raise FeedMalformed("the feed declares a document type")
    headers = {"content-type": content_type} if content_type else {}
    # A stream, never bytes or text: feedparser takes those for a file name or a URL and would open it.
    document: Any = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    problem = document.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXException | feedparser.UndeclaredNamespace):
        # feedparser's loose parser would make something of it; half a feed read as a whole one is worse than none.
        raise FeedMalformed(f"the feed is not well-formed XML ({_short(problem)})")
    if not document.get("version"):
        raise FeedMalformed("the answer is not an RSS feed")
    namespaces: Mapping[str, str] = document.get("namespaces", {})
    letterboxd = _prefix(namespaces, LETTERBOXD_NS, "letterboxd")
    tmdb = _prefix(namespaces, TMDB_NS, "tmdb")
    entries: list[DiaryEntry] = []
    skipped = 0
    for item in document.get("entries", []):
        entry = _diary_entry(item, letterboxd, tmdb)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    return ParsedFeed(tuple(entries), skipped)


def _diary_entry(item: Mapping[str, Any], lb: str, tmdb: str) -> DiaryEntry | None:
    guid = _text(item.get("id"))
    title = _text(item.get(f"{lb}_filmtitle"))
    if not guid or not title or guid.startswith("letterboxd-list-") or item.get(f"{tmdb}_tvid"):
        return None
    review, spoiler, poster = _description(_text(item.get("summary")))
    return DiaryEntry(
        guid=guid,
        link=_text(item.get("link")),
        film_title=title,
        film_year=_int(item.get(f"{lb}_filmyear"), 1800, 9999),
        tmdb_id=_int(item.get(f"{tmdb}_movieid"), 1, 2**62),
        rating=_rating(item.get(f"{lb}_memberrating")),
        watched_date=_date(item.get(f"{lb}_watcheddate")),
        rewatch=_yes(item.get(f"{lb}_rewatch")),
        liked=_yes(item.get(f"{lb}_memberlike")),
        review=review,
        spoiler=spoiler,
        published=_published(item.get("published_parsed")),
        poster_url=poster,
    )


_IMAGE = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def _description(html: str) -> tuple[str, bool, str | None]:
    """The review text, whether Letterboxd marked it as containing spoilers, and the poster's address."""
    image = _IMAGE.search(html)
    poster = image.group(1) if image and image.group(1).startswith(("https://", "http://")) else None
    paragraphs = [part.strip() for part in html_to_text(html).split("\n\n")]
    spoiler = False
    kept: list[str] = []
    for paragraph in paragraphs:
        bare = _EMPHASIS.sub("", paragraph)
        if bare == SPOILER_NOTICE:
            spoiler = True
        elif paragraph and not _GENERATED_LINE.fullmatch(bare):
            kept.append(paragraph)
    return "\n\n".join(kept), spoiler, poster


def _prefix(namespaces: Mapping[str, str], uri: str, usual: str) -> str:
    """The prefix the feed gives a namespace (feedparser names elements by it), Letterboxd's usual one by default."""
    for prefix, declared in namespaces.items():
        if declared.rstrip("/") == uri and prefix:
            return prefix.lower()
    return usual


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value: object, low: int, high: int) -> int | None:
    text = _text(value)
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if low <= number <= high else None


def _rating(value: object) -> float | None:
    """0.5 to 5 stars in half steps; anything else is no rating."""
    try:
        stars = float(_text(value))
    except ValueError:
        return None
    doubled = stars * 2
    return stars if 1 <= doubled <= 10 and doubled == int(doubled) else None


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(_text(value))
    except ValueError:
        return None


def _yes(value: object) -> bool:
    return _text(value).lower() == "yes"


def _published(value: object) -> datetime | None:
    """feedparser's parsed date (a UTC ``time.struct_time``) as an aware datetime."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except ValueError:
        return None


def _short(error: object) -> str:
    return str(error).splitlines()[0][:120] if error else "unreadable"
