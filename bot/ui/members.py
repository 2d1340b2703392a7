"""Looking a member of a server up, the one way every feature does it: the cache first, then Discord, and only
Discord's "Unknown Member" counts as gone (bot.core.leavers decides what follows from a member who left)."""

from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)

#: Discord's JSON error code for "Unknown Member": the user is not in the server. Another 404 (an unknown server: the
#: bot was removed) says nothing about the member.
UNKNOWN_MEMBER = 10007


async def find_member(guild: discord.Guild, user_id: int) -> discord.Member | None:
    """The member (from the cache, else one request), or None when Discord says they are not in the server. Raises
    discord.HTTPException when Discord could not say (an outage, a rate limit, an unknown server)."""
    member = guild.get_member(user_id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(user_id)
    except discord.NotFound as exc:
        if exc.code == UNKNOWN_MEMBER:
            return None
        raise


async def is_member(guild: discord.Guild, user_id: int) -> bool | None:
    """Whether the member is in the server: True, False (gone), or None (Discord could not say; logged)."""
    try:
        return await find_member(guild, user_id) is not None
    except discord.HTTPException as exc:
        log.warning("guild %s: could not look member %s up: %s", guild.id, user_id, exc)
        return None
