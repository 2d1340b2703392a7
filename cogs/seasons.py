"""/season: a club's multi-week series on one theme. Moderators programme it (/season create) and end or cancel it
(/season end); everyone sees the season page (/season show) with where the club is: "week 3 of 6"."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import seasons
from bot.core.recommend import recommender_for
from bot.ui.autocomplete import theme_or_collection_choices
from bot.ui.checks import ensure_moderator, guild_id_of
from bot.ui.embeds import add_field, chunk_lines, club_embed, truncate
from bot.ui.replies import send_ephemeral

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]

MODES = [
    app_commands.Choice(name="a fixed film each week (from the theme, in its order)", value=seasons.Mode.FIXED.value),
    app_commands.Choice(name="a poll each week among the theme's films", value=seasons.Mode.POLL.value),
    app_commands.Choice(name="the weekly picks on the theme", value=seasons.Mode.PICKS.value),
]


def _when(season: seasons.Season, week: int) -> str:
    return discord.utils.format_dt(season.week_starts(week), "D")


def season_embed(page: seasons.SeasonPage) -> discord.Embed:
    """The season page: theme, where the club is, the running order week by week, and the programme notes."""
    season, progress = page.season, page.progress
    first, last = discord.utils.format_dt(season.starts_at, "D"), discord.utils.format_dt(season.ends_at, "D")
    embed = club_embed(
        f"Season · {season.theme_title}",
        f"**{progress.text.capitalize()}** · {season.weeks} weeks, {first} to {last}\n"
        f"Running order: {season.mode.described}.",
    )
    if season.notes:
        add_field(embed, "Programme notes", truncate(season.notes, seasons.NOTES_MAX))
    lines = []
    for week in range(1, season.weeks + 1):
        film_id = season.film_of_week(week)
        what = page.films[film_id].label if film_id is not None and film_id in page.films else season.mode.described
        marker = "▶ " if progress.week == week else ""
        lines.append(f"{marker}Week {week} · {_when(season, week)} · {what}")
    for number, chunk in enumerate(chunk_lines(lines, 1000)):
        add_field(embed, "Weeks" if number == 0 else "Weeks (continued)", chunk)
    embed.set_footer(text="filmclub seasons")
    return embed


class Seasons(commands.Cog):
    """Seasons"""

    season = app_commands.Group(
        name="season", description="The club's season: a multi-week series on one theme.", guild_only=True
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @season.command(name="create", description="Moderators: programme a season of weekly films on one theme.")
    @app_commands.describe(
        theme="A theme or server collection (pick from the list as you type)",
        weeks="How many weeks (1-52)",
        start='Week 1\'s start, in the server\'s timezone: "2026-06-05 20:00", "friday 20:00" (at most a year ahead)',
        mode="The running order (default: a fixed film each week)",
        notes="Programme notes shown on the season page (at most 500 characters)",
    )
    @app_commands.choices(mode=MODES)
    @app_commands.autocomplete(theme=theme_or_collection_choices)
    async def season_create(
        self,
        interaction: Interaction,
        theme: str,
        weeks: int,
        start: str,
        mode: str = seasons.Mode.FIXED.value,
        notes: str | None = None,
    ) -> None:
        settings = await ensure_moderator(interaction)
        guild_id = guild_id_of(interaction)
        chosen = await recommender_for(self.bot.db).resolve_theme(guild_id, theme)
        await seasons.create_season(
            self.bot.db,
            self.bot.clock,
            guild_id=guild_id,
            user_id=interaction.user.id,
            theme=chosen,
            weeks=weeks,
            start=start,
            timezone=settings.timezone,
            mode=seasons.Mode(mode),
            notes=notes,
        )
        page = await seasons.season_page(self.bot.db, self.bot.clock, guild_id)
        await interaction.response.send_message(
            "A new season is programmed.", embed=season_embed(page), allowed_mentions=discord.AllowedMentions.none()
        )

    @season.command(name="show", description="The season page: its weeks, its films, and where the club is.")
    async def season_show(self, interaction: Interaction) -> None:
        page = await seasons.season_page(self.bot.db, self.bot.clock, guild_id_of(interaction))
        await interaction.response.send_message(
            embed=season_embed(page), allowed_mentions=discord.AllowedMentions.none()
        )

    @season.command(name="end", description="Moderators: end the running season, or cancel one still to come.")
    async def season_end(self, interaction: Interaction) -> None:
        await ensure_moderator(interaction)
        ended = await seasons.end_season(
            self.bot.db, self.bot.clock, guild_id=guild_id_of(interaction), user_id=interaction.user.id
        )
        await send_ephemeral(interaction, f"Ended the season **{truncate(ended.theme_title, 100)}**.")


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Seasons(bot))
