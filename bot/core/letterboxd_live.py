"""Letterboxd, live: what one read of a member's public RSS feed gives the core.

The feed client (``bot.services.letterboxd_feed``) fetches ``{LETTERBOXD_BASE_URL}/{username}/rss/`` and answers
with a :class:`FeedResult`; the core never imports the service, it takes any :class:`FeedReader`.

- A read never raises for the feed's sake: a missing member is :attr:`FeedStatus.NOT_FOUND`, everything else that
  went wrong (timeouts, 5xx after retries, 429, malformed XML, a feed larger than the client accepts) is
  :attr:`FeedStatus.FAILED` with a short ``reason`` safe to log and show, and ``retry_after`` (seconds) when the feed
  asked the bot to wait.
- A read given the ``etag`` and ``last_modified`` of the previous answer is conditional; an unchanged feed is
  :attr:`FeedStatus.NOT_MODIFIED` (no entries; keep the previous validators).
- :attr:`FeedResult.entries` holds diary entries only (a film logged, rated or reviewed), newest first as the feed
  lists them; list entries and anything without a film are counted in ``skipped``. Each is identified by its
  ``guid`` (Letterboxd's ``letterboxd-review-…`` / ``letterboxd-watch-…``): an edited review keeps its guid.
- Review text is plain text: the feed's HTML description without the poster image and without Letterboxd's spoiler
  notice, paragraphs separated by a blank line, entities decoded. It is member text: escape it before rendering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

#: Letterboxd's usernames: 2 to 15 letters, digits and underscores (what its sign-up form accepts).
USERNAME_RE = re.compile(r"[A-Za-z0-9_]{2,15}")


def valid_username(name: str) -> bool:
    """Whether ``name`` can be a Letterboxd username (and so is safe in the feed's path)."""
    return USERNAME_RE.fullmatch(name) is not None


class FeedStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    NOT_FOUND = "not_found"
    FAILED = "failed"


@dataclass(frozen=True)
class DiaryEntry:
    """One diary entry of a member's feed.

    ``rating`` is the member's stars (0.5 to 5 in half steps) or None when unrated; ``watched_date`` the day the
    member says they watched it; ``published`` when the entry was posted (aware, UTC); ``tmdb_id`` the film's TMDb
    movie id when the feed gives one (a TV entry gives none); ``poster_url`` the poster the feed shows, if any."""

    guid: str
    link: str
    film_title: str
    film_year: int | None
    tmdb_id: int | None
    rating: float | None
    watched_date: date | None
    rewatch: bool
    liked: bool
    review: str
    spoiler: bool
    published: datetime | None
    poster_url: str | None = None


@dataclass(frozen=True)
class FeedResult:
    """The answer of one read. ``etag`` and ``last_modified`` are the validators to send with the next read (given on
    ``ok``; on ``not_modified`` the server may repeat them or not: keep the previous ones when None)."""

    status: FeedStatus
    entries: tuple[DiaryEntry, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    reason: str | None = None
    retry_after: float | None = None
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return self.status is FeedStatus.OK


class FeedReader(Protocol):
    """Reads one member's feed (the service implements it; tests may point it at the loopback feed server)."""

    async def read(self, username: str, *, etag: str | None = None, last_modified: str | None = None) -> FeedResult:
        """The member's feed; conditional when given the previous answer's validators. Never raises for the feed's
        sake (see the module)."""
        ...
