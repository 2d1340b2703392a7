"""Letterboxd, live: members link their Letterboxd account in a server, the bot follows its public RSS feed, posts
new diary entries to the club's diary channel and imports ratings and reviews, each by the member's own opt-in.

Linking (per server, only for oneself; moderators may unlink anyone): :func:`link_account`, :func:`unlink_account`,
:func:`set_options`, :func:`account_status`. Both opt-ins (``diary``, ``import``) are off until the member turns
them on. Linking another name starts over (nothing of the old feed is kept). A member who leaves the server is
unlinked there (:func:`member_left`, called through bot.core.leavers).

Following: one persisted timer per link (kind :data:`TIMER_KIND`, key ``guild:user``) that moves itself forward after
each check: every ``interval`` minutes, jittered by up to a tenth either way, so a thousand members' reads spread
out; a feed that failed ``n`` times in a row is read ``2**n`` times less often (at most once a day, and never
before the feed's own Retry-After). It lives in the database, so it survives restarts, and the timer service runs it
exactly once across processes and shards. After :data:`TELL_AFTER` failures in a row the member is told, once per
run of failures (the cog sends a DM; /letterboxd status shows the last error too).

A check (:func:`check_feed`) reads the feed conditionally (ETag, Last-Modified: an unchanged feed costs a 304) and
handles each diary entry exactly once by its guid, in one transaction with everything it writes:

- a new entry is recorded; with ``import`` on, its rating and review are imported exactly as the file import does
  (bot.core.letterboxd: source letterboxd, a review written on Discord is never overwritten, seen marks); with
  ``diary`` on and a diary channel set, a diary post is queued (taken by one sender, so never posted twice; a
  crash between taking and sending loses that one post rather than doubling it);
- an entry already handled whose content changed (an edited review: same guid, new text or rating) updates the
  imported review (it is newer than the entry's earlier revision), and is not posted again;
- an entry already handled while ``import`` was off (or edited then) is imported, as it now reads, once ``import``
  is on (not posted again): turning ``import`` on makes the next read unconditional, so the entries the feed still
  holds are caught up; each entry records whether its newest content was imported;
- an entry that left the feed (deleted on Letterboxd, or older than the feed's last fifty) is left alone.

The first successful check of a link takes the entries the feed already holds as handled (and imports them with
``import`` on) without posting them: linking does not flood the diary channel with a member's past.

Films: by the feed's TMDb id first (a curated film or one of the server's own), then by title and year (the file
import's matching); with ``import`` on, an entry that matches nothing becomes one of the server's own films (the
rules of bot.core.server_films). Without ``import``, a diary post names an unmatched film as the feed writes it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core import letterboxd as file_import
from bot.core.clock import Clock, from_db, to_db
from bot.core.errors import UserError
from bot.core.guilds import get_settings
from bot.core.letterboxd_live import DiaryEntry, FeedReader, FeedResult, FeedStatus, valid_username
from bot.core.reviews import MAX_REVIEW_LENGTH
from bot.core.search import ClubTitles, IndexEntry
from bot.core.shards import ShardSet
from bot.core.timers import TimerService
from bot.db import films as films_db
from bot.db import letterboxd_follow as store
from bot.db.database import Database
from bot.db.letterboxd_follow import HandledEntry, Link, PendingPost

log = logging.getLogger(__name__)

TIMER_KIND = "letterboxd-feed"
#: The jitter of every interval: up to this share of it, either way.
JITTER = 0.1
#: A failing feed waits ``interval * 2**failures``, at most this long.
MAX_BACKOFF = timedelta(hours=24)
#: After this many failed checks in a row the member is told (once per run of failures).
TELL_AFTER = 3
#: A diary post's review excerpt, in characters.
EXCERPT_LENGTH = 300
#: How soon after linking the first check runs.
FIRST_CHECK = timedelta(seconds=5)

USERNAME_RULES = "Letterboxd usernames are 2 to 15 letters, digits or underscores (as in letterboxd.com/name/)."

TitlesFor = Callable[[int], Awaitable[ClubTitles]]


def timer_key(guild_id: int, user_id: int) -> str:
    return f"{guild_id}:{user_id}"


def parse_timer_key(key: str) -> tuple[int, int]:
    guild, user = key.split(":")
    return int(guild), int(user)


def clean_username(username: str) -> str:
    """The name as Letterboxd writes it (lower case; a pasted profile address or @name is accepted), or UserError."""
    name = username.strip().rstrip("/")
    for prefix in ("https://", "http://", "www.", "letterboxd.com/", "@"):
        if name.lower().startswith(prefix):
            name = name[len(prefix) :]
    if not valid_username(name):
        raise UserError(USERNAME_RULES)
    return name.lower()


# -- linking -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Linked:
    link: Link
    #: Import was just turned on for a link of the same name: the entries its feed holds that were handled without
    #: import are imported at the next check.
    catching_up: bool = False


async def link_account(
    db: Database,
    clock: Clock,
    timers: TimerService,
    guild_id: int,
    user_id: int,
    username: str,
    *,
    diary: bool | None = None,
    import_entries: bool | None = None,
) -> Linked:
    """Link a member's Letterboxd account in one server and check its feed in a moment. The opt-ins not given stay
    as they were (off for a new link). Linking the same name again only changes the opt-ins (and checks the feed in
    a moment, without waiting for the interval); another name starts over (nothing of the old feed is kept).
    Turning import on for a link of the same name imports, at that check, what was handled without it."""
    name = clean_username(username)
    catching_up = False
    async with db.transaction() as tx:
        current = await store.get_link(tx, guild_id, user_id)
        same = current is not None and current.username == name
        if current is not None and same:
            await store.set_options(
                tx,
                guild_id,
                user_id,
                diary=current.diary if diary is None else diary,
                import_entries=current.import_entries if import_entries is None else import_entries,
            )
            catching_up = bool(import_entries) and not current.import_entries
            if catching_up:  # the next check reads the whole feed and imports what was handled without (_handle)
                await store.forget_validators(tx, guild_id, user_id)
        else:
            await store.forget_entries(tx, guild_id, user_id)
            await store.link(
                tx,
                guild_id,
                user_id,
                name,
                diary=bool(diary),
                import_entries=bool(import_entries),
                now=to_db(clock.now()),
            )
    key, now = timer_key(guild_id, user_id), clock.now()
    pending = await timers.pending(TIMER_KIND, key) if same else None
    # A new link, or the member asks again: check in a moment. A check that is due is running (or about to): it may
    # have read the feed already, so one more is asked for; the running one leaves it standing (TimerService.move_on).
    if pending is None or pending.due_at > now + FIRST_CHECK or pending.due_at <= now:
        await timers.schedule(TIMER_KIND, key, now + FIRST_CHECK, guild_id=guild_id)
    found = await store.get_link(db, guild_id, user_id)
    assert found is not None  # noqa: S101 - written just above
    return Linked(found, catching_up)


async def unlink_account(db: Database, timers: TimerService, guild_id: int, user_id: int) -> Link | None:
    """Stop following a member's feed in a server; the link that was removed, or None. Imported reviews stay."""
    async with db.transaction() as tx:
        current = await store.get_link(tx, guild_id, user_id)
        if current is not None:
            await store.unlink(tx, guild_id, user_id)
    await timers.cancel(TIMER_KIND, timer_key(guild_id, user_id))
    return current


