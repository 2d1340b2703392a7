"""SQL for per-server settings."""

from __future__ import annotations

from collections.abc import Sequence

from bot.db.database import Reader
from bot.db.shards import on_shards, shard_params

GET_SETTINGS = """
SELECT guild_id, picks_channel_id, polls_channel_id, announcements_channel_id, moderator_role_id, voter_role_id,
       timezone, picks_day, picks_time, picks_count, picks_themes, picks_poll, picks_enabled
FROM guild_settings WHERE guild_id = ?
"""

# Writes every column: callers read the row, change what they change (dataclasses.replace) and write it back inside
# one transaction, so a change and its history entries commit together.
SAVE_SETTINGS = """
INSERT INTO guild_settings (
    guild_id, picks_channel_id, polls_channel_id, announcements_channel_id, moderator_role_id, voter_role_id,
    timezone, picks_day, picks_time, picks_count, picks_themes, picks_poll, picks_enabled, updated_at
) VALUES (
    :guild_id, :picks_channel_id, :polls_channel_id, :announcements_channel_id, :moderator_role_id, :voter_role_id,
    :timezone, :picks_day, :picks_time, :picks_count, :picks_themes, :picks_poll, :picks_enabled, :now
)
ON CONFLICT (guild_id) DO UPDATE SET
    picks_channel_id = excluded.picks_channel_id,
    polls_channel_id = excluded.polls_channel_id,
    announcements_channel_id = excluded.announcements_channel_id,
    moderator_role_id = excluded.moderator_role_id,
    voter_role_id = excluded.voter_role_id,
    timezone = excluded.timezone,
    picks_day = excluded.picks_day,
    picks_time = excluded.picks_time,
    picks_count = excluded.picks_count,
    picks_themes = excluded.picks_themes,
    picks_poll = excluded.picks_poll,
    picks_enabled = excluded.picks_enabled,
    updated_at = excluded.updated_at
"""
DELETE_SETTINGS = "DELETE FROM guild_settings WHERE guild_id = ?"

#: Servers whose weekly picks are switched on and complete (channel, day and time): the start-up re-arm reads this.
SCHEDULED_GUILDS = """
SELECT guild_id FROM guild_settings
WHERE picks_enabled = 1 AND picks_channel_id IS NOT NULL AND picks_day IS NOT NULL AND picks_time IS NOT NULL
  AND {on_shards}
ORDER BY guild_id
"""


async def scheduled_guilds(db: Reader, shard_count: int, shard_ids: Sequence[int]) -> list[int]:
    """The servers of the given shards whose weekly picks are complete and switched on."""
    query = SCHEDULED_GUILDS.format(on_shards=on_shards("guild_id", shard_ids))
    return [row[0] for row in await db.fetchall(query, shard_params(shard_count, shard_ids))]
