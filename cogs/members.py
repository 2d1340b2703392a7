"""Members who leave a server: the one listener and the one start-up pass for every feature that keeps something
for a member (bot.core.leavers; the host rota and Letterboxd register what leaving means to them).

Discord tells the bot a member left (GUILD_MEMBER_REMOVE) only with the Server Members intent, which this bot does
not ask for; so each server is also checked when it becomes available (at start-up, and after an outage): every
member a feature follows there and the bot does not see is looked up, paced (bot.core.leavers.LOOKUP_INTERVAL), in
the background."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.ui.members import is_member

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)


class Members(commands.Cog):
    """Members"""

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A member left (or was kicked or banned); sent with the Server Members intent only."""
        await self.bot.leavers.member_left(payload.guild_id, payload.user.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.bot.spawn(self._sweep(guild), name=f"filmclub-leavers-{guild.id}")

    async def _sweep(self, guild: discord.Guild) -> None:
        async def lookup(user_id: int) -> bool | None:
            return await is_member(guild, user_id)

        done = await self.bot.leavers.sweep(
            guild.id, cached=lambda user_id: guild.get_member(user_id) is not None, lookup=lookup
        )
        if done is not None and done.looked_up:
            log.info(
                "guild %s: checked %d of %d followed member(s) with Discord; %d had left, %d could not be checked",
                guild.id,
                done.looked_up,
                done.followed,
                len(done.gone),
                done.unknown,
            )


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Members(bot))
