"""The smallest discord.py bot that honours the e2e launch contract.

It exists to develop the loopback double without the real bot, and as the benchmark's baseline: /ping answers
"pong" with one persistent button whose callback only acknowledges (a type 6 deferred update).

Run as ``python tests/e2e/minimal_bot.py`` with DISCORD_TOKEN, DISCORD_API_BASE_URL and optionally DEV_GUILD_ID,
SYNC_COMMANDS, LOG_LEVEL, GUILD_READY_TIMEOUT (the other contract variables are accepted and ignored).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
from pathlib import Path

import discord
import yarl
from discord.ext import commands

log = logging.getLogger("minimal_bot")


class AckView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Ack", style=discord.ButtonStyle.primary, custom_id="minimal:ack")
    async def ack(self, interaction: discord.Interaction, button: discord.ui.Button[AckView]) -> None:
        del button
        await interaction.response.defer()


class MinimalBot(commands.Bot):
    def __init__(
        self, *, dev_guild_id: int | None, sync_global: bool, ready_timeout: float, database: Path | None
    ) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default(), help_command=None)
        self.database = database
        self.dev_guild_id = dev_guild_id
        self.sync_global = sync_global
        self._connection.guild_ready_timeout = ready_timeout

    def record_launch(self) -> int:
        """Count launches in DATABASE_PATH, so restart tests can see the database survive."""
        if self.database is None:
            return 0
        with sqlite3.connect(self.database) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS launches (id INTEGER PRIMARY KEY, at TEXT DEFAULT CURRENT_TIMESTAMP)"
            )
            db.execute("INSERT INTO launches DEFAULT VALUES")
            (count,) = db.execute("SELECT COUNT(*) FROM launches").fetchone()
        return int(count)

    async def setup_hook(self) -> None:
        log.info("launch #%d on this database", self.record_launch())
        # discord.py's (non-sharded) Client always dials DiscordWebSocket.DEFAULT_GATEWAY; it never asks
        # GET /gateway/bot. Ask, and use the answer, so that the bot follows whatever API base it was given.
        _, url, _ = await self.http.get_bot_gateway()
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

        @self.tree.command(name="ping", description="Answers pong, with a button that only acknowledges.")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", view=AckView())

        self.add_view(AckView())
        if self.dev_guild_id is not None:
            guild = discord.Object(id=self.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if self.sync_global:
            await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("filmclub ready (minimal bot) as %s in %d guild(s)", self.user, len(self.guilds))


async def _run(token: str, bot: MinimalBot) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: loop.create_task(bot.close()))
    async with bot:
        await bot.start(token)


def main(bot_class: type[MinimalBot] = MinimalBot) -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print("minimal bot: DISCORD_TOKEN is not set", file=sys.stderr)
        return 2
    base = os.environ.get("DISCORD_API_BASE_URL")
    if base:
        discord.http.Route.BASE = base.rstrip("/")
    guild_id = os.environ.get("DEV_GUILD_ID")
    bot = bot_class(
        dev_guild_id=int(guild_id) if guild_id else None,
        sync_global=os.environ.get("SYNC_COMMANDS", "false").lower() in ("1", "true", "yes"),
        ready_timeout=float(os.environ.get("GUILD_READY_TIMEOUT", "2.0")),
        database=Path(os.environ["DATABASE_PATH"]) if os.environ.get("DATABASE_PATH") else None,
    )
    try:
        asyncio.run(_run(token, bot))
    except discord.LoginFailure:
        print("minimal bot: Discord rejected DISCORD_TOKEN (401 Unauthorized)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
