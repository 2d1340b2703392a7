"""The host rota on Discord: a host's name as shown in an event, the thread's greeting that pings only the host, and
re-writing the host line of screenings' events after their hosts changed (a swap, a host who left)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.core import screenings
from bot.core.screenings import Screening, ScreeningStatus
from bot.ui.embeds import literal, truncate
from bot.ui.members import find_member

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)


async def host_name(guild: discord.Guild, user_id: int) -> str | None:
    """The member's name as the server shows it (read from Discord when not cached), escaped; None if they are gone."""
    member = await find_member(guild, user_id)
    return None if member is None else literal(truncate(member.display_name, 80))


async def with_host(guild: discord.Guild, screening: Screening, description: str) -> str:
    """The event description with the screening's host named in it (unchanged when it has no host)."""
    if screening.host_id is None:
        return description
    return screenings.with_host_line(description, await host_name(guild, screening.host_id))


def host_greeting(screening: Screening) -> tuple[str | None, discord.AllowedMentions]:
    """The line that opens the discussion thread's first post: the host, mentioned so that only they are pinged."""
    if screening.host_id is None:
        return None, discord.AllowedMentions.none()
    mentions = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(screening.host_id)])
    return f"🎙️ Tonight's host: <@{screening.host_id}>", mentions


async def refresh_host_lines(bot: FilmClubBot, screening_ids: list[int]) -> None:
    """Re-write the host line of these screenings' Discord events (those that have one and have not ended)."""
    for screening_id in screening_ids:
        screening = await screenings.get_screening(bot.db, screening_id)
        guild = bot.get_guild(screening.guild_id) if screening is not None else None
        if screening is None or guild is None or screening.event_id is None:
            continue
        if screening.status is not ScreeningStatus.SCHEDULED:
            continue
        try:
            event = guild.get_scheduled_event(screening.event_id) or await guild.fetch_scheduled_event(
                screening.event_id
            )
            name = None if screening.host_id is None else await host_name(guild, screening.host_id)
            description = screenings.with_host_line(event.description or screenings.event_marker(screening.id), name)
            if description != event.description:
                await event.edit(description=description)
        except discord.HTTPException as exc:
            log.warning("screening %s: could not name its new host in its event: %s", screening_id, exc)