async def linked_members(db: Database, guild_id: int) -> list[int]:
    """Who has an account linked in the server (whose leaving the server bot.core.leavers reports)."""
    return await store.linked_members(db, guild_id)


async def member_left(db: Database, timers: TimerService, guild_id: int, user_id: int) -> Link | None:
    """The member left the server: their feed is no longer followed there (unlinked, as :func:`unlink_account` does:
    what was imported stays; a diary post still queued is dropped). The link removed, or None."""
    removed = await unlink_account(db, timers, guild_id, user_id)
    if removed is not None:
        log.info("letterboxd: member %s left guild %s; %s is unlinked there", user_id, guild_id, removed.username)
    return removed


@dataclass(frozen=True)
class AccountStatus:
    link: Link
    entries: int  # diary entries handled
    next_check: datetime | None

    @property
    def last_checked(self) -> datetime | None:
        return None if self.link.last_checked is None else from_db(self.link.last_checked)


async def account_status(db: Database, timers: TimerService, guild_id: int, user_id: int) -> AccountStatus | None:
    current = await store.get_link(db, guild_id, user_id)
    if current is None:
        return None
    pending = await timers.pending(TIMER_KIND, timer_key(guild_id, user_id))
    entries = await store.count_entries(db, guild_id, user_id)
    return AccountStatus(current, entries, None if pending is None else pending.due_at)


