"""Per-server settings, and who counts as a moderator: the rule every moderator-only action checks server-side.

:class:`GuildSettings` is the stored row itself (bot.db.guilds reads and writes it), re-exported here for callers.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.core.errors import PermissionDenied
from bot.db import guilds as guilds_db
from bot.db.database import Reader
from bot.db.guilds import GuildSettings

__all__ = ["GuildSettings", "get_settings", "is_moderator", "require_moderator"]


async def get_settings(db: Reader, guild_id: int) -> GuildSettings:
    """The server's settings: the defaults until a moderator saved some."""
    stored = await guilds_db.stored_settings(db, guild_id)
    return GuildSettings(guild_id) if stored is None else stored


def is_moderator(settings: GuildSettings, *, manage_guild: bool, role_ids: Collection[int]) -> bool:
    """Manage Server (or Administrator) always counts; so does the configured moderator role."""
    return manage_guild or (settings.moderator_role_id is not None and settings.moderator_role_id in role_ids)


def require_moderator(settings: GuildSettings, *, manage_guild: bool, role_ids: Collection[int]) -> None:
    """Raise :class:`PermissionDenied` unless the member is a moderator, whatever Discord showed them."""
    if not is_moderator(settings, manage_guild=manage_guild, role_ids=role_ids):
        role = f" or the <@&{settings.moderator_role_id}> role" if settings.moderator_role_id else ""
        raise PermissionDenied(f"Only moderators can do that: it needs the Manage Server permission{role}.")
