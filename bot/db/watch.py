"""Watchlists, and what members and the club have watched, as stored: the statements and the records they return."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.database import Database, Reader, Transaction


@dataclass(frozen=True)
class WatchlistRecord:
    """A film on a member's watchlist (``added_at`` as database text)."""

    film_id: int
    source: str
    added_at: str


ADD_TO_WATCHLIST = """
INSERT INTO watchlist (guild_id, user_id, film_id, source, added_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
REMOVE_FROM_WATCHLIST = "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND film_id = ?"
WATCHLIST = "SELECT film_id FROM watchlist WHERE guild_id = ? AND user_id = ? ORDER BY added_at, film_id"
WATCHLISTED_BY = "SELECT user_id FROM watchlist WHERE guild_id = ? AND film_id = ? ORDER BY added_at, user_id"
WATCHLIST_COUNTS = "SELECT film_id, count(*) FROM watchlist WHERE guild_id = ? GROUP BY film_id ORDER BY film_id"

MARK_WATCHED = """
INSERT INTO member_watched (guild_id, user_id, film_id, source, watched_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
UNMARK_WATCHED = "DELETE FROM member_watched WHERE guild_id = ? AND user_id = ? AND film_id = ?"
SEEN_BY_MEMBER = """
SELECT film_id FROM member_watched WHERE guild_id = :guild_id AND user_id = :user_id
UNION SELECT film_id FROM reviews WHERE guild_id = :guild_id AND user_id = :user_id
"""

MARK_CLUB_WATCHED = """
INSERT INTO club_watched (guild_id, film_id, source, reference, watched_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
UNMARK_CLUB_WATCHED = "DELETE FROM club_watched WHERE guild_id = ? AND film_id = ?"
CLUB_WATCHED = "SELECT film_id FROM club_watched WHERE guild_id = ?"

WATCHLIST_SIZE = "SELECT count(*) FROM watchlist WHERE guild_id = ? AND user_id = ?"
# Oldest addition first, like the list a member built; the film id breaks ties so pages never overlap.
WATCHLIST_PAGE = """
SELECT film_id, source, added_at FROM watchlist WHERE guild_id = ? AND user_id = ?
ORDER BY added_at, film_id LIMIT ? OFFSET ?
"""
ON_WATCHLIST = "SELECT 1 FROM watchlist WHERE guild_id = ? AND user_id = ? AND film_id = ?"
SEEN_COUNT = """
SELECT count(*) FROM (
    SELECT film_id FROM member_watched WHERE guild_id = :guild_id AND user_id = :user_id
    UNION SELECT film_id FROM reviews WHERE guild_id = :guild_id AND user_id = :user_id
) AS seen
"""


async def add_to_watchlist(
    db: Database | Transaction, guild_id: int, user_id: int, film_id: int, source: str, now: str
) -> bool:
    """Add a film to a member's watchlist; False if it was there already."""
    return await db.execute(ADD_TO_WATCHLIST, (guild_id, user_id, film_id, source, now)) > 0


async def remove_from_watchlist(db: Database | Transaction, guild_id: int, user_id: int, film_id: int) -> bool:
    return await db.execute(REMOVE_FROM_WATCHLIST, (guild_id, user_id, film_id)) > 0


async def watchlist(db: Reader, guild_id: int, user_id: int) -> list[int]:
    """A member's watchlist, oldest addition first."""
    return [int(r[0]) for r in await db.fetchall(WATCHLIST, (guild_id, user_id))]


async def watchlisted_by(db: Reader, guild_id: int, film_id: int) -> list[int]:
    """The members with a film on their watchlist, earliest first."""
    return [int(r[0]) for r in await db.fetchall(WATCHLISTED_BY, (guild_id, film_id))]


async def watchlist_counts(db: Reader, guild_id: int) -> dict[int, int]:
    """film id -> how many members have it on their watchlist, by film id."""
    return {int(r[0]): int(r[1]) for r in await db.fetchall(WATCHLIST_COUNTS, (guild_id,))}


async def watchlist_size(db: Reader, guild_id: int, user_id: int) -> int:
    return int(await db.fetchval(WATCHLIST_SIZE, (guild_id, user_id)))


async def watchlist_page(db: Reader, guild_id: int, user_id: int, limit: int, offset: int) -> list[WatchlistRecord]:
    """A page of a member's watchlist, oldest addition first (the film id breaks ties)."""
    rows = await db.fetchall(WATCHLIST_PAGE, (guild_id, user_id, limit, offset))
    return [WatchlistRecord(int(r[0]), r[1], r[2]) for r in rows]


async def on_watchlist(db: Reader, guild_id: int, user_id: int, film_id: int) -> bool:
    return await db.fetchone(ON_WATCHLIST, (guild_id, user_id, film_id)) is not None


async def mark_watched(
    db: Database | Transaction, guild_id: int, user_id: int, film_id: int, source: str, now: str
) -> bool:
    """Record that a member has seen a film; False if it was recorded already."""
    return await db.execute(MARK_WATCHED, (guild_id, user_id, film_id, source, now)) > 0


async def unmark_watched(db: Database | Transaction, guild_id: int, user_id: int, film_id: int) -> bool:
    return await db.execute(UNMARK_WATCHED, (guild_id, user_id, film_id)) > 0


async def seen_by_member(db: Reader, guild_id: int, user_id: int) -> set[int]:
    """The films a member marked watched or reviewed."""
    rows = await db.fetchall(SEEN_BY_MEMBER, {"guild_id": guild_id, "user_id": user_id})
    return {int(r[0]) for r in rows}


async def seen_count(db: Reader, guild_id: int, user_id: int) -> int:
    """How many films a member marked watched or reviewed."""
    return int(await db.fetchval(SEEN_COUNT, {"guild_id": guild_id, "user_id": user_id}))


async def mark_club_watched(
    db: Database, guild_id: int, film_id: int, source: str, reference: str | None, now: str
) -> bool:
    """Record that the club has seen a film; False if it was recorded already."""
    return await db.execute(MARK_CLUB_WATCHED, (guild_id, film_id, source, reference, now)) > 0


async def unmark_club_watched(db: Database, guild_id: int, film_id: int) -> bool:
    return await db.execute(UNMARK_CLUB_WATCHED, (guild_id, film_id)) > 0


async def club_watched(db: Reader, guild_id: int) -> set[int]:
    return {int(r[0]) for r in await db.fetchall(CLUB_WATCHED, (guild_id,))}
