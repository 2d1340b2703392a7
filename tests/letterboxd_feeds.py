"""Letterboxd feed answers for tests of what the core does with them: diary entries as the feed client gives them
(bot.core.letterboxd_live) and a scripted :class:`FeedReader` that answers them in turn. The client itself reads the
loopback feed server (tests/letterboxd_feed_double.py); the end-to-end tests run the bot against that server."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.core.letterboxd_live import DiaryEntry, FeedResult, FeedStatus

PUBLISHED = datetime(2026, 2, 27, 20, 0, tzinfo=UTC)


def entry(guid: str, title: str, year: int | None, **fields: object) -> DiaryEntry:
    values: dict[str, object] = {
        "guid": guid,
        "link": f"https://letterboxd.com/alice/film/{guid}/",
        "film_title": title,
        "film_year": year,
        "tmdb_id": None,
        "rating": 4.0,
        "watched_date": date(2026, 2, 27),
        "rewatch": False,
        "liked": False,
        "review": "",
        "spoiler": False,
        "published": PUBLISHED,
    }
    values.update(fields)
    return DiaryEntry(**values)  # type: ignore[arg-type]


class ScriptedFeed:
    """A member's feed as the service would answer it: each read takes the next scripted answer (the last repeats),
    and remembers the validators it was sent."""

    def __init__(self, *answers: FeedResult) -> None:
        self.answers = list(answers)
        self.reads: list[tuple[str, str | None, str | None]] = []

    async def read(self, username: str, *, etag: str | None = None, last_modified: str | None = None) -> FeedResult:
        self.reads.append((username, etag, last_modified))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def ok(*entries: DiaryEntry, etag: str = '"v1"') -> FeedResult:
    return FeedResult(FeedStatus.OK, tuple(entries), etag=etag, last_modified="Fri, 27 Feb 2026 20:00:00 GMT")
