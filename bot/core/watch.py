"""Watchlists, and what members and the club have watched: the "hasn't seen it yet" half of every recommendation.

Rules:
- A film is on a member's watchlist at most once; adding it again changes nothing.
- Marking a film as seen takes it off the member's watchlist (so does reviewing it, see bot.core.reviews).
- A member has seen a film if they marked it watched or reviewed it; unmarking leaves a review in place.
- The club's own record (screenings, or a moderator's correction) is separate from each member's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import Clock, from_db, to_db
from bot.db import reviews as reviews_store
from bot.db import watch as store
from bot.db.database import Database


async def add_to_watchlist(
    db: Database, clock: Clock, guild_id: int, user_id: int, film_id: int, source: str = "discord"
) -> bool:
    """Add a film to a member's watchlist; return False if it was already there."""
    return await store.add_to_watchlist(db, guild_id, user_id, film_id, source, to_db(clock.now()))


async def remove_from_watchlist(db: Database, guild_id: int, user_id: int, film_id: int) -> bool:
    return await store.remove_from_watchlist(db, guild_id, user_id, film_id)


async def watchlist(db: Database, guild_id: int, user_id: int) -> list[int]:
    """A member's watchlist, oldest addition first."""
    return await store.watchlist(db, guild_id, user_id)


async def watchlisted_by(db: Database, guild_id: int, film_id: int) -> list[int]:
    return await store.watchlisted_by(db, guild_id, film_id)


async def watchlist_counts(db: Database, guild_id: int) -> dict[int, int]:
    """film id -> how many members have it on their watchlist."""
    return await store.watchlist_counts(db, guild_id)


async def mark_watched(
    db: Database, clock: Clock, guild_id: int, user_id: int, film_id: int, source: str = "manual"
) -> bool:
    return await store.mark_watched(db, guild_id, user_id, film_id, source, to_db(clock.now()))


async def unmark_watched(db: Database, guild_id: int, user_id: int, film_id: int) -> bool:
    return await store.unmark_watched(db, guild_id, user_id, film_id)


async def seen_by(db: Database, guild_id: int, user_ids: Iterable[int]) -> dict[int, set[int]]:
    """member -> films they have seen: marked watched, or rated (a rating implies a viewing)."""
    return {user_id: await store.seen_by_member(db, guild_id, user_id) for user_id in user_ids}


async def mark_club_watched(
    db: Database, clock: Clock, guild_id: int, film_id: int, source: str = "manual", reference: str | None = None
) -> bool:
    return await store.mark_club_watched(db, guild_id, film_id, source, reference, to_db(clock.now()))


async def unmark_club_watched(db: Database, guild_id: int, film_id: int) -> bool:
    return await store.unmark_club_watched(db, guild_id, film_id)


async def club_watched(db: Database, guild_id: int) -> set[int]:
    """Films the club has screened (or a moderator marked as seen)."""
    return await store.club_watched(db, guild_id)


WATCHLIST_PAGE_SIZE = 10


@dataclass(frozen=True)
class WatchlistEntry:
    film_id: int
    source: str  # "discord" or "letterboxd"
    added_at: datetime


@dataclass(frozen=True)
class WatchlistPage:
    user_id: int
    count: int
    entries: tuple[WatchlistEntry, ...]
    page: int
    pages: int


@dataclass(frozen=True)
class SeenChange:
    changed: bool  # the mark was added (or removed)
    unwatchlisted: bool = False  # marking it seen took it off the watchlist
    still_seen: bool = False  # after unmarking: a review still counts as seen


async def watchlist_size(db: Database, guild_id: int, user_id: int) -> int:
    return await store.watchlist_size(db, guild_id, user_id)


async def on_watchlist(db: Database, guild_id: int, user_id: int, film_id: int) -> bool:
    return await store.on_watchlist(db, guild_id, user_id, film_id)


async def watchlist_page(
    db: Database, guild_id: int, user_id: int, page: int = 0, per_page: int = WATCHLIST_PAGE_SIZE
) -> WatchlistPage:
    """One page of a member's watchlist, oldest addition first; a page past the end shows the last one."""
    count = await watchlist_size(db, guild_id, user_id)
    pages = max(1, -(-count // per_page))
    page = min(max(page, 0), pages - 1)
    records = await store.watchlist_page(db, guild_id, user_id, per_page, page * per_page) if count else []
    entries = tuple(WatchlistEntry(r.film_id, r.source, from_db(r.added_at)) for r in records)
    return WatchlistPage(user_id, count, entries, page, pages)


async def seen_count(db: Database, guild_id: int, user_id: int) -> int:
    """How many films a member has seen: marked watched or reviewed."""
    return await store.seen_count(db, guild_id, user_id)


async def mark_seen(db: Database, clock: Clock, guild_id: int, user_id: int, film_id: int) -> SeenChange:
    """A member says they have seen a film: recorded, and taken off their watchlist, in one transaction."""
    now = to_db(clock.now())
    async with db.transaction() as tx:
        added = await store.mark_watched(tx, guild_id, user_id, film_id, "manual", now)
        unwatchlisted = await store.remove_from_watchlist(tx, guild_id, user_id, film_id)
    return SeenChange(changed=added, unwatchlisted=unwatchlisted)


async def unmark_seen(db: Database, guild_id: int, user_id: int, film_id: int) -> SeenChange:
    """Undo a member's "seen" mark; ``still_seen`` says their review of the film still counts as seen."""
    async with db.transaction() as tx:
        removed = await store.unmark_watched(tx, guild_id, user_id, film_id)
        reviewed = await reviews_store.review_exists(tx, guild_id, user_id, film_id)
    return SeenChange(changed=removed, still_seen=reviewed)
