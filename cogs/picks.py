"""/picks and the weekly post: the club's films of the week, posted on schedule exactly once per week."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import config, picks
from bot.core.clock import from_db
from bot.core.details import FilmDetails
from bot.core.errors import UserError
from bot.core.films import get_films
from bot.core.timers import Timer
from bot.ui.checks import bot_posting_permissions, ensure_moderator, guild_id_of
from bot.ui.embeds import add_field, chunk_lines, club_embed, truncate
from bot.ui.films import add_attribution, links_for, links_line, uses_details
from bot.ui.handoff import poll_from_films_id
from bot.ui.posts import find_own_post
from bot.ui.replies import send_ephemeral

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]

FOOTER = "filmclub weekly picks"
HISTORY_LIMIT = 10
#: How long the weekly post waits for its films' details (posters, links) before it is posted without them.
DETAILS_BUDGET = 3.0
TRIGGERS = {"schedule": "on schedule", "catch-up": "caught up after downtime", "now": "posted by"}


def discord_time(moment: datetime) -> str:
    return f"{discord.utils.format_dt(moment, 'F')} ({discord.utils.format_dt(moment, 'R')})"


def picks_embed(
    content: picks.Picks,
    *,
    footer: str,
    details: Mapping[int, FilmDetails] | None = None,
    poster_url: str | None = None,
) -> discord.Embed:
    """The weekly post: the theme, then each film with why it was picked, its links and prompts for the discussion;
    a pick's poster (``poster_url``) as the thumbnail. ``details``: what the provider knows, by film id."""
    details = details or {}
    embed = club_embed(f"This week's picks · {content.theme.title}", truncate(content.theme.description, 400))
    for position, pick in enumerate(content.picks, start=1):
        film = pick.film
        lines = [f"*{pick.reason}*", truncate(film.blurb, 160)]
        links = links_line(links_for(film, details.get(film.id)))
        if links:
            lines.append(links)
        lines += [f"💬 {truncate(prompt, 150)}" for prompt in pick.prompts]
        add_field(embed, f"{position}. {film.label} · {film.length}", "\n".join(lines))
    if poster_url:
        embed.set_thumbnail(url=poster_url)
    embed.set_footer(text=footer)
    if uses_details(details.get(pick.film.id) for pick in content.picks):
        add_attribution(embed)
    return embed


def handoff_view(film_ids: Sequence[int]) -> discord.ui.View | None:
    """The "start a watch-party poll" button, answered by the polls feature's own persistent handler.

    The view is stopped before it is sent, so discord.py does not listen for this custom id here as well.
    """
    if len(film_ids) < 2:
        return None
    view = discord.ui.View(timeout=None)
    button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
        label="Start a watch-party poll",
        style=discord.ButtonStyle.primary,
        emoji="🗳️",
        custom_id=poll_from_films_id(film_ids),
    )
    view.add_item(button)
    view.stop()
    return view


