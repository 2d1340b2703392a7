"""Screenings as stored (a film shown to the club at a set time, with its Discord scheduled event).

Every step writes with a condition on the row's state (``... AND status = 'scheduled'``, ``... IS NULL``), so a
step that runs twice changes nothing the second time; the functions say whether a row changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.db.database import Database, Reader, Row, Transaction
from bot.db.shards import on_shards, shard_params
from bot.db.times import from_db, maybe_from_db


class ScreeningStatus(StrEnum):
    PLANNED = "planned"  # stored; the Discord event is being created
    SCHEDULED = "scheduled"  # the Discord event exists
    DONE = "done"  # it happened: marked watched, prompt posted
    CANCELLED = "cancelled"
    FAILED = "failed"  # never set up: Discord refused the event, or its timers could not be armed


@dataclass(frozen=True)
class Screening:
    """A screening as stored: a film shown to the club at a set time, with its Discord scheduled event."""

    id: int
    guild_id: int
    film_id: int
    poll_id: int | None
    created_by: int | None
    channel_id: int | None
    location: str | None
    announce_channel_id: int
    starts_at: datetime
    ends_at: datetime
    remind_minutes: int
    event_id: int | None
    status: ScreeningStatus
    reminded_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    announced_at: datetime | None = None  # the announcement posted (or refused by Discord: the event stands)
    thread_id: int | None = None  # the discussion thread, once opened (it shares its starter post's id)
    thread_archived_at: datetime | None = None
    host_id: int | None = None  # the member hosting it (the host rota, bot.core.hosts)
    created_at: datetime | None = None
    revision: int = 0  # bumped by each move, cancellation or failure (the calendar feed's SEQUENCE)
    modified_at: datetime | None = None  # when the last revision was made

    @property
    def needs_announcement(self) -> bool:
        """The event exists but its announcement never went out (a crash came in between): a re-run posts it."""
        return self.status is ScreeningStatus.SCHEDULED and self.event_id is not None and self.announced_at is None

    @property
    def remind_at(self) -> datetime:
        return self.starts_at - timedelta(minutes=self.remind_minutes)


_COLUMNS = """
id, guild_id, film_id, poll_id, created_by, channel_id, location, announce_channel_id, starts_at, ends_at,
remind_minutes, event_id, status, reminded_at, started_at, completed_at, created_at, announced_at, thread_id,
thread_archived_at, host_id, revision, modified_at
"""
INSERT = """
INSERT INTO screenings (guild_id, film_id, poll_id, created_by, channel_id, location, announce_channel_id, starts_at,
                        ends_at, remind_minutes, created_at)
VALUES (:guild_id, :film_id, :poll_id, :created_by, :channel_id, :location, :announce_channel_id, :starts_at,
        :ends_at, :remind_minutes, :created_at)
RETURNING id
"""
# The f-strings below join constant SQL fragments; values always go through placeholders.
BY_ID = f"SELECT {_COLUMNS} FROM screenings WHERE id = ?"  # noqa: S608
BY_POLL = f"SELECT {_COLUMNS} FROM screenings WHERE poll_id = ?"  # noqa: S608
BY_EVENT = f"SELECT {_COLUMNS} FROM screenings WHERE event_id = ?"  # noqa: S608
UNFINISHED = f"""
SELECT {_COLUMNS} FROM screenings WHERE status IN ('planned', 'scheduled') AND {{on_shards}} ORDER BY id
"""  # noqa: S608
UPCOMING = f"""
SELECT {_COLUMNS} FROM screenings WHERE guild_id = ? AND status IN ('planned', 'scheduled') ORDER BY starts_at, id
"""  # noqa: S608
#: The calendar feed: every screening of the server that ends after a moment (cancelled and failed ones too, so
#: subscribed calendars learn of the cancellation), soonest first.
CALENDAR = f"""
SELECT {_COLUMNS} FROM screenings WHERE guild_id = ? AND ends_at >= ? ORDER BY starts_at, id LIMIT ?
"""  # noqa: S608
PAST = f"""
SELECT {_COLUMNS} FROM screenings WHERE guild_id = ? AND status = 'done' ORDER BY starts_at DESC, id DESC LIMIT ?
"""  # noqa: S608
ATTACH_EVENT = "UPDATE screenings SET event_id = ?, status = 'scheduled' WHERE id = ? AND status = 'planned'"
# A revision (move, cancellation, failure) bumps ``revision`` and sets ``modified_at`` (kept when no moment is given).
FAIL = """
UPDATE screenings SET status = 'failed', revision = revision + 1, modified_at = ?
WHERE id = ? AND status IN ('planned', 'scheduled')
"""
STARTED = "UPDATE screenings SET started_at = ? WHERE id = ? AND started_at IS NULL AND status = 'scheduled'"
MOVE = """
UPDATE screenings SET starts_at = ?, ends_at = ?, revision = revision + 1, modified_at = ?
WHERE id = ? AND status = 'scheduled'
"""
REMINDED = "UPDATE screenings SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL"
ANNOUNCED = "UPDATE screenings SET announced_at = ? WHERE id = ? AND announced_at IS NULL AND event_id IS NOT NULL"
COMPLETE = "UPDATE screenings SET status = 'done', completed_at = ? WHERE id = ? AND status = 'scheduled'"
SET_THREAD = "UPDATE screenings SET thread_id = ? WHERE id = ? AND thread_id IS NULL"
THREAD_ARCHIVED = "UPDATE screenings SET thread_archived_at = ? WHERE id = ? AND thread_archived_at IS NULL"
CANCEL = """
UPDATE screenings SET status = 'cancelled', revision = revision + 1, modified_at = ?
WHERE id = ? AND status IN ('planned', 'scheduled')
"""


def _screening(r: Row) -> Screening:
    return Screening(
        id=r["id"],
        guild_id=r["guild_id"],
        film_id=r["film_id"],
        poll_id=r["poll_id"],
        created_by=r["created_by"],
        channel_id=r["channel_id"],
        location=r["location"],
        announce_channel_id=r["announce_channel_id"],
        starts_at=from_db(r["starts_at"]),
        ends_at=from_db(r["ends_at"]),
        remind_minutes=r["remind_minutes"],
        event_id=r["event_id"],
        status=ScreeningStatus(r["status"]),
        reminded_at=maybe_from_db(r["reminded_at"]),
        started_at=maybe_from_db(r["started_at"]),
        completed_at=maybe_from_db(r["completed_at"]),
        announced_at=maybe_from_db(r["announced_at"]),
        thread_id=r["thread_id"],
        thread_archived_at=maybe_from_db(r["thread_archived_at"]),
        host_id=r["host_id"],
        created_at=maybe_from_db(r["created_at"]),
        revision=r["revision"],
        modified_at=maybe_from_db(r["modified_at"]),
    )


async def _one(db: Reader, sql: str, value: int) -> Screening | None:
    row = await db.fetchone(sql, (value,))
    return None if row is None else _screening(row)


async def by_id(db: Reader, screening_id: int) -> Screening | None:
    return await _one(db, BY_ID, screening_id)


async def by_poll(db: Reader, poll_id: int) -> Screening | None:
    """The screening of a poll's winner (at most one per poll)."""
    return await _one(db, BY_POLL, poll_id)