async def rearm(db: Database, clock: Clock, timers: TimerService, interval: timedelta, shards: ShardSet) -> int:
    """At start-up: give every link of these shards without a pending check one (a link whose timer failed for good,
    or was lost), spread over one interval; return how many were armed."""
    keys = [
        (current.guild_id, timer_key(current.guild_id, current.user_id))
        for current in await store.all_links(db)
        if shards.owns(current.guild_id)
    ]
    pending = await timers.pending_pairs([(TIMER_KIND, key) for _guild_id, key in keys])
    armed = 0
    for guild_id, key in keys:
        if (TIMER_KIND, key) not in pending:
            due = clock.now() + interval * random.random()
            await timers.schedule(TIMER_KIND, key, due, guild_id=guild_id)
            armed += 1
    return armed


# -- checking a feed ---------------------------------------------------------------------------------------------------


def next_check(now: datetime, interval: timedelta, failures: int, retry_after: float | None = None) -> datetime:
    """When to read a feed again: the interval jittered by up to :data:`JITTER` either way; after ``failures`` failed
    checks in a row, ``2**failures`` intervals (at most :data:`MAX_BACKOFF`), never before the Retry-After."""
    wait = min(interval * (2 ** min(failures, 16)), MAX_BACKOFF) if failures else interval
    wait *= 1 + JITTER * (2 * random.random() - 1)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=min(retry_after, MAX_BACKOFF.total_seconds())))
    return now + wait


def fingerprint(entry: DiaryEntry) -> str:
    """What an entry says, hashed: a new one under the same guid is an edit."""
    said = [
        entry.film_title,
        entry.film_year,
        entry.tmdb_id,
        entry.rating,
        entry.watched_date.isoformat() if entry.watched_date else None,
        entry.rewatch,
        entry.liked,
        entry.review,
        entry.spoiler,
    ]
    return hashlib.sha256(json.dumps(said, ensure_ascii=False).encode()).hexdigest()


def half_stars(rating: float | None) -> int | None:
    """0.5 to 5 stars as 1 to 10 half stars; anything else None."""
    if rating is None:
        return None
    half = round(rating * 2)
    return half if 1 <= half <= 10 else None


@dataclass(frozen=True)
class DiaryPost:
    """A diary entry as the diary channel shows it (member text unescaped: the renderer escapes it)."""

    guild_id: int
    user_id: int
    guid: str
    username: str
    link: str
    title: str
    year: int | None
    film_id: int | None
    rating: int | None  # half stars
    excerpt: str
    spoiler: bool
    rewatch: bool
    liked: bool
    watched: str | None  # ISO date
    poster_url: str | None

    def encode(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def decode(cls, text: str) -> DiaryPost:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)


def excerpt(review: str, limit: int = EXCERPT_LENGTH) -> str:
    text = review.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class CheckOutcome:
    status: FeedStatus | None  # None: the link is gone (nothing read)
    new: int = 0
    edited: int = 0
    imported: int = 0  # entries whose rating or review went into the club (for the first time)
    caught_up: int = 0  # of those, entries handled earlier without import
    tell_failing: bool = False
    next_at: datetime | None = None
    reason: str | None = None


def _entry(entry: DiaryEntry, position: int, revision: int) -> file_import.Entry:
    """A feed entry as a row of the file import (a diary.csv row): the newest revision of an entry sorts last."""
    body = entry.review.strip() or None
    if body is not None and len(body) > MAX_REVIEW_LENGTH:
        body = body[: MAX_REVIEW_LENGTH - 1].rstrip() + "…"
    return file_import.Entry(
        kind=file_import.Kind.DIARY,
        line=revision * 100_000 + (99_999 - min(position, 99_999)),  # the feed lists newest first
        name=entry.film_title,
        year=entry.film_year,
        rating=half_stars(entry.rating),
        body=body,
        logged=entry.published.date() if entry.published else None,
        watched=entry.watched_date,
        spoiler=body is not None and entry.spoiler,
        tmdb_id=entry.tmdb_id,
    )


