"""Attendance at screenings as stored: members' stretches in the screening's channel, and who was recorded as
attending when it ended."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.db.database import Database, Reader
from bot.db.times import from_db, maybe_from_db, to_db


@dataclass(frozen=True)
class Interval:
    """A stretch a member spent in the screening's channel; ``left_at`` None while they are still there."""

    user_id: int
    joined_at: datetime
    left_at: datetime | None


@dataclass(frozen=True)
class Attendee:
    user_id: int
    seconds: int


OPEN = """
INSERT INTO attendance_intervals (screening_id, user_id, joined_at) VALUES (?, ?, ?)
ON CONFLICT DO NOTHING
"""
CLOSE = "UPDATE attendance_intervals SET left_at = ? WHERE screening_id = ? AND user_id = ? AND left_at IS NULL"
CLOSE_ALL = "UPDATE attendance_intervals SET left_at = ? WHERE screening_id = ? AND left_at IS NULL"
INTERVALS = """
SELECT user_id, joined_at, left_at FROM attendance_intervals WHERE screening_id = ? ORDER BY user_id, joined_at
"""
PRESENT = "SELECT user_id FROM attendance_intervals WHERE screening_id = ? AND left_at IS NULL ORDER BY user_id"
RECORD = """
INSERT INTO attendance (screening_id, guild_id, user_id, seconds, recorded_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
ATTENDEES = "SELECT user_id, seconds FROM attendance WHERE screening_id = ? ORDER BY seconds DESC, user_id"
ATTENDED = "SELECT screening_id FROM attendance WHERE guild_id = ? AND user_id = ?"
RUNNING = """
SELECT id FROM screenings
WHERE channel_id = ? AND status = 'scheduled' AND started_at IS NOT NULL AND completed_at IS NULL
ORDER BY id
"""
RUNNING_IN_GUILD = """
SELECT id FROM screenings
WHERE guild_id = ? AND channel_id IS NOT NULL AND status = 'scheduled' AND started_at IS NOT NULL
ORDER BY id
"""
TOP_ATTENDEES = """
SELECT user_id, count(*) AS attended FROM attendance WHERE guild_id = ? GROUP BY user_id
ORDER BY attended DESC, user_id LIMIT ?
"""
DONE_IN_GUILD = "SELECT id FROM screenings WHERE guild_id = ? AND status = 'done' ORDER BY starts_at DESC, id DESC"
LAST_DONE = """
SELECT id FROM screenings WHERE guild_id = ? AND status = 'done' ORDER BY starts_at DESC, id DESC LIMIT 1
"""


async def open_interval(db: Database, screening_id: int, user_id: int, now: datetime) -> bool:
    """A member came in; False if they already had an open stretch (a repeated event changes nothing)."""
    return await db.execute(OPEN, (screening_id, user_id, to_db(now))) > 0


async def close_interval(db: Database, screening_id: int, user_id: int, now: datetime) -> bool:
    return await db.execute(CLOSE, (to_db(now), screening_id, user_id)) > 0


async def close_all(db: Database, screening_id: int, now: datetime) -> None:
    await db.execute(CLOSE_ALL, (to_db(now), screening_id))


async def intervals(db: Reader, screening_id: int) -> list[Interval]:
    rows = await db.fetchall(INTERVALS, (screening_id,))
    return [Interval(r["user_id"], from_db(r["joined_at"]), maybe_from_db(r["left_at"])) for r in rows]


async def present(db: Reader, screening_id: int) -> list[int]:
    """The members with an open stretch."""
    return [int(r["user_id"]) for r in await db.fetchall(PRESENT, (screening_id,))]


async def record(db: Database, screening_id: int, guild_id: int, attendees: Iterable[Attendee], now: datetime) -> None:
    """Record who attended, all in one transaction (a re-run adds nobody twice)."""
    async with db.transaction() as tx:
        await tx.executemany(RECORD, [(screening_id, guild_id, a.user_id, a.seconds, to_db(now)) for a in attendees])


async def attendees(db: Reader, screening_id: int) -> list[Attendee]:
    """Who attended, longest present first."""
    return [Attendee(int(r["user_id"]), int(r["seconds"])) for r in await db.fetchall(ATTENDEES, (screening_id,))]


async def attended(db: Reader, guild_id: int, user_id: int) -> set[int]:
    """The screenings a member attended in a server."""
    return {int(r["screening_id"]) for r in await db.fetchall(ATTENDED, (guild_id, user_id))}


async def running_in_channel(db: Reader, channel_id: int) -> list[int]:
    """The screenings running now in that voice or stage channel (started, not yet completed)."""
    return [int(r["id"]) for r in await db.fetchall(RUNNING, (channel_id,))]


async def running_in_guild(db: Reader, guild_id: int) -> list[int]:
    return [int(r["id"]) for r in await db.fetchall(RUNNING_IN_GUILD, (guild_id,))]


async def done_in_guild(db: Reader, guild_id: int) -> list[int]:
    """The server's completed screenings, latest first."""
    return [int(r["id"]) for r in await db.fetchall(DONE_IN_GUILD, (guild_id,))]


async def last_done(db: Reader, guild_id: int) -> int | None:
    value = await db.fetchval(LAST_DONE, (guild_id,))
    return None if value is None else int(value)


async def top_attendees(db: Reader, guild_id: int, limit: int) -> list[int]:
    """The members who attended the most of a server's screenings, most first."""
    return [int(r["user_id"]) for r in await db.fetchall(TOP_ATTENDEES, (guild_id, limit))]


async def record_one(db: Database, screening_id: int, guild_id: int, user_id: int, now: datetime) -> bool:
    """Record one attendee (present for ``seconds`` 0: a screening outside Discord); False if already recorded."""
    return await db.execute(RECORD, (screening_id, guild_id, user_id, 0, to_db(now))) > 0
