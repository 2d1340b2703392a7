"""Per-server settings, and who counts as a moderator: the rule every moderator-only action checks server-side."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.core.errors import PermissionDenied
from bot.db import guilds as sql
from bot.db.database import Database


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


async def get_settings(db: Database, guild_id: int) -> GuildSettings:
    row = await db.fetchone(sql.GET_SETTINGS, (guild_id,))
    if row is None:
        return GuildSettings(guild_id)
    return GuildSettings(*row)


def is_moderator(settings: GuildSettings, *, manage_guild: bool, role_ids: Collection[int]) -> bool:
    """Manage Server (or Administrator) always counts; so does the configured moderator role."""
    return manage_guild or (settings.moderator_role_id is not None and settings.moderator_role_id in role_ids)


def require_moderator(settings: GuildSettings, *, manage_guild: bool, role_ids: Collection[int]) -> None:
    """Raise :class:`PermissionDenied` unless the member is a moderator, whatever Discord showed them."""
    if not is_moderator(settings, manage_guild=manage_guild, role_ids=role_ids):
        role = f" or the <@&{settings.moderator_role_id}> role" if settings.moderator_role_id else ""
        raise PermissionDenied(f"Only moderators can do that: it needs the Manage Server permission{role}.")