async def _by_tmdb_id(db: Database, guild_id: int, entries: Sequence[DiaryEntry]) -> dict[int, IndexEntry]:
    """The films here (curated first, then the server's own) that the entries' TMDb ids name, by TMDb id."""
    ids = {entry.tmdb_id for entry in entries if entry.tmdb_id is not None}
    if not ids:
        return {}
    known = [film for film in await films_db.films_with_ids(db, guild_id, ids, ()) if not film.retired]
    films = await films_db.films_by_ids(db, [film.id for film in known])
    found: dict[int, IndexEntry] = {}
    for film in sorted(known, key=lambda f: (f.guild_id is not None, f.id)):
        full = films.get(film.id)
        if film.tmdb_id is not None and full is not None:
            found.setdefault(film.tmdb_id, IndexEntry(full.id, full.slug, full.title, full.year))
    return found


async def check_feed(
    db: Database,
    clock: Clock,
    reader: FeedReader,
    titles_for: TitlesFor,
    guild_id: int,
    user_id: int,
    *,
    interval: timedelta,
) -> CheckOutcome:
    """Read one member's feed and handle what is new (see the module); when to check next is in the outcome."""
    current = await store.get_link(db, guild_id, user_id)
    if current is None:
        return CheckOutcome(None)
    result = await reader.read(current.username, etag=current.etag, last_modified=current.last_modified)
    now = clock.now()
    if result.status is FeedStatus.NOT_MODIFIED:
        async with db.transaction() as tx:
            await store.checked(
                tx,
                current,
                etag=result.etag or current.etag,
                last_modified=result.last_modified or current.last_modified,
                now=to_db(now),
                imported=0,
            )
        return CheckOutcome(result.status, next_at=next_check(now, interval, 0))
    if result.status is not FeedStatus.OK:
        return await _failed(db, current, result, now, interval)
    return await _handle(db, clock, titles_for, current, result, interval)


async def _failed(db: Database, current: Link, result: FeedResult, now: datetime, interval: timedelta) -> CheckOutcome:
    reason = result.reason or (
        "no Letterboxd member has that name (or their profile is private)"
        if result.status is FeedStatus.NOT_FOUND
        else "the feed could not be read"
    )
    await store.failed(db, current, error=reason, now=to_db(now))
    failures = current.failures + 1
    tell = failures >= TELL_AFTER and await store.take_telling(db, current.guild_id, current.user_id)
    log.info(
        "letterboxd: feed of %s (guild %s, member %s) failed (%s in a row): %s",
        current.username,
        current.guild_id,
        current.user_id,
        failures,
        reason,
    )
    return CheckOutcome(
        result.status,
        tell_failing=tell,
        next_at=next_check(now, interval, failures, result.retry_after),
        reason=reason,
    )


@dataclass(frozen=True)
class _Todo:
    """A feed entry this check handles: new (``before`` None), edited (a new fingerprint), or handled before without
    import and imported now (the same fingerprint)."""

    entry: DiaryEntry
    mark: str  # its fingerprint
    revision: int
    before: HandledEntry | None

    @property
    def edited(self) -> bool:
        return self.before is not None and self.before.fingerprint != self.mark

    @property
    def was_imported(self) -> bool:
        return self.before is not None and self.before.imported


def _todo(entries: Sequence[DiaryEntry], handled: dict[str, HandledEntry], importing: bool) -> list[_Todo]:
    todo: list[_Todo] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.guid in seen:
            continue
        seen.add(entry.guid)
        mark = fingerprint(entry)
        before = handled.get(entry.guid)
        if before is None:
            todo.append(_Todo(entry, mark, 0, None))
        elif before.fingerprint != mark:
            todo.append(_Todo(entry, mark, before.revision + 1, before))
        elif importing and not before.imported:  # handled while import was off: caught up now
            todo.append(_Todo(entry, mark, before.revision, before))
    return todo


