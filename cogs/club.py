"""/club stats: the club in numbers, with a chart of the top-rated films."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.score import RANKING_NOTE
from bot.core.stats import ClubStats, RankedFilm, club_stats
from bot.ui.charts import bar_chart, rating_axis
from bot.ui.checks import guild_id_of
from bot.ui.embeds import add_field, club_embed, truncate
from bot.ui.reviews import average, safe_text

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]
CHART_FILE = "top-rated.png"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


def average_from(ranked: RankedFilm) -> str:
    """What a member reads for a film's rating: "4.2★ average from 3 reviews" (never the club rating itself)."""
    return f"{average(ranked.average)} average from {plural(ranked.reviews, 'review')}"


def _film_lines(films: tuple[RankedFilm, ...]) -> str:
    return "\n".join(
        f"{number}. **{ranked.film.label}** · {average_from(ranked)}" for number, ranked in enumerate(films, start=1)
    )


def stats_embed(title: str, stats: ClubStats) -> discord.Embed:
    if stats.reviews == 0:
        summary = "No reviews yet: `/review add` starts the chart."
    else:
        summary = (
            f"{plural(stats.reviews, 'review')} by {plural(stats.reviewers, 'member')} of "
            f"{plural(stats.films_reviewed, 'film')} · club average {average(stats.average or 0)}"
        )
    if stats.screenings:
        summary += f"\n{plural(stats.screenings, 'film')} screened together."
    embed = club_embed(title, summary)
    if stats.top_rated:
        add_field(embed, "Top rated", _film_lines(stats.top_rated))
        add_field(embed, "Most reviewed", _film_lines(stats.most_reviewed))
        members = [
            f"{number}. <@{m.user_id}> · {plural(m.reviews, 'review')} · {average(m.average)}"
            for number, m in enumerate(stats.most_active, start=1)
        ]
        add_field(embed, "Most active members", "\n".join(members))
    regulars = [
        f"{number}. <@{user_id}> · {plural(came.attended, 'screening')} · current streak {came.streak}"
        for number, (user_id, came) in enumerate(stats.regulars, start=1)
    ]
    if regulars:
        add_field(embed, "Screenings attended", "\n".join(regulars))
    themes = [f"**{safe_text(t.title)}** · {plural(t.films, 'film')}" for t in stats.themes_watched]
    add_field(embed, "Themes watched", "\n".join(themes) or "No screenings recorded yet.")
    if stats.top_rated:
        embed.set_image(url=f"attachment://{CHART_FILE}")
        embed.set_footer(text=f"Top rated: ★ is the average of members' reviews. {RANKING_NOTE}")
    return embed


def stats_chart(stats: ClubStats) -> bytes:
    """The top-rated films' averages, as the list shows them, on a star scale that starts near them."""
    labels = [truncate(r.film.label, 60) for r in stats.top_rated]
    averages = [r.average for r in stats.top_rated]
    shown = [f"{average(r.average)} · {plural(r.reviews, 'review')}" for r in stats.top_rated]
    return bar_chart(
        "Top rated: average ★ and reviews",
        labels,
        averages,
        value_labels=shown,
        highlight=[0],
        axis=rating_axis(averages),
    )


class Club(commands.Cog):
    """The club in numbers"""

    club = app_commands.Group(name="club", description="The club as a whole.", guild_only=True)

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @club.command(name="stats", description="Top rated and most reviewed films, most active members, themes watched.")
    async def stats(self, interaction: Interaction) -> None:
        stats = await club_stats(self.bot.db, guild_id_of(interaction))
        name = interaction.guild.name if interaction.guild else "The club"
        embed = stats_embed(f"{truncate(name, 200)} in numbers", stats)
        if stats.top_rated:
            png = await asyncio.to_thread(stats_chart, stats)  # tens of milliseconds: off the event loop
            chart = discord.File(io.BytesIO(png), filename=CHART_FILE)
            await interaction.response.send_message(embed=embed, file=chart)
        else:
            await interaction.response.send_message(embed=embed)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Club(bot))
