"""Whether a member is still in a server, asked the way every feature asks it (bot.core.leavers decides what
follows)."""

from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)

#: Discord's JSON error code for "Unknown Member": the user is not in the server. Another 404 (an unknown server: the
#: bot was removed) says nothing about the member.
UNKNOWN_MEMBER = 10007


async def lookup_member(guild: discord.Guild, user_id: int) -> bool | None:
    """Ask Discord (one request): True (in the server), False (not: Discord answered "Unknown Member"), or None
    (Discord could not say; logged)."""
    try:
        await guild.fetch_member(user_id)
    except discord.NotFound as exc:
        if exc.code == UNKNOWN_MEMBER:
            return False
        log.warning("guild %s: could not look member %s up: %s", guild.id, user_id, exc)
        return None
    except discord.HTTPException as exc:
        log.warning("guild %s: could not look member %s up: %s", guild.id, user_id, exc)
        return None
    return True


async def is_member(guild: discord.Guild, user_id: int) -> bool | None:
    """The cache first (no request), then :func:`lookup_member`."""
    if guild.get_member(user_id) is not None:
        return True
    return await lookup_member(guild, user_id)
