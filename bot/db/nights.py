"""The club's recurring screening nights as stored: one row per night the bot keeps a Discord event for.

A night is ``open`` (its event says the film is still to be decided), then ``filled`` (a film's screening took its
event over), or it ends ``cancelled`` (the night was switched off or moved away), ``deleted`` (a moderator deleted or
cancelled its event in Discord: that night is not made again) or ``lapsed`` (it came without a film). One row per
server and start, so a night is never planned twice; every change is conditional on the state, so a re-run changes
nothing. Each change (moved, filled, ended, reopened) bumps ``revision`` and records ``modified_at``: the calendar
feed's SEQUENCE and LAST-MODIFIED (bot.core.calendar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.db.database import Database, Reader, Row, Transaction
from bot.db.shards import on_shards, shard_params
from bot.db.times import from_db, maybe_from_db


class NightState(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    LAPSED = "lapsed"


@dataclass(frozen=True)
class Night:
    id: int
    guild_id: int
    starts_at: datetime
    channel_id: int
    event_id: int | None
    screening_id: int | None
    state: NightState
    created_at: datetime | None = None
    revision: int = 0  # bumped by each change (the calendar feed's SEQUENCE)
    modified_at: datetime | None = None  # when the last revision was made
    slot_at: datetime | None = None  # the configured slot it stands for, once its event was moved in Discord
    refused: str | None = None  # why Discord last refused to create or edit its event (None: it did not, since)
    refused_at: datetime | None = None  # when it did


_COLUMNS = (
    "id, guild_id, starts_at, channel_id, event_id, screening_id, state, created_at, revision, modified_at, slot_at,"
    " refused, refused_at"
)
INSERT = """
INSERT INTO screening_nights (guild_id, starts_at, channel_id, state, created_at)
VALUES (CAST(? AS BIGINT), ?, CAST(? AS BIGINT), 'open', ?)
ON CONFLICT (guild_id, starts_at) DO NOTHING
"""
AT = f"SELECT {_COLUMNS} FROM screening_nights WHERE guild_id = ? AND starts_at = ?"  # noqa: S608
BY_ID = f"SELECT {_COLUMNS} FROM screening_nights WHERE id = ?"  # noqa: S608
BY_EVENT = f"SELECT {_COLUMNS} FROM screening_nights WHERE event_id = ?"  # noqa: S608
BY_SCREENING = f"SELECT {_COLUMNS} FROM screening_nights WHERE screening_id = ?"  # noqa: S608
# Open nights of a server, the earliest first (there is at most one ahead; an earlier one has lapsed).
OPEN = f"SELECT {_COLUMNS} FROM screening_nights WHERE guild_id = ? AND state = 'open' ORDER BY starts_at"  # noqa: S608
# A night whose event a moderator moved away from this configured slot.
BY_SLOT = f"SELECT {_COLUMNS} FROM screening_nights WHERE guild_id = ? AND slot_at = ?"  # noqa: S608
# The nights the calendar feed lists: starting at or after the first moment, or filled by a screening that ends at or
# after the second (its night may have started earlier).
CALENDAR = f"""
SELECT {_COLUMNS} FROM screening_nights
WHERE guild_id = ?
  AND (starts_at >= ? OR screening_id IN (SELECT id FROM screenings WHERE guild_id = ? AND ends_at >= ?))
ORDER BY starts_at, id LIMIT ?
"""  # noqa: S608
# The nights still ahead that hold their slot: open, filled or deleted by a moderator.
AHEAD = (
    f"SELECT {_COLUMNS} FROM screening_nights WHERE guild_id = ? AND starts_at > ?"  # noqa: S608
    " AND state IN ('open', 'filled', 'deleted') ORDER BY starts_at"
)
# Recording the night's event clears the refusal noted before it: an event is made.
SET_EVENT = (
    "UPDATE screening_nights SET event_id = CAST(? AS BIGINT), refused = NULL, refused_at = NULL"
    " WHERE id = ? AND event_id IS NULL"
)
# Discord refused to create or edit the night's event (or, with NULLs, stopped refusing: an edit went through).
SET_REFUSED = "UPDATE screening_nights SET refused = ?, refused_at = ? WHERE id = ?"
# Every change bumps ``revision`` and sets ``modified_at`` (the moment of the change).
SET_STATE = (
    "UPDATE screening_nights SET state = ?, revision = revision + 1, modified_at = ? WHERE id = ? AND state = 'open'"
)
# Moved to its configured slot (by the settings): it stands for that slot again.
MOVE = """
UPDATE screening_nights SET starts_at = ?, channel_id = CAST(? AS BIGINT), slot_at = NULL,
    revision = revision + 1, modified_at = ?
WHERE id = ? AND state = 'open'
"""
# Its event was moved in Discord: it keeps standing for the slot it was planned at.
FOLLOW = """
UPDATE screening_nights SET slot_at = COALESCE(slot_at, starts_at), starts_at = ?,
    revision = revision + 1, modified_at = ?
WHERE id = ? AND state = 'open' AND starts_at = ?
"""
REOPEN = """
UPDATE screening_nights SET state = 'open', event_id = NULL, channel_id = CAST(? AS BIGINT),
    revision = revision + 1, modified_at = ?
WHERE id = ? AND state = 'cancelled'
"""
FILL = """
UPDATE screening_nights SET screening_id = ?, state = 'filled',
    revision = revision + 1, modified_at = ?
