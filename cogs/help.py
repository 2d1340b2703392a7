"""/help and /about: how to find your way around the bot, and what it is running."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.core.catalog import catalog_size
from bot.ui.embeds import add_field, chunk_lines, club_embed

if TYPE_CHECKING:
    from bot.client import FilmClubBot


#: /help lists features the way a member explores them: find a film, review it, vote, then the club's settings.
HELP_ORDER = (
    "Recommendations",
    "Themes",
    "Reviews",
    "Watchlist",
    "Nominations",
    "Polls",
    "Screenings",
    "Nights",  # no commands of its own: /config screenings sets the night
    "Picks",
    "Seasons",
    "Hosts",
    "Club",
    "Letterboxd",
    "Config",
    "Privacy",
    "Servers",  # no commands of its own: the bot leaving and joining servers
    "Members",  # no commands of its own: members leaving servers
    "Help",
)


def help_position(cog: commands.Cog) -> tuple[int, str]:
    name = cog.qualified_name
    return (HELP_ORDER.index(name) if name in HELP_ORDER else len(HELP_ORDER), name)


def command_lines(cog: commands.Cog) -> list[str]:
    """One line per slash command (subcommands spelled out), with its description."""
    return [
        f"`/{command.qualified_name}` — {command.description}"
        for command in cog.walk_app_commands()
        if isinstance(command, app_commands.Command)
    ]


class Help(commands.Cog):
    """Finding your way around"""

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="Every command, grouped by what it is for.")
    async def help(self, interaction: discord.Interaction[FilmClubBot]) -> None:
        embed = club_embed("filmclub commands", "Everything the club bot can do. Options show as you type.")
        for cog in sorted(self.bot.cogs.values(), key=help_position):
            lines = command_lines(cog)
            for index, block in enumerate(chunk_lines(lines)):
                heading = cog.description or cog.qualified_name
                add_field(embed, heading if index == 0 else f"{heading} (more)", block)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="about", description="The bot's version, catalog size and uptime.")
    async def about(self, interaction: discord.Interaction[FilmClubBot]) -> None:
        films, themes = await catalog_size(self.bot.db)
        embed = club_embed("About filmclub", "A film club's programme, polls, reviews and weekly picks.")
        add_field(embed, "Version", __version__, inline=True)
        add_field(embed, "Catalog", f"{films} films in {themes} themes", inline=True)
        add_field(embed, "Up since", discord.utils.format_dt(self.bot.started_at, "R"), inline=True)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Help(bot))
