"""/letterboxd import and /letterboxd export: bring a member's Letterboxd diary in, and take their reviews and seen
films out (what they did in the club, for Letterboxd; or everything, as a backup that import reads back). And
Letterboxd, live: /letterboxd link, unlink and status, and the feed checks (bot.core.letterboxd_follow decides; this
extension reads the feed through the bot's one client, posts diary entries to the diary channel and tells a member
once when their feed keeps failing, by DM).

The attachment is refused by its declared size before it is downloaded; the rest of the checks (zip sizes and ratios,
CSV format), the films an import adds as the server's own (``unmatched: add``, the default, or ``skip``) and the
all-or-nothing import live in bot.core.letterboxd. The reply accounts for every row of the file, and attaches a report
naming every film added or skipped when there are more than it shows. Every answer is ephemeral: an import report
and an export file are the member's own business.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import letterboxd
from bot.core import letterboxd_follow as follow
from bot.core.errors import UserError
from bot.core.films import get_film
from bot.core.guilds import get_settings
from bot.core.letterboxd import ExportScope, ImportResult, Unmatched
from bot.core.letterboxd_follow import DiaryPost
from bot.core.timers import Timer
from bot.ui.checks import ensure_moderator, guild_id_of
from bot.ui.diary import diary_embed, status_embed
from bot.ui.embeds import FIELD_VALUE_LIMIT, add_field, club_embed, literal, truncate
from bot.ui.members import is_member
from bot.ui.replies import send_ephemeral

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]
REPORT_FILE = "letterboxd-import.txt"
ADDED_SHOWN = 10
SKIPPED_SHOWN = 3  # titles named per reason
#: The most a diary post waits for the film's details (its poster) from TMDb.
DETAILS_BUDGET = 5.0


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


def shown_title(label: str, limit: int = 90) -> str:
    """A title from the member's file as the reply shows it: short, and as written (:func:`bot.ui.embeds.literal`)."""
    return literal(truncate(label, limit))


def needs_report(result: ImportResult) -> bool:
    """Whether the reply names fewer films than the import added or skipped: then the report file lists them all."""
    return len(result.added) > ADDED_SHOWN or any(
        len(films) > SKIPPED_SHOWN for films in result.skipped_by_reason().values()
    )


def import_embed(result: ImportResult) -> discord.Embed:
    """The account of an import: every row of the file is in one of its counts."""
    lines = [f"Read {', '.join(result.files)}: **{plural(result.rows, 'row')}**."]
    if result.rows:
        lines.append(
            f"• **{plural(result.catalog.films, 'film')}** matched the catalog ({plural(result.catalog.rows, 'row')})"
        )
    if result.server.rows:
        lines.append(
            f"• **{plural(result.server.films, 'film')}** already this server's own "
            f"({plural(result.server.rows, 'row')})"
        )
    if result.added:
        lines.append(
            f"• **{plural(len(result.added), 'film')}** added as this server's films "
            f"({plural(result.added_rows, 'row')})"
        )
    if result.skipped:
        lines.append(
            f"• **{plural(result.skipped_rows, 'row')}** skipped ({plural(len(result.skipped), 'film')}, see below)"
        )
    if result.matched and not result.changed:
        lines.append("Nothing new: everything in this file was already here.")
    embed = club_embed("Letterboxd import", "\n".join(lines))
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
    if result.added:
        shown = [f"• {shown_title(label)}" for label in result.added[:ADDED_SHOWN]]
        more = len(result.added) - ADDED_SHOWN
        if more > 0:
            shown.append(f"…and {more:,} more (all of them in {REPORT_FILE})")
        add_field(embed, "Added as this server's films", truncate("\n".join(shown), FIELD_VALUE_LIMIT))
    if result.skipped:
        reasons = []
        for reason, films in result.skipped_by_reason().items():
            named = ", ".join(shown_title(film.label, 60) for film in films[:SKIPPED_SHOWN])
            others = f" and {len(films) - SKIPPED_SHOWN:,} more" if len(films) > SKIPPED_SHOWN else ""
            rows = sum(film.rows for film in films)
            reasons.append(f"• **{plural(rows, 'row')}**: {letterboxd.SKIP_REASONS[reason]}: {named}{others}")
        if needs_report(result):
            reasons.append(f"Every one, with its file and line, is in {REPORT_FILE}.")
        add_field(embed, "Skipped", truncate("\n".join(reasons), FIELD_VALUE_LIMIT))
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
    return embed


