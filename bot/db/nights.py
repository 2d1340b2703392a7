"""The club's recurring screening nights as stored: one row per night the bot keeps a Discord event for.

A night is ``open`` (its event says the film is still to be decided), then ``filled`` (a film's screening took its
event over), or it ends ``cancelled`` (the night was switched off or moved away), ``deleted`` (a moderator deleted or
cancelled its event in Discord: that night is not made again) or ``lapsed`` (it came without a film). One row per
server and start, so a night is never planned twice; every change is conditional on the state, so a re-run changes
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.db.database import Database, Reader, Row
from bot.db.shards import on_shards, shard_params
from bot.db.times import from_db


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


_COLUMNS = "id, guild_id, starts_at, channel_id, event_id, screening_id, state"
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
# The nights still ahead that hold their slot: open, filled or deleted by a moderator.
AHEAD = (
    f"SELECT {_COLUMNS} FROM screening_nights WHERE guild_id = ? AND starts_at > ?"  # noqa: S608
    " AND state IN ('open', 'filled', 'deleted') ORDER BY starts_at"
)
SET_EVENT = "UPDATE screening_nights SET event_id = CAST(? AS BIGINT) WHERE id = ? AND event_id IS NULL"
SET_STATE = "UPDATE screening_nights SET state = ? WHERE id = ? AND state = 'open'"
MOVE = "UPDATE screening_nights SET starts_at = ?, channel_id = CAST(? AS BIGINT) WHERE id = ? AND state = 'open'"
REOPEN = """
UPDATE screening_nights SET state = 'open', event_id = NULL, channel_id = CAST(? AS BIGINT)
WHERE id = ? AND state = 'cancelled'
"""
FILL = """
UPDATE screening_nights SET screening_id = ?, state = 'filled'
WHERE id = ? AND state = 'open' AND screening_id IS NULL
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


async def set_state(db: Database, night_id: int, state: NightState) -> bool:
    """End an open night (cancelled, deleted or lapsed); False if it was not open."""
    return await db.execute(SET_STATE, (state.value, night_id)) > 0


async def move(db: Database, night_id: int, starts_at: str, channel_id: int) -> bool:
    return await db.execute(MOVE, (starts_at, channel_id, night_id)) > 0


async def reopen(db: Database, night_id: int, channel_id: int) -> bool:
    """A night the bot cancelled (switched off, moved away) is wanted again: open, its new event still to create."""
    return await db.execute(REOPEN, (channel_id, night_id)) > 0


async def fill(db: Database, night_id: int, screening_id: int) -> bool:
    """Give the open night its screening; False if another film filled it first."""
    return await db.execute(FILL, (screening_id, night_id)) > 0


async def configured_guilds(db: Reader, shard_count: int, shard_ids: Sequence[int]) -> list[int]:
    """The servers of these shards that have a regular night configured."""
    query = CONFIGURED.format(on_shards=on_shards("guild_id", shard_ids))
    return [int(row[0]) for row in await db.fetchall(query, shard_params(shard_count, shard_ids))]