WHERE id = ? AND state = 'open' AND screening_id IS NULL
"""
# What an open night says changed without the night changing (the season running on it began or ended): a revision.
TOUCH_OPEN = """
UPDATE screening_nights SET revision = revision + 1, modified_at = ?
WHERE guild_id = ? AND state = 'open' AND starts_at >= ? AND starts_at < ?
"""
CONFIGURED = """
SELECT guild_id FROM guild_settings
WHERE night_day IS NOT NULL AND night_time IS NOT NULL AND night_channel_id IS NOT NULL AND {on_shards}
ORDER BY guild_id
"""


def _night(row: Row) -> Night:
    return Night(
        int(row[0]),
        int(row[1]),
        from_db(row[2]),
        int(row[3]),
        None if row[4] is None else int(row[4]),
        None if row[5] is None else int(row[5]),
        NightState(row[6]),
        maybe_from_db(row[7]),
        int(row[8]),
        maybe_from_db(row[9]),
        maybe_from_db(row[10]),
        row[11],
        maybe_from_db(row[12]),
    )


async def insert(db: Database, guild_id: int, starts_at: str, channel_id: int, now: str) -> Night:
    """The night at that start, stored now unless it already was (whatever its state)."""
    async with db.transaction() as tx:
        await tx.execute(INSERT, (guild_id, starts_at, channel_id, now))
        row = await tx.fetchone(AT, (guild_id, starts_at))
    if row is None:  # inserted, or there already: never
        raise LookupError(f"night of server {guild_id} at {starts_at} is missing after its insert")
    return _night(row)


async def at(db: Reader, guild_id: int, starts_at: str) -> Night | None:
    row = await db.fetchone(AT, (guild_id, starts_at))
    return None if row is None else _night(row)


async def by_id(db: Reader, night_id: int) -> Night | None:
    row = await db.fetchone(BY_ID, (night_id,))
    return None if row is None else _night(row)


async def by_event(db: Reader, event_id: int) -> Night | None:
    row = await db.fetchone(BY_EVENT, (event_id,))
    return None if row is None else _night(row)


async def by_screening(db: Reader, screening_id: int) -> Night | None:
    row = await db.fetchone(BY_SCREENING, (screening_id,))
    return None if row is None else _night(row)


async def open_nights(db: Reader, guild_id: int) -> list[Night]:
    return [_night(row) for row in await db.fetchall(OPEN, (guild_id,))]


async def ahead(db: Reader, guild_id: int, now: str) -> list[Night]:
    return [_night(row) for row in await db.fetchall(AHEAD, (guild_id, now))]


async def set_event(db: Database, night_id: int, event_id: int) -> bool:
    return await db.execute(SET_EVENT, (event_id, night_id)) > 0


async def set_refused(db: Database, night_id: int, reason: str | None, at: str | None) -> None:
    await db.execute(SET_REFUSED, (reason, at, night_id))


async def by_slot(db: Reader, guild_id: int, slot_at: str) -> Night | None:
    row = await db.fetchone(BY_SLOT, (guild_id, slot_at))
    return None if row is None else _night(row)


async def for_calendar(db: Reader, guild_id: int, since: str, screenings_since: str, limit: int) -> list[Night]:
    """The server's nights (any state) starting at or after ``since``, or filled by a screening that ends at or after
    ``screenings_since``; the earliest first, at most ``limit``."""
    return [_night(row) for row in await db.fetchall(CALENDAR, (guild_id, since, guild_id, screenings_since, limit))]


async def set_state(db: Database, night_id: int, state: NightState, now: str) -> bool:
    """End an open night (cancelled, deleted or lapsed); False if it was not open."""
    return await db.execute(SET_STATE, (state.value, now, night_id)) > 0


async def move(db: Database, night_id: int, starts_at: str, channel_id: int, now: str) -> bool:
    return await db.execute(MOVE, (starts_at, channel_id, now, night_id)) > 0


async def follow(db: Database, night_id: int, moved_from: str, starts_at: str, now: str) -> bool:
    """The open night's event was moved in Discord from ``moved_from``; False if the night is no longer open there."""
    return await db.execute(FOLLOW, (starts_at, now, night_id, moved_from)) > 0


async def reopen(db: Database, night_id: int, channel_id: int, now: str) -> bool:
    """A night the bot cancelled (switched off, moved away) is wanted again: open, its new event still to create."""
    return await db.execute(REOPEN, (channel_id, now, night_id)) > 0


async def fill(db: Database | Transaction, night_id: int, screening_id: int, now: str) -> bool:
    """Give the open night its screening; False if another film filled it first."""
    return await db.execute(FILL, (screening_id, now, night_id)) > 0


async def touch_open(db: Database | Transaction, guild_id: int, since: str, until: str, now: str) -> int:
    """Bump the revision of the server's open nights starting from ``since`` to before ``until``; how many."""
    return await db.execute(TOUCH_OPEN, (now, guild_id, since, until))


async def configured_guilds(db: Reader, shard_count: int, shard_ids: Sequence[int]) -> list[int]:
    """The servers of these shards that have a regular night configured."""
    query = CONFIGURED.format(on_shards=on_shards("guild_id", shard_ids))
    return [int(row[0]) for row in await db.fetchall(query, shard_params(shard_count, shard_ids))]
