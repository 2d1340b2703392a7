"""Per-server settings, and who counts as a moderator: the rule every moderator-only action checks server-side."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.core.errors import PermissionDenied
from bot.core.shards import ShardSet
from bot.db import guilds as sql
from bot.db.database import Database, Reader

DEFAULT_PICKS_COUNT = 3


@dataclass(frozen=True)
class GuildSettings:
    """A server's configuration; a server that never configured anything gets these defaults."""

    guild_id: int
    picks_channel_id: int | None = None
    polls_channel_id: int | None = None
    announcements_channel_id: int | None = None
    moderator_role_id: int | None = None
    voter_role_id: int | None = None
    timezone: str = "UTC"
    #: Weekly picks: the local weekday (0 = Monday) and time ("HH:MM" or "HH:MM:SS") of the post.
    picks_day: int | None = None
    picks_time: str | None = None
    picks_count: int = DEFAULT_PICKS_COUNT
    #: Theme slugs to rotate through, in order; empty means every theme of the catalog.
    picks_themes: tuple[str, ...] = ()
    #: Open a watch-party poll among the picks when they are posted.
    picks_poll: bool = False
    picks_enabled: bool = True

    @property
    def picks_scheduled(self) -> bool:
        """Whether weekly picks will be posted: switched on, with a channel, a day and a time."""
        return (
            self.picks_enabled
            and self.picks_channel_id is not None
            and self.picks_day is not None
            and self.picks_time is not None
        )


def _settings(row: Any) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        picks_channel_id=row["picks_channel_id"],
        polls_channel_id=row["polls_channel_id"],
        announcements_channel_id=row["announcements_channel_id"],
        moderator_role_id=row["moderator_role_id"],
        voter_role_id=row["voter_role_id"],
        timezone=row["timezone"],
        picks_day=row["picks_day"],
        picks_time=row["picks_time"],
        picks_count=row["picks_count"],
        picks_themes=tuple(json.loads(row["picks_themes"])),
        picks_poll=bool(row["picks_poll"]),
        picks_enabled=bool(row["picks_enabled"]),
    )


async def get_settings(db: Reader, guild_id: int) -> GuildSettings:
    row = await db.fetchone(sql.GET_SETTINGS, (guild_id,))
    if row is None:
        return GuildSettings(guild_id)
    return _settings(row)


def settings_row(settings: GuildSettings, now: str) -> dict[str, Any]:
    """The named parameters of :data:`bot.db.guilds.SAVE_SETTINGS` for these settings."""
    return {
        "guild_id": settings.guild_id,
        "picks_channel_id": settings.picks_channel_id,
        "polls_channel_id": settings.polls_channel_id,
        "announcements_channel_id": settings.announcements_channel_id,
        "moderator_role_id": settings.moderator_role_id,
        "voter_role_id": settings.voter_role_id,
        "timezone": settings.timezone,
        "picks_day": settings.picks_day,
        "picks_time": settings.picks_time,
        "picks_count": settings.picks_count,
        "picks_themes": json.dumps(list(settings.picks_themes)),
        "picks_poll": int(settings.picks_poll),
        "picks_enabled": int(settings.picks_enabled),
        "now": now,
    }


async def scheduled_guilds(db: Database, shards: ShardSet) -> list[int]:
    """The servers of this process's shards whose weekly picks are complete and switched on."""
    return await sql.scheduled_guilds(db, shards.count, shards.ids)


def is_moderator(settings: GuildSettings, *, manage_guild: bool, role_ids: Collection[int]) -> bool:
    """Manage Server (or Administrator) always counts; so does the configured moderator role."""
    return manage_guild or (settings.moderator_role_id is not None and settings.moderator_role_id in role_ids)


def require_moderator(settings: GuildSettings, *, manage_guild: bool, role_ids: Collection[int]) -> None:
    """Raise :class:`PermissionDenied` unless the member is a moderator, whatever Discord showed them."""
    if not is_moderator(settings, manage_guild=manage_guild, role_ids=role_ids):
        role = f" or the <@&{settings.moderator_role_id}> role" if settings.moderator_role_id else ""
        raise PermissionDenied(f"Only moderators can do that: it needs the Manage Server permission{role}.")