class Letterboxd(commands.Cog):
    """Letterboxd"""

    group = app_commands.Group(
        name="letterboxd", description="Link your Letterboxd, import from and export to it.", guild_only=True
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.timers.register(follow.TIMER_KIND, self._on_feed_timer)
        self.bot.leavers.register("Letterboxd", self._linked, self._left)
        armed = await follow.rearm(self.bot.db, self.bot.clock, self.bot.timers, self.interval, self.bot.shard_set)
        if armed:
            log.info("armed the Letterboxd feed check of %d linked member(s) that had none pending", armed)

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.bot.settings.letterboxd_interval)

    # -- linking -------------------------------------------------------------------------------------------------------

    @group.command(name="link", description="Link your Letterboxd account here; choose what the club gets from it.")
    @app_commands.describe(
        username="Your Letterboxd username (as in letterboxd.com/username/)",
        diary="Post your new diary entries to the club's diary channel (off unless you turn it on)",
        import_entries="Import your ratings and reviews into the club (off unless you turn it on)",
    )
    @app_commands.rename(import_entries="import")
    async def link(
        self,
        interaction: Interaction,
        username: app_commands.Range[str, 1, 100],
        diary: bool | None = None,
        import_entries: bool | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        done = await follow.link_account(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id,
            interaction.user.id,
            username,
            diary=diary,
            import_entries=import_entries,
        )
        linked = done.link
        settings = await get_settings(self.bot.db, guild_id)
        lines = [
            f"Linked to **{literal(linked.username)}** on Letterboxd. I read your public diary feed every "
            f"{self.bot.settings.letterboxd_interval} minutes or so.",
            f"• Diary posts: **{'on' if linked.diary else 'off'}**"
            + (
                " (this server has no diary channel yet: a moderator sets one with `/config channel kind:diary`)"
                if linked.diary and settings.diary_channel_id is None
                else ""
            ),
            f"• Import ratings and reviews: **{'on' if linked.import_entries else 'off'}**"
            + (
                " (the entries in your feed will be imported at the next check, in a moment; "
                "they are not posted again, and reviews you wrote here stay as they are)"
                if done.catching_up
                else ""
            ),
            "What your feed already holds is taken in at the first check (imported with import on) but not posted; "
            "new entries from then on are. Change either with `/letterboxd link` and the same name; "
            "`/letterboxd unlink` stops it.",
        ]
        await send_ephemeral(interaction, "\n".join(lines))

    @group.command(name="unlink", description="Stop following your Letterboxd (moderators: anyone's).")
    @app_commands.describe(member="Moderators: the member to unlink (the default: yourself)")
    async def unlink(self, interaction: Interaction, member: discord.Member | None = None) -> None:
        guild_id = guild_id_of(interaction)
        target = member or interaction.user
        if target.id != interaction.user.id:
            await ensure_moderator(interaction)
        removed = await follow.unlink_account(self.bot.db, self.bot.timers, guild_id, target.id)
        whose = "You have" if target.id == interaction.user.id else f"{target.mention} has"
        if removed is None:
            raise UserError(f"{whose} no Letterboxd account linked here.")
        done = "Your" if target.id == interaction.user.id else f"{target.mention}'s"
        await send_ephemeral(
            interaction,
            f"{done} Letterboxd account **{literal(removed.username)}** is unlinked here: its feed is no longer "
            "read. What was imported stays (delete reviews with `/review delete`).",
        )

    @group.command(name="status", description="Your linked Letterboxd account: last checked, entries imported.")
    async def status(self, interaction: Interaction) -> None:
        found = await follow.account_status(self.bot.db, self.bot.timers, guild_id_of(interaction), interaction.user.id)
        if found is None:
            raise UserError("You have not linked a Letterboxd account here: `/letterboxd link username:`.")
        await send_ephemeral(interaction, embed=status_embed(found))

    async def _linked(self, guild_id: int) -> list[int]:
        return await follow.linked_members(self.bot.db, guild_id)

    async def _left(self, guild_id: int, user_id: int) -> bool:
        """A linked member left the server (cogs/members.py hears of it): their feed is no longer followed there."""
        return await follow.member_left(self.bot.db, self.bot.timers, guild_id, user_id) is not None

    # -- following -----------------------------------------------------------------------------------------------------

    async def _on_feed_timer(self, timer: Timer) -> None:
        guild_id, user_id = follow.parse_timer_key(timer.key)
        outcome = await follow.check_feed(
            self.bot.db,
            self.bot.clock,
            self.bot.letterboxd,
            self.bot.titles_for,
            guild_id,
            user_id,
            interval=self.interval,
        )
        if outcome.status is None:
            return  # unlinked meanwhile
        await self.send_posts(guild_id, user_id)
        if outcome.tell_failing:
            await self._tell_failing(guild_id, user_id, outcome.reason)
        if outcome.next_at is not None:
            await self.bot.timers.move_on(timer, outcome.next_at)

    async def send_posts(self, guild_id: int, user_id: int) -> int:
        """Send the member's queued diary posts (each taken by one sender); return how many were sent."""
        guild = self.bot.get_guild(guild_id)
        queued = await follow.pending_posts(self.bot.db, guild_id, user_id) if guild is not None else []
        if guild is None or not queued:
            return 0  # nothing to send (nearly every check), or kept queued until the server is there
        settings = await get_settings(self.bot.db, guild_id)
        channel = guild.get_channel(settings.diary_channel_id) if settings.diary_channel_id is not None else None
        if not isinstance(channel, discord.TextChannel):
            return 0  # kept queued until the diary channel is there
        present = await is_member(guild, user_id)
        if present is None:
            return 0  # Discord could not say whether they are still here: kept queued for the next check
        if not present:
            log.info("guild %s: member %s left before their diary entries were posted; none is", guild_id, user_id)
            await self.bot.leavers.member_left(guild_id, user_id)  # unlinked: the queued posts go with the link
            return 0
        sent = 0
        for pending in queued:
            post = await follow.take_post(self.bot.db, pending)
            if post is None:
                continue
            try:
                embed = await self._diary_embed(guild, post)
                await channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
            except discord.HTTPException:
                log.warning("could not post a diary entry in %s; it is kept for the next check", channel.id)
                await follow.give_back(self.bot.db, pending)
                break
            sent += 1
        return sent

    async def _diary_embed(self, guild: discord.Guild, post: DiaryPost) -> discord.Embed:
        member = guild.get_member(post.user_id)
        name = member.display_name if member is not None else post.username
        film = await get_film(self.bot.db, post.film_id) if post.film_id is not None else None
        details = None
        poster = None
        if film is not None and self.bot.details.enabled:
            answer = await self.bot.details.for_film(film, within=DETAILS_BUDGET)
            details = answer.details
            poster = self.bot.details.poster_url(details)
        if poster is None and post.poster_url and post.poster_url.startswith("https://"):
            poster = post.poster_url
        return diary_embed(
            post,
            name,
            film=film,
            details=details,
            poster_url=poster,
            feed_origin=str(self.bot.settings.letterboxd_base_url),
        )

    async def _tell_failing(self, guild_id: int, user_id: int, reason: str | None) -> None:
        guild = self.bot.get_guild(guild_id)
        where = f" in {guild.name}" if guild is not None else ""
        text = (
            f"I could not read your Letterboxd feed{where} for a while ({reason or 'it failed'}). I'll keep trying, "
            "less often; `/letterboxd status` shows the last error, and `/letterboxd link` fixes a wrong name. "
            "(I tell you this once.)"
        )
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(discord.utils.escape_mentions(text), allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.info("could not tell member %s that their Letterboxd feed keeps failing (DMs closed?)", user_id)

    @group.command(
        name="import",
        description="Import your Letterboxd export (the zip, or one of its CSV files), or a filmclub backup.",
    )
    @app_commands.describe(
        file="The .zip from Letterboxd (Settings → Data → Export), one of its CSV files, or a /letterboxd export",
        unmatched="Films neither the catalog nor this server has (the default: add them as this server's films)",
    )
    @app_commands.choices(
        unmatched=[
            app_commands.Choice(name="Add them as this server's films", value=Unmatched.ADD),
            app_commands.Choice(name="Skip them", value=Unmatched.SKIP),
        ]
    )
    async def import_file(
        self, interaction: Interaction, file: discord.Attachment, unmatched: Unmatched = Unmatched.ADD
    ) -> None:
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
            unmatched=unmatched,
        )
        log.info(
            "letterboxd import in guild %s by %s: %d rows, %d films matched, %d added, %d rows skipped",
            guild_id,
            interaction.user.id,
            result.rows,
            result.matched,
            len(result.added),
            result.skipped_rows,
        )
        embed = import_embed(result)
        if needs_report(result):
            report = discord.File(io.BytesIO(letterboxd.import_report(result)), filename=REPORT_FILE)
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
