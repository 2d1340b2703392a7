"""SQL for screenings (a film shown to the club at a set time, with its Discord scheduled event)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.db.database import Reader
from bot.db.shards import on_shards, shard_params

_COLUMNS = """
id, guild_id, film_id, poll_id, created_by, channel_id, location, announce_channel_id, starts_at, ends_at,
remind_minutes, event_id, status, reminded_at, started_at, completed_at, created_at, announced_at
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
ATTACH_EVENT = "UPDATE screenings SET event_id = ?, status = 'scheduled' WHERE id = ? AND status = 'planned'"
FAIL = "UPDATE screenings SET status = 'failed' WHERE id = ? AND status IN ('planned', 'scheduled')"
STARTED = "UPDATE screenings SET started_at = ? WHERE id = ? AND started_at IS NULL AND status = 'scheduled'"
MOVE = "UPDATE screenings SET starts_at = ?, ends_at = ? WHERE id = ? AND status = 'scheduled'"
REMINDED = "UPDATE screenings SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL"
ANNOUNCED = "UPDATE screenings SET announced_at = ? WHERE id = ? AND announced_at IS NULL AND event_id IS NOT NULL"
COMPLETE = "UPDATE screenings SET status = 'done', completed_at = ? WHERE id = ? AND status = 'scheduled'"
CANCEL = "UPDATE screenings SET status = 'cancelled' WHERE id = ? AND status IN ('planned', 'scheduled')"


async def by_id(db: Reader, screening_id: int) -> Any:
    return await db.fetchone(BY_ID, (screening_id,))


async def by_poll(db: Reader, poll_id: int) -> Any:
    return await db.fetchone(BY_POLL, (poll_id,))


async def by_event(db: Reader, event_id: int) -> Any:
    return await db.fetchone(BY_EVENT, (event_id,))


async def upcoming(db: Reader, guild_id: int) -> list[Any]:
    return list(await db.fetchall(UPCOMING, (guild_id,)))


async def unfinished(db: Reader, shard_count: int, shard_ids: Sequence[int]) -> list[Any]:
    """Every screening in the servers of the given shards whose steps are not all done (planned or scheduled)."""
    query = UNFINISHED.format(on_shards=on_shards("guild_id", shard_ids))
    return list(await db.fetchall(query, shard_params(shard_count, shard_ids)))
