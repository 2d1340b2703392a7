"""Watchlists, and what members and the club have watched: the "hasn't seen it yet" half of every recommendation."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.clock import Clock, to_db
from bot.db import watch as sql
from bot.db.database import Database


async def add_to_watchlist(
    db: Database, clock: Clock, guild_id: int, user_id: int, film_id: int, source: str = "discord"
) -> bool:
    """Add a film to a member's watchlist; return False if it was already there."""
    now = to_db(clock.now())
    return await db.execute_rowcount(sql.ADD_TO_WATCHLIST, (guild_id, user_id, film_id, source, now)) > 0


async def remove_from_watchlist(db: Database, guild_id: int, user_id: int, film_id: int) -> bool:
    return await db.execute_rowcount(sql.REMOVE_FROM_WATCHLIST, (guild_id, user_id, film_id)) > 0


async def watchlist(db: Database, guild_id: int, user_id: int) -> list[int]:
    """A member's watchlist, oldest addition first."""
    return [row[0] for row in await db.fetchall(sql.WATCHLIST, (guild_id, user_id))]


async def watchlisted_by(db: Database, guild_id: int, film_id: int) -> list[int]:
    return [row[0] for row in await db.fetchall(sql.WATCHLISTED_BY, (guild_id, film_id))]


async def watchlist_counts(db: Database, guild_id: int) -> dict[int, int]:
    """film id -> how many members have it on their watchlist."""
    return {row[0]: int(row[1]) for row in await db.fetchall(sql.WATCHLIST_COUNTS, (guild_id,))}


async def mark_watched(
    db: Database, clock: Clock, guild_id: int, user_id: int, film_id: int, source: str = "manual"
) -> bool:
    now = to_db(clock.now())
    return await db.execute_rowcount(sql.MARK_WATCHED, (guild_id, user_id, film_id, source, now)) > 0


async def unmark_watched(db: Database, guild_id: int, user_id: int, film_id: int) -> bool:
    return await db.execute_rowcount(sql.UNMARK_WATCHED, (guild_id, user_id, film_id)) > 0


async def seen_by(db: Database, guild_id: int, user_ids: Iterable[int]) -> dict[int, set[int]]:
    """member -> films they have seen: marked watched, or rated (a rating implies a viewing)."""
    seen: dict[int, set[int]] = {}
    for user_id in user_ids:
        rows = await db.fetchall(sql.SEEN_BY_MEMBER, {"guild_id": guild_id, "user_id": user_id})
        seen[user_id] = {row[0] for row in rows}
    return seen


async def mark_club_watched(
    db: Database, clock: Clock, guild_id: int, film_id: int, source: str = "manual", reference: str | None = None
) -> bool:
    now = to_db(clock.now())
    return await db.execute_rowcount(sql.MARK_CLUB_WATCHED, (guild_id, film_id, source, reference, now)) > 0


async def unmark_club_watched(db: Database, guild_id: int, film_id: int) -> bool:
    return await db.execute_rowcount(sql.UNMARK_CLUB_WATCHED, (guild_id, film_id)) > 0


async def club_watched(db: Database, guild_id: int) -> set[int]:
    """Films the club has screened (or a moderator marked as seen)."""
    return {row[0] for row in await db.fetchall(sql.CLUB_WATCHED, (guild_id,))}
