"""/letterboxd import and /letterboxd export: bring a member's Letterboxd diary in, and take their reviews and seen
films out (what they did in the club, for Letterboxd; or everything, as a backup that import reads back).

The attachment is refused by its declared size before it is downloaded; the rest of the checks (zip sizes and ratios,
CSV format) and the all-or-nothing import live in bot.core.letterboxd. Every answer is ephemeral: an import report
and an export file are the member's own business.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import letterboxd
from bot.core.errors import UserError
from bot.core.letterboxd import ExportScope, ImportResult
from bot.ui.checks import guild_id_of
from bot.ui.embeds import FIELD_VALUE_LIMIT, add_field, club_embed, truncate
from bot.ui.reviews import safe_text

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]
UNMATCHED_FILE = "not-in-catalog.txt"
UNMATCHED_SHOWN = 15


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


def import_embed(result: ImportResult) -> discord.Embed:
    found = f"**{plural(result.matched, 'film')}** matched the catalog"
    missed = f"**{result.unmatched.__len__():,}** did not" if result.unmatched else "none were missing"
    description = f"Read {', '.join(result.files)}.\n{found}; {missed}."
    if result.matched and not result.changed:
        description += "\nNothing new: everything in this file was already here."
    embed = club_embed("Letterboxd import", description)
    imported = []
    if result.ratings_added or result.ratings_updated or result.ratings_unchanged:
        imported.append(
            f"Ratings and reviews: {result.ratings_added} new, {result.ratings_updated} updated, "
            f"{result.ratings_unchanged} unchanged ({result.with_text} with text)"
        )
    if result.watched_added:
        imported.append(f"Seen: {plural(result.watched_added, 'film')} marked")
    if result.watchlist_added:
        imported.append(f"Watchlist: {plural(result.watchlist_added, 'film')} added")
    if result.redated:
        imported.append(f"Earlier dates: {plural(result.redated, 'film')} seen or listed sooner than we knew")
    if imported:
        add_field(embed, "Imported", "\n".join(imported))
    notes = []
    if result.kept_discord:
        notes.append(f"{plural(result.kept_discord, 'film')} you reviewed here kept your review from Discord.")
    if result.without_rating:
        notes.append(
            f"{plural(result.without_rating, 'review')} without stars: a review here needs a rating, so those films "
            "are marked as seen and their text waits for a rating (from ratings.csv or diary.csv)."
        )
    if result.shortened:
        notes.append(f"{plural(result.shortened, 'review')} shortened to 2,000 characters.")
    if notes:
        add_field(embed, "Good to know", "\n".join(notes))
    if result.unmatched:
        shown = [f"• {safe_text(truncate(title, 90))}" for title in result.unmatched[:UNMATCHED_SHOWN]]
        more = len(result.unmatched) - UNMATCHED_SHOWN
        if more > 0:
            shown.append(f"…and {more:,} more (all of them in {UNMATCHED_FILE})")
        add_field(embed, "Not in the catalog", truncate("\n".join(shown), FIELD_VALUE_LIMIT))
    return embed


class Letterboxd(commands.Cog):
    """Letterboxd"""

    group = app_commands.Group(name="letterboxd", description="Import from and export to Letterboxd.", guild_only=True)

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @group.command(
        name="import",
        description="Import your Letterboxd export (the zip, or one of its CSV files), or a filmclub backup.",
    )
    @app_commands.describe(
        file="The .zip from Letterboxd (Settings → Data → Export), one of its CSV files, or a /letterboxd export"
    )
    async def import_file(self, interaction: Interaction, file: discord.Attachment) -> None:
        guild_id = guild_id_of(interaction)
        letterboxd.check_upload(file.filename, file.size)  # before downloading anything
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as exc:
            log.warning("could not download attachment %s", file.id, exc_info=True)
            raise UserError("I couldn't download that file from Discord; please try again.") from exc
        result = await letterboxd.import_export(
            self.bot.db,
            self.bot.clock,
            await self.bot.titles_for(guild_id),
            guild_id=guild_id,
            user_id=interaction.user.id,
            filename=file.filename,
            data=data,
        )
        log.info(
            "letterboxd import in guild %s by %s: %d matched, %d unmatched",
            guild_id,
            interaction.user.id,
            result.matched,
            len(result.unmatched),
        )
        embed = import_embed(result)
        if len(result.unmatched) > UNMATCHED_SHOWN:
            report = discord.File(io.BytesIO(letterboxd.unmatched_report(result.unmatched)), filename=UNMATCHED_FILE)
            await interaction.followup.send(embed=embed, file=report, ephemeral=True)
        else:
            await interaction.followup.send(embed=embed, ephemeral=True)

    @group.command(name="export", description="Your reviews and seen films as a CSV: for Letterboxd, or a backup.")
    @app_commands.describe(what="What the file holds (the default: what you did in the club, for Letterboxd)")
    @app_commands.choices(
        what=[
            app_commands.Choice(name="What I did in the club, to import into Letterboxd", value=ExportScope.CLUB),
            app_commands.Choice(
                name="Everything, including what came from Letterboxd (a backup)", value=ExportScope.EVERYTHING
            ),
        ]
    )
    async def export_file(self, interaction: Interaction, what: ExportScope = ExportScope.CLUB) -> None:
        exported = await letterboxd.export_csv(
            self.bot.db, self.bot.clock, guild_id=guild_id_of(interaction), user_id=interaction.user.id, scope=what
        )
        await interaction.response.send_message(
            export_message(what, exported.rows),
            file=discord.File(io.BytesIO(exported.data), filename=exported.filename),
            ephemeral=True,
        )


def export_message(scope: ExportScope, rows: int) -> str:
    """What the file is for, and what it is not for."""
    if scope is ExportScope.CLUB:
        return (
            f"{plural(rows, 'film')} you reviewed or marked as seen in the club, ready for Letterboxd: import it at "
            "<https://letterboxd.com/import/>. What came from Letterboxd is left out, so nothing is logged twice "
            "there. For a backup of everything, choose `what: Everything`."
        )
    return (
        f"A backup of all your {plural(rows, 'film')}: reviews and seen films from the club and from Letterboxd (the "
        "Source column says which). Keep it; `/letterboxd import` reads it back. Don't import it into Letterboxd: "
        "what came from there would be logged twice."
    )


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Letterboxd(bot))