class Picks(commands.Cog):
    """Weekly picks"""

    picks_group = app_commands.Group(
        name="picks", description="The club's weekly film picks: what is coming and what was picked.", guild_only=True
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.bot.settings.picks_grace_hours)

    async def cog_load(self) -> None:
        self.bot.timers.register(picks.TIMER_KIND, self._on_slot)
        created = await picks.ensure_scheduled(
            self.bot.db, self.bot.clock, self.bot.timers, self.bot.shard_set, self.grace
        )
        if created:
            log.info("scheduled the next weekly picks of %d server(s)", created)

    # -- the weekly slot ----------------------------------------------------------------------------------------------

    async def _on_slot(self, timer: Timer) -> None:
        """Post the week (or find the post a crash left unrecorded), then open its watch-party poll if it has none.

        A retry of this timer (after a failure, or at start-up after a crash) finds the week posted and only
        completes what is missing: the poll, opened exactly once.
        """
        guild_id, slot_at = int(timer.payload["guild_id"]), from_db(timer.payload["slot_at"])
        bot = self.bot
        decision = await picks.begin_slot(
            bot.db, bot.clock, bot.timers, guild_id, slot_at, self.grace, started_at=bot.started_at
        )
        post, content = decision.post, decision.picks
        if post is None or content is None:
            return
        resumed_and_found = decision.outcome is picks.SlotOutcome.RESUME and await self._already_posted(post)
        if decision.outcome is picks.SlotOutcome.FINISH or resumed_and_found:
            await self._open_poll(post, content)  # the post is there; only its poll may be missing
        else:
            await self._deliver(post, content)

    def _channel(self, channel_id: int) -> discord.TextChannel:
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise UserError("I can't find the picks channel any more; set it again with `/config channel`.")
        config.require_postable(channel.name, bot_posting_permissions(channel))
        return channel

    async def _deliver(self, post: picks.PicksPost, content: picks.Picks) -> discord.Message:
        """Post a claimed week and record it; a failure raises (the timer retries, /picks now releases)."""
        channel = self._channel(post.channel_id)
        details, poster = await self._details(content, fetch=True)
        message = await channel.send(
            embed=picks_embed(content, footer=f"{FOOTER} · {post.marker}", details=details, poster_url=poster),
            view=handoff_view(content.film_ids) or discord.utils.MISSING,
        )
        await picks.mark_posted(self.bot.db, self.bot.clock, post.id, message.id)
        log.info("posted weekly picks of guild %s week %s (%s)", post.guild_id, post.week_key, post.trigger)
        await self._open_poll(post, content)
        return message

    async def _details(self, content: picks.Picks, *, fetch: bool) -> tuple[dict[int, FilmDetails], str | None]:
        """What the film-details provider knows of the week's films (by film id), and the poster of the first pick
        that has one. ``fetch``: ask the provider for what is not cached, within :data:`DETAILS_BUDGET` (the weekly
        post waits that long at most); otherwise the cache only (a command that must answer at once)."""
        service = self.bot.details
        films = [pick.film for pick in content.picks]
        if fetch and service.enabled:
            answers = await asyncio.gather(*(service.for_film(film, within=DETAILS_BUDGET) for film in films))
            found = {film.id: answer.details for film, answer in zip(films, answers, strict=True) if answer.details}
        else:
            cached = await service.cached(film.tmdb_id for film in films if film.tmdb_id is not None)
            found = {
                film.id: cached[film.tmdb_id] for film in films if film.tmdb_id is not None and film.tmdb_id in cached
            }
        posters = (service.poster_url(found.get(pick.film.id)) for pick in content.picks)
        return found, next((poster for poster in posters if poster), None)

    async def _open_poll(self, post: picks.PicksPost, content: picks.Picks) -> None:
        """The week's watch-party poll; a refusal (e.g. a film retired since) is logged, anything else raises so the
        slot's timer tries again."""
        bot = self.bot
        creator = bot.user.id if bot.user else 0
        try:
            await picks.open_watch_party_poll(bot.db, bot.clock, bot.timers, post, content, creator_id=creator)
        except UserError as exc:
            log.warning("could not open the watch-party poll for picks %s: %s", post.id, exc.message)

    async def _already_posted(self, post: picks.PicksPost) -> bool:
        """After a crash between posting and recording it: find our post in the channel and record it instead."""
        channel = self.bot.get_channel(post.channel_id)
        if not isinstance(channel, discord.TextChannel):
            return False
        message = await find_own_post(channel, self.bot.user, post.marker)
        if message is None:
            return False
        await picks.mark_posted(self.bot.db, self.bot.clock, post.id, message.id)
        log.info("weekly picks %s were already in the channel; recorded message %s", post.id, message.id)
        return True

    # -- commands -------------------------------------------------------------------------------------------------

    @picks_group.command(name="preview", description="Moderators: what the next weekly picks would be, unposted.")
    async def preview(self, interaction: Interaction) -> None:
        settings = await ensure_moderator(interaction)
        content, slot = await picks.preview(self.bot.db, self.bot.clock, guild_id_of(interaction))
        if content is None:
            raise UserError("No film is left to pick: every theme's films were picked lately or watched by the club.")
        where = f"<#{settings.picks_channel_id}>" if settings.picks_channel_id else "the picks channel (not set yet)"
        when = discord_time(slot) if slot else "when you run `/picks now` (no weekly schedule is set)"
        details, poster = await self._details(content, fetch=False)
        footer = f"Preview · {content.week_key} · nothing was posted"
        embed = picks_embed(content, footer=footer, details=details, poster_url=poster)
        note = f"Only you can see this preview. It would be posted in {where} {when}."
        await send_ephemeral(interaction, note, embed=embed)

    @picks_group.command(name="now", description="Moderators: post this week's picks now, instead of on schedule.")
    async def now(self, interaction: Interaction) -> None:
        settings = await ensure_moderator(interaction)
        if settings.picks_channel_id is not None:
            self._channel(settings.picks_channel_id)  # refuse before claiming the week, naming what is missing
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = self.bot
        post, content = await picks.claim_now(bot.db, bot.clock, guild_id_of(interaction), interaction.user.id)
        try:
            message = await self._deliver(post, content)
        except (discord.HTTPException, UserError) as exc:
            await picks.release(bot.db, post.id)
            log.warning("posting picks %s failed; the week is free again", post.id, exc_info=True)
            if isinstance(exc, discord.Forbidden):
                raise UserError(
                    f"Discord refused my post in <#{post.channel_id}>: check that I may view the channel, send "
                    "messages and embed links there. Nothing was posted; run `/picks now` again once it is fixed."
                ) from exc
            if isinstance(exc, discord.HTTPException):
                raise UserError(
                    f"Discord did not take the post (HTTP {exc.status}). Nothing was posted; try again in a moment."
                ) from exc
            raise
        await interaction.followup.send(
            f"Posted this week's picks ({content.theme.title}) in {message.jump_url}. "
            "The scheduled post skips this week.",
            ephemeral=True,
        )

    @picks_group.command(name="history", description="The weekly picks of past weeks, newest first.")
    async def history(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        posts = await picks.history(self.bot.db, guild_id, HISTORY_LIMIT)
        if not posts:
            await send_ephemeral(interaction, "No weekly picks yet. Moderators set them up with `/config picks`.")
            return
        films = await get_films(self.bot.db, [film for post in posts for film in post.film_ids])
        lines = []
        for post in posts:
            titles = ", ".join(films[film].title for film in post.film_ids if film in films)
            how = TRIGGERS.get(post.trigger, post.trigger)
            if post.trigger == "now" and post.requested_by:
                how = f"{how} <@{post.requested_by}>"
            if post.message_id is not None and post.posted_at is not None:
                link = f"https://discord.com/channels/{guild_id}/{post.channel_id}/{post.message_id}"
                when = f"[{discord.utils.format_dt(post.posted_at, 'D')}]({link})"
            else:
                when = "not delivered"
            lines.append(f"**{post.week_key}** · {when} · {post.theme_title} ({how})\n{truncate(titles, 300)}")
        embed = club_embed("Weekly picks history", chunk_lines(lines, 4000)[0])
        await send_ephemeral(interaction, embed=embed)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Picks(bot))