async def _handle(
    db: Database, clock: Clock, titles_for: TitlesFor, current: Link, result: FeedResult, interval: timedelta
) -> CheckOutcome:
    guild_id, user_id = current.guild_id, current.user_id
    handled = await store.handled(db, guild_id, user_id, {entry.guid for entry in result.entries})
    todo = _todo(result.entries, handled, current.import_entries)
    if not todo:  # nothing new, edited or waiting for its import: no settings, titles or matching to read
        async with db.transaction() as tx:
            await store.checked(
                tx, current, etag=result.etag, last_modified=result.last_modified, now=to_db(clock.now()), imported=0
            )
        return CheckOutcome(FeedStatus.OK, next_at=next_check(clock.now(), interval, 0))
    settings = await get_settings(db, guild_id)
    posting = current.diary and current.primed and settings.diary_channel_id is not None
    titles = await titles_for(guild_id)
    pinned_by_tmdb = await _by_tmdb_id(db, guild_id, [item.entry for item in todo])
    pinned = {
        position: pinned_by_tmdb[item.entry.tmdb_id]
        for position, item in enumerate(todo)
        if item.entry.tmdb_id is not None and item.entry.tmdb_id in pinned_by_tmdb
    }
    parsed = file_import.ParsedExport(
        ("the Letterboxd feed",),
        tuple(_entry(item.entry, position, item.revision) for position, item in enumerate(todo)),
        0,
    )
    moment = clock.now()
    matching: file_import.Matching | None = None
    if current.import_entries and todo:
        matching = await asyncio.to_thread(
            file_import.match_entries,
            parsed,
            titles,
            unmatched=file_import.Unmatched.ADD,
            clock=clock,
            pinned=pinned,
        )
    new = edited = imported = caught_up = 0
    async with db.transaction() as tx:
        films: Sequence[int | None]
        if matching is not None:
            applied = await file_import.apply_in(
                tx, moment, titles, guild_id=guild_id, user_id=user_id, parsed=parsed, matching=matching
            )
            films = applied.films
        else:
            films = [
                pinned[position].film_id
                if position in pinned
                else file_import.match_film(titles, item.entry.film_title, item.entry.film_year)
                for position, item in enumerate(todo)
            ]
        importing = matching is not None
        inserts: list[tuple[str, str, int | None, str | None]] = []
        for item, film_id in zip(todo, films, strict=True):
            if item.before is None:
                new += 1
                post = _post(current, item.entry, film_id).encode() if posting else None
                inserts.append((item.entry.guid, item.mark, film_id, post))
            elif item.edited:
                done = await store.update_entry(
                    tx,
                    guild_id,
                    user_id,
                    item.entry.guid,
                    old=item.before.fingerprint,
                    new=item.mark,
                    film_id=film_id,
                    imported=importing,
                )
                edited += done
                caught_up += done and importing and not item.was_imported
            else:
                caught_up += await store.mark_imported(
                    tx, guild_id, user_id, item.entry.guid, fingerprint=item.mark, film_id=film_id
                )
            # entries newly imported (an edit of one imported already updates one already counted)
            imported += bool(importing and film_id and not item.was_imported)
        await store.insert_entries(tx, guild_id, user_id, inserts, to_db(moment), imported=importing)
        await store.checked(
            tx, current, etag=result.etag, last_modified=result.last_modified, now=to_db(moment), imported=imported
        )
    if new or edited or caught_up:
        log.info(
            "letterboxd: %s new and %s edited entries of %s (guild %s, member %s), %s imported (%s handled before "
            "without import)",
            new,
            edited,
            current.username,
            guild_id,
            user_id,
            imported,
            caught_up,
        )
    return CheckOutcome(
        FeedStatus.OK,
        new=new,
        edited=edited,
        imported=imported,
        caught_up=caught_up,
        next_at=next_check(clock.now(), interval, 0),
    )


def _post(current: Link, entry: DiaryEntry, film_id: int | None) -> DiaryPost:
    return DiaryPost(
        guild_id=current.guild_id,
        user_id=current.user_id,
        guid=entry.guid,
        username=current.username,
        link=entry.link,
        title=entry.film_title,
        year=entry.film_year,
        film_id=film_id,
        rating=half_stars(entry.rating),
        excerpt=excerpt(entry.review),
        spoiler=entry.spoiler,
        rewatch=entry.rewatch,
        liked=entry.liked,
        watched=entry.watched_date.isoformat() if entry.watched_date else None,
        poster_url=entry.poster_url,
    )


# -- the diary posts -----------------------------------------------------------------------------------------------


async def pending_posts(db: Database, guild_id: int, user_id: int) -> list[PendingPost]:
    return await store.pending_posts(db, guild_id, user_id)


async def take_post(db: Database, post: PendingPost) -> DiaryPost | None:
    """Take a queued diary post to send it: the post for exactly one caller, None for everyone else."""
    return DiaryPost.decode(post.post) if await store.take_post(db, post) else None


async def give_back(db: Database, post: PendingPost) -> None:
    """A post that could not be sent (Discord failed): queued again for the next check."""
    await store.return_post(db, post)
