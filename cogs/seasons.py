"""/season: a club's multi-week series on one theme. Moderators programme it (/season create) and end or cancel it
(/season end); everyone sees the season page (/season show) with where the club is: "week 3 of 6". A poll season's
weekly polls are opened here by their timers (bot.core.season_polls) and posted by the polls feature."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import season_polls, seasons
from bot.core.recommend import recommender_for
from bot.core.timers import Timer
from bot.ui.autocomplete import theme_or_collection_choices
from bot.ui.checks import ensure_moderator, guild_id_of
from bot.ui.embeds import add_field, chunk_lines, club_embed, literal, truncate
from bot.ui.replies import send_ephemeral

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]

MODES = [
    app_commands.Choice(name="a fixed film each week (from the theme, in its order)", value=seasons.Mode.FIXED.value),
    app_commands.Choice(name="a poll each week among the theme's films", value=seasons.Mode.POLL.value),
    app_commands.Choice(name="the weekly picks on the theme", value=seasons.Mode.PICKS.value),
]


def _when(season: seasons.Season, week: int) -> str:
    return discord.utils.format_dt(season.week_starts(week), "D")


def _film(page: seasons.SeasonPage, film_id: int) -> str:
    film = page.films.get(film_id)
    return literal(film.label) if film is not None else f"film #{film_id}"


def week_text(page: seasons.SeasonPage, entry: seasons.WeekEntry) -> str:
    """What a week had, or will have: its film, its poll, or its picks."""
    mode = page.season.mode
    if mode is seasons.Mode.FIXED:
        return _film(page, entry.film_id) if entry.film_id is not None else mode.described
    if mode is seasons.Mode.PICKS:
        if entry.picks:
            return "picks: " + ", ".join(_film(page, film_id) for film_id in entry.picks)
        return "the weekly picks on the theme"
    if entry.skipped:
        return f"no poll: {entry.skipped}"
    if entry.poll_id is None:
        opens = entry.poll_opens_at
        return f"a poll opens {discord.utils.format_dt(opens, 'f')}" if opens is not None else mode.described
    if entry.film_id is not None:
        return f"{_film(page, entry.film_id)} (won poll #{entry.poll_id})"
    if entry.poll_status == "open" and entry.poll_closes_at is not None:
        return f"poll #{entry.poll_id} open, closes {discord.utils.format_dt(entry.poll_closes_at, 'R')}"
    if entry.poll_status == "cancelled":
        return f"poll #{entry.poll_id} was cancelled"
    return f"poll #{entry.poll_id} ended without a winner"


def season_embed(page: seasons.SeasonPage) -> discord.Embed:
    """The season page: theme, where the club is, what comes next, the running order week by week with what each
    week had, and the programme notes."""
    season, progress = page.season, page.progress
    first, last = discord.utils.format_dt(season.starts_at, "D"), discord.utils.format_dt(season.ends_at, "D")
    embed = club_embed(
        f"Season · {literal(truncate(season.theme_title, 200))}",
        f"**{progress.text.capitalize()}** · {season.weeks} weeks, {first} to {last}\n"
        f"Running order: {season.mode.described}.",
    )
    if season.notes:
        add_field(embed, "Programme notes", literal(season.notes))
    if page.next is not None:
        add_field(
            embed,
            "Next",
            truncate(f"Week {page.next.week} · {_when(season, page.next.week)} · {week_text(page, page.next)}", 1000),
        )
    lines = []
    for entry in page.weeks:
        marker = "▶ " if progress.week == entry.week else ""
        lines.append(
            truncate(f"{marker}Week {entry.week} · {_when(season, entry.week)} · {week_text(page, entry)}", 300)
        )
    embed.set_footer(text="filmclub seasons")
    for number, chunk in enumerate(chunk_lines(lines, 1000)):
        if not add_field(embed, "Weeks" if number == 0 else "Weeks (continued)", chunk):
            break  # Discord's 6,000 characters: a long season's last weeks (their picks) are left off
    return embed


class Seasons(commands.Cog):
    """Seasons"""

    season = app_commands.Group(
        name="season", description="The club's season: a multi-week series on one theme.", guild_only=True
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.timers.register(seasons.POLL_TIMER, self._on_poll_timer)
        armed = await seasons.ensure_poll_timers(self.bot.db, self.bot.clock, self.bot.timers, self.bot.shard_set)
        if armed:
            log.warning("armed the weekly poll timer of %d season(s) that had none", armed)

    async def _on_poll_timer(self, timer: Timer) -> None:
        """A poll season's week: open its poll (the polls feature posts it)."""
        bot = self.bot
        await season_polls.open_week_poll(
            bot.db,
            bot.clock,
            bot.timers,
            int(timer.payload["season_id"]),
            int(timer.payload["week"]),
            creator_id=bot.user.id if bot.user else 0,
        )

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
            self.bot.timers,
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
            self.bot.db, self.bot.clock, self.bot.timers, guild_id=guild_id_of(interaction), user_id=interaction.user.id
        )
        await send_ephemeral(interaction, f"Ended the season **{literal(truncate(ended.theme_title, 100))}**.")


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Seasons(bot))