async def by_event(db: Reader, event_id: int) -> Screening | None:
    return await _one(db, BY_EVENT, event_id)


async def upcoming(db: Reader, guild_id: int) -> list[Screening]:
    """The server's planned and scheduled screenings, soonest first."""
    return [_screening(row) for row in await db.fetchall(UPCOMING, (guild_id,))]


async def for_calendar(db: Reader, guild_id: int, since: str, limit: int) -> list[Screening]:
    """The server's screenings (any status) that end at or after ``since``, soonest first, at most ``limit``."""
    return [_screening(row) for row in await db.fetchall(CALENDAR, (guild_id, since, limit))]


async def past(db: Reader, guild_id: int, limit: int) -> list[Screening]:
    """The server's screenings that took place, latest first (the club's programme so far)."""
    return [_screening(row) for row in await db.fetchall(PAST, (guild_id, limit))]


async def unfinished(db: Reader, shard_count: int, shard_ids: Sequence[int]) -> list[Screening]:
    """Every screening in the servers of the given shards whose steps are not all done (planned or scheduled)."""
    query = UNFINISHED.format(on_shards=on_shards("guild_id", shard_ids))
    return [_screening(row) for row in await db.fetchall(query, shard_params(shard_count, shard_ids))]


async def insert(tx: Transaction, values: dict[str, Any]) -> int:
    """Store a planned screening (the named parameters of :data:`INSERT`); return its id."""
    return int((await tx.fetchone_write(INSERT, values))[0])


async def attach_event(db: Database, screening_id: int, event_id: int) -> bool:
    """Record the Discord event of a planned screening, which makes it scheduled; False if it was not planned."""
    return await db.execute(ATTACH_EVENT, (event_id, screening_id)) > 0


async def fail(db: Database | Transaction, screening_id: int, now: str) -> bool:
    """Mark a planned or scheduled screening failed; False if it was neither."""
    return await db.execute(FAIL, (now, screening_id)) > 0


async def mark_started(db: Database | Transaction, screening_id: int, now: str) -> bool:
    return await db.execute(STARTED, (now, screening_id)) > 0


async def move(db: Database, screening_id: int, starts_at: str, ends_at: str, now: str) -> None:
    await db.execute(MOVE, (starts_at, ends_at, now, screening_id))


async def mark_reminded(db: Database, screening_id: int, now: str) -> bool:
    return await db.execute(REMINDED, (now, screening_id)) > 0


async def mark_announced(db: Database, screening_id: int, now: str) -> bool:
    return await db.execute(ANNOUNCED, (now, screening_id)) > 0


async def complete(db: Database, screening_id: int, now: str) -> bool:
    return await db.execute(COMPLETE, (now, screening_id)) > 0


async def cancel(db: Database | Transaction, screening_id: int, now: str) -> bool:
    return await db.execute(CANCEL, (now, screening_id)) > 0


async def set_thread(db: Database, screening_id: int, thread_id: int) -> bool:
    """Record the screening's discussion thread; False if it had one already (the first one stays)."""
    return await db.execute(SET_THREAD, (thread_id, screening_id)) > 0


async def mark_thread_archived(db: Database, screening_id: int, now: str) -> bool:
    return await db.execute(THREAD_ARCHIVED, (now, screening_id)) > 0
