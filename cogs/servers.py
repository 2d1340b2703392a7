"""The bot leaving and joining servers: a removed server's data is kept for the grace period, then deleted.

No commands of its own (``/config purge`` is in the Config cog). Discord sends GUILD_DELETE both when the bot is
removed and when a server is only unavailable (an outage); discord.py tells them apart (``on_guild_remove`` for the
first, ``on_guild_unavailable`` for the second), and only a removal arms the purge (bot.core.server_data).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.core import server_data
from bot.core.timers import Timer

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)


class Servers(commands.Cog):
    """The servers the bot is in."""

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.timers.register(server_data.PURGE_TIMER, self._on_purge_timer)
        self.bot.spawn(self._removed_while_down(), name="filmclub-missed-removals")

    async def _removed_while_down(self) -> None:
        """Once the gateway is ready (every server the bot is in is known, unavailable ones included): servers it was
        added back to while it was down keep their data; servers with data that the bot is no longer in were left
        while it was down, and their grace period starts now."""
        await self.bot.wait_until_ready()
        present = [guild.id for guild in self.bot.guilds]
        await server_data.servers_back(self.bot.timers, present)
        armed = await server_data.arm_missed_removals(
            self.bot.db, self.bot.timers, self.bot.shard_set, present, self.grace
        )
        if armed:
            log.info("%d server(s) with data no longer have the bot (removed while it was down)", len(armed))

    @property
    def grace(self) -> timedelta:
        return timedelta(days=self.bot.settings.guild_data_grace_days)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed (kicked, banned, or the server deleted): keep its data for the grace period."""
        await server_data.server_removed(self.bot.timers, guild.id, self.grace)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added (back): a pending purge is cancelled and the data is there again."""
        log.info("added to server %s", guild.id)
        await server_data.server_back(self.bot.timers, guild.id)

    async def _on_purge_timer(self, timer: Timer) -> None:
        guild_id = int(timer.key)
        if self.bot.get_guild(guild_id) is not None:  # back in it, and the cancel was missed: keep everything
            log.warning("server %s: the purge fell due but the bot is in the server; its data is kept", guild_id)
            return
        await server_data.purge_due(self.bot.db, timer)
        self.bot.forget_server(guild_id)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Servers(bot))
